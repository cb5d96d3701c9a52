"""Faults (issue 8): kill -9 the dbt build at seeded random moments, then re-run it.

After the re-run the marts hold exactly what an uninterrupted build wrote (a content hash per
table), DuckDB's WAL is folded back into the file, and no temp file is left in the home.
The default trials build models only (`--exclude resource_type:test`): the marts are what a
kill could damage, and the data tests double the time; the slow trials run the whole build.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.support.faults import copy_home, db_hash, diff_keys, kill_after, orphans, timed_rerun


def dbt_cmd(as_of: str, with_tests: bool) -> list[str]:
    exclude = ["resource_type:unit_test"] + ([] if with_tests else ["resource_type:test"])
    return [sys.executable, "-m", "windowwatch.transform", "--as-of", as_of, "--exclude", *exclude]


def dbt_trials(world, tmp_path, seeds, with_tests: bool) -> list[dict]:
    cmd = dbt_cmd(world.as_of, with_tests)
    estimate = world.build_seconds + 5  # process start; refined by each uninterrupted re-run
    results = []
    for seed in seeds:
        home = copy_home(world.base, tmp_path / f"dbt{seed}")
        k = kill_after(cmd, home, seed, lo=0.1 * estimate, hi=0.9 * estimate)
        k.notes.append(f"wal_after_kill={(home / 'warehouse.duckdb.wal').exists()}")
        timed_rerun(cmd, home, k)
        estimate = min(estimate, k.rerun_seconds)  # the fastest uninterrupted run: keeps later delays inside the build
        results.append({"trial": k.label(), "diff": diff_keys(db_hash(home / "warehouse.duckdb"), world.marts),
                        "orphans": orphans(home), "killed": k.killed})
    return results


def _assert_trials(results: list[dict]) -> None:
    print("dbt kill -9 trials:", json.dumps(results, ensure_ascii=False))
    for r in results:
        assert r["diff"] == [], f"marts differ from an uninterrupted build after {r['trial']}: {r['diff']}"
        assert r["orphans"] == [], f"left behind after {r['trial']}: {r['orphans']}"
    assert any(r["killed"] for r in results), f"no trial was killed mid-build: {results}"


@pytest.mark.slow  # time; failed in the session-9 CI run on fct_queue_* float sums, passes since the averages are rounded
def test_kill_9_dbt_build_then_rerun_equals_uninterrupted(fault_world, tmp_path):
    _assert_trials(dbt_trials(fault_world, tmp_path, (21, 22, 23), with_tests=False))


@pytest.mark.slow
def test_kill_9_dbt_build_twenty_trials(fault_world, tmp_path):
    _assert_trials(dbt_trials(fault_world, tmp_path, range(200, 220), with_tests=True))
