"""Files of landing: atomic writes, the empty schema files, leftovers of killed runs, a full disk.

Every landing and quarantine file goes to a temp name carrying the writer's pid in its own
directory and is `os.replace`d into place, so a reader or a crash sees the old file or the new.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

import polars as pl

from core.feeds import FEEDS
from core.paths import Home
from ingest.landing_schema import QUARANTINE_SCHEMA, landing_schema

# ------------------------------------------------------------------ atomic files


def tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_parquet(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(home: Home) -> None:
    """Temp files of a killed run (never visible to `*.parquet` globs), removed at start.

    Temp names carry the writer's pid, so an ingest running in parallel (Airflow maps one task
    per source) never has its live temp files removed by another."""
    for root in (home.landing, home.quarantine):
        if root.is_dir():
            for p in root.rglob("*.tmp"):
                m = re.search(r"\.(\d+)\.tmp$", p.name)
                if m is None or not pid_alive(int(m.group(1))):
                    p.unlink(missing_ok=True)
    # a kill while the run report is written (run.save_report) leaves `runs/.ingest-….json.<pid>.tmp`;
    # other stages' temp files in runs/ (core/atomic.py, random names) are not ingest's to remove
    if home.runs.is_dir():
        for p in home.runs.glob(".ingest-*.tmp"):
            m = re.search(r"\.(\d+)\.tmp$", p.name)
            if m is not None and not pid_alive(int(m.group(1))):
                p.unlink(missing_ok=True)
    base = home.root / "tmp" / "ingest"
    if base.is_dir():
        for d in base.iterdir():
            if not (d.name.isdigit() and pid_alive(int(d.name))) or d.name == str(os.getpid()):
                shutil.rmtree(d, ignore_errors=True)


def staging_root(home: Home) -> Path:
    """This process's scratch space (staged batches, transcoded CSVs); removed when done."""
    return home.root / "tmp" / "ingest" / str(os.getpid())


EMPTY_CONTRACT = "_empty.contract"  # in landing/: the contract fingerprint the _empty files were written for


def ensure_empty_files(home: Home) -> None:
    """Every feed's `_empty.parquet` in landing and quarantine, with the current contract's columns.
    Files written for an older contract (no or another fingerprint in landing/_empty.contract) are
    rewritten: their missing columns (a new optional column such as valid_from) would fail staging."""
    from core.atomic import write_text
    from core.feeds import landing_contract_fingerprint

    marker = home.landing / EMPTY_CONTRACT
    current = landing_contract_fingerprint()
    try:
        stale = marker.read_text(encoding="utf-8").strip() != current
    except FileNotFoundError:
        stale = True
    for feed in FEEDS.values():
        lp = home.landing / feed.name / "_empty.parquet"
        if stale or not lp.exists():
            atomic_write_parquet(pl.DataFrame(schema=landing_schema(feed)), lp)
        qp = home.quarantine / feed.name / "_empty.parquet"
        if stale or not qp.exists():
            atomic_write_parquet(pl.DataFrame(schema=QUARANTINE_SCHEMA), qp)
    if stale:
        write_text(marker, current + "\n")


# ------------------------------------------------------------------ a full disk (docs/architecture.md#failures-and-hostile-input)


class DiskFullError(OSError):
    """WINDOWWATCH_HOME ran out of space while landing a delivery. Nothing partial is in the
    ledger (it is written last), so a re-run once space is back lands exactly what is missing."""


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


def remove_own_temp_files(home: Home) -> None:
    """After a failure in this process: its temp files and staging, so they free their space."""
    for root in (home.landing, home.quarantine, home.runs):
        if root.is_dir():
            for p in root.rglob(f"*.{os.getpid()}.tmp"):
                p.unlink(missing_ok=True)
    shutil.rmtree(staging_root(home), ignore_errors=True)


# ------------------------------------------------------------------ hostile text (docs/architecture.md#failures-and-hostile-input)
