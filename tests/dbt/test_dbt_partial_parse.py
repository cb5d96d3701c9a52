"""dbt partial parsing across daily builds (issue 7).

The as-of date reaches dbt as the environment variable WINDOWWATCH_AS_OF (macros/as_of.sql reads it
when SQL is compiled), not as a `--vars` value: any change of --vars makes dbt throw away its saved
parse (target/partial_parse.msgpack) and re-parse the whole project, ~4 s of every daily run at
city scale. A build whose only change is the date must reuse the saved parse, and still compute
as of the new date; a change dbt must see (a scoring var, a SQL file, another warehouse) must
still re-parse.

The dbt project is copied to tmp so a SQL file can be changed without touching the repository.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.support.landing import write_dataset
from windowwatch import transform
from core.config import DEFAULT_SCORING
from core.paths import REPO_ROOT, Home

REPARSE = "Unable to do partial parsing"


def _run_config(warehouse) -> tuple:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql("select as_of_date, scoring_hash from marts.run_config").fetchall()[0]
    finally:
        con.close()


class _Log:
    """What dbt logged (logs/dbt.log) since the last call."""

    def __init__(self, home: Home):
        self.path = home.root / "dbt" / "logs" / "dbt.log"
        self.offset = 0

    def new(self) -> str:
        text = self.path.read_text(encoding="utf-8", errors="replace") if self.path.exists() else ""
        out, self.offset = text[self.offset:], len(text)
        return out


def test_a_new_as_of_date_reuses_the_parse_and_real_changes_reparse(ww_home, tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    shutil.copytree(transform.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(transform, "DBT_PROJECT_DIR", project)
    home = Home(ww_home)
    write_dataset(home)
    msgpack = home.root / "dbt" / "target" / "partial_parse.msgpack"
    log = _Log(home)

    first = transform.build(home, as_of="2025-10-24")
    assert first.success, first.summary()
    assert msgpack.exists()
    assert _run_config(home.warehouse)[0] == dt.date(2025, 10, 24)
    log.new()
    saved = msgpack.stat().st_mtime_ns
    assert "WINDOWWATCH_AS_OF" not in os.environ, "build() must restore the environment it set"

    # only the date changes: the saved parse is used as it is, the SQL runs as of the new date
    day = transform.build(home, as_of="2025-10-31", select="run_config")
    assert day.success, day.summary()
    assert REPARSE not in log.new()
    assert msgpack.stat().st_mtime_ns == saved, "a date-only change must not re-parse"
    assert _run_config(home.warehouse)[0] == dt.date(2025, 10, 31)
    compiled = next((home.root / "dbt" / "target" / "compiled").rglob("run_config.sql")).read_text()
    assert "cast('2025-10-31' as date)" in compiled

    # a changed SQL file is re-parsed (partially) and runs as changed
    model = project / "models" / "marts" / "run" / "run_config.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- partial-parse-marker\n", encoding="utf-8")
    changed = transform.build(home, as_of="2025-10-31", select="run_config")
    assert changed.success, changed.summary()
    assert msgpack.stat().st_mtime_ns != saved, "a changed model must be re-parsed"
    compiled = next((home.root / "dbt" / "target" / "compiled").rglob("run_config.sql")).read_text()
    assert "partial-parse-marker" in compiled

    # a changed scoring var: dbt drops the saved parse (vars are parse-time values)
    scoring_file = tmp_path / "scoring.yaml"
    before_hash = _run_config(home.warehouse)[1]
    text = DEFAULT_SCORING.read_text(encoding="utf-8")
    assert "yellow_workdays: 1" in text, "the fixture edits this key: update the test with the scoring file"
    scoring_file.write_text(text.replace("yellow_workdays: 1", "yellow_workdays: 2"), encoding="utf-8")
    rescored = transform.build(home, as_of="2025-10-31", select="run_config", scoring_path=scoring_file)
    assert rescored.success, rescored.summary()
    assert f"{REPARSE} because config vars" in log.new()
    assert _run_config(home.warehouse) == (dt.date(2025, 10, 31), rescored.scoring_hash)
    assert rescored.scoring_hash != before_hash

    # another warehouse: dbt sees a changed profile and re-parses
    other = tmp_path / "other.duckdb"
    moved = transform.build(home, as_of="2025-10-31", select="fct_quarantine", warehouse=other,
                            scoring_path=scoring_file)
    assert moved.success, moved.summary()
    assert f"{REPARSE} because profile has changed" in log.new()
    assert other.exists()


def test_the_dbt_stage_does_not_import_polars_or_pyarrow(ww_home):
    """windowwatch.transform imports ingest's landing writer (polars, pyarrow, pandas: ~0.5 s of
    every dbt stage) only when a home lacks an empty schema file."""
    code = ("import sys, windowwatch.transform as t; "
            "heavy = sorted(m for m in ('polars', 'pyarrow', 'pandas') if m in sys.modules); "
            "assert not heavy, heavy; "
            "from windowwatch.audit.findings import FINDINGS_PARQUET; assert t.FINDINGS_PARQUET == FINDINGS_PARQUET")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("missing", ["landing", "quarantine"])
def test_missing_empty_files_are_still_written(ww_home, missing):
    home = Home(ww_home)
    home.ensure()
    transform.ensure_empty_files(home)
    victim = getattr(home, missing) / "transactions" / "_empty.parquet"
    assert victim.exists()
    victim.unlink()
    transform.ensure_empty_files(home)
    assert victim.exists()
