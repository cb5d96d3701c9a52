"""The files source: walk an inbox `<inbox>/<feed>/…` and read every file into a Delivery.

Formats: CSV (UTF-8, UTF-8 with BOM, GBK, GB18030 — detected, or the source option
`encoding`), JSONL, Parquet, XLSX. Every column is read as text exactly as delivered, plus
`_line` (CSV/XLSX: the header is line 1; JSONL: the line; Parquet: row index + 1).

Big files are never held whole in memory: a FileDelivery reads in batches (`batches()`),
and a non-UTF-8 CSV is transcoded chunk by chunk to a temporary UTF-8 copy first.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.delivery import Delivery, UnreadableDelivery
from ingest.privacy import SCRUB_PATTERNS, SCRUBBED
from windowwatch.config import SourceOptions
from windowwatch.feeds import FEEDS

READ_CHUNK = 8 << 20  # bytes per read when hashing and transcoding
BATCH_ROWS = 200_000  # rows per batch handed to landing
SUPPORTED = {".csv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".xlsx": "xlsx"}
ENCODING_NAMES = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030"}


class DeliveryReadError(RuntimeError):
    """The file could not be read (encoding, format, truncation): the delivery is unreadable."""


@dataclass
class FileDelivery(Delivery):
    """A file delivery read lazily: `frame` is empty (header only); use `batches()`."""

    path: Path | None = None
    fmt: str = "csv"
    encoding: str = "utf-8"  # the detected (or configured) encoding of a CSV
    tmp_dir: Path | None = None  # where a transcoded UTF-8 copy may be written
    headers: list[str] = field(default_factory=list)

    def batches(self) -> Iterator[pl.DataFrame]:
        try:
            yield from _read_batches(self)
        except DeliveryReadError:
            raise
        except Exception as exc:  # polars/fastexcel raise many types; all mean "cannot read"
            raise DeliveryReadError(_short_error(exc)) from None


@dataclass
class InboxScan:
    deliveries: list[FileDelivery | UnreadableDelivery]
    unknown_folders: list[str]  # relative paths of folders that name no feed
    loose_files: list[str]  # files directly in the inbox, outside any feed folder


def _short_error(exc: BaseException) -> str:
    # first line only, scrubbed: polars errors can quote file content, which may hold PII
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for pattern in SCRUB_PATTERNS:
        msg = re.sub(pattern, SCRUBBED, msg)
    return f"{type(exc).__name__}: {msg[:160]}"


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def scan_inbox(inbox: Path, options: SourceOptions, tmp_dir: Path, source_name: str = "files") -> InboxScan:
    """List the inbox's deliveries in a fixed order (feed order of feeds.FEEDS, then path)."""
    inbox = Path(inbox)
    unknown: list[str] = []
    loose: list[str] = []
    by_feed: dict[str, list[Path]] = {}
    if not inbox.is_dir():
        raise FileNotFoundError(f"{inbox}: the inbox folder does not exist")
    for entry in sorted(inbox.iterdir()):
        if _hidden(entry.name):
            continue  # e.g. the generator's _truth/
        if entry.is_file():
            loose.append(entry.name)
        elif entry.name in FEEDS:
            files = [p for p in sorted(entry.rglob("*")) if p.is_file() and not any(_hidden(part) for part in p.relative_to(entry).parts)]
            by_feed[entry.name] = files
        else:
            unknown.append(entry.name)
    deliveries: list[FileDelivery | UnreadableDelivery] = []
    for feed in FEEDS:
        for path in by_feed.get(feed, []):
            deliveries.append(open_file(path, feed, inbox, options, tmp_dir))
    return InboxScan(deliveries, unknown, loose)


def open_file(path: Path, feed: str, inbox: Path, options: SourceOptions, tmp_dir: Path) -> FileDelivery | UnreadableDelivery:
    source = f"files:{path.relative_to(inbox).as_posix()}"
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        return UnreadableDelivery(feed, source, f"unsupported file type {path.suffix or '(none)'}; use CSV, JSONL, Parquet or XLSX")
    try:
        content_id, utf8_ok = _hash_and_check_utf8(path)
    except OSError as exc:
        return UnreadableDelivery(feed, source, f"cannot open the file ({exc.strerror})")
    encoding = "utf-8"
    if fmt == "csv":
        if options.encoding:
            encoding = ENCODING_NAMES.get(options.encoding.lower(), options.encoding.lower())
        elif not utf8_ok:
            encoding = "gb18030"  # a superset of GBK and GB2312: one decoder covers all three
        try:
            codecs.lookup(encoding)
        except LookupError:
            return UnreadableDelivery(feed, source, f"unknown encoding {options.encoding!r} in the source options")
    d = FileDelivery(feed=feed, source=source, content_id=content_id, frame=pl.DataFrame({"_line": pl.Series([], dtype=pl.Int64)}),
                     options=options, path=path, fmt=fmt, encoding=encoding, tmp_dir=tmp_dir)
    try:
        d.headers = _headers(d)
    except Exception as exc:
        return UnreadableDelivery(feed, source, _short_error(exc))
    d.frame = pl.DataFrame({h: pl.Series([], dtype=pl.String) for h in d.headers} | {"_line": pl.Series([], dtype=pl.Int64)})
    return d


def _hash_and_check_utf8(path: Path) -> tuple[str, bool]:
    """One pass over the bytes: SHA-256 and whether they are valid UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
            if utf8_ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    if utf8_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    return digest.hexdigest(), utf8_ok


def _utf8_path(d: FileDelivery) -> tuple[Path, bool]:
    """The CSV as UTF-8: the file itself, or a transcoded temporary copy (True = delete after)."""
    assert d.path is not None
    if d.encoding == "utf-8":
        return d.path, False
    tmp_dir = d.tmp_dir or d.path.parent
    tmp_dir.mkdir(parents=True, exist_ok=True)
    out = tmp_dir / f"{d.content_id}.utf8.csv.tmp"
    decoder = codecs.getincrementaldecoder(d.encoding)(errors="strict")
    try:
        with d.path.open("rb") as src, out.open("wb") as dst:
            while chunk := src.read(READ_CHUNK):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        out.unlink(missing_ok=True)
        raise DeliveryReadError(f"not valid {d.encoding} text at byte {exc.start}; set the source option `encoding`") from None
    return out, True


def _csv_scan(path: Path) -> pl.LazyFrame:
    return pl.scan_csv(path, infer_schema=False, raise_if_empty=True)


def _jsonl_scan(path: Path) -> pl.LazyFrame:
    names = pl.scan_ndjson(path, infer_schema_length=None).collect_schema().names()
    return pl.scan_ndjson(path, schema={n: pl.String for n in names})


def _headers(d: FileDelivery) -> list[str]:
    assert d.path is not None
    if d.fmt == "csv":
        # header only: decode the first chunk (enough for a header line) with the chosen codec
        with d.path.open("rb") as fh:
            head = fh.read(1 << 16)
        text = codecs.getincrementaldecoder(d.encoding)(errors="strict").decode(head)
        first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
        if not first.strip():
            raise DeliveryReadError("the file is empty (no header line)")
        return pl.read_csv(first.encode("utf-8") + b"\n", infer_schema=False).columns
    if d.fmt == "jsonl":
        return _jsonl_scan(d.path).collect_schema().names()
    if d.fmt == "parquet":
        return pl.scan_parquet(d.path).collect_schema().names()
    return pl.read_excel(d.path, infer_schema_length=0).columns


def _with_line(frame: pl.DataFrame, first_line: int) -> pl.DataFrame:
    frame = frame.with_columns(pl.all().cast(pl.String))
    return frame.with_row_index("_line", offset=first_line).with_columns(pl.col("_line").cast(pl.Int64))


def _read_batches(d: FileDelivery) -> Iterator[pl.DataFrame]:
    assert d.path is not None
    if d.fmt == "xlsx":
        # spreadsheets are small (1 M rows max) and cannot be streamed by fastexcel
        yield _with_line(pl.read_excel(d.path, infer_schema_length=0), 2)
        return
    cleanup: Path | None = None
    if d.fmt == "csv":
        path, delete = _utf8_path(d)
        cleanup = path if delete else None
        lazy, first = _csv_scan(path), 2
    elif d.fmt == "jsonl":
        lazy, first = _jsonl_scan(d.path), 1
    else:
        lazy, first = pl.scan_parquet(d.path), 1
    try:
        lazy = lazy.with_columns(pl.all().cast(pl.String)).with_row_index("_line", offset=first)
        lazy = lazy.with_columns(pl.col("_line").cast(pl.Int64))
        for batch in lazy.collect_batches(chunk_size=BATCH_ROWS):
            if batch.height:
                yield batch
    finally:
        if cleanup is not None:
            cleanup.unlink(missing_ok=True)


def cleanup_tmp(tmp_dir: Path) -> None:
    if tmp_dir.is_dir():
        for p in tmp_dir.glob("*.tmp"):
            p.unlink(missing_ok=True)


def fetch_deliveries(inbox: Path, options: SourceOptions, tmp_dir: Path) -> Iterator[FileDelivery | UnreadableDelivery]:
    yield from scan_inbox(inbox, options, tmp_dir).deliveries

