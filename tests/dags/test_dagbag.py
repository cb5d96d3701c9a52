"""The Airflow DAGs import and have the shape the brief asks for (runs: test_airflow_postgres.py)."""

from __future__ import annotations

import datetime as dt
import os
import sys

import pytest

from core.paths import REPO_ROOT


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    # parsing needs no metadata DB; keep Airflow's files out of the user's ~/airflow
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow-home")))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_every_dag_imports(dagbag):
    assert dagbag.import_errors == {}
    assert {"windowwatch_daily", "windowwatch_monthly"} <= set(dagbag.dag_ids)


def test_daily_dag_shape(dagbag):
    dag = dagbag.dags["windowwatch_daily"]
    assert dag.max_active_runs == 1 and dag.catchup is False
    t = dag.task_dict
    assert set(t) == {"list_sources", "supervision_export", "ingest", "raw_gate", "dbt_build", "marts_gate", "publish",
                      "supervise_sync", "run_summary"}
    ingest = t["ingest"]
    assert ingest.retries >= 1 and ingest.retry_exponential_backoff
    assert "MappedOperator" in type(ingest).__name__  # one task per source
    assert t["raw_gate"].trigger_rule == "all_done"  # a broken source does not stop the others
    assert t["run_summary"].trigger_rule == "all_done"  # the run is always recorded
    for name in ("dbt_build", "marts_gate", "publish"):
        assert t[name].pool == "windowwatch_duckdb"
    assert t["raw_gate"].upstream_task_ids == {"ingest"}
    # the 督办 store is exported to landing at the start of the run; the build waits for it
    assert t["supervision_export"].upstream_task_ids == {"list_sources"}
    assert t["dbt_build"].upstream_task_ids == {"raw_gate", "supervision_export"}
    assert t["publish"].downstream_task_ids == {"supervise_sync"}  # 督办 items from the snapshot just published
    assert t["supervise_sync"].downstream_task_ids == {"run_summary"}


def test_monthly_publish_day():
    sys.path.insert(0, str(REPO_ROOT / "dags"))
    from windowwatch_monthly import month_to_publish

    assert month_to_publish(dt.date(2025, 12, 3), None, 3) == "2025-11"
    assert month_to_publish(dt.date(2026, 1, 3), None, 3) == "2025-12"
    assert month_to_publish(dt.date(2025, 12, 4), None, 3) is None
    assert month_to_publish(dt.date(2025, 12, 4), "2025-10", 3) == "2025-10"


def test_dags_run_on_local_time(dagbag, monkeypatch):
    """The daily run fires at WINDOWWATCH_DAILY_AT in Asia/Shanghai (default 21:00, after the hall
    closes); the monthly one at 06:00 local (docs/operations.md)."""
    daily, monthly = dagbag.dags["windowwatch_daily"], dagbag.dags["windowwatch_monthly"]
    assert type(daily.timetable).__name__ == "CronTriggerTimetable"
    assert daily.timetable.expression == "0 21 * * *"
    assert str(getattr(daily.timetable.timezone, "name", daily.timetable.timezone)) == "Asia/Shanghai"
    assert monthly.timetable.expression == "0 6 * * *"
    assert str(getattr(monthly.timetable.timezone, "name", monthly.timetable.timezone)) == "Asia/Shanghai"
    from windowwatch.pipeline import daily_cron

    monkeypatch.setenv("WINDOWWATCH_DAILY_AT", "19:30")
    assert daily_cron() == "30 19 * * *"


def test_as_of_is_the_local_day_the_run_covers():
    from windowwatch.pipeline import run_as_of

    # the scheduled 21:00 of 2026-12-06 in Shanghai is 13:00 UTC: it covers 2026-12-06
    assert run_as_of(dt.datetime(2026, 12, 6, 13, 0, tzinfo=dt.timezone.utc)) == "2026-12-06"
    # 00:30 in Shanghai is still the previous day in UTC: the local day counts
    assert run_as_of(dt.datetime(2026, 12, 5, 16, 30, tzinfo=dt.timezone.utc)) == "2026-12-06"
    assert run_as_of(None, dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.timezone.utc)) == "2026-12-06"
