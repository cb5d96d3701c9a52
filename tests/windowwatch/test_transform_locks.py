"""A dbt build leaves no semaphore for the resource tracker to warn about when the process ends
with os._exit, as an Airflow task process does (windowwatch/transform.py _release_dbt_locks)."""

from __future__ import annotations

import os
import subprocess
import sys

from core.paths import REPO_ROOT

SCRIPT = """
import os, sys
from pathlib import Path
from core.config import load_sources
from core.paths import Home
from ingest.run import ingest_source
from tests.support.tiny_inbox import write_tiny_inbox
from windowwatch.transform import build
root = Path(sys.argv[1]); home = Home(root / "home")
ingest_source(home, load_sources().sources[0], write_tiny_inbox(root / "inbox"))
print("BUILD", build(home, "2025-10-31").success, flush=True)
sys.stderr.flush()
os._exit(0)
"""


def test_build_then_os_exit_leaks_no_semaphore(tmp_path):
    env = {**os.environ, "WINDOWWATCH_HOME": str(tmp_path / "home"), "WINDOWWATCH_PII_KEY": "k", "PYTHONPATH": str(REPO_ROOT)}
    env.pop("WINDOWWATCH_SOURCES", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert "BUILD True" in proc.stdout, proc.stderr[-3000:]
    # the resource tracker reports from its own process, which outlives ours briefly
    import time

    time.sleep(1.5)
    assert "leaked semaphore" not in proc.stderr, proc.stderr[-2000:]
