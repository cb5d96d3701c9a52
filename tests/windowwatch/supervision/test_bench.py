"""`windowwatch supervise bench` (issue 18's figures): the counts it reports at 200 items, through the
CLI on SQLite and through `bench.run` on a real PostgreSQL. Not timed (the figures are in the report)."""

from __future__ import annotations

import re
import subprocess
import sys

from core.paths import REPO_ROOT
from windowwatch.supervision.bench import run

# step -> (rows, matching): 200 triggers, one in ten legal overdue (escalated), 40 departments, 400 windows
EXPECTED = {
    "sync (first: opens every item)": (200, None),
    "sync (again: opens nothing)": (0, None),
    "page: department picker": (40, None),
    "page: window picker (department)": (5, None),
    "page: queue, no filter": (200, 200),
    "page: queue, state open": (180, 180),
    "page: queue, department": (5, 5),
    "page: queue, department + window": (1, 1),
    "page: queue, escalated + kind": (20, 20),
    "page: inbox (inspector)": (1, None),  # the sync's digest
}


def test_the_cli_reports_every_step_with_its_counts(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "windowwatch.cli", "supervise", "bench", "--items", "200"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "WINDOWWATCH_HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "supervise bench: 200 items, store sqlite:///" in proc.stdout
    got = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"(.+?)\s+(\d+\.\d{3})\s+(\d+)\s*(\d+)?$", line)
        if m:
            got[m.group(1).strip()] = (int(m.group(3)), int(m.group(4)) if m.group(4) else None)
    assert got == EXPECTED, proc.stdout
    assert not (tmp_path / "home").exists()  # the bench builds its own home, not the user's


def test_run_on_postgresql_gives_the_same_counts(postgres_url, tmp_path):
    from tests.support.pg_server import new_database

    res = run(200, url=new_database(postgres_url), workdir=tmp_path)
    assert {s.name: (s.rows, s.matching) for s in res.steps} == EXPECTED
    assert res.store.startswith("postgresql") and all(s.seconds >= 0 for s in res.steps)
