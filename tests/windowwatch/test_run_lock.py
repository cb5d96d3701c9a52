"""One run per home, and an older as-of never replaces the live snapshot silently — issue 21,
finding 9 (SPEC §6, "v2: one run per home"). Real runs through Airflow (`airflow dags test`),
SQLite metadata under the test's home."""

from __future__ import annotations

import pytest

import json
import os
import subprocess
import sys
import time

from core.paths import REPO_ROOT, Home
from tests.support.tiny_inbox import run_env, write_tiny_inbox
from windowwatch.cli import main as cli_main
from windowwatch.snapshot import current_snapshot, run_config


def _wait_for_holder(lock, proc, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the first run ended before it was seen holding the home"
        try:
            holder = json.loads(lock.read_text(encoding="utf-8"))
            if holder.get("pid"):
                return holder
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError("the first run never took the home's lock")


def test_a_second_run_is_refused_while_the_first_holds_the_home(ww_home, tmp_path, monkeypatch, capsys):
    run_env(monkeypatch)
    h = Home(ww_home)
    inbox = write_tiny_inbox(tmp_path / "inbox")
    first = subprocess.Popen(
        [sys.executable, "-m", "windowwatch.cli", "run", "--feeds", str(inbox), "--as-of", "2025-10-31"],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        holder = _wait_for_holder(h.root / "run.lock", first)
        assert holder["pid"] == first.pid
        started = time.monotonic()
        rc = cli_main(["run", "--feeds", str(inbox), "--as-of", "2025-10-31"])
        err = capsys.readouterr().err
        assert rc != 0
        assert time.monotonic() - started < 10, "the second run must refuse at once, not wait"
        assert f"pid {first.pid}" in err and holder["started_at"] in err, err
        out, _ = first.communicate(timeout=900)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, out[-4000:]
    record = json.loads((h.runs / "latest.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded" and len(list(h.runs.glob("*/meta.json"))) == 1, (
        "the second run recorded nothing"
    )
    assert current_snapshot(h).name == record["published"]
    # the holder has gone: the lock file stays but blocks nobody (flock dies with its process)
    from windowwatch.run_lock import check_free

    check_free(h)


@pytest.mark.slow  # make test-slow (CI time, session 9: see the closing note)
def test_an_older_as_of_keeps_the_live_snapshot_unless_allowed(ww_home, tmp_path, monkeypatch, capsys):
    run_env(monkeypatch)
    h = Home(ww_home)
    inbox = write_tiny_inbox(tmp_path / "inbox")
    assert cli_main(["run", "--feeds", str(inbox), "--as-of", "2025-10-31"]) == 0
    live = current_snapshot(h)
    capsys.readouterr()

    assert cli_main(["run", "--feeds", str(inbox), "--as-of", "2025-10-15"]) == 0
    captured = capsys.readouterr()
    assert "older than the live snapshot's 2025-10-31" in captured.err and "--allow-older" in captured.err
    assert "NOT PUBLISHED" in captured.out
    record = json.loads((h.runs / "latest.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded" and record["published"] is None
    assert (
        record["steps"]["dbt_build"]["status"] == "succeeded" and record["steps"]["marts_gate"]["status"] == "succeeded"
    )
    assert current_snapshot(h) == live, "an older as-of replaced the live snapshot"
    assert str(run_config(live)["as_of_date"]) == "2025-10-31"

    assert cli_main(["run", "--feeds", str(inbox), "--as-of", "2025-10-15", "--allow-older"]) == 0
    replaced = current_snapshot(h)
    assert replaced != live and str(run_config(replaced)["as_of_date"]) == "2025-10-15"
