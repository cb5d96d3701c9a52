"""A deployment as `windowwatch doctor` checks it: a sources file whose files source has its
inbox, the PII key, Airflow settings of a scheduler, and the coming year's calendar delivered.
Tests break one thing at a time (docs/operations.md#before-the-first-run-windowwatch-doctor)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from core.localtime import today_local
from core.paths import REPO_ROOT
from tests.support.calendar_notice import write_notice


def free_port(avoid: tuple[int, ...] = (8080, 8793, 8794)) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def write_sources(path: Path, inbox: Path | None) -> Path:
    lines = ["sources:", "  - name: hall_inbox", "    kind: files"]
    if inbox is not None:
        lines.append(f"    path: {inbox}")
    lines += ["    options:", "      rating_direction: five_is_best"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def good_deployment(root: Path, metadata_url: str, api_port: int | None = None) -> dict[str, str]:
    """The environment of a deployment that passes every check (metadata_url: a migrated
    Airflow DB with the pool)."""
    home, inbox = root / "home", root / "inbox"
    home.mkdir(parents=True, exist_ok=True)
    inbox.mkdir(parents=True, exist_ok=True)
    sources = write_sources(root / "sources.yaml", inbox)
    year = today_local().year
    for y in (year, year + 1):
        if y > 2026:  # beyond the official calendar (chinesecalendar 1.11): deliver the notice
            import argparse

            from windowwatch.calendar_feed import add_year_main

            notice = write_notice(root / f"notice-{y}.yaml", y)
            assert add_year_main(argparse.Namespace(file=str(notice), out=str(inbox), force=False)) == 0
    port = api_port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "WINDOWWATCH_"))}
    env.update({
        "WINDOWWATCH_HOME": str(home),
        "WINDOWWATCH_SOURCES": str(sources),
        "WINDOWWATCH_PII_KEY": "doctor-test-key",
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "PYTHONPATH": str(REPO_ROOT),
    })
    return env


def run_doctor(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "windowwatch.cli", "doctor"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def failing(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
