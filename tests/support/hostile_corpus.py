"""The hostile-input corpus (issue 8) and what each file must produce.

The committed small files live in tests/data/hostile/inbox/ (written by build_corpus.py).
The big or dangerous ones are made here at test time in tmp: a 10 MB field, a header of
100,000 columns, an XLSX zip bomb, symlinks out of the inbox (to a file, a folder, /dev/zero),
a FIFO, and file names with `..`, backslashes and a newline.

`run_ingest_subprocess` runs `windowwatch ingest` in a child process and returns its report,
exit code and peak RSS (ru_maxrss of the child), so memory can be bounded by assertion.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from core.paths import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "data" / "hostile" / "inbox"
TX = "event_id,case_id,event_type,event_time,window_id,item_code"

BIG_FIELD_BYTES = 10 * 1024 * 1024
WIDE_COLUMNS = 100_000
BOMB_UNCOMPRESSED = 300 * 1024 * 1024  # what the zip bomb's sheet expands to
# The whole corpus must ingest within this: ingest's DuckDB memory_limit (1 GB, spilling beyond it,
# ingest/landing.py) plus 512 MB for Python and one polars batch. Typical peak ~390 MB; one CI run
# under load (with the then-default stage-ahead thread holding two deliveries) peaked at 1,037 MB.
PEAK_RSS_LIMIT_MB = 1536


@dataclass(frozen=True)
class Expect:
    """What one delivery must end as. status: landed | unreadable | still being written (left in
    the inbox for the next run) | not delivered (symlink etc.)."""

    status: str
    rows_in: int | None = None
    landed: int | None = None
    quarantined: int | None = None
    by_rule: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  # regex the unreadable (or still-being-written) reason must match


def q(rows_in: int, landed: int, **by_rule: int) -> Expect:
    return Expect("landed", rows_in, landed, rows_in - landed, dict(by_rule))


UNREADABLE = Expect("unreadable")
# A CSV/JSONL whose last line has no line break is taken as still being written: it waits in the
# inbox (a cut last value must not land, and the complete row later must not be a conflict).
WAITS = Expect("still being written", reason="no line break")

# source (relative to the inbox) -> expectation. The committed corpus first.
EXPECTED: dict[str, Expect] = {
    "windows/windows.csv": q(2, 2),
    "items/items.csv": q(2, 2),
    "transactions/control_good.csv": q(5, 5),
    "evaluations/control_good.csv": q(2, 2),
    "video_flags/control_good.jsonl": q(1, 1),
    # truncation
    "transactions/truncated_mid_row.csv": WAITS,
    "transactions/truncated_mid_time.csv": WAITS,
    "transactions/truncated_in_quote.csv": WAITS,
    "transactions/truncated_utf8_multibyte.csv": WAITS,
    "transactions/truncated.parquet": Expect("unreadable", reason="(?i)parquet"),
    "transactions/truncated.xlsx": Expect("unreadable", reason="(?i)zip"),
    "evaluations/truncated.jsonl": WAITS,
    "transactions/empty.csv": Expect("unreadable", reason="empty"),
    "transactions/whitespace_only.csv": Expect("unreadable", reason="empty"),
    "transactions/header_only.csv": q(0, 0),
    # encodings
    "transactions/gbk_valid.csv": q(2, 2),
    "transactions/mixed_utf8_gbk.csv": q(2, 1, unknown_enum=1),  # the UTF-8 line garbles under GB18030: quarantined, not landed
    "transactions/utf16le_bom.csv": UNREADABLE,
    "transactions/latin1.csv": Expect("unreadable", reason="(?i)neither UTF-8 nor GBK"),
    "transactions/bom_mid_file.csv": q(5, 4, unknown_enum=1),  # the second header becomes a bad row
    "transactions/bom_before_value.csv": q(2, 2),  # the BOM is stripped, not landed (checked separately)
    "evaluations/gb18030_4byte.csv": q(1, 1),
    # NUL bytes and binary
    "transactions/nul_in_field.csv": q(3, 2, bad_value=1),
    "transactions/nul_only.csv": Expect("unreadable", reason="(?i)nul|binary"),
    "transactions/binary_garbage.csv": UNREADABLE,
    "transactions/pdf_renamed.xlsx": UNREADABLE,
    "transactions/csv_renamed.xlsx": UNREADABLE,
    "transactions/not_a_parquet.parquet": UNREADABLE,
    "transactions/unsupported.xls": Expect("unreadable", reason="unsupported file type"),
    "transactions/archive.zip": Expect("unreadable", reason="unsupported file type"),
    # structure
    "transactions/duplicate_headers.csv": Expect("unreadable", reason="(?i)duplicate"),
    "transactions/duplicate_alias_headers.csv": Expect("unreadable", reason="(?i)duplicate"),
    "transactions/missing_required_column.csv": q(2, 0, missing_column=2),
    "transactions/ragged_long_row.csv": UNREADABLE,
    "transactions/cr_only_newlines.csv": Expect("unreadable", reason="(?i)line ending|CR"),
    "transactions/header_sql_quotes.csv": q(1, 1),
    "evaluations/jsonl_not_objects.jsonl": UNREADABLE,
    "evaluations/jsonl_nested.jsonl": q(1, 0, rating_out_of_range=1),
    "transactions/typed_columns.parquet": q(2, 2),
    # formula and SQL injection: free text lands as text, bad ids are quarantined
    "evaluations/formula_injection.csv": q(5, 4, unknown_reference=1),
    # every sheet is a delivery (name.xlsx#sheet); formulas saved without a calculated value: bad_value naming the cell
    "transactions/formula_injection.xlsx#Sheet": q(2, 0, bad_value=2),
    "transactions/sql_injection_values.csv": q(3, 2, unknown_reference=1),
    # times
    "transactions/far_future.csv": q(3, 1, bad_timestamp=2),
    "transactions/far_past.csv": q(4, 1, bad_timestamp=3),
    "transactions/impossible_times.csv": q(4, 0, bad_timestamp=4),
    "transactions/clock_skewed_recorded_at.csv": q(4, 2, bad_timestamp=2),
    "evaluations/far_future_evaluated.csv": q(2, 1, bad_timestamp=1),
    # ratings
    "evaluations/numeric_rating_undeclared.csv": q(3, 1, rating_direction_undeclared=2),
    "evaluations/rating_out_of_range.csv": q(3, 0, rating_out_of_range=3),
    # PII where it should not be
    "evaluations/pii_in_comment.csv": q(2, 2),
    "transactions/pii_in_bad_values.csv": q(3, 0, unknown_enum=1, bad_timestamp=1, unknown_reference=1),
    "transactions/pii_in_header.csv": q(1, 1),
    "transactions/申请人_[已脱敏].csv": q(1, 1),  # the ID number in the file name is scrubbed from `_source`
    "transactions/bad_numbers.csv": q(4, 0, bad_value=4),
    # hall-operation feeds (v2)
    "work_orders/hostile_gbk.csv": q(6, 3, bad_timestamp=1, unknown_reference=1, bad_value=1),
    "inspections/hostile_numbers.csv": q(7, 2, bad_value=5),  # below 0 (also -inf), NaN, 1e309, text
    "attendance/hostile.jsonl": q(6, 2, bad_value=1, bad_timestamp=2, unknown_enum=1),  # skew: recorded 2 days early
    "queue_tickets/hostile.xlsx#Sheet": q(3, 1, bad_value=2),  # formulas without a cached value
}

# made at test time by add_generated_cases
GENERATED: dict[str, Expect] = {
    "transactions/big_field_10mb.csv": q(3, 2, bad_value=1),
    "transactions/wide_100k_columns.csv": Expect("unreadable", reason="(?i)columns"),
    "evaluations/zip_bomb.xlsx#Sheet": Expect("unreadable", reason="(?i)expand|decompress|zip bomb"),
    "transactions/link_to_secret.csv": Expect("unreadable", reason="(?i)symlink"),
    "transactions/link_dev_zero.csv": Expect("unreadable", reason="(?i)symlink"),
    "transactions/fifo.csv": Expect("unreadable", reason="(?i)regular file"),
    "transactions/x..\\..\\evil.csv": q(1, 1),  # a Windows `..\..\` in a name is just a name
    "transactions/escape": Expect("unreadable", reason="(?i)symlink"),  # `../../outside/more`
    "staff": Expect("unreadable", reason="(?i)symlink"),  # a feed folder that links out of the inbox
    "transactions/new\\nline.csv": q(1, 1),  # a newline in a name is shown escaped, never raw
}
# folders: reported problems, not deliveries
UNKNOWN_FOLDERS = {"transaktions", "办件流水"}
LOOSE_FILES = {"stray.csv"}
HIDDEN = {"transactions/..csv"}  # names starting with "." are ignored by design, like _truth/


def copy_corpus(dest: Path) -> Path:
    inbox = dest / "inbox"
    shutil.copytree(CORPUS, inbox)
    return inbox


def _tx_line(event_id: str, minute: int = 0) -> str:
    return f"{event_id},C{event_id},accept,2025-03-04 10:{minute:02d}:00,W01,I1"


def write_big_field(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(TX + "\n")
        fh.write(_tx_line("BF1", 1) + "\n")
        fh.write("BF" + "x" * BIG_FIELD_BYTES + ",CBF2,accept,2025-03-04 10:02:00,W01,I1\n")
        fh.write(_tx_line("BF3", 3) + "\n")


def write_wide_header(path: Path) -> None:
    junk = ",".join(f"c{i}" for i in range(WIDE_COLUMNS - 6))
    pad = "," * (WIDE_COLUMNS - 6)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(TX + "," + junk + "\n")
        for i in range(3):
            fh.write(_tx_line(f"WD{i}", i) + pad + "\n")


def write_zip_bomb(path: Path, uncompressed: int = BOMB_UNCOMPRESSED) -> None:
    """A structurally valid XLSX whose one sheet expands ~1000:1 (streamed, never in memory)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["evaluation_id", "window_id", "rating", "evaluated_at"])
    template = path.with_suffix(".template.xlsx")
    wb.save(template)
    row = b'<row><c t="inlineStr"><is><t>ZB</t></is></c><c t="inlineStr"><is><t>W01</t></is></c></row>'
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info.filename))
                continue
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(zi, "w", force_zip64=True) as out:
                out.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                block = row * 8192
                written = 0
                while written < uncompressed:
                    out.write(block)
                    written += len(block)
                out.write(b"</sheetData></worksheet>")
    template.unlink()


def add_generated_cases(inbox: Path, outside: Path) -> None:
    """Big and dangerous cases, made in tmp (never committed)."""
    outside.mkdir(parents=True, exist_ok=True)
    tx = inbox / "transactions"
    write_big_field(tx / "big_field_10mb.csv")
    write_wide_header(tx / "wide_100k_columns.csv")
    write_zip_bomb(inbox / "evaluations" / "zip_bomb.xlsx")
    # symlinks out of the inbox: a file holding rows that must never land, /dev/zero, folders
    secret = outside / "secret.csv"
    secret.write_text(TX + "\n" + _tx_line("SECRET1") + "\n", encoding="utf-8")
    (tx / "link_to_secret.csv").symlink_to(secret)
    (tx / "link_dev_zero.csv").symlink_to("/dev/zero")
    (outside / "more").mkdir(exist_ok=True)
    (outside / "more" / "rows.csv").write_text(TX + "\n" + _tx_line("SECRET2") + "\n", encoding="utf-8")
    (tx / "escape").symlink_to(Path("..") / ".." / outside.name / "more")  # a `../` path out of the inbox
    (outside / "staff").mkdir(exist_ok=True)
    (outside / "staff" / "staff.csv").write_text("staff_id,window_id\nSECRET3,W01\n", encoding="utf-8")
    (inbox / "staff").symlink_to(outside / "staff")
    os.mkfifo(tx / "fifo.csv")  # opening it for reading would block forever
    # odd names: dots, backslashes (a Windows `..\..\`), a newline
    (tx / "..csv").write_text(TX + "\n" + _tx_line("DOT1", 5) + "\n", encoding="utf-8")
    (tx / "x..\\..\\evil.csv").write_text(TX + "\n" + _tx_line("BS1", 6) + "\n", encoding="utf-8")
    (tx / "new\nline.csv").write_text(TX + "\n" + _tx_line("NL1", 7) + "\n", encoding="utf-8")


@dataclass
class IngestRun:
    exit_code: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    report: dict
    home: Path
    seconds: float


RUNNER = """
import json, os, resource, sys, time
from windowwatch.cli import main
t0 = time.monotonic()
rc = main(sys.argv[1:])
sys.stdout.flush()
# staging worker processes (ingest/stage_pool.py) count too: each may peak as high as the largest one
workers = json.load(open(os.path.join(os.environ["WINDOWWATCH_HOME"], "runs", "ingest-latest.json"))).get("stage_workers", 0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + workers * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("\\n@@" + json.dumps({"rc": rc, "peak_rss_kb": peak, "stage_workers": workers, "seconds": time.monotonic() - t0}))
"""


def sources_file(dest: Path) -> Path:
    cfg = dest / "sources.yaml"
    cfg.write_text("sources:\n  - name: inbox\n    kind: files\n", encoding="utf-8")
    return cfg


def run_ingest_subprocess(home: Path, inbox: Path, config: Path, timeout: float = 240, extra_env: dict | None = None) -> IngestRun:
    env = dict(os.environ, WINDOWWATCH_HOME=str(home), WINDOWWATCH_PII_KEY=os.environ.get("WINDOWWATCH_PII_KEY", "test-key-not-secret"))
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, "-c", RUNNER, "ingest", "--feeds", str(inbox), "--config", str(config)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    marker = proc.stdout.rfind("\n@@")
    assert marker >= 0, f"ingest died (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    meta = json.loads(proc.stdout[marker + 3:])
    report = json.loads((home / "runs" / "ingest-latest.json").read_text(encoding="utf-8"))
    return IngestRun(meta["rc"], proc.stdout[:marker], proc.stderr, meta["peak_rss_kb"] / 1024, report, home, meta["seconds"])


def rel_source(source: str) -> str:
    return source.removeprefix("files:")


# ---------------------------------------------------------------- PII scan

# Bounded so hex digests and 20-digit case ids do not match; a real ID/phone sits between
# non-alphanumerics (or Chinese text).
_B, _E = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
ID_CARD_RE = re.compile(_B + r"(?:\d{17}[\dXx]|\d{15})" + _E)
MOBILE_RE = re.compile(_B + r"(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}" + _E)
PII_RES = {"id_card": ID_CARD_RE, "mobile": MOBILE_RE}


def texts_of_file(path: Path):
    """Every piece of text a file holds, whatever its format (Parquet/DuckDB cells, text files)."""
    name = path.name
    if name.endswith(".parquet"):
        import polars as pl

        try:
            df = pl.read_parquet(path, hive_partitioning=False)
        except Exception:
            yield path.read_bytes().decode("latin-1")
            return
        for col in df.columns:
            s = df[col]
            if s.dtype == pl.String:
                yield from (v for v in s.drop_nulls().to_list())
            yield col
    elif name.endswith(".duckdb"):
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        try:
            cols = con.sql("""select table_catalog, table_schema, table_name, column_name from information_schema.columns
                              where data_type = 'VARCHAR' and table_catalog = current_database()""").fetchall()
            for cat, schema, table, col in cols:
                rows = con.sql(f'select distinct "{col}" from "{schema}"."{table}" where "{col}" is not null').fetchall()
                yield from (r[0] for r in rows)
        finally:
            con.close()
    elif name.endswith(".xlsx"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                yield from (str(v) for v in row if v is not None)
    elif name.endswith(".pdf"):
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
        yield out.stdout
    else:
        yield path.read_bytes().decode("utf-8", errors="replace")


_NUMBER_TOKEN = re.compile(r"(?<![0-9A-Za-z])\d{11,17}[\dXx]?(?![0-9A-Za-z])")


def pii_hits(root: Path, raw_values: set[str] = frozenset(), skip=lambda p: False) -> list[tuple[str, str, str]]:
    """(file, kind, masked match) for every ID/phone-shaped value, or known raw PII value (as a
    whole number, separators ignored), in any file under root."""
    digits_only = {re.sub(r"[\s+-]", "", v).upper() for v in raw_values if re.sub(r"[\s+-]", "", v)}
    words = {v for v in raw_values if not re.fullmatch(r"[\d\s+Xx-]+", v)}  # names and other text: substring search
    hits: list[tuple[str, str, str]] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or skip(path):
            continue
        text = "\n".join(t for t in texts_of_file(path) if isinstance(t, str))
        rel = str(path.relative_to(root))
        for kind, rx in PII_RES.items():
            hits += [(rel, kind, m.group(0)[:3] + "…") for m in rx.finditer(text)]
        if digits_only:
            tokens = {t.upper() for t in _NUMBER_TOKEN.findall(re.sub(r"(?<=\d)[\s-](?=\d)", "", text))}
            hits += [(rel, "raw value", v[:3] + "…") for v in sorted(tokens & digits_only)]
        hits += [(rel, "raw value", v[:1] + "…") for v in sorted(words) if v in text]
    return hits
