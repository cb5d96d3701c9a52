"""The daily DAG through Airflow (`airflow dags test`) with its metadata DB on a real
PostgreSQL 15 (the production setting), migrated once per test session."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import sqlalchemy as sa

from tests.support.tiny_inbox import corrupt_inbox, write_tiny_inbox
from windowwatch.pipeline import run_dag
from windowwatch.snapshot import current_snapshot


def _task_states(url: str, run_id: str) -> tuple[str, dict[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            assert c.execute(sa.text("select count(*) from alembic_version")).scalar() == 1
            assert c.execute(sa.text("select slots from slot_pool where pool = 'windowwatch_duckdb'")).scalar() == 1
            state = c.execute(sa.text("select state from dag_run where dag_id = 'windowwatch_daily' and run_id = :r"), {"r": run_id}).scalar()
            tis = dict(c.execute(sa.text(
                "select task_id, state from task_instance where dag_id = 'windowwatch_daily' and run_id = :r and map_index <= 0"
            ), {"r": run_id}).fetchall())
    finally:
        engine.dispose()
    return state, tis


def _log_tail(h) -> str:
    return "\n".join(p.read_text(errors="replace")[-4000:] for p in (h.airflow_home / "logs").glob("*.log"))


def test_corrupted_feed_stops_run_and_previous_snapshot_stays_live(airflow_pg_home, airflow_pg_db, tmp_path):
    """The raw gate stops the run on a corrupted delivery: nothing is built or published, the
    failure is in runs/latest.json, CURRENT still names the snapshot published before."""
    from tests.support.marts import make_marts

    from windowwatch.snapshot_publish import publish

    h = airflow_pg_home.ensure()
    make_marts(h.warehouse)
    live = publish("earlier-run", h).path.name
    inbox = corrupt_inbox(write_tiny_inbox(tmp_path / "inbox"))

    rc, record = run_dag(h, str(inbox), "2025-10-31", stream=False)
    assert record is not None, _log_tail(h)
    assert rc != 0, "a failed run exits non-zero"
    assert record["status"] == "failed"
    assert record["failure"]["task"] == "raw_gate"
    assert "event_time must not be after the delivery" in record["failure"]["reason"]
    assert record["failure"]["counts"]["critical_failures"] >= 1
    assert record["sources"]["hall_inbox"]["status"] == "succeeded"
    assert record["sources"]["hall_inbox"]["counts"]["landed"] >= 14
    assert "dbt_build" not in record["steps"] and "publish" not in record["steps"]
    assert (h.published / "CURRENT").read_text().strip() == live
    assert record["live_snapshot"] == live
    on_disk = json.loads((h.runs / "latest.json").read_text(encoding="utf-8"))
    assert on_disk["status"] == "failed" and on_disk["failure"]["task"] == "raw_gate"
    assert Path(on_disk["data_docs"]["raw"]).is_file()
    assert (h.runs / f"{record['run_key']}.json").is_file()

    state, tis = _task_states(airflow_pg_db, record["run_id"])
    assert state == "failed"
    assert tis["ingest"] == "success" and tis["raw_gate"] == "failed"
    assert tis["dbt_build"] == "upstream_failed" and tis["publish"] == "upstream_failed"
    assert tis["run_summary"] == "failed"


def test_daily_dag_publishes_on_postgresql_metadata(airflow_pg_home, airflow_pg_db, tmp_path):
    h = airflow_pg_home
    inbox = write_tiny_inbox(tmp_path / "inbox")
    rc, record = run_dag(h, str(inbox), "2025-10-31", stream=False)
    assert rc == 0, _log_tail(h)
    assert record["status"] == "succeeded", record
    assert record["steps"]["dbt_build"]["counts"]["nodes"] > 50
    state, tis = _task_states(airflow_pg_db, record["run_id"])
    assert state == "success"
    assert tis == {t: "success" for t in ("list_sources", "supervision_export", "ingest", "raw_gate", "dbt_build",
                                          "marts_gate", "publish",
                                          "supervise_sync", "run_summary")}
    assert record["steps"]["supervise_sync"]["status"] == "succeeded"
    snap = current_snapshot(h)
    assert snap.name == record["published"]
    con = duckdb.connect(str(snap), read_only=True)
    try:
        assert con.execute("select count(*) from marts.fct_case").fetchone()[0] == 6
        assert con.execute("select count(*) from marts.fct_case where status = 'completed'").fetchone()[0] == 4
    finally:
        con.close()
