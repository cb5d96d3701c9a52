"""kill -9 during landing, then a re-run: exactly the same landing, exact counts, no temp files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.support.inbox import TX_HEADER, make_inbox, run, write_csv
from core.paths import REPO_ROOT

DAYS = ["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09"]


def _tx_inbox(root: Path) -> Path:
    inbox = root / "tx-inbox"
    rows = [TX_HEADER]
    for i in range(40):
        rows.append([f"E{i}", f"C{i // 4}", "accept", f"{DAYS[i % 4]} 09:{i:02d}:00", "W01", "I1"])
    rows.append(["E99", "C99", "审核中", "2025-01-06 09:00:00", "W01", "I1"])  # quarantined
    write_csv(inbox / "transactions" / "t.csv", rows)
    write_csv(inbox / "evaluations" / "e.csv", [["evaluation_id", "window_id", "rating", "evaluated_at"], ["V1", "W01", "满意", "2025-01-06 10:00:00"]])
    return inbox


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "sources.yaml"
    cfg.write_text("sources:\n  - name: inbox\n    kind: files\n", encoding="utf-8")
    return cfg


def _state(home: Path) -> dict[str, pl.DataFrame | str]:
    """Every landing/quarantine file's rows (minus _ingested_at) and the ledger's counts."""
    out: dict = {}
    for p in sorted((home / "landing").rglob("*.parquet")) + sorted((home / "quarantine").rglob("*.parquet")):
        df = pl.read_parquet(p, hive_partitioning=False)
        df = df.drop([c for c in ("_ingested_at", "quarantined_at") if c in df.columns])
        out[str(p.relative_to(home))] = df
    for p in sorted((home / "landing" / "_ledger").glob("*.json")):
        import json

        entry = json.loads(p.read_text())
        out[str(p.relative_to(home))] = (entry["rows_in"], entry["landed"], entry["quarantined"], entry["by_rule"], entry["partitions"])
    return out


@pytest.mark.parametrize("step", ["after_quarantine_write", "after_partition_write", "before_ledger"])
def test_kill_9_then_rerun_lands_exactly_the_same(ww_home, tmp_path, step):
    base = make_inbox(tmp_path)
    run(ww_home, base)  # reference feeds first, so the first delivery to hit the fault is the transactions file
    inbox = _tx_inbox(tmp_path)
    env = dict(os.environ, WINDOWWATCH_FAULT_AT=step, WINDOWWATCH_HOME=str(ww_home))
    proc = subprocess.run([sys.executable, "-m", "windowwatch.cli", "ingest", "--feeds", str(inbox), "--config", str(_config(tmp_path))],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    tx_files = {p: p.read_bytes() for p in (ww_home / "landing" / "transactions").glob("part_date=*/*.parquet")}
    if step != "after_quarantine_write":
        assert tx_files, "the kill should have come after some landing was written"

    report = run(ww_home, inbox)  # the re-run
    tx = [d for d in report.deliveries if d.feed == "transactions"][0]
    assert (tx.status, tx.rows_in, tx.landed, tx.quarantined) == ("landed", 41, 40, 1)
    # files written before the kill were overwritten with identical bytes (same _ingested_at kept)
    for p, data in tx_files.items():
        assert p.read_bytes() == data, p
    leftovers = [p for p in ww_home.rglob("*") if p.name.endswith(".tmp") or p.name.endswith(".pending")]
    assert leftovers == []
    assert [p for p in (ww_home / "tmp").rglob("*") if p.name != "ingest"] == []  # the killed run's staging is gone too

    clean_home = tmp_path / "clean"
    clean_home.mkdir()
    run(clean_home, base)
    run(clean_home, inbox)
    crashed, clean = _state(ww_home), _state(clean_home)
    assert crashed.keys() == clean.keys()
    for name in clean:
        if isinstance(clean[name], pl.DataFrame):
            assert crashed[name].equals(clean[name]), name
        else:
            assert crashed[name] == clean[name], name
    # a third run changes nothing
    again = run(ww_home, inbox)
    assert {d.status for d in again.deliveries} == {"already landed"}


def test_rerun_after_reference_change_leaves_no_stale_quarantine(ww_home, tmp_path):
    """Killed before the ledger while W02 was unknown; W02 arrives; the re-run's result is the only one."""
    base = tmp_path / "base"
    write_csv(base / "windows" / "w.csv", [["window_id"], ["W01"]])
    write_csv(base / "items" / "i.csv", [["item_code"], ["I1"]])
    run(ww_home, base)
    inbox = tmp_path / "tx"
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1"],
                                                 ["E2", "C2", "accept", "2025-01-07 09:00:00", "W02", "I1"]])
    env = dict(os.environ, WINDOWWATCH_FAULT_AT="before_ledger", WINDOWWATCH_HOME=str(ww_home))
    proc = subprocess.run([sys.executable, "-m", "windowwatch.cli", "ingest", "--feeds", str(inbox), "--config", str(_config(tmp_path))],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((ww_home / "quarantine" / "transactions").glob("[0-9a-f]*.parquet"))) == 1
    more = tmp_path / "more"
    write_csv(more / "windows" / "w2.csv", [["window_id"], ["W01"], ["W02"]])
    run(ww_home, more)
    report = run(ww_home, inbox)
    tx = [d for d in report.deliveries if d.feed == "transactions"][0]
    assert (tx.landed, tx.quarantined, tx.partitions) == (2, 0, ["2025-01-06", "2025-01-07"])
    assert list((ww_home / "quarantine" / "transactions").glob("[0-9a-f]*.parquet")) == []


def test_a_report_temp_file_of_a_killed_run_is_removed_by_the_next_run(ww_home, tmp_path):
    """A kill while the run report is written (ingest/run.py save_report) leaves
    `runs/.ingest-….json.<pid>.tmp`; the next run removes it (a dead pid only), and leaves other
    stages' temp files in runs/ alone (a faster ingest made the kill -9 trials hit this point)."""
    inbox = make_inbox(tmp_path)
    runs = ww_home / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    dead = runs / ".ingest-latest.json.999999999.tmp"  # above any pid_max: never alive
    mine = runs / f".ingest-20261201T000000-1.json.{os.getpid()}.tmp"  # a live writer (this process)
    other = runs / ".run-20261201.json.k3j_x9.tmp"  # core/atomic.py names its temp files at random
    for p in (dead, mine, other):
        p.write_text("{}", encoding="utf-8")
    run(ww_home, inbox)
    assert not dead.exists()
    assert mine.exists() and other.exists()
