"""The files source: walk an inbox `<inbox>/<feed>/…` and read every file into a Delivery.

Formats: CSV (UTF-8, UTF-8 with BOM, GBK, GB18030 — detected, or the source option
`encoding`), JSONL, Parquet, XLSX. Every column is read as text exactly as delivered, plus
`_line` (CSV/XLSX: the header is line 1; JSONL: the line; Parquet: row index + 1).

An XLSX delivers every sheet, each a delivery of its own (source `files:<name>.xlsx#<sheet>`),
unless the source option `sheets` names the sheets of the feed; a formula cell saved without its
calculated value is quarantined (bad_value, naming the cell), never read as empty or 0.

Big files are never held whole in memory: a FileDelivery reads in batches (`batches()`),
and a non-UTF-8 CSV is transcoded chunk by chunk to a temporary UTF-8 copy first.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import posixpath
import re
import stat
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import polars as pl

from core.config import SourceOptions
from core.feeds import FEEDS
from core.settings import settings
from ingest.delivery import (
    CELL_PROBLEM,
    NOT_IN_BOUNDED_MEMORY,
    DeferredDelivery,
    Delivery,
    DeliveryReadError,
    UnreadableDelivery,
    out_of_memory,
    rust_panic,
)
from ingest.normalize import map_headers
from ingest.privacy import SCRUB_PATTERNS, SCRUBBED

READ_CHUNK = 8 << 20  # bytes per read when hashing and transcoding
# Files hashed at once by the inbox scan: reads and SHA-256 release the GIL, so one file's
# hashing overlaps another's disk reads (the scan is serial work before any delivery lands).
HASH_THREADS = 2
BATCH_ROWS = 200_000  # rows per batch handed to landing
HEADER_BYTES = 1 << 16  # a header line must fit in 64 KB
MAX_COLUMNS = 1_000  # the widest feed has 18 columns; 100,000 columns only cost memory and time
XLSX_MAX_EXPANDED = 512 << 20  # inflated bytes of all members of one XLSX
XLSX_MAX_RATIO = 200  # inflated / compressed; real sheets stay below ~30:1
# A CSV/JSONL line longer than this cannot be a row (1,000 columns of 16 KB values are 16 MB) and
# cannot be parsed within bounded memory: a parser holds the whole line, several times over. A
# sparse or binary file is one such line (issue 21: a 2 GB sparse CSV drove a staging worker to
# 24 GB). Measured exactly for lines of READ_CHUNK or more, so this must stay above READ_CHUNK.
MAX_LINE_BYTES = 64 << 20
SUPPORTED = {".csv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".xlsx": "xlsx"}
NO_FINAL_NEWLINE = ("still being written: the last line has no line break yet; it stays in the inbox for the next run "
                    "(a complete CSV/JSONL file ends with a newline)")
ENCODING_NAMES = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030"}


@dataclass
class FileDelivery(Delivery):
    """A file delivery read lazily: `frame` is empty (header only); use `batches()`."""

    path: Path | None = None
    fmt: str = "csv"
    encoding: str = "utf-8"  # the detected (or configured) encoding of a CSV
    tmp_dir: Path | None = None  # where a transcoded UTF-8 copy may be written
    headers: list[str] = field(default_factory=list)
    scan: ByteScan | None = None  # what the content id was taken from
    sheet: str | None = None  # XLSX: the sheet this delivery reads (None: the first)
    reads_lazily: ClassVar[bool] = True

    def still_as_read(self) -> bool:
        """The file still has the size and modification time it had when its bytes were hashed:
        the rows parsed are the rows of that content id (a rewrite in between defers it)."""
        if self.path is None or self.scan is None:
            return True
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns) == (self.scan.size, self.scan.mtime_ns)

    def batches(self) -> Iterator[pl.DataFrame]:
        try:
            yield from _read_batches(self)
        except DeliveryReadError:
            raise
        except BaseException as exc:  # polars/fastexcel raise many types (a panic too); all mean "cannot read"
            if not isinstance(exc, Exception) and not rust_panic(exc):
                raise  # KeyboardInterrupt, SystemExit
            if out_of_memory(exc):
                raise DeliveryReadError(NOT_IN_BOUNDED_MEMORY.format(how=_memory_cap(_short_error(exc)))) from None
            raise DeliveryReadError(_short_error(exc)) from None


@dataclass
class InboxScan:
    deliveries: list  # FileDelivery | UnreadableDelivery (| PendingFile when scanned lazily)
    unknown_folders: list[str]  # relative paths of folders that name no feed
    loose_files: list[str]  # files directly in the inbox, outside any feed folder


def _memory_cap(error: str) -> str:
    limit = settings().ingest_worker_memory_mb
    cap = f"the limit of {limit:,} MiB per worker" if limit else "the per-worker limit"
    return f"{error}; {cap}, WINDOWWATCH_INGEST_WORKER_MEMORY_MB"


def _short_error(exc: BaseException) -> str:
    # first line only, scrubbed: polars errors can quote file content, which may hold PII
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for pattern in SCRUB_PATTERNS:
        msg = re.sub(pattern, SCRUBBED, msg)
    return f"{type(exc).__name__}: {msg[:160]}"


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def scan_inbox(inbox: Path, options: SourceOptions, tmp_dir: Path, source_name: str = "files", lazy: bool = False) -> InboxScan:
    """List the inbox's deliveries in a fixed order (feed order of feeds.FEEDS, then path).

    lazy: the files' bytes (content id, encoding) are scanned in the background and each file
    is a `PendingFile` until the caller `resolve()`s it, in order.

    Symlinks are never followed (a link may point out of the inbox, e.g. to a key file or
    /dev/zero) and FIFOs/devices are never opened (a read would block or never end): both
    are reported as unreadable deliveries."""
    inbox = Path(inbox)
    unknown: list[str] = []
    loose: list[str] = []
    by_feed: dict[str, list[Path]] = {}
    refused: dict[str, list[tuple[Path, str]]] = {}
    if not inbox.is_dir():
        raise FileNotFoundError(f"{inbox}: the inbox folder does not exist")
    for entry in sorted(inbox.iterdir()):
        if _hidden(entry.name):
            continue  # e.g. the generator's _truth/
        if entry.name in FEEDS and entry.is_symlink():
            refused.setdefault(entry.name, []).append((entry, _refusal(entry)))
        elif entry.is_file() and not entry.is_symlink():
            loose.append(entry.name)
        elif entry.name in FEEDS and entry.is_dir():
            files, bad = _walk(entry)
            by_feed[entry.name] = files
            refused[entry.name] = bad
        elif entry.is_dir() and not entry.is_symlink():
            unknown.append(entry.name)
        else:
            loose.append(entry.name)
    hashed = [path for feed in FEEDS for path in by_feed.get(feed, [])
              if path.suffix.lower() in SUPPORTED and _size(path) <= options.max_delivery_bytes]
    digests = _digests_ahead(hashed) if lazy else _digests(hashed)
    deliveries: list = []
    for feed in FEEDS:
        for path, reason in refused.get(feed, []):
            deliveries.append(UnreadableDelivery(feed, source_label(path, inbox), reason))
        for path in by_feed.get(feed, []):
            for sheet in _sheets_to_read(path, feed, options, inbox):
                if isinstance(sheet, UnreadableDelivery):
                    deliveries.append(sheet)
                elif lazy:
                    deliveries.append(PendingFile(feed, path, (path, feed, inbox, options, tmp_dir), digests.get(path), sheet))
                else:
                    deliveries.append(open_file(path, feed, inbox, options, tmp_dir, _done(digests.get(path)), sheet))
    return InboxScan(deliveries, unknown, loose)


def _done(digest):
    return digest.result() if isinstance(digest, Future) else digest


Sheet = tuple[int, str]  # (position in the workbook, name)


def _sheets_to_read(path: Path, feed: str, options: SourceOptions, inbox: Path) -> list:
    """[None] for a file that is not an XLSX; else one (position, name) per sheet it delivers:
    every sheet, or the sheets the source option `sheets` names for the feed (a named sheet the
    workbook lacks is an UnreadableDelivery). A workbook whose sheet list cannot be read is opened
    whole ([None]), so `open_file` refuses it with the reason."""
    if SUPPORTED.get(path.suffix.lower()) != "xlsx":
        return [None]
    try:
        sheets = [(i, name) for i, (name, _) in enumerate(xlsx_sheet_parts(path))]
    except (DeliveryReadError, OSError, zipfile.BadZipFile, KeyError, ET.ParseError):
        return [None]
    wanted = options.sheets.get(feed)
    if not wanted:
        return sheets or [None]
    have = {name: (i, name) for i, name in sheets}
    out: list = []
    for name in wanted:
        if name in have:
            out.append(have[name])
        else:
            out.append(UnreadableDelivery(feed, f"{source_label(path, inbox)}#{_printable(name, 200)}",
                                          f"the workbook has no sheet {_printable(name)!r} (the source option sheets.{feed} names it); "
                                          f"its sheets: {', '.join(_printable(n) for _, n in sheets)}"))
    return out


@dataclass(frozen=True)
class ByteScan:
    """One pass over a file's bytes (`_scan_bytes`)."""

    content_id: str  # SHA-256 of the bytes read
    utf8_error: int | None  # offset of the first byte that is not valid UTF-8; None: all valid
    control_free: bool  # no control byte (CONTROL_BYTES): no value can hold a control character
    size: int  # bytes read
    mtime_ns: int  # modification time when the read began
    ends_with_newline: bool
    changed_while_read: bool  # size or modification time moved during the read
    # the longest line that crosses a READ_CHUNK boundary (bytes) and its 1-based number: exact for
    # every line of READ_CHUNK bytes or more (a shorter one fits in a chunk and is not measured)
    longest_line: int = 0
    longest_line_number: int = 0

    @property
    def utf8_ok(self) -> bool:
        return self.utf8_error is None


Digest = ByteScan | OSError  # `_scan_bytes` of a file, or the OSError it raised


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _scan_or_error(path: Path) -> Digest:
    try:
        return _scan_bytes(path)
    except OSError as exc:
        return exc


def _digests(paths: list[Path]) -> dict[Path, Digest]:
    """`_scan_bytes` of each file (or the OSError it raised), HASH_THREADS files at a time."""
    return {p: f.result() for p, f in _digests_ahead(paths).items()}


def _digests_ahead(paths: list[Path]) -> dict[Path, Future]:
    """`_digests`, started in the background in delivery order (the performance work (docs/scaling.md): at city the scan of
    1.8 GB was 4-11 s of serial prelude before any delivery could start; now the first
    deliveries are staged while later files are still being hashed)."""
    pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="inbox-hash")
    try:
        return {p: pool.submit(_scan_or_error, p) for p in paths}
    finally:
        pool.shutdown(wait=False)  # the submitted scans still run; the threads end after them


@dataclass
class PendingFile:
    """A file of the inbox whose bytes are still being scanned (`scan_inbox(lazy=True)`):
    `resolve()` waits for its scan and opens it (-> FileDelivery or UnreadableDelivery)."""

    feed: str
    path: Path
    open_args: tuple
    digest: Future | None
    sheet: Sheet | None = None  # the sheet of an XLSX this delivery reads
    _opened: FileDelivery | UnreadableDelivery | None = None

    def resolve(self) -> FileDelivery | UnreadableDelivery:
        if self._opened is None:
            self._opened = open_file(*self.open_args, self.digest.result() if self.digest is not None else None, self.sheet)
        return self._opened


def _refusal(path: Path) -> str:
    if path.is_symlink():
        kind = "folder" if path.is_dir() else "file"
        return f"a symlink ({kind}); symlinks are not followed — copy the data into the inbox instead"
    return "not a regular file (FIFO, socket or device); put a regular file in the inbox"


def _walk(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Regular files under a feed folder (never through a symlink), and the entries refused."""
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for entry in sorted(folder.iterdir()):
        if _hidden(entry.name):
            continue
        if entry.is_symlink():
            refused.append((entry, _refusal(entry)))
        elif entry.is_dir():
            sub_files, sub_refused = _walk(entry)
            files += sub_files
            refused += sub_refused
        elif stat.S_ISREG(entry.lstat().st_mode):
            files.append(entry)
        else:
            refused.append((entry, _refusal(entry)))
    return files, refused


def source_label(path: Path, inbox: Path) -> str:
    """`files:<relative path>` safe to print and land: control characters escaped (a newline in
    a name must not forge a report line) and ID-card/phone numbers in the name scrubbed."""
    rel = path.relative_to(inbox).as_posix()
    rel = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group(0))[1:-1], rel)
    for pattern in SCRUB_PATTERNS:
        rel = re.sub(pattern, SCRUBBED, rel)
    return f"files:{rel}"


def open_file(path: Path, feed: str, inbox: Path, options: SourceOptions, tmp_dir: Path,
              digest: Digest | None = None, sheet: Sheet | None = None) -> FileDelivery | UnreadableDelivery:
    """`digest`: the file's `_scan_bytes` result (or its OSError) when already computed.
    `sheet`: the sheet of an XLSX to read (source `…xlsx#<sheet>`); None: the first sheet."""
    source = source_label(path, inbox) + (f"#{_printable(sheet[1], 200)}" if sheet is not None else "")
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        return UnreadableDelivery(feed, source, f"unsupported file type {path.suffix or '(none)'}; use CSV, JSONL, Parquet or XLSX")
    if (size := _size(path)) > options.max_delivery_bytes:
        return UnreadableDelivery(feed, source, f"the file is {size / 2**20:,.0f} MiB, over the limit of "
                                  f"{options.max_delivery_bytes / 2**20:,.0f} MiB (source option max_delivery_bytes): "
                                  "split it into smaller deliveries or raise the limit")
    try:
        if isinstance(digest, OSError):
            raise digest
        scan = digest or _scan_bytes(path)
    except OSError as exc:
        return UnreadableDelivery(feed, source, f"cannot open the file ({exc.strerror})")
    if scan.changed_while_read:
        return DeferredDelivery(feed, source, "still being written: its size or modification time changed while it was "
                                "read; it stays in the inbox for the next run")
    if fmt in ("csv", "jsonl") and scan.longest_line > MAX_LINE_BYTES:  # before any parser holds it (and before "still being written")
        return UnreadableDelivery(feed, source, f"line {scan.longest_line_number:,} is {scan.longest_line / 2**20:,.0f} MiB long "
                                  f"(at most {MAX_LINE_BYTES // 2**20} MiB): it cannot be read within bounded memory — a sparse, "
                                  "binary or damaged file? A real row is a few KB; re-export the file")
    if fmt == "jsonl" and not scan.ends_with_newline:  # before reading: a cut last object breaks the schema read
        return DeferredDelivery(feed, source, NO_FINAL_NEWLINE)
    content_id, control_free = scan.content_id, scan.control_free
    if sheet is not None and sheet[0] > 0:
        # every sheet is a delivery of its own; the first keeps the file's id (what a workbook
        # landed before sheets were delivered one by one is recorded under), the others derive theirs
        content_id = hashlib.sha256(f"{content_id}#{sheet[1]}".encode()).hexdigest()
    encoding = "utf-8"
    if fmt == "csv":
        if options.encoding:
            encoding = ENCODING_NAMES.get(options.encoding.lower(), options.encoding.lower())
        elif not scan.utf8_ok:
            encoding = "gb18030"  # a superset of GBK and GB2312: one decoder covers all three
        try:
            codecs.lookup(encoding)
        except LookupError:
            return UnreadableDelivery(feed, source, f"unknown encoding {options.encoding!r} in the source options")
    d = FileDelivery(feed=feed, source=source, content_id=content_id, frame=pl.DataFrame({"_line": pl.Series([], dtype=pl.Int64)}),
                     options=options, path=path, fmt=fmt, encoding=encoding, tmp_dir=tmp_dir,
                     control_free=fmt == "csv" and control_free, scan=scan, sheet=sheet[1] if sheet is not None else None)
    try:
        d.headers = _headers(d)
    except Exception as exc:
        return UnreadableDelivery(feed, source, _short_error(exc))
    if fmt == "csv" and not scan.ends_with_newline:  # after the header check, so a binary file is refused as such
        return DeferredDelivery(feed, source, NO_FINAL_NEWLINE)
    d.frame = pl.DataFrame({h: pl.Series([], dtype=pl.String) for h in d.headers} | {"_line": pl.Series([], dtype=pl.Int64)})
    return d


# Bytes that are control characters in every accepted encoding (landing.CONTROL_CHARS: tab,
# LF and CR are text). UTF-8 and GB18030 never use a byte below 0x80 inside a multi-byte
# character (GBK trail bytes skip 0x7F), so a file without them has no value with one.
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_NOT_CONTROL = bytes(b for b in range(256) if b not in CONTROL_BYTES)


def _hash_and_check_utf8(path: Path) -> tuple[str, bool]:
    """One pass over the bytes: SHA-256 and whether they are valid UTF-8."""
    scan = _scan_bytes(path)
    return scan.content_id, scan.utf8_ok


def _scan_bytes(path: Path) -> ByteScan:
    """One pass over the bytes: SHA-256, where they stop being valid UTF-8, whether they hold
    no control byte (`CONTROL_BYTES`; bytes.translate deletes the rest: 0.05 s per 150 MB),
    and whether the file changed while it was read."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_error: int | None = None
    control_free = True
    size = 0
    last = b""
    newlines = 0  # line breaks before the current chunk
    since = 0  # bytes since the last line break
    longest = longest_number = 0
    with path.open("rb") as fh:
        before = os.fstat(fh.fileno())
        while chunk := fh.read(READ_CHUNK):
            digest.update(chunk)
            first = chunk.find(b"\n")
            if first < 0:
                since += len(chunk)
            else:
                if since + first > longest:
                    longest, longest_number = since + first, newlines + 1
                newlines += chunk.count(b"\n")
                since = len(chunk) - chunk.rfind(b"\n") - 1
            if control_free and chunk.translate(None, _NOT_CONTROL):
                control_free = False
            if utf8_error is None:
                pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8_error = size - pending + exc.start
            size += len(chunk)
            last = chunk[-1:]
    if utf8_error is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_error = size - len(decoder.getstate()[0])
    if since > longest:  # the last line, without its line break
        longest, longest_number = since, newlines + 1
    after = os.stat(path)
    changed = (size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != before.st_size
    return ByteScan(digest.hexdigest(), utf8_error, control_free, size, before.st_mtime_ns, last == b"\n", changed,
                    longest, longest_number)


def _not_text(d: FileDelivery, position: int) -> str:
    """Why a CSV could not be decoded: for a file detected as GBK/GB18030 only because it was
    not valid UTF-8, also where the UTF-8 broke (a damaged UTF-8 file is the likelier story)."""
    if d.scan is None or d.scan.utf8_error is None or d.options.encoding:
        return f"not valid {d.encoding} text at byte {position:,}"
    offset = d.scan.utf8_error
    assert d.path is not None
    with d.path.open("rb") as fh:
        line = fh.read(offset).count(b"\n") + 1
    return (f"not valid UTF-8 at byte {offset:,} (line {line:,}), and not GBK/GB18030 either (at byte {position:,}): "
            f"a damaged UTF-8 file? fix that byte")


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
        raise DeliveryReadError(f"{_not_text(d, exc.start)}; or set the source option `encoding`") from None
    return out, True


def _csv_scan(path: Path) -> pl.LazyFrame:
    return pl.scan_csv(path, infer_schema=False, raise_if_empty=True)


def _jsonl_scan(path: Path) -> pl.LazyFrame:
    names = pl.scan_ndjson(path, infer_schema_length=None).collect_schema().names()
    return pl.scan_ndjson(path, schema={n: pl.String for n in names})


def _headers(d: FileDelivery) -> list[str]:
    assert d.path is not None
    if d.fmt == "csv":
        return _csv_header(d)
    if d.fmt == "jsonl":
        return _check_header(_jsonl_scan(d.path).collect_schema().names())
    if d.fmt == "parquet":
        schema = pl.scan_parquet(d.path).collect_schema()
        _refuse_float_text(d, schema)
        return _check_header(schema.names())
    check_xlsx_expansion(d.path)
    return _check_header(_read_sheet(d).columns)


def _csv_header(d: FileDelivery) -> list[str]:
    """The header names as delivered (before polars renames duplicates), refusing what is not
    a CSV text: NUL bytes (binary), bare-CR line endings (polars would see one line and land
    nothing), a header line longer than HEADER_BYTES."""
    assert d.path is not None
    with d.path.open("rb") as fh:
        head = fh.read(HEADER_BYTES + 1)
    try:
        text = codecs.getincrementaldecoder(d.encoding)(errors="strict").decode(head[:HEADER_BYTES])
    except UnicodeDecodeError as exc:
        raise DeliveryReadError(f"{_not_text(d, exc.start)}: the file is neither UTF-8 nor GBK/GB18030 "
                                "(binary, UTF-16, Latin-1?); save it as UTF-8 or set the source option `encoding`") from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DeliveryReadError("the file is empty (no header line)")
    if "\x00" in text.split("\n", 1)[0]:
        raise DeliveryReadError("the header holds NUL bytes: the file is binary, not CSV text (UTF-16 files must be saved as UTF-8 or GBK)")
    if "\n" not in text and "\r" in text:
        raise DeliveryReadError("the line endings are bare CR (classic Mac): save the file with LF or CRLF line endings")
    if "\n" not in text and len(head) > HEADER_BYTES:
        raise DeliveryReadError(f"the header line is longer than {HEADER_BYTES // 1024} KB: at most {MAX_COLUMNS} columns are accepted")
    first = text.splitlines()[0]
    if not first.strip():
        raise DeliveryReadError("the file is empty (no header line)")
    _check_header([n for n in next(csv.reader([first])) if n.strip()])  # as delivered: polars renames duplicates
    return pl.read_csv(first.encode("utf-8") + b"\n", infer_schema=False).columns


def _refuse_float_text(d: FileDelivery, schema: pl.Schema) -> None:
    """A text column of the contract (ids above all) stored as floating point would land as
    '1234567890123.0' and no longer match its case: refused, naming the column."""
    feed = FEEDS[d.feed]
    mapping = map_headers(list(schema.names()), feed, d.options).mapping
    for delivered, column in mapping.items():
        if feed.by_name[column].type == "str" and schema[delivered].is_float():
            raise DeliveryReadError(f"column {_printable(delivered)!r} ({column}) is stored as a floating-point number "
                                    f"({schema[delivered]}); ids and codes are text — write it as a string column")


def _check_header(names: list[str]) -> list[str]:
    if len(names) > MAX_COLUMNS:
        raise DeliveryReadError(f"the header has {len(names):,} columns; at most {MAX_COLUMNS:,} columns are accepted")
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name in seen:
            shown = _printable(name)
            raise DeliveryReadError(f"duplicate column {shown!r} (columns {seen[name]} and {i}): which one holds the data is ambiguous; remove or rename one")
        seen[name] = i
    return names


def _printable(name: str, limit: int = 60) -> str:
    name = re.sub(r"[\x00-\x1f\x7f]", "?", name)
    for pattern in SCRUB_PATTERNS:
        name = re.sub(pattern, SCRUBBED, name)
    return name if len(name) <= limit else name[:limit] + "…"


def check_xlsx_expansion(path: Path) -> None:
    """Refuse a zip bomb before a reader inflates it: the declared sizes first, then (as those
    can lie) the real inflated bytes of every member, counted while streaming."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DeliveryReadError(f"not a valid XLSX (zip) file: {exc}") from None
    with zf:
        infos = zf.infolist()
        declared = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if declared > XLSX_MAX_EXPANDED or declared > XLSX_MAX_RATIO * packed:
            raise DeliveryReadError(f"the XLSX would expand to {declared / 2**20:,.0f} MB from {packed / 2**20:,.1f} MB "
                                    f"(limit {XLSX_MAX_EXPANDED // 2**20} MB, ratio {XLSX_MAX_RATIO}:1): refused as a zip bomb; export the data as CSV")
        total = 0
        for info in infos:
            with zf.open(info) as member:
                while chunk := member.read(1 << 20):
                    total += len(chunk)
                    if total > XLSX_MAX_EXPANDED:
                        raise DeliveryReadError(f"the XLSX expands beyond {XLSX_MAX_EXPANDED // 2**20} MB (its sizes lie): refused as a zip bomb")


def _read_sheet(d: FileDelivery) -> pl.DataFrame:
    """One sheet as text (an empty sheet: no columns, no rows)."""
    assert d.path is not None
    if d.sheet is None:
        return pl.read_excel(d.path, infer_schema_length=0, raise_if_empty=False)
    return pl.read_excel(d.path, sheet_name=d.sheet, infer_schema_length=0, raise_if_empty=False)


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
XLSX_MAX_INDEX_BYTES = 16 << 20  # workbook.xml and its relationships: a few KB in a real workbook


def _small_member(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > XLSX_MAX_INDEX_BYTES:
        raise DeliveryReadError(f"the XLSX's {name} declares {info.file_size / 2**20:,.0f} MB: not a workbook index")
    with zf.open(info) as fh:
        data = fh.read(XLSX_MAX_INDEX_BYTES + 1)
    if len(data) > XLSX_MAX_INDEX_BYTES:
        raise DeliveryReadError(f"the XLSX's {name} is larger than it declares: refused as a zip bomb")
    return data


def xlsx_sheet_parts(path: Path) -> list[tuple[str, str]]:
    """(sheet name, zip member of its XML) of every worksheet, in workbook order (xl/workbook.xml
    and its relationships; chart sheets and the like are not data)."""
    with zipfile.ZipFile(path) as zf:
        book = ET.fromstring(_small_member(zf, "xl/workbook.xml"))
        rels = ET.fromstring(_small_member(zf, "xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): (r.get("Target") or "", r.get("Type") or "") for r in rels.iter(f"{_PKG_NS}Relationship")}
    out = []
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        target, kind = targets.get(sheet.get(f"{_REL_NS}id"), ("", ""))
        if not kind.endswith("/worksheet"):
            continue
        member = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out.append((sheet.get("name") or "", posixpath.normpath(member)))
    return out


_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def formula_cells_without_value(path: Path, sheet: str | None) -> dict[int, list[str]]:
    """{line: [cell refs]} of the sheet's formula cells saved without a calculated value (no
    `<v>`, or an empty one for a non-text result: what openpyxl and other writers produce, and
    what a reader returns as empty or 0). Lines count from the sheet's first row (line 1, the
    header). A sheet without any formula is only streamed once, looking for `<f`."""
    parts = dict(xlsx_sheet_parts(path))
    member = parts.get(sheet) if sheet is not None else next(iter(parts.values()), None)
    if member is None:
        return {}
    with zipfile.ZipFile(path) as zf:
        with zf.open(member) as fh:
            tail = b""
            while chunk := fh.read(1 << 20):
                if _FORMULA.search(tail + chunk):
                    break
                tail = chunk[-64:]
            else:
                return {}
        out: dict[int, list[str]] = {}
        first_row: int | None = None
        with zf.open(member) as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "c":
                    ref = el.get("r") or ""
                    row = int(re.sub(r"^[A-Z]+", "", ref) or 0) if ref else 0
                    if first_row is None and row:
                        first_row = row
                    f = v = None
                    for child in el:
                        name = child.tag.rsplit("}", 1)[-1]
                        if name == "f":
                            f = child
                        elif name == "v":
                            v = child
                    if f is not None and (v is None or (not v.text and el.get("t") != "str")) and first_row is not None:
                        out.setdefault(row - first_row + 1, []).append(ref)
                    el.clear()
                elif tag == "row":
                    el.clear()
    return out


def _with_line(frame: pl.DataFrame, first_line: int) -> pl.DataFrame:
    frame = frame.with_columns(pl.all().cast(pl.String))
    return frame.with_row_index("_line", offset=first_line).with_columns(pl.col("_line").cast(pl.Int64))


def _read_batches(d: FileDelivery) -> Iterator[pl.DataFrame]:
    assert d.path is not None
    if d.fmt == "xlsx":
        # spreadsheets are small (1 M rows max) and cannot be streamed by fastexcel
        frame = _with_line(_read_sheet(d), 2)
        uncalculated = formula_cells_without_value(d.path, d.sheet)
        if uncalculated and frame.height:
            lines = pl.DataFrame({"_line": list(uncalculated), CELL_PROBLEM: [
                f"cell {', '.join(cells[:5])}{' …' if len(cells) > 5 else ''} of sheet {_printable(d.sheet or '(first)')!r}: "
                "a formula saved without its calculated value (the workbook was written by a program, not saved by Excel); "
                "open and save it in Excel or WPS, or deliver the values" for cells in uncalculated.values()]},
                schema={"_line": pl.Int64, CELL_PROBLEM: pl.String})
            frame = frame.join(lines, on="_line", how="left", maintain_order="left")
        yield frame
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

