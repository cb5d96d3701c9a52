"""A full disk during publish ends the run with one line naming the path, its record failed, and
no temporary file left in `published/` — issue 21, finding 11 (SPEC §6).

ENOSPC is injected deterministically: the OS calls of the copy are monkeypatched in-process,
and a real run through Airflow gets it from the `publish.disk_full` point of core/faults.py."""

from __future__ import annotations

import errno
import json
import os
import shutil

import pytest

from core.paths import Home
from tests.support.marts import make_marts
from tests.support.tiny_inbox import run_env, write_tiny_inbox
from windowwatch.cli import main as cli_main
from windowwatch.pipeline import step_publish
from windowwatch.runs import RunRecord


def _temp_files(h: Home) -> list[str]:
    return sorted(p.name for p in h.published.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


def _disk_fills_up(monkeypatch) -> None:
    """Every way the snapshot copy writes gets ENOSPC after a first block, as a full disk does."""

    def copy_file_range(src, dst, count, *args, **kwargs):
        os.write(dst, b"\0" * 4096)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def copyfileobj(fin, fout, length=0):
        fout.write(b"\0" * 4096)
        fout.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "copy_file_range", copy_file_range)
    monkeypatch.setattr(shutil, "copyfileobj", copyfileobj)


def test_full_disk_in_the_publish_step(ww_home, monkeypatch):
    h = Home(ww_home).ensure()
    make_marts(h.warehouse)
    live = step_publish(h, "run-1")
    _disk_fills_up(monkeypatch)
    with pytest.raises(Exception) as info:
        step_publish(h, "run-2")
    message = str(info.value)
    assert type(info.value).__name__ == "DiskFull", repr(info.value)
    assert "\n" not in message and "no space left on device" in message
    assert str(h.published / ".warehouse-run-2.duckdb.tmp") in message
    assert _temp_files(h) == [], "a temporary file was left in published/"
    assert (h.published / "CURRENT").read_text().strip() == live
    step = RunRecord(h, "run-2").read_step("publish")
    assert step["status"] == "failed" and "no space left on device" in step["reason"]
    final = RunRecord(h, "run-2").assemble(final=True)
    assert final["status"] == "failed" and final["failure"]["task"] == "publish"


def test_full_disk_ends_a_real_run_with_one_line(ww_home, tmp_path, monkeypatch, capsys):
    run_env(monkeypatch)
    monkeypatch.setenv("WINDOWWATCH_FAULT_AT", "publish.disk_full")  # core/faults.py: ENOSPC mid-copy
    h = Home(ww_home)
    inbox = write_tiny_inbox(tmp_path / "inbox")
    rc = cli_main(["run", "--feeds", str(inbox), "--as-of", "2025-10-31"])
    out = capsys.readouterr().out
    assert rc != 0
    record = json.loads((h.runs / "latest.json").read_text(encoding="utf-8"))
    assert record["status"] == "failed", record["status"]
    assert record["failure"]["task"] == "publish"
    assert record["steps"]["dbt_build"]["status"] == "succeeded"
    failed = [line for line in out.splitlines() if line.startswith("FAILED at publish")]
    assert len(failed) == 1, out[-3000:]
    assert "DiskFull: no space left on device writing" in failed[0]
    assert str(h.published / ".warehouse-") in failed[0] and ".duckdb.tmp" in failed[0]
    assert "Traceback" not in record["failure"]["reason"] and "\n" not in record["failure"]["reason"]
    assert _temp_files(h) == [], "a temporary file was left in published/"
    assert not (h.published / "CURRENT").exists()
