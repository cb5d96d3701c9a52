"""`windowwatch run` end to end on small generated data, through Airflow with its default
SQLite metadata DB under WINDOWWATCH_HOME — exactly what a user runs. Minutes, not seconds: CI runs it because it is what `make demo` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import duckdb

from core.paths import REPO_ROOT, Home
from windowwatch.snapshot import current_snapshot


def test_windowwatch_run_small_generated(ww_home, tmp_path):
    from windowwatch.generate.dataset import generate

    feeds = tmp_path / "feeds"
    truth = generate(str(feeds), scale="small", seed=7, as_of=None)
    as_of = truth["period"]["end"]
    env = {**os.environ, "WINDOWWATCH_SOURCE_RETRY_DELAY_S": "1"}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)  # the default: SQLite under WINDOWWATCH_HOME
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "windowwatch.cli", "run", "--feeds", str(feeds), "--as-of", as_of],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "SUCCEEDED" in proc.stdout and "published: warehouse-" in proc.stdout

    h = Home(ww_home)
    record = json.loads((h.runs / "latest.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded"
    src = record["sources"]["hall_inbox"]["counts"]
    assert src["rows_in"] == src["landed"] + src["quarantined"] + 0  # reconciliation (SPEC §3)
    assert src["quarantined"] > 0, "the generator injects bad rows: they must be quarantined, not dropped"
    # per-task wall time, for the closing note
    print(f"\nwall {wall:.1f}s; " + ", ".join(f"{k} {v.get('duration_s')}s" for k, v in record["steps"].items())
          + f", ingest {record['sources']['hall_inbox'].get('duration_s')}s")

    snap = current_snapshot(h)
    assert snap.name == record["published"]
    con = duckdb.connect(str(snap), read_only=True)
    try:
        cases = con.execute("select count(*) from marts.fct_case").fetchone()[0]
        windows = con.execute("select count(distinct window_id) from marts.fct_window_month").fetchone()[0]
        ranked = con.execute("select count(*) from marts.fct_window_month where rank is not null").fetchone()[0]
    finally:
        con.close()
    assert 0 < cases <= truth["counts"]["cases"]
    assert windows == truth["counts"]["rows_per_feed"]["windows"]
    assert ranked > 0
    assert record["data_docs"]["raw"] and record["data_docs"]["marts"]


def test_demo_without_serving(ww_home):
    """`windowwatch demo --no-serve` (what `make demo` runs, minus the server): demo feeds made
    once, the pipeline through Airflow, the latest full month's report published."""
    env = {**os.environ, "WINDOWWATCH_SOURCE_RETRY_DELAY_S": "1"}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "windowwatch.cli", "demo", "--no-serve"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    h = Home(ww_home)
    assert (h.demo_feeds / "_truth" / "ground_truth.json").is_file()
    assert json.loads((h.runs / "latest.json").read_text(encoding="utf-8"))["status"] in ("succeeded", "partial")
    versions = list(h.reports.glob("*/v1/ranking.pdf"))
    assert len(versions) == 1, out[-3000:]
    assert "not built yet" not in out
    current_snapshot(h)
