"""`windowwatch doctor` passes on a good deployment and catches each trap an operator hit:
a files source with no inbox, an API port the base URL does not follow, the sources file in
use, 32 task processes on a small box (docs/operations.md#before-the-first-run-windowwatch-doctor)."""

from __future__ import annotations

from pathlib import Path

from tests.support.doctor_home import failing, good_deployment, run_doctor, write_sources
from windowwatch.doctor import disk_check


def test_a_good_deployment_passes(tmp_path, airflow_pg_db):
    proc = run_doctor(good_deployment(tmp_path, airflow_pg_db))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert failing(proc) == []
    for name in ("sources file", "source hall_inbox inbox", "PII key", "Airflow metadata DB", "Airflow pool windowwatch_duckdb",
                 "Airflow API base URL", "Airflow parallelism", "free disk"):
        assert f"OK    {name}:" in proc.stdout, name
    assert "all " in proc.stdout and "checks hold" in proc.stdout


def test_case1_files_source_without_inbox_fails(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db)
    write_sources(Path(env["WINDOWWATCH_SOURCES"]), inbox=None)
    proc = run_doctor(env)
    assert proc.returncode == 1
    # (the coming year's calendar, delivered to that inbox, is then not found either)
    line = failing(proc)[0]
    assert line.startswith("FAIL  source hall_inbox inbox: files source with no `path:`")
    assert "add `path:" in line and env["WINDOWWATCH_SOURCES"] in line


def test_case1_inbox_that_does_not_exist_fails(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db)
    write_sources(Path(env["WINDOWWATCH_SOURCES"]), inbox=tmp_path / "no-such-inbox")
    proc = run_doctor(env)
    assert proc.returncode == 1
    assert any("no-such-inbox does not exist" in line for line in failing(proc)), proc.stdout


def test_case2_api_port_without_base_url_fails(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db)
    env["AIRFLOW__API__PORT"] = "8099"
    env.pop("AIRFLOW__API__BASE_URL")  # Airflow's default base URL names port 8080
    proc = run_doctor(env)
    assert proc.returncode == 1
    [line] = failing(proc)
    assert "Airflow API base URL" in line and "port 8099" in line and "Connection refused" in line
    assert "export AIRFLOW__API__BASE_URL=http://localhost:8099" in line


def test_case2_api_port_on_a_log_server_port_fails(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db, api_port=8793)
    proc = run_doctor(env)
    assert proc.returncode == 1
    [line] = failing(proc)
    assert "8793 is Airflow's own log server port" in line


def test_case3_the_sources_file_in_use_is_named(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db)
    proc = run_doctor(env)
    assert f"OK    sources file: {env['WINDOWWATCH_SOURCES']} (WINDOWWATCH_SOURCES)" in proc.stdout
    env["WINDOWWATCH_SOURCES"] = str(tmp_path / "elsewhere.yaml")
    proc = run_doctor(env)
    assert proc.returncode == 1
    line = failing(proc)[0]  # (and the calendar delivered to its inbox is not found)
    assert line.startswith(f"FAIL  sources file: {tmp_path / 'elsewhere.yaml'} (WINDOWWATCH_SOURCES)")
    assert "cannot read" in line


def test_case6_default_parallelism_on_a_small_box_fails(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db)
    env.pop("AIRFLOW__CORE__PARALLELISM")  # Airflow's default: 32 LocalExecutor processes
    proc = run_doctor(env)
    assert proc.returncode == 1
    [line] = failing(proc)
    assert line.startswith("FAIL  Airflow parallelism: 32 task processes") and "AIRFLOW__CORE__PARALLELISM=" in line


def test_missing_key_and_unmigrated_metadata_fail(tmp_path, airflow_pg_db):
    env = good_deployment(tmp_path, airflow_pg_db)
    env.pop("WINDOWWATCH_PII_KEY")
    env["WINDOWWATCH_PII_KEY_FILE"] = str(tmp_path / "no-key")
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC")
    proc = run_doctor(env)
    assert proc.returncode == 1
    names = {line.split(":")[0] for line in failing(proc)}
    assert names == {"FAIL  PII key", "FAIL  Airflow metadata DB"}, proc.stdout
    assert not (tmp_path / "no-key").exists(), "the doctor must not create a key"
    assert not (tmp_path / "never-migrated.db").exists(), "the doctor must not create a metadata DB"


def test_disk_needs_the_warehouse_twice_over(tmp_path):
    gb = 1 << 30
    assert disk_check(5 * gb, 2 * gb, tmp_path).ok
    low = disk_check(3 * gb, 2 * gb, tmp_path)
    assert not low.ok and "needs 4.0 GB" in low.detail and "free 1.0 GB" in low.fix
