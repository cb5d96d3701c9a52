"""The published snapshot: the only warehouse the dashboards, reports and audit read.

Publishing (build-then-swap, see STACK.md) copies the checkpointed work warehouse to an
immutable file `published/warehouse-<run_id>.duckdb` and then atomically replaces the pointer
file `published/CURRENT`, whose text is that file's name. Readers resolve the pointer and
open the file read-only; a reader never sees a half-built file or a lock error.
"""

from __future__ import annotations

from pathlib import Path

from core.paths import Home
from core.paths import home as default_home

POINTER = "CURRENT"


class NoSnapshot(RuntimeError):
    pass


def current_snapshot(h: Home | None = None) -> Path:
    h = h or default_home()
    pointer = h.published / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoSnapshot(
            f"{pointer}: nothing published yet — run `windowwatch run` (or `make demo`) first"
        ) from None
    path = h.published / name
    if not path.is_file():
        raise NoSnapshot(f"{pointer} names {name}, which does not exist: re-run `windowwatch run`")
    return path


SCORING_SUFFIX = ".scoring.yaml"


def scoring_copy(snapshot: str | Path) -> Path:
    """Where the scoring file a snapshot was computed with is kept: `warehouse-<run>.scoring.yaml`
    beside `warehouse-<run>.duckdb` (written by windowwatch.snapshot_publish)."""
    snapshot = Path(snapshot)
    return snapshot.with_name(snapshot.stem + SCORING_SUFFIX)


def run_config(snapshot: Path) -> dict:
    """The snapshot's `marts.run_config` row (as_of_date, scoring_hash, …); {} when it has none."""
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        # asked first: a missing table would make DuckDB scan a Python variable of that name
        # (replacement scans), the function `run_config` itself
        found = con.sql("select count(*) from information_schema.tables "
                        "where table_schema = 'marts' and table_name = 'run_config'").fetchall()[0][0]
        if not found:  # a snapshot without the table (fixtures, very old builds)
            return {}
        rel = con.sql("select * from marts.run_config")
        rows = rel.fetchall()
        return dict(zip(rel.columns, rows[0])) if rows else {}
    finally:
        con.close()


def snapshot_scoring_hash(snapshot: Path) -> str | None:
    """The content hash of the scoring file the snapshot was computed with, if it records one."""
    return run_config(snapshot).get("scoring_hash") or None
