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
    assert set(t) == {"list_sources", "ingest", "raw_gate", "dbt_build", "marts_gate", "publish", "run_summary"}
    ingest = t["ingest"]
    assert ingest.retries >= 1 and ingest.retry_exponential_backoff
    assert "MappedOperator" in type(ingest).__name__  # one task per source
    assert t["raw_gate"].trigger_rule == "all_done"  # a broken source does not stop the others
    assert t["run_summary"].trigger_rule == "all_done"  # the run is always recorded
    for name in ("dbt_build", "marts_gate", "publish"):
        assert t[name].pool == "windowwatch_duckdb"
    assert t["raw_gate"].upstream_task_ids == {"ingest"}
    assert t["dbt_build"].upstream_task_ids == {"raw_gate"}
    assert t["publish"].downstream_task_ids == {"run_summary"}


def test_monthly_publish_day():
    sys.path.insert(0, str(REPO_ROOT / "dags"))
    from windowwatch_monthly import month_to_publish

    assert month_to_publish(dt.date(2025, 12, 3), None, 3) == "2025-11"
    assert month_to_publish(dt.date(2026, 1, 3), None, 3) == "2025-12"
    assert month_to_publish(dt.date(2025, 12, 4), None, 3) is None
    assert month_to_publish(dt.date(2025, 12, 4), "2025-10", 3) == "2025-10"
