"""Faults (issue 8): kill -9 the snapshot publish at seeded random moments, then re-run it.

While a reader keeps resolving CURRENT and querying the snapshot it names, the publisher is
killed; the reader never fails or sees other data, CURRENT always names a complete snapshot
(equal to the build), and after the re-run CURRENT names the new one and no temp file is left.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager

import duckdb
import pytest

from tests.support.faults import WORKER, copy_home, db_hash, kill_after, kill_at_step, orphans, run, timed_rerun
from core.paths import Home
from windowwatch.snapshot import current_snapshot


def publish_cmd(run_id: str) -> list[str]:
    return [*WORKER, "publish", run_id]


@contextmanager
def reader(home, expected_rows: int):
    """A dashboard-like reader: resolve CURRENT, open read-only, count, close — in a loop."""
    seen: dict = {"reads": 0, "errors": [], "names": set()}
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                path = current_snapshot(Home(home))
                con = duckdb.connect(str(path), read_only=True)
                try:
                    n = con.execute("select count(*) from marts.fct_window_month").fetchone()[0]
                finally:
                    con.close()
                if n != expected_rows:
                    seen["errors"].append(f"{path.name}: {n} rows, expected {expected_rows}")
                seen["names"].add(path.name)
                seen["reads"] += 1
            except Exception as exc:  # any failure is what this test looks for
                seen["errors"].append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.02)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield seen
    finally:
        stop.set()
        t.join(timeout=30)


@pytest.fixture(scope="module")
def reference(fault_world, tmp_path_factory):
    home = copy_home(fault_world.base, tmp_path_factory.mktemp("publish_ref") / "home")
    t0 = time.monotonic()
    proc = run(publish_cmd("ref"), home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    con = duckdb.connect(str(home / "published" / "warehouse-base.duckdb"), read_only=True)
    try:
        rows = con.execute("select count(*) from marts.fct_window_month").fetchone()[0]
    finally:
        con.close()
    return {"seconds": time.monotonic() - t0, "rows": rows}


def publish_trial(world, reference, home, seed=None, step=None) -> dict:
    cmd = publish_cmd("trial")
    with reader(home, reference["rows"]) as seen:
        if step:
            k = kill_at_step(cmd, home, step)
        else:
            k = kill_after(cmd, home, seed, lo=0.05 * reference["seconds"], hi=0.95 * reference["seconds"])
        live = current_snapshot(Home(home))
        after_kill = diff_snapshot(live, world)
        k.notes.append(f"current_after_kill={live.name}")
        timed_rerun(cmd, home, k)
    live = current_snapshot(Home(home))
    return {"trial": k.label(), "killed": k.killed, "reader": {"reads": seen["reads"], "errors": seen["errors"][:5],
                                                               "names": sorted(seen["names"])},
            "after_kill": after_kill, "current": live.name, "after_rerun": diff_snapshot(live, world),
            "orphans": orphans(home)}


def diff_snapshot(path, world) -> list[str]:
    got = db_hash(path)
    return sorted(k for k in set(got) | set(world.marts) if got.get(k) != world.marts.get(k))


def _assert_trials(results: list[dict]) -> None:
    print("publish kill -9 trials:", json.dumps(results, ensure_ascii=False))
    for r in results:
        assert r["reader"]["errors"] == [] and r["reader"]["reads"] > 0, f"reader during {r['trial']}: {r['reader']}"
        assert r["after_kill"] == [], f"CURRENT named an incomplete snapshot after {r['trial']}: {r['after_kill']}"
        assert r["current"].startswith("warehouse-trial") and r["after_rerun"] == [], r
        assert r["orphans"] == [], f"left behind after {r['trial']}: {r['orphans']}"
    assert any(r["killed"] for r in results), f"no trial was killed mid-publish: {results}"


def test_kill_at_named_step_after_copy(fault_world, reference, tmp_path):
    r = publish_trial(fault_world, reference, copy_home(fault_world.base, tmp_path / "home"), step="publish.after_copy")
    assert r["killed"], r
    _assert_trials([r])
    # the killed run's complete copy stays as an immutable file; the re-run took a fresh name
    assert r["current"] == "warehouse-trial.2.duckdb", r


def test_kill_9_publish_at_random_points(fault_world, reference, tmp_path):
    _assert_trials([publish_trial(fault_world, reference, copy_home(fault_world.base, tmp_path / f"t{s}"), seed=s)
                    for s in (41, 42, 43)])


@pytest.mark.slow
def test_kill_9_publish_twenty_trials(fault_world, reference, tmp_path):
    _assert_trials([publish_trial(fault_world, reference, copy_home(fault_world.base, tmp_path / f"t{s}"), seed=s)
                    for s in range(400, 420)])
