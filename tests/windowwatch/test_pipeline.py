"""Pipeline steps and run records without Airflow (fast); the Airflow runs are in tests/dags/."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from windowwatch.demo import latest_full_month
from core.paths import Home
from windowwatch.pipeline import GateFailed, step_publish, step_raw_gate, step_summary
from windowwatch.runs import RunRecord, format_summary, latest, run_key


def test_run_record_states(ww_home):
    h = Home(ww_home).ensure()
    rec = RunRecord(h, "manual__2025-11-01T00:00:00+00:00")
    assert run_key(rec.run_id) == "manual__2025-11-01T00_00_00_00_00"
    with rec.step("list_sources") as out:
        out["counts"] = {"sources": 2}
    with rec.step("ingest.a", try_number=1) as out:
        out["counts"] = {"landed": 5}
    with pytest.raises(ValueError):
        with rec.step("ingest.b", try_number=1):
            raise ValueError("connection refused")
    with pytest.raises(ValueError):  # the retry fails too: both attempts are kept
        with rec.step("ingest.b", try_number=2):
            raise ValueError("connection refused again")
    running = latest(h)
    assert running["status"] == "running" and running["failed_sources"] == ["b"]
    assert running["sources"]["b"]["previous_attempts"][0]["reason"] == "ValueError: connection refused"
    for name in ("raw_gate", "dbt_build", "marts_gate", "publish"):
        with rec.step(name) as out:
            out["counts"] = {"n": 1}
    final = rec.assemble(final=True)
    assert final["status"] == "partial", "a failed source does not fail a run that published"
    assert final["failure"] is None

    rec2 = RunRecord(h, "run-2")
    with rec2.step("list_sources"):
        pass
    with pytest.raises(RuntimeError):
        with rec2.step("dbt_build"):
            raise RuntimeError("model fct_case failed")
    final2 = rec2.assemble(final=True)
    assert final2["status"] == "failed"
    assert final2["failure"]["task"] == "dbt_build" and "fct_case" in final2["failure"]["reason"]
    assert json.loads((h.runs / "latest.json").read_text())["run_id"] == "run-2"
    assert json.loads((h.runs / f"{rec.key}.json").read_text())["status"] == "partial"
    text = format_summary(final2)
    assert "FAILED at dbt_build" in text and "stays live" in text


def test_a_critical_step_that_never_ran_fails_the_run(ww_home):
    h = Home(ww_home).ensure()
    rec = RunRecord(h, "run-x")
    with rec.step("list_sources"):
        pass
    final = rec.assemble(final=True)
    assert final["status"] == "failed" and final["failure"]["task"] == "raw_gate"


def test_raw_gate_step_records_failure_and_keeps_snapshot(ww_home):
    """Without Airflow: a corrupted delivery fails the raw gate step; the record says so and the
    snapshot published before stays CURRENT."""
    from tests.support.marts import make_marts
    from tests.support.landing import WINDOWS, event, write_landing

    h = Home(ww_home).ensure()
    make_marts(h.warehouse)
    live = step_publish(h, "run-1")
    rec = RunRecord(h, "run-2")
    rec.set_meta(started_epoch=0)  # every landed file counts as this run's
    with rec.step("list_sources"):
        pass
    with rec.step("ingest.hall_inbox"):
        write_landing(h, "windows", WINDOWS, ingested_at="2025-10-31 20:00:00")
        write_landing(h, "transactions", [event("E1", "C1", "accept", "2099-10-09 10:00:00")], ingested_at="2025-10-31 20:00:00")
    with pytest.raises(GateFailed, match="last published snapshot stays live"):
        step_raw_gate(h, "run-2")
    record = step_summary(h, "run-2")
    assert record["status"] == "failed"
    assert record["failure"]["task"] == "raw_gate"
    assert "_gx_delivery_lag_s" in record["failure"]["reason"]
    assert record["failure"]["counts"]["critical_failures"] >= 1
    assert record["live_snapshot"] == live
    assert (h.published / "CURRENT").read_text().strip() == live
    assert record["data_docs"]["raw"] and Path(record["data_docs"]["raw"]).is_file()


@pytest.mark.parametrize(
    ("as_of", "month"),
    [("2025-10-31", "2025-10"), ("2025-11-15", "2025-10"), ("2025-01-01", "2024-12"), ("2024-02-29", "2024-02")],
)
def test_latest_full_month(as_of, month):
    assert latest_full_month(dt.date.fromisoformat(as_of)) == month


def test_run_rejects_a_missing_inbox(ww_home, capsys):
    from windowwatch.cli import main

    assert main(["run", "--feeds", str(ww_home / "no-such-inbox"), "--as-of", "2025-10-31"]) == 2
    assert "no such folder" in capsys.readouterr().err
