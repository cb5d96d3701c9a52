"""A daily build keeps the dbt nodes whose inputs did not change (windowwatch/unchanged_nodes.py),
and what it then publishes equals a full build of the same landing at the same as-of date.

One home, built as a day would: a full build; a delivery of one hall feed only (its nodes run,
the case nodes are kept); the same day again (nothing runs); the as-of date moves (the nodes
reading it run, the event merge is kept); a build killed by SIGKILL half-way (what it was
rebuilding is rebuilt by the next); a kept table dropped by hand (everything runs).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb

from core.paths import REPO_ROOT, Home
from tests.dbt.test_dbt_incremental import _hashes as table_hashes
from tests.support.landing import event, write_dataset, write_landing
from windowwatch import unchanged_nodes
from windowwatch.transform import build


def _hashes(warehouse) -> dict[str, str]:
    """Every mart and intermediate table and view, by content (the case models' build_state tables
    record deliveries and as-of dates, not rule rows)."""
    out = {**table_hashes(warehouse, "marts", None), **table_hashes(warehouse, "intermediate", None)}
    return {k: v for k, v in out.items() if not k.endswith("build_state")}


def _assert_equals_full_build(home: Home, as_of: str) -> None:
    kept = _hashes(home.warehouse)
    other = home.root / "full-build.duckdb"
    other.unlink(missing_ok=True)
    full = build(home, as_of=as_of, full_refresh=True, warehouse=other)
    assert full.success, full.summary()
    rebuilt = _hashes(other)
    assert kept == rebuilt, {k for k in rebuilt if kept.get(k) != rebuilt[k]}


def _status(result) -> dict[str, str]:
    return {n.name: n.status for n in result.nodes}


def _ticket(ticket_id: str, issued_at: str) -> dict:
    return {"ticket_id": ticket_id, "center_id": "C01", "business_type": "WD5", "window_id": "W01",
            "issued_at": issued_at, "called_at": issued_at[:11] + "09:20:00", "served_at": issued_at[:11] + "09:21:00",
            "finished_at": issued_at[:11] + "09:40:00", "status": "served"}


def test_a_daily_build_keeps_what_did_not_change_and_equals_a_full_build(ww_home):
    home = Home(ww_home)
    write_dataset(home)
    first = build(home, as_of="2025-10-24")
    assert first.success, first.summary()
    state = unchanged_nodes.load_state(home.warehouse)["nodes"]
    ran = {n.unique_id for n in first.nodes if n.status in ("success", "pass")}
    assert ran and set(state) == ran, "a full build records every node it completed"

    # one hall feed delivered, the same as-of date: only what reads queue tickets runs
    write_landing(home, "queue_tickets", [_ticket("Q1", "2025-10-21 09:10:00"), _ticket("Q2", "2025-10-22 09:00:00")])
    hall = build(home, as_of="2025-10-24")
    assert hall.success, hall.summary()
    s = _status(hall)
    assert set(s) == set(_status(first)), "every node is run or reused: none dropped by the selection"
    assert s["int_hall__queue_tickets"] == "success" and s["fct_queue_hour"] == "success", hall.summary()
    assert s["int_cases__events_latest"] == "reused" and s["fct_case"] == "reused" and s["fct_evaluation"] == "reused"
    assert s["int_hall__queue_tickets_all"] == "success" and s["int_hall__queue_tickets_all__column_checks"] == "pass", \
        "a rebuilt model's tests run"
    assert "inputs unchanged since the build of" in next(n.message for n in hall.nodes if n.name == "fct_case")
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from intermediate.int_hall__queue_tickets").fetchall() == [(2,)]
    finally:
        con.close()
    _assert_equals_full_build(home, "2025-10-24")

    # nothing new: dbt is not even started, and nothing is lost
    again = build(home, as_of="2025-10-24")
    assert again.success and again.nodes and {n.status for n in again.nodes} == {"reused"}, again.summary()
    _assert_equals_full_build(home, "2025-10-24")

    # the as-of date moves: what reads it runs, the event merge (which does not) is kept
    later = build(home, as_of="2025-10-31")
    assert later.success, later.summary()
    s = _status(later)
    assert set(s) == set(_status(first))
    assert s["fct_case"] == "success" and s["int_hall__queue_tickets"] == "success"
    # the tickets' derived columns do not read the date: only the view cutting them at it runs
    assert s["int_cases__events_latest"] == "reused" and s["int_hall__queue_tickets_all"] == "reused"
    _assert_equals_full_build(home, "2025-10-31")


def test_a_build_killed_half_way_leaves_what_it_was_rebuilding_to_the_next(ww_home):
    home = Home(ww_home)
    write_dataset(home)
    assert build(home, as_of="2025-10-24").success
    write_landing(home, "queue_tickets", [_ticket("Q1", "2025-10-21 09:10:00")])
    queue_node = next(uid for uid in unchanged_nodes.load_state(home.warehouse)["nodes"]
                      if uid.endswith(".int_hall__queue_tickets_all"))
    code = ("import sys; from core.paths import Home; from windowwatch.transform import build; "
            f"build(Home.from_env(), as_of='2025-10-24')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while queue_node in unchanged_nodes.load_state(home.warehouse)["nodes"]:
            assert proc.poll() is None and time.monotonic() < deadline, "the build ended before forgetting what it rebuilds"
            time.sleep(0.02)
        time.sleep(1.0)  # dbt is at work
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert queue_node not in unchanged_nodes.load_state(home.warehouse)["nodes"]
    after = build(home, as_of="2025-10-24")
    assert after.success, after.summary()
    assert _status(after)["int_hall__queue_tickets_all"] == "success"
    _assert_equals_full_build(home, "2025-10-24")

    # the warehouse file replaced by an older copy (put back by hand): its tables are not the ones
    # the state recorded, so nothing is kept
    older = home.root / "older.duckdb"
    shutil.copyfile(home.warehouse, older)
    write_landing(home, "queue_tickets", [_ticket("Q2", "2025-10-22 09:00:00")])
    assert build(home, as_of="2025-10-24").success
    shutil.copyfile(older, home.warehouse)
    put_back = build(home, as_of="2025-10-24")
    assert put_back.success and "reused" not in {n.status for n in put_back.nodes}, put_back.summary()
    _assert_equals_full_build(home, "2025-10-24")

    # a kept table dropped by hand: nothing is kept, everything is rebuilt
    con = duckdb.connect(str(home.warehouse))
    try:
        con.execute("drop table marts.dim_window")
    finally:
        con.close()
    rebuilt = build(home, as_of="2025-10-24")
    assert rebuilt.success, rebuilt.summary()
    assert "reused" not in {n.status for n in rebuilt.nodes} and _status(rebuilt)["dim_window"] == "success"

    # the home copied to another folder: its manifest names the old folder's files, so nothing is
    # kept there until a build of its own has recorded what it read
    moved = Home(ww_home.parent / "moved")
    shutil.copytree(ww_home, moved.root)
    (moved.root / "full-build.duckdb").unlink(missing_ok=True)
    write_landing(home, "transactions", [event("K-LATE-1", "K-LATE", "accept", "2025-10-23 10:00:00")])  # the old home only
    first_there = build(moved, as_of="2025-10-24")
    assert first_there.success and "reused" not in {n.status for n in first_there.nodes}, first_there.summary()
    assert _status(build(moved, as_of="2025-10-24"))["fct_case"] == "reused"


def test_the_signature_follows_sources_as_of_and_project(tmp_path):
    """Pure: what a node's signature reads, on a three-node manifest."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.parquet").write_bytes(b"x")
    manifest = {
        "nodes": {
            "model.p.stg": {"resource_type": "model", "name": "stg", "depends_on": {"macros": [], "nodes": ["source.p.s.a"]}},
            "model.p.dated": {"resource_type": "model", "name": "dated",
                              "depends_on": {"macros": ["macro.p.helper"], "nodes": ["model.p.stg"]}},
            "test.p.dated_check.1": {"resource_type": "test", "name": "dated_check",
                                     "depends_on": {"macros": [], "nodes": ["model.p.dated"]}},
        },
        "macros": {"macro.p.helper": {"depends_on": {"macros": [unchanged_nodes.AS_OF_MACRO]}},
                   unchanged_nodes.AS_OF_MACRO: {"depends_on": {"macros": []}}},
        "sources": {"source.p.s.a": {"meta": {"external_location": f"read_parquet('{tmp_path}/a/**/*.parquet')"}}},
        "parent_map": {"model.p.stg": ["source.p.s.a"], "model.p.dated": ["model.p.stg"],
                       "test.p.dated_check.1": ["model.p.dated"]},
    }
    g = unchanged_nodes.Graph.from_manifest(json.loads(json.dumps(manifest)))
    assert g.as_of == {"model.p.stg": False, "model.p.dated": True, "test.p.dated_check.1": True}
    a = g.signatures("project", "2025-10-24")
    assert g.signatures("project", "2025-10-31")["model.p.stg"] == a["model.p.stg"]
    assert g.signatures("project", "2025-10-31")["model.p.dated"] != a["model.p.dated"]
    assert g.signatures("other", "2025-10-24")["model.p.stg"] != a["model.p.stg"]
    (tmp_path / "a" / "2.parquet").write_bytes(b"y")
    b = g.signatures("project", "2025-10-24")
    assert all(b[k] != a[k] for k in a), "a new file behind the source changes every node reading it"
    manifest["sources"]["source.p.s.a"]["meta"]["external_location"] = "somewhere_else()"
    assert unchanged_nodes.Graph.from_manifest(manifest).signatures("project", "2025-10-24") == {}, \
        "a location that cannot be read is never reused"
