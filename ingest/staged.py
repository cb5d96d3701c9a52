"""A delivery's staged pieces: good rows as Arrow IPC files per batch and date, bad rows as
Parquet, and the prepared final files, under the process's staging folder (`staging_root`).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from ingest.landing_files import tmp_name


def stage_good(good: pl.DataFrame, stage: Path, n: int) -> None:
    """Good rows of batch n, one staging file per date (`good-<n>-<date>.arrow`), so the
    landing files are written date by date without sorting the delivery. Staging only (read
    back in this process, then removed): uncompressed Arrow IPC costs a third of lz4 Parquet to
    write and nothing to read (memory-mapped). A null date (not expected: the time column is
    required) stages the batch whole, and the finish sorts in DuckDB."""
    if good["part_date"].null_count():
        good.write_ipc(stage / f"good-{n:06d}.arrow", compression="uncompressed", compat_level=pl.CompatLevel.oldest())
        return
    for (day,), piece in good.partition_by("part_date", maintain_order=True, as_dict=True).items():
        piece.write_ipc(stage / f"good-{n:06d}-{day.isoformat()}.arrow", compression="uncompressed", compat_level=pl.CompatLevel.oldest())


def read_staged(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def staged_view(con: duckdb.DuckDBPyConnection, good_files: list[Path]) -> None:
    """View s: the staged good rows (Arrow IPC files), memory-mapped: zero-copy tables. A
    pyarrow dataset read the same files with copies, ~0.9 s of system CPU per million rows
    (performance, docs/scaling.md). The pieces of one delivery share one schema; if not, the dataset still reads them."""
    try:
        staged = pa.concat_tables([read_staged(p) for p in good_files])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        import pyarrow.dataset as pads  # here only: it imports pandas (~0.3 s a process)

        staged = pads.dataset([str(p) for p in good_files], format="ipc")
    con.register("staged_good", staged)
    con.execute("CREATE VIEW s AS SELECT * FROM staged_good")


_PIECE = re.compile(r"good-(\d{6})-(\d{4}-\d{2}-\d{2})\.arrow")


def pieces_by_day(good_files: list[Path]) -> dict[str, list[Path]] | None:
    """date -> staged pieces in batch order; None if any batch was staged whole."""
    out: dict[str, list[Path]] = {}
    for p in sorted(good_files):
        m = _PIECE.fullmatch(p.name)
        if m is None:
            return None
        out.setdefault(m.group(2), []).append(p)
    return out


def ascending_lines(lines: pa.ChunkedArray) -> bool:
    a = lines.to_numpy()
    return bool((a[1:] > a[:-1]).all())



PREPARED = "prepared"  # <stage>/prepared/: a delivery's final files, made where it was staged


def move_into_place(src: Path, dst: Path) -> None:
    """Rename a prepared file into place (atomic); a copy to a temp name first when the
    staging folder is on another file system."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = tmp_name(dst)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)

