"""Build-then-swap publishing (windowwatch/snapshot_publish.py) on real DuckDB files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from core.paths import REPO_ROOT, Home
from windowwatch.snapshot_publish import PublishError, publish, snapshot_name
from windowwatch.snapshot import NoSnapshot, current_snapshot


def build_work(path: Path, version: int, rows: int = 1000) -> None:
    """A 'full rebuild' of the work warehouse: every table says which version it belongs to."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace table marts.a as select {version} as version, range as i from range({rows})")
        con.execute(f"create or replace table marts.b as select {version} as version, {rows} as expected_rows")
    finally:
        con.close()


def test_publish_makes_readonly_snapshot_and_switches_pointer(ww_home):
    h = Home(ww_home)
    build_work(h.warehouse, 1)
    first = publish("manual__2025-11-01T00:00:00+00:00", h)
    assert first.previous is None
    assert first.path.name == snapshot_name("manual__2025-11-01T00:00:00+00:00")
    assert ":" not in first.path.name and "+" not in first.path.name
    assert current_snapshot(h) == first.path
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o444
    if os.geteuid() != 0:  # root ignores file modes; the 0444 mode above is still checked
        with pytest.raises(duckdb.Error):
            duckdb.connect(str(first.path)).execute("create table x(i int)")
    con = duckdb.connect(str(first.path), read_only=True)
    assert con.execute("select count(*), min(version) from marts.a").fetchone() == (1000, 1)
    con.close()

    build_work(h.warehouse, 2, rows=10)
    second = publish("run-2", h)
    assert second.previous == first.path.name
    assert current_snapshot(h) == second.path
    assert first.path.exists(), "the previous snapshot is kept (readers may still have it open)"
    # the same run id again gets a fresh name: a snapshot is never overwritten
    third = publish("run-2", h)
    assert third.path != second.path and second.path.exists()
    assert not list(h.published.glob(".*.tmp"))


def test_prune_keeps_newest_and_current(ww_home):
    h = Home(ww_home)
    names = []
    for v in range(7):
        build_work(h.warehouse, v, rows=5)
        names.append(publish(f"run-{v}", h, keep=3).path.name)
        time.sleep(0.01)  # distinct mtimes
    left = sorted(p.name for p in h.published.glob("warehouse-*.duckdb"))
    assert left == sorted(names[-3:])
    assert current_snapshot(h).name == names[-1]


def test_publish_without_warehouse_leaves_current_live(ww_home):
    h = Home(ww_home)
    with pytest.raises(NoSnapshot):
        current_snapshot(h)
    build_work(h.warehouse, 1)
    live = publish("run-1", h).path
    h.warehouse.unlink()
    with pytest.raises(PublishError, match="no warehouse to publish"):
        publish("run-2", h)
    assert current_snapshot(h) == live


READER = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    from core.paths import Home
    from windowwatch.snapshot import current_snapshot, NoSnapshot
    h = Home.from_env()
    stop = h.root / "stop-reader"
    seen, errors, queries = set(), [], 0
    while not stop.exists():
        try:
            path = current_snapshot(h)
        except NoSnapshot:
            continue
        try:
            con = duckdb.connect(str(path), read_only=True)
            try:
                n, version, vmin = con.execute("select count(*), max(version), min(version) from marts.a").fetchone()
                expected, bversion = con.execute("select expected_rows, version from marts.b").fetchone()
            finally:
                con.close()
            queries += 1
            if n != expected or version != bversion or vmin != version:
                errors.append(f"incomplete snapshot {path.name}: {n} rows of {expected}, versions {vmin}..{version}/{bversion}")
            seen.add(version)
        except Exception as exc:  # any error is a failure of the publishing protocol
            errors.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"queries": queries, "versions": sorted(seen), "errors": errors[:20]}))
    """
)


def test_continuous_reader_sees_only_complete_snapshots(ww_home, tmp_path):
    """A separate process queries CURRENT in a loop while the warehouse is fully rebuilt and
    published again and again: no lock error, no missing file, never a half-built snapshot."""
    h = Home(ww_home)
    build_work(h.warehouse, 0, rows=50_000)
    publish("run-0", h)
    script = tmp_path / "reader.py"
    script.write_text(READER)
    env = {**os.environ, "WINDOWWATCH_HOME": str(ww_home), "PYTHONPATH": str(REPO_ROOT)}
    reader = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        for v in range(1, 13):
            # varying sizes so a torn copy would show as a wrong row count
            build_work(h.warehouse, v, rows=50_000 + 7_919 * v)
            publish(f"run-{v}", h, keep=2)  # pruning while the reader may hold an old file open
        time.sleep(0.5)
    finally:
        (ww_home / "stop-reader").touch()
        out, _ = reader.communicate(timeout=120)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["queries"] > 10, result
    assert len(result["versions"]) >= 3, f"the reader should have followed the publishes: {result}"
    assert current_snapshot(h).name == snapshot_name("run-12")


def test_snapshot_is_a_byte_for_byte_copy_of_the_work_file(ww_home):
    """The in-kernel copy (copy_file_range) yields exactly the checkpointed work file."""
    h = Home(ww_home)
    build_work(h.warehouse, 3, rows=200_000)
    snap = publish("bytes", h).path
    assert snap.stat().st_size == h.warehouse.stat().st_size
    assert snap.read_bytes() == h.warehouse.read_bytes()


def test_copy_falls_back_when_the_kernel_copy_fails_midway(ww_home, monkeypatch):
    """A file system without copy_file_range (EXDEV, EOPNOTSUPP, …) may fail after some bytes:
    the copy starts over through user space and the snapshot is still whole."""
    import errno

    from windowwatch import snapshot_publish as publish_module

    h = Home(ww_home)
    build_work(h.warehouse, 4, rows=200_000)
    calls = []

    def flaky_copy_file_range(src, dst, count, *args):
        calls.append(count)
        if len(calls) == 1:
            os.write(dst, os.read(src, min(count, 4096)))  # some bytes land, then the call fails
            return min(count, 4096)
        raise OSError(errno.EXDEV, "cross-device copy not supported")

    monkeypatch.setattr(publish_module.os, "copy_file_range", flaky_copy_file_range)
    snap = publish("fallback", h).path
    assert len(calls) == 2
    assert snap.read_bytes() == h.warehouse.read_bytes()
    con = duckdb.connect(str(snap), read_only=True)
    assert con.execute("select count(*), min(version) from marts.a").fetchone() == (200_000, 4)
    con.close()
