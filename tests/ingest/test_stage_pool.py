"""Staging in worker processes (ingest/stage_pool.py, issue 7): the same landing, quarantine and
report as staging in the main process, whatever the deliveries hold."""

from __future__ import annotations

import pytest

from ingest import stage_pool
from tests.support.inbox import TX_HEADER, landed, make_inbox, quarantined, run, write_csv
from core.feeds import FEEDS

MB = 2**20


def test_worker_count_follows_the_setting(monkeypatch):
    monkeypatch.delenv(stage_pool.ENV, raising=False)
    assert stage_pool.worker_count(10 * MB, 5) == 0  # an incremental day: starting workers costs more than it saves
    assert stage_pool.worker_count(500 * MB, 1) == 0  # one delivery: nothing to overlap
    assert stage_pool.worker_count(500 * MB, 12) == min(2, __import__("os").cpu_count() or 1)
    monkeypatch.setenv(stage_pool.ENV, "0")
    assert stage_pool.worker_count(500 * MB, 12) == 0  # debugging: everything in one process
    monkeypatch.setenv(stage_pool.ENV, "3")
    assert stage_pool.worker_count(1, 1) == 3
    monkeypatch.setenv(stage_pool.ENV, "many")
    with pytest.raises(ValueError, match="WINDOWWATCH_INGEST_WORKERS"):
        stage_pool.worker_count(1, 1)


def _inbox(root):
    inbox = make_inbox(root)
    header = TX_HEADER + ["applicant_id", "applicant_phone", "recorded_at"]
    for n in range(4):
        rows = [header]
        for r in range(300):
            window = "W01" if r % 50 else "W77"  # unknown_reference now and then
            when = f"2025-0{1 + n}-{1 + r % 28:02d} 09:{r % 60:02d}:00"
            rows.append([f"F{n}E{r}", f"F{n}C{r // 2}", "accept" if r % 2 == 0 else "complete", when if r % 70 else "not a time",
                         window, "I1", f"11010119900307{r:04d}", f"1381234{r:04d}", when])
        rows.append([f"F{n}E1", f"F{n}C0", "complete", "2025-01-02 09:01:00", "W01", "I1", "", "", "2025-01-02 09:01:00"])  # conflicts within
        write_csv(inbox / "transactions" / f"t{n}.csv", rows, encoding="gbk" if n == 2 else "utf-8")
    write_csv(inbox / "transactions" / "t0_again.csv", [header] + [["F0E0", "F0C0", "accept", "2025-01-01 09:00:00", "W01", "I1", "", "", "2025-01-01 09:00:00"]])
    (inbox / "transactions" / "broken.parquet").write_bytes(b"PAR1 not really parquet")  # unreadable, found while staging
    (inbox / "evaluations").mkdir()
    (inbox / "evaluations" / "e.jsonl").write_text(
        "".join(f'{{"evaluation_id": "V{i}", "window_id": "W0{1 + i % 2}", "rating": "满意", "evaluated_at": "2025-02-0{1 + i % 9} 10:00:00", '
                f'"comment": "电话1381234{i:04d}"}}\n' for i in range(200)), encoding="utf-8")
    return inbox


def _outcome(home, report):
    per_feed = {}
    for feed in FEEDS:
        rows = landed(home, feed)
        if rows.height:
            rows = rows.drop("_ingested_at").sort("_source", "_line")
        q = quarantined(home, feed)
        if q.height:
            q = q.drop("quarantined_at").sort("source_file", "line")
        per_feed[feed] = (rows.rows(), q.rows())
    deliveries = sorted((d.source, d.status, d.rows_in, d.landed, d.quarantined, tuple(d.by_rule.items()), d.reason or "")
                        for d in report.deliveries)
    return per_feed, deliveries


def test_workers_land_exactly_what_one_process_lands(tmp_path, monkeypatch):
    inbox = _inbox(tmp_path)
    outcomes = {}
    for workers in ("0", "2"):
        monkeypatch.setenv(stage_pool.ENV, workers)
        home = tmp_path / f"home{workers}"
        home.mkdir()
        report = run(home, inbox)
        assert report.stage_workers == int(workers)
        outcomes[workers] = _outcome(home, report)
        assert not list((home / "tmp" / "ingest").glob("*/*"))  # no staging left behind
    per_feed, deliveries = outcomes["2"]
    assert outcomes["2"] == outcomes["0"]
    # the inbox really exercises the rules: unreadable, already landed, quarantine of several kinds
    statuses = {s for _, s, *_ in deliveries}
    assert statuses == {"landed", "unreadable"}
    rules = {r for *_, by_rule, _ in deliveries for r, _ in by_rule}
    assert {"unknown_reference", "bad_timestamp", "duplicate_conflict"} <= rules
    assert len(per_feed["transactions"][0]) > 1000 and len(per_feed["evaluations"][0]) == 200


def test_workers_run_one_thread_pool_share_each(monkeypatch):
    """Two workers on two cores: each worker's polars and DuckDB use cores // workers threads
    (their default pools, one thread per core each, only oversubscribe the cores)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    monkeypatch.delenv("WINDOWWATCH_INGEST_WORKER_THREADS", raising=False)
    expected = str(max(1, (os.cpu_count() or 1) // 2))
    pool = stage_pool.StagePool(2)
    try:
        for proc in pool._procs:
            env = dict(kv.split("=", 1) for kv in Path(f"/proc/{proc.pid}/environ").read_text().split("\0") if "=" in kv)
            assert env["POLARS_MAX_THREADS"] == expected
            assert env["WINDOWWATCH_INGEST_DUCKDB_THREADS"] == expected
    finally:
        pool.close()
    probe = "import polars as pl; from ingest.landing import duckdb_threads; print(pl.thread_pool_size(), duckdb_threads())"
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **stage_pool.worker_threads_env(2)},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [expected, expected]
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKER_THREADS", "default")
    assert stage_pool.worker_threads_env(2) == {}
