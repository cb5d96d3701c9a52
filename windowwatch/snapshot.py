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
