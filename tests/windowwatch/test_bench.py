"""`windowwatch bench`: the measuring parts on real processes and real landing files, and (slow)
a whole bench run on a tiny inbox through every real stage."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import polars as pl
import pytest

from tests.support.landing import case_events, write_dataset, write_landing
from windowwatch import bench
from core.paths import Home


def test_peak_rss_sees_memory_a_child_process_allocates(tmp_path):
    """The sampler must count grandchildren: a child that starts a grandchild holding 300 MB."""
    grandchild = "import time; b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"
    rc, wall, peak, cpu = bench.run_measured([sys.executable, "-c", child], {}, tmp_path, tmp_path / "log.txt")
    assert rc == 0
    assert 0 < cpu < wall  # mostly asleep, yet the grandchild's page-touching is counted
    assert wall >= 1.5
    assert peak >= 300 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB misses the grandchild's 300 MiB"
    assert peak < 2 * 1024**3


def test_failing_child_stage_is_reported_not_hidden(tmp_path, ww_home):
    # publish on a home without a warehouse: the child raises, the parent records the failure
    s = bench.run_stage("publish", "full", {"run_id": "r1"}, tmp_path, {**os.environ, "WINDOWWATCH_HOME": str(ww_home)})
    assert not s.ok
    assert "PublishError" in (s.error or "") and "warehouse.duckdb" in s.error
    assert s.peak_rss > 0
    assert (tmp_path / "logs" / "full-publish.log").exists()


def test_incremental_day_moves_the_last_working_day_to_the_next(ww_home, tmp_path):
    write_dataset(ww_home)
    # the last landed accept is on Friday 2025-10-24; the next working day is Monday 10-27
    write_landing(ww_home, "transactions", case_events("K-LAST", [("accept", "2025-10-24 10:00:00"),
                                                                   ("complete", "2025-10-24 15:00:00")], "W01", "WD5"))
    write_landing(ww_home, "evaluations", [{"evaluation_id": "V9", "case_id": "K-LAST", "window_id": "W01", "rating": 2,
                                            "channel": "pad", "evaluated_at": "2025-10-24 15:05:00", "round": 1}])
    landing = Home(ww_home).landing
    assert bench.landed_event_days(landing) == dt.date(2025, 10, 24)
    day, counts = bench.make_incremental_inbox(landing, tmp_path / "inbox")
    assert day == dt.date(2025, 10, 27)
    assert counts == {"transactions": 2, "evaluations": 1}
    tx = pl.read_parquet(tmp_path / "inbox" / "transactions" / "2025-10-27.parquet")
    assert sorted(tx["case_id"].unique()) == ["N20251027-K-LAST"]
    assert tx["event_time"].dt.date().unique().to_list() == [dt.date(2025, 10, 27)]
    assert not any(c.startswith("_") or c.endswith("_hmac") for c in tx.columns)
    ev = pl.read_parquet(tmp_path / "inbox" / "evaluations" / "2025-10-27.parquet")
    assert ev["evaluation_id"].to_list() == ["N20251027-V9"]
    assert ev["case_id"].to_list() == ["N20251027-K-LAST"]


def test_incremental_day_skips_the_national_day_holiday(ww_home, tmp_path):
    write_landing(ww_home, "transactions", case_events("K-SEP", [("accept", "2025-09-30 10:00:00")], "W01", "WD5"))
    day, counts = bench.make_incremental_inbox(Home(ww_home).landing, tmp_path / "inbox")
    assert day == dt.date(2025, 10, 9)  # 10-01..10-08 holiday, 10-11 (Sat) is a make-up day but later
    assert counts == {"transactions": 1}


def test_seed_marker_reuses_generated_feeds(tmp_path):
    feeds = tmp_path / "feeds"
    (feeds / "transactions").mkdir(parents=True)
    (feeds / ".bench-seed.json").write_text(json.dumps({"scale": "small", "seed": 7}))
    path, secs = bench.ensure_feeds(tmp_path, "small", 7)
    assert path == feeds and secs is None  # reused, not regenerated
    assert (feeds / "transactions").is_dir()


def _result(scale: str, full: float, rss_gib: float, inc: float, dbt_s: float, base_s: float, warm: float) -> bench.BenchResult:
    r = bench.BenchResult(scale=scale, seed=1, started_at="2026-11-22T10:00:00+00:00",
                          machine={"nproc": 2, "memory_gib": 23.5, "platform": "Linux", "python": "3.11",
                                   "load_avg_at_start": [1.0, 1.0, 1.0]},
                          versions={"duckdb": "2.0.0"}, settings={"duckdb_memory_limit": "4GB", "duckdb_threads": 2})
    rest = (full - dbt_s) / 4
    for name in bench.STAGES:
        wall = dbt_s if name == "dbt" else rest
        r.stages.append(bench.StageResult(name, "full", True, wall, wall, int(rss_gib * bench.GB), 1000, "rows"))
        r.stages.append(bench.StageResult(name, "incremental", True, inc / 5, None, int(bench.GB), 10, "rows"))
    r.stages.append(bench.StageResult("duckdb_scan", "baseline", True, base_s, base_s, bench.GB))
    r.pages = {"overview": {"cold": 2.0, "warm": warm}}
    return r


def test_targets_are_judged_against_the_issue():
    ok = dict((a, d) for a, _, _, d in bench.targets_table(_result("city", 100, 5.0, 15, 40, 10, 0.8)))
    assert set(ok.values()) == {"met"}, ok
    bad = dict((a, d) for a, _, _, d in bench.targets_table(_result("city", 130, 6.5, 25, 60, 10, 1.6)))
    assert list(bad.values()).count("**missed**") == 6, bad
    prov = bench.targets_table(_result("province", 800, 11.0, 100, 300, 100, 1.0))
    assert [d for a, _, _, d in prov if a.startswith("full rebuild wall")] == ["met"]


def test_results_section_is_appended(tmp_path):
    md = tmp_path / "results.md"
    bench.append_results(md, _result("city", 100, 5.0, 15, 40, 10, 0.8))
    bench.append_results(md, _result("province", 1000, 13.0, 100, 300, 100, 1.0))
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results")
    assert text.count("## city") == 1 and text.count("## province") == 1
    assert text.index("## city") < text.index("## province")
    prov = text[text.index("## province"):]
    assert "| full rebuild wall (sum of stages) | 1000.0 s | 900.0 s | **missed** |" in prov
    assert "2 cores, 23.5 GiB" in prov and "duckdb 2.0.0" in prov


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_bench_runs_every_stage_on_a_tiny_inbox(ww_home, tmp_path):
    from tests.support.tiny_inbox import write_tiny_inbox

    inbox = write_tiny_inbox(tmp_path / "inbox")
    md = tmp_path / "results.md"
    r = bench.run_bench("small", root=tmp_path / "bench", feeds=inbox, results_md=md, pages=["overview", "rankings"],
                        echo=lambda *_: None)
    assert r.ok, [(s.phase, s.stage, s.error) for s in r.stages if not s.ok]
    assert [s.stage for s in r.phase("full")] == bench.STAGES
    assert [s.stage for s in r.phase("incremental")] == bench.STAGES
    assert all(s.peak_rss > 50 * 2**20 for s in r.stages)
    assert r.stage("full", "ingest").rows == 13  # 2 windows + 1 item + 10 events
    assert r.settings["incremental_rows"] == {"transactions": 2}
    assert set(r.pages) == {"overview", "rankings"}
    text = md.read_text(encoding="utf-8")
    assert "| full | dbt |" in text and "| incremental | publish |" in text
    published = list((tmp_path / "bench" / "home" / "published").glob("warehouse-bench-*.duckdb"))
    assert len(published) == 2
