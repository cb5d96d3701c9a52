"""What a scheduled deployment relies on: a run with no inbox ends at once with one message,
a failed run's record says when it finished, the Airflow environment is sized for the box."""

from __future__ import annotations

import pytest

from core.paths import Home
from tests.support.doctor_home import write_sources
from windowwatch.pipeline import MissingInbox, airflow_env, sensible_parallelism, step_list_sources
from windowwatch.runs import RunRecord


def test_no_inbox_fails_listing_with_one_clear_message(ww_home, tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_SOURCES", str(write_sources(tmp_path / "sources.yaml", inbox=None)))
    h = Home(ww_home)
    with pytest.raises(MissingInbox) as err:
        step_list_sources(h, "scheduled__2026-12-06", {"as_of": "2026-12-06"})
    msg = str(err.value)
    assert "source hall_inbox" in msg and "set `path:" in msg and str(tmp_path / "sources.yaml") in msg
    record = RunRecord(h, "scheduled__2026-12-06").assemble(final=True)
    assert record["status"] == "failed" and record["failure"]["task"] == "list_sources"
    assert record["as_of"] == "2026-12-06"
    # conf feeds (a manual trigger) is an inbox
    assert step_list_sources(h, "manual__1", {"feeds": str(tmp_path)}) == ["hall_inbox"]


def test_failed_run_record_keeps_finished_at(ww_home):
    h = Home(ww_home)
    rec = RunRecord(h, "r1")
    rec.write_step("list_sources", {"status": "failed", "reason": "boom"})
    final = rec.assemble(final=True)
    assert final["status"] == "failed" and final["finished_at"]
    # a failure callback after the summary (the summary task failing the run) assembles again
    rec.write_step("run_summary", {"status": "failed", "reason": "run failed at list_sources"})
    again = rec.assemble()
    assert again["status"] == "failed" and again["finished_at"] == final["finished_at"]


def test_airflow_env_bounds_parallelism(ww_home):
    env = airflow_env(Home(ww_home), {})
    assert env["AIRFLOW__CORE__PARALLELISM"] == str(sensible_parallelism())
    assert int(env["AIRFLOW__CORE__PARALLELISM"]) <= 32
    assert sensible_parallelism(2) == 2 and sensible_parallelism(16) == 16
    assert airflow_env(Home(ww_home), {"AIRFLOW__CORE__PARALLELISM": "6"})["AIRFLOW__CORE__PARALLELISM"] == "6"
