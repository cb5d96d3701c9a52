"""Quoting for the SQL text ingest hands to DuckDB: identifiers, file paths, lists of paths.

One quoting for all ingest SQL; user-supplied values never reach SQL this way (they are data
in Parquet/Arrow), only column names from the feed contract and paths under WINDOWWATCH_HOME.
"""

from __future__ import annotations

from pathlib import Path


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def esc(path: Path) -> str:
    return str(path).replace("'", "''")


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(f"'{esc(p)}'" for p in paths) + "]"
