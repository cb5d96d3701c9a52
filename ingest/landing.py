"""Landing (SPEC §3): validate a delivery, quarantine bad rows, write good rows as Parquet.

    landing/<feed>/part_date=YYYY-MM-DD/<content_id>.parquet   good rows, contract order + metadata
    landing/<feed>/_empty.parquet                              0 rows, full schema (globs never fail)
    quarantine/<feed>/<content_id>.parquet                     bad rows: feed, source_file, line, rule, …
    landing/_ledger/<content_id>.json                          written LAST: the delivery is landed

Exactly once and crash-safe: every file goes to a temp name in its directory and is
`os.replace`d; names are deterministic, and a delivery is only "landed" once its ledger entry
exists. A run killed at any point re-lands the un-ledgered delivery to exactly the same files
(the first attempt's `_ingested_at` is kept in a pending marker so even that matches).

A delivery is processed in batches (bounded memory): each batch is mapped, hashed, parsed and
checked row by row in polars and staged (good rows as Arrow IPC pieces per date, bad rows as
Parquet); the final files are then prepared from the staged pieces (`_prepare`, DuckDB for the
within-delivery duplicate rule and the key index) and renamed into place in delivery order
unless the delivery's keys meet an earlier delivery's (`_commit_prepared`, else `_finish`).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest import faults
from ingest.delivery import Delivery, UnreadableDelivery
from ingest.key_index import content_hash_sql, earlier_index_files, index_path, write_index
from ingest.key_index import esc as _esc, q as _q, sql_list as _sql_list  # one quoting for all ingest SQL
from ingest.normalize import (
    HeaderMap,
    Parsed,
    map_headers,
    parse_column,
    recorded_at_default,
    shape,
    tcol,
    text,
    vcol,
)
from ingest.privacy import SCRUB_PATTERNS, SCRUBBED, apply_privacy, pii_key, scrub
from ingest.sources.files import MAX_VALUE_BYTES, DeliveryReadError, FileDelivery
from ingest.stage_pool import StagePool
from windowwatch.feeds import FEEDS, LANDING_METADATA, QUARANTINE_RULES, Feed
from windowwatch.paths import Home

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def duckdb_threads() -> int:
    """DuckDB threads per connection: 2 (the cores) in one process; each staging worker gets
    cores // workers through WINDOWWATCH_INGEST_DUCKDB_THREADS (stage_pool.worker_threads_env):
    two workers already fill both cores."""
    return int(os.environ.get("WINDOWWATCH_INGEST_DUCKDB_THREADS", "2"))

TYPE_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "time": pl.Time(),
    "month": pl.Date(),
    "rating": pl.Int8(),
    "list": pl.String(),
}
METADATA_DTYPES: dict[str, pl.DataType] = {
    "_delivery_id": pl.String(),
    "_source": pl.String(),
    "_line": pl.Int64(),
    "_ingested_at": pl.Datetime("us"),
}
assert set(METADATA_DTYPES) == set(LANDING_METADATA)

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "feed": pl.String(),
    "source_file": pl.String(),
    "line": pl.Int64(),
    "rule": pl.String(),
    "detail": pl.String(),
    "raw": pl.String(),
    "quarantined_at": pl.Datetime("us"),
}

# The order in which rules are tried; a row is quarantined under the first that fails.
RULE_ORDER = tuple(QUARANTINE_RULES)
ROW_RULES = ("missing_required", "unknown_enum", "bad_timestamp", "bad_value", "rating_out_of_range", "rating_direction_undeclared")


def landing_schema(feed: Feed | str) -> dict[str, pl.DataType]:
    """The exact landing Parquet schema of a feed (feeds.py docstring), metadata last."""
    if isinstance(feed, str):
        feed = FEEDS[feed]
    schema: dict[str, pl.DataType] = {}
    for col in feed.columns:
        if col.pii == "drop":
            continue
        if col.pii == "hash":
            schema[f"{col.name}_hmac"] = pl.String()
        else:
            schema[col.name] = TYPE_DTYPES[col.type]
    assert list(schema) == feed.landed_columns()
    return schema | METADATA_DTYPES


@dataclass
class DeliveryResult:
    feed: str
    source: str
    content_id: str | None
    status: str  # landed | already landed | unreadable
    rows_in: int = 0
    landed: int = 0
    quarantined: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  # unreadable: why
    ignored_columns: list[str] = field(default_factory=list)  # delivered headers that map to no column
    partitions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def now_local() -> dt.datetime:
    return dt.datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


# ------------------------------------------------------------------ atomic files


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_parquet(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
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
                if m is None or not _pid_alive(int(m.group(1))):
                    p.unlink(missing_ok=True)
    base = home.root / "tmp" / "ingest"
    if base.is_dir():
        for d in base.iterdir():
            if not (d.name.isdigit() and _pid_alive(int(d.name))) or d.name == str(os.getpid()):
                shutil.rmtree(d, ignore_errors=True)


def staging_root(home: Home) -> Path:
    """This process's scratch space (staged batches, transcoded CSVs); removed when done."""
    return home.root / "tmp" / "ingest" / str(os.getpid())


def ensure_empty_files(home: Home) -> None:
    for feed in FEEDS.values():
        lp = home.landing / feed.name / "_empty.parquet"
        if not lp.exists():
            atomic_write_parquet(pl.DataFrame(schema=landing_schema(feed)), lp)
        qp = home.quarantine / feed.name / "_empty.parquet"
        if not qp.exists():
            atomic_write_parquet(pl.DataFrame(schema=QUARANTINE_SCHEMA), qp)


# ------------------------------------------------------------------ a full disk (issue 8)


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


# ------------------------------------------------------------------ hostile text (issue 8)

CLOCK_SKEW_SECONDS = 3600  # recorded_at may trail the event's own time by at most this
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # tab, LF and CR are text; the rest is binary


def _has_control_chars(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String).str.contains(CONTROL_CHARS).fill_null(False)


def _too_long(name: str) -> pl.Expr:
    return (pl.col(name).cast(pl.String).str.len_bytes() > MAX_VALUE_BYTES).fill_null(False)


def _raw_json(cols: list[str]) -> pl.Expr:
    """The quarantined row as JSON; a value over the limit is cut (a 10 MB field stays 16 KB)."""
    cut = [pl.when(pl.col(c).str.len_bytes() > MAX_VALUE_BYTES)
           .then(pl.col(c).str.slice(0, 200) + pl.lit("…[cut: ") + pl.col(c).str.len_bytes().cast(pl.String) + pl.lit(" bytes]"))
           .otherwise(pl.col(c)).alias(c) for c in cols]
    return _scrub_bounded(pl.struct(cut).struct.json_encode())


def _scrub_bounded(text_expr: pl.Expr) -> pl.Expr:
    """ID-card/phone numbers typed into the wrong column (a phone as window_id) must not reach
    quarantine raw either. Bounded by non-alphanumerics so 20-digit case ids and hex hashes
    stay readable; two passes catch numbers separated by a single character."""
    for _ in range(2):
        for pattern in SCRUB_PATTERNS:
            text_expr = text_expr.str.replace_all(f"(^|[^0-9A-Za-z])(?:{pattern})($|[^0-9A-Za-z])", f"${{1}}{SCRUBBED}${{2}}")
    return text_expr


def _printable(name: str, limit: int = 60) -> str:
    """A delivered header or value fit for a report: no control characters, no ID/phone."""
    name = re.sub(CONTROL_CHARS, "?", name)
    for pattern in SCRUB_PATTERNS:
        name = re.sub(pattern, SCRUBBED, name)
    return name if len(name) <= limit else name[:limit] + "…"


def _printable_names(names: list[str], limit: int = 50) -> list[str]:
    out = [_printable(n) for n in names[:limit]]
    if len(names) > limit:
        out.append(f"… and {len(names) - limit} more")
    return out


# ------------------------------------------------------------------ validation of one batch


def _failure_chain(pairs: list[tuple[str, pl.Expr, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """(rule, failed, detail) in priority order -> (rule expr, detail expr) of the first failure."""
    if not pairs:
        return pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)
    rule_expr = pl.when(pairs[0][1]).then(pl.lit(pairs[0][0]))
    detail_expr = pl.when(pairs[0][1]).then(pairs[0][2])
    for rule, failed, detail in pairs[1:]:
        rule_expr = rule_expr.when(failed).then(pl.lit(rule))
        detail_expr = detail_expr.when(failed).then(detail)
    return rule_expr.otherwise(None), detail_expr.otherwise(None)


def _quoted(value: pl.Expr) -> pl.Expr:
    """The offending value itself (ids, labels), scrubbed of ID/phone numbers and truncated."""
    s = scrub(value.cast(pl.String))
    s = pl.when(s.str.len_chars() > 40).then(s.str.slice(0, 40) + pl.lit("…")).otherwise(s)
    return pl.lit("'") + s + pl.lit("'")


_RULE_TEXT = {
    "unknown_enum": "is not a known value",
    "bad_timestamp": "is not an accepted timestamp format or lies outside 2000–2099",
    "bad_value": "cannot be parsed",
    "rating_out_of_range": "is not one of the five rating levels",
    "rating_direction_undeclared": "is a numeric rating but the source declares no rating_direction",
}


def _detail(rule: str, col: str, raw: pl.Expr) -> pl.Expr:
    if rule == "missing_required":
        return pl.lit(f"{col}: required value is empty")
    if rule in ("unknown_enum", "rating_out_of_range", "rating_direction_undeclared"):
        return pl.lit(f"{col}: ") + _quoted(raw) + pl.lit(" " + _RULE_TEXT[rule])
    return pl.lit(f"{col}: value shaped '") + shape(raw) + pl.lit("' " + _RULE_TEXT[rule])


class BatchValidator:
    """Maps, protects and parses the batches of one delivery (rules that need one row only)."""

    def __init__(self, feed: Feed, delivery: Delivery, headers: HeaderMap, references: dict[str, pl.Series], key: bytes | None):
        self.feed = feed
        self.delivery = delivery
        self.headers = headers
        self.references = references
        self.key = key
        self.parsed: dict[str, Parsed] = {}
        for col in feed.columns:
            if col.pii is None or col.pii == "scrub":
                self.parsed[col.name] = parse_column(col, delivery.options, stripped=True)
        # the stripped text of every column a parse or a rule reads: computed once per batch
        self.stripped = [c.name for c in feed.columns if c.name in self.parsed or (c.required and c.pii is None)]
        # a recorded_at before the event it records means a skewed clock: it would reorder updates
        self.skew = None
        if feed.time_column and "recorded_at" in self.parsed:
            self.skew = (vcol("recorded_at") < vcol(feed.time_column) - pl.duration(seconds=CLOCK_SKEW_SECONDS)).fill_null(False)
            rec = self.parsed["recorded_at"]
            rec.failures["bad_timestamp"] = rec.failures["bad_timestamp"] | self.skew

    def text_frame(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Contract-named text columns with PII hashed/dropped/scrubbed: safe to keep anywhere."""
        present = {src: dst for src, dst in self.headers.mapping.items() if src in batch.columns}
        frame = batch.select(pl.col("_line"), *[pl.col(src).cast(pl.String).alias(dst) for src, dst in present.items()])
        missing = [c.name for c in self.feed.columns if c.name not in frame.columns]
        frame = frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
        frame = frame.select("_line", *[c.name for c in self.feed.columns])  # contract order in `raw`
        return apply_privacy(frame, self.feed, self.key)

    def validate(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """-> (good rows typed in landing order + `_line`, bad rows as quarantine text columns).

        Three flat steps (values, failure flags, first failure) keep each polars plan small."""
        feed = self.feed
        t = self.text_frame(batch)
        safe_cols = [c for c in t.columns if c != "_line"]
        t = (t.lazy().with_columns(*[text(name).alias(f"__t_{name}") for name in self.stripped])
             .with_columns(*[p.value.alias(f"__v_{name}") for name, p in self.parsed.items()]).collect())
        # Fast path (issue 7): one "row is bad" predicate over the whole batch, with a single
        # control-character scan of all text columns joined (tab is allowed text, so it cannot
        # create a match) instead of a regex per column; the per-rule flags and the first
        # failing rule are computed for the (few) bad rows only.
        text_cols = list(self.parsed)
        row_bad = [failed for _, _, failed in self._checks(hostile_text=False)]
        if text_cols:
            row_bad += [_too_long(c) for c in text_cols]
            if not getattr(self.delivery, "control_free", False):  # a CSV without control bytes cannot hold one (files.CONTROL_BYTES)
                joined = pl.concat_str([pl.col(c).cast(pl.String) for c in text_cols], separator="\t", ignore_nulls=True)
                row_bad.append(joined.str.contains(CONTROL_CHARS).fill_null(False))
        # lazy: common subexpressions (a column's stripped text, used by several rules) are computed once
        t = t.lazy().with_columns((pl.any_horizontal(*row_bad) if row_bad else pl.lit(False)).fill_null(False).alias("__bad")).collect()
        typed = []
        default = recorded_at_default(feed)
        for col in feed.columns:
            if col.pii == "drop":
                continue
            if col.pii == "hash":
                typed.append(pl.col(f"{col.name}_hmac"))
            elif col.name == "recorded_at" and default is not None:
                typed.append(pl.coalesce(vcol("recorded_at"), default).alias("recorded_at"))  # only good rows: a bad recorded_at stays bad
            else:
                typed.append(vcol(col.name).alias(col.name))
        good = t.filter(~pl.col("__bad")).select(pl.col("_line"), *typed)
        t = t.filter(pl.col("__bad"))
        if not t.height:
            return good, pl.DataFrame(schema={"line": pl.Int64, "rule": pl.String, "detail": pl.String, "raw": pl.String})
        checks = self._checks(hostile_text=True)
        t = t.with_columns([failed.alias(f"__f{i}") for i, (_, _, failed) in enumerate(checks)])
        pairs = [(rule, pl.col(f"__f{i}"), self._detail(rule, name)) for i, (rule, name, _) in enumerate(checks)]
        rule_expr, detail_expr = _failure_chain(pairs)
        t = t.with_columns(rule_expr.alias("_rule"))
        if default is not None and "recorded_at" in feed.by_name:  # as before the fast path: details see the filled-in value
            t = t.with_columns(pl.coalesce(vcol("recorded_at"), default).alias("__v_recorded_at"))
        bad = t.filter(pl.col("_rule").is_not_null()).select(
            pl.col("_line").alias("line"),
            pl.col("_rule").alias("rule"),
            detail_expr.alias("detail"),
            _raw_json(safe_cols).alias("raw"),
        )
        if bad.height != t.height:  # the fast predicate and the rules must agree row for row
            raise RuntimeError(f"{self.delivery.source}: {t.height - bad.height} rows flagged bad match no rule (ingest bug)")
        return good, bad

    def _checks(self, hostile_text: bool) -> list[tuple[str, str, pl.Expr]]:
        """(rule, column, failed) in the order rules are tried. hostile_text: bad_value also
        covers NUL/control characters and over-long values per column (issue 8)."""
        feed = self.feed
        checks: list[tuple[str, str, pl.Expr]] = []
        for rule in ROW_RULES:
            for col in feed.columns:
                if rule == "missing_required":
                    if col.required:
                        checks.append((rule, col.name, (tcol(col.name) if col.name in self.stripped else text(col.name)).is_null()))
                    continue
                parsed = self.parsed.get(col.name)
                if parsed is None:
                    continue
                failed = parsed.failures.get(rule)
                if rule == "bad_value" and hostile_text:
                    bad_text = _has_control_chars(col.name) | _too_long(col.name)
                    failed = bad_text if failed is None else failed | bad_text
                if failed is not None:
                    checks.append((rule, col.name, failed.fill_null(False)))
        for col in feed.columns:
            if col.references and col.references in self.references:
                known = self.references[col.references].implode()
                checks.append(("unknown_reference", col.name, vcol(col.name).is_not_null() & ~vcol(col.name).is_in(known)))
        return checks

    def _detail(self, rule: str, name: str) -> pl.Expr:
        if rule == "bad_value" and name in self.parsed:
            return (pl.when(_has_control_chars(name)).then(pl.lit(f"{name}: holds control characters (NUL or other binary bytes)"))
                    .when(_too_long(name)).then(pl.lit(f"{name}: value is ") + pl.col(name).str.len_bytes().cast(pl.String)
                                                + pl.lit(f" bytes, over the {MAX_VALUE_BYTES}-byte limit"))
                    .otherwise(_detail(rule, name, pl.col(name))))
        if rule == "bad_timestamp" and name == "recorded_at" and self.skew is not None:
            return pl.when(self.skew).then(pl.lit(
                f"recorded_at: more than {CLOCK_SKEW_SECONDS // 3600} h before {self.feed.time_column} (a skewed clock?); fix the source's clock or the value"
            )).otherwise(_detail(rule, name, pl.col(name)))
        if rule == "unknown_reference":
            ref = self.feed.by_name[name].references
            return pl.lit(f"{name}: ") + _quoted(pl.col(name)) + pl.lit(f" is not in any {ref} delivery")
        return _detail(rule, name, pl.col(name))

    def missing_column_rows(self, batch: pl.DataFrame) -> pl.DataFrame:
        t = self.text_frame(batch)
        safe_cols = [c for c in t.columns if c != "_line"]
        detail = f"the file lacks required column(s) {', '.join(self.headers.missing_required)}; add the column or a column_mapping"
        return t.select(
            pl.col("_line").alias("line"),
            pl.lit("missing_column").alias("rule"),
            pl.lit(detail).alias("detail"),
            _raw_json(safe_cols).alias("raw"),
        )


# ------------------------------------------------------------------ landing one delivery


class Lander:
    """Lands deliveries into one WINDOWWATCH_HOME. Land reference feeds before event feeds."""

    def __init__(self, home: Home):
        self.home = home.ensure()
        self._key: bytes | None = None
        self._pool: StagePool | None = None

    def key(self) -> bytes:
        if self._key is None:
            self._key = pii_key()
        return self._key

    # -- reference sets

    def reference_keys(self, feed_name: str) -> pl.Series:
        feed = FEEDS[feed_name]
        files = sorted((self.home.landing / feed_name).glob("part_date=*/*.parquet"))
        column = feed.key[0]
        if not files:
            return pl.Series(column, [], dtype=pl.String)
        return pl.scan_parquet(files, hive_partitioning=False).select(column).unique().collect().to_series()

    def _references_for(self, feed: Feed) -> dict[str, pl.Series]:
        return {c.references: self.reference_keys(c.references) for c in feed.columns if c.references}

    # -- ledger

    def ledger_path(self, content_id: str) -> Path:
        return self.home.ledger / f"{content_id}.json"

    def _ingested_at(self, content_id: str) -> dt.datetime:
        """The first attempt's landing time, so a re-run after a crash writes identical rows."""
        marker = self.home.ledger / f"{content_id}.pending"
        if marker.exists():
            try:
                return dt.datetime.fromisoformat(json.loads(marker.read_text())["ingested_at"])
            except (ValueError, KeyError, json.JSONDecodeError):
                pass
        at = now_local()
        atomic_write_bytes(marker, json.dumps({"ingested_at": at.isoformat()}).encode())
        return at

    # -- main entry

    @property
    def workers(self) -> int:
        """Worker processes staging deliveries ahead (0: each delivery is staged in `land`)."""
        return self._pool.workers if self._pool is not None else 0

    def start_workers(self, workers: int) -> None:
        """Stage deliveries in `workers` processes from now on (`prestage`); 0: in this process."""
        if workers > 0 and self._pool is None:
            self._pool = StagePool(workers)

    def prestage(self, delivery: Delivery | UnreadableDelivery) -> Future | None:
        """Start validating and staging a file delivery in a worker process while this process
        finishes earlier deliveries (issue 7, `ingest/stage_pool.py`). Only the staging runs
        early: the duplicate check against earlier deliveries, the landing write, the key index
        and the ledger still happen in `land`, one delivery after the other in delivery order.
        The caller must only prestage a delivery whose reference feeds are fully landed and
        whose content id is not being landed already. Pass the result to `land`.
        None (stage in `land`) without workers or when the delivery is already landed."""
        if self._pool is None or not isinstance(delivery, FileDelivery) or self.ledger_path(delivery.content_id).exists():
            return None
        stage = staging_root(self.home) / delivery.content_id
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        ingested_at = self._ingested_at(delivery.content_id)  # the pending marker is written here, not by a worker
        feed = FEEDS[delivery.feed]
        key = self.key() if any(c.pii == "hash" for c in feed.columns) else None
        return self._pool.submit(self.home.root, delivery, stage, ingested_at, key, self._references_for(feed))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def land(self, delivery: Delivery | UnreadableDelivery, prestaged: Future | None = None) -> DeliveryResult:
        if isinstance(delivery, UnreadableDelivery):
            self._record_unreadable(delivery.feed, delivery.source, delivery.reason)
            return DeliveryResult(delivery.feed, delivery.source, None, "unreadable", reason=delivery.reason)
        ledger = self.ledger_path(delivery.content_id)
        if ledger.exists():
            entry = json.loads(ledger.read_text(encoding="utf-8"))
            if delivery.on_landed:
                delivery.on_landed()  # a crash may have hit between the ledger and the callback
            # ... or between the ledger and removing the pending marker
            (self.home.ledger / f"{delivery.content_id}.pending").unlink(missing_ok=True)
            return DeliveryResult(
                delivery.feed, delivery.source, delivery.content_id, "already landed",
                reason=f"same content as {entry.get('source')} landed at {entry.get('landed_at')}",
            )
        stage = staging_root(self.home) / delivery.content_id
        if prestaged is None:
            shutil.rmtree(stage, ignore_errors=True)
            stage.mkdir(parents=True)
        try:
            if prestaged is not None:
                feed_name, stage_dir, hmap, rows_in, ingested_at, prepared = prestaged.result()
                staged = (FEEDS[feed_name], Path(stage_dir), hmap, rows_in, ingested_at)
            else:
                staged = self._stage(delivery, stage)
                prepared = self._prepare(delivery, *staged)
            result = self._commit_prepared(delivery, *staged, prepared)
            if result is None:  # its keys meet earlier deliveries': decided as before, in this process
                shutil.rmtree(stage / PREPARED, ignore_errors=True)
                result = self._finish(delivery, *staged)
        except DeliveryReadError as exc:
            (self.home.ledger / f"{delivery.content_id}.pending").unlink(missing_ok=True)
            self._record_unreadable(delivery.feed, delivery.source, str(exc))
            return DeliveryResult(delivery.feed, delivery.source, delivery.content_id, "unreadable", reason=str(exc))
        except Exception as exc:
            if is_disk_full(exc):  # polars, pyarrow and DuckDB each word it differently
                raise DiskFullError(f"{delivery.source}: the disk holding {self.home.root} is full (No space left on device)") from None
            raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        if delivery.on_landed:
            delivery.on_landed()
        return result

    def _record_unreadable(self, feed: str, source: str, reason: str) -> None:
        """One quarantine row (rule unreadable_file, no line) so fct_quarantine lists the file too.

        Named by the source path: a re-run overwrites it; a fixed file lands under its own id."""
        name = "unreadable-" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:16] + ".parquet"
        row = pl.DataFrame(
            {"feed": [feed], "source_file": [source], "line": [None], "rule": ["unreadable_file"], "detail": [reason[:300]],
             "raw": [None], "quarantined_at": [now_local()]},
            schema=QUARANTINE_SCHEMA,
        )
        atomic_write_parquet(row, self.home.quarantine / feed / name)

    def _batches(self, delivery: Delivery) -> Iterator[pl.DataFrame]:
        if isinstance(delivery, FileDelivery):
            yield from delivery.batches()
        else:
            yield delivery.frame

    def _stage(self, delivery: Delivery, stage: Path, ingested_at: dt.datetime | None = None,
               references: dict[str, pl.Series] | None = None) -> tuple:
        """Map, protect, parse and check every batch; stage good/bad rows as Parquet.
        -> the arguments of `_finish` after the delivery. Runs in a worker process when the
        delivery was prestaged: then `ingested_at` and the reference keys come from the main
        process, read when it released the delivery (its reference feeds fully landed)."""
        feed = FEEDS[delivery.feed]
        cid = delivery.content_id
        headers_in = [c for c in delivery.frame.columns if c != "_line"]
        hmap = map_headers(headers_in, feed, delivery.options)
        if hmap.conflicts:
            second, target = hmap.conflicts[0]
            first = next(h for h, t in hmap.mapping.items() if t == target)
            raise DeliveryReadError(f"duplicate columns: {_printable(first)!r} and {_printable(second)!r} both mean {target}; "
                                    "which one holds the data is ambiguous — remove one or set a column_mapping")
        ingested_at = ingested_at or self._ingested_at(cid)
        if references is None:
            references = self._references_for(feed)
        validator = BatchValidator(feed, delivery, hmap, references if not hmap.missing_required else {},
                                   self.key() if any(c.pii == "hash" for c in feed.columns) else None)
        rows_in = 0
        n = 0
        for batch in self._batches(delivery):
            if not batch.height:
                continue
            n += 1
            rows_in += batch.height
            if hmap.missing_required:
                bad = validator.missing_column_rows(batch)
            else:
                good, bad = validator.validate(batch)
                if good.height:
                    part = pl.lit(ingested_at.date()) if feed.kind == "reference" else pl.col(feed.time_column).dt.date()
                    _stage_good(good.with_columns(part.alias("part_date")), stage, n)
            if bad.height:
                bad.write_parquet(stage / f"bad-{n:06d}.parquet")
        return feed, stage, hmap, rows_in, ingested_at

    # -- cross-row rule and the final write, in DuckDB over the staged batches

    def _connect(self, stage: Path) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute("SET memory_limit='1GB'")  # DuckDB spills to temp_directory beyond this
        con.execute(f"SET threads={duckdb_threads()}")
        con.execute(f"SET temp_directory='{stage / 'duckdb'}'")
        con.execute("SET preserve_insertion_order=true")
        con.execute("SET enable_progress_bar=false")
        return con

    def _finish(self, delivery: Delivery, feed: Feed, stage: Path, hmap: HeaderMap, rows_in: int, ingested_at: dt.datetime) -> DeliveryResult:
        cid = delivery.content_id
        good_files = sorted(stage.glob("good-*.arrow"))
        con = self._connect(stage)
        partitions: list[str] = []
        try:
            if good_files:
                _staged_view(con, good_files)
                conflicts = self._duplicate_conflicts(con, feed, cid)
                if conflicts.height:
                    conflicts.write_parquet(stage / "bad-conflicts.parquet")
                    con.register("conflict_lines", conflicts.select(pl.col("line").alias("_line")))
                else:
                    con.execute("CREATE TABLE conflict_lines (_line BIGINT)")
            bad_files = sorted(stage.glob("bad-*.parquet"))
            by_rule: dict[str, int] = {}
            quarantined = 0
            if bad_files:
                self._write_quarantine(con, delivery, feed, bad_files, ingested_at)
                counts = con.sql(f"SELECT rule, count(*) FROM read_parquet({_sql_list(bad_files)}) GROUP BY rule").fetchall()
                by_rule = {r: int(c) for r, c in sorted(counts, key=lambda rc: RULE_ORDER.index(rc[0]))}
                quarantined = sum(by_rule.values())
            faults.checkpoint("after_quarantine_write")
            landed = 0
            if good_files:
                landed, partitions = self._write_landing(con, delivery, feed, stage, ingested_at)
                if feed.kind == "event" and landed:  # after the landing files: an index is never newer than its data
                    write_index(con, self.home, feed, cid, "h ANTI JOIN conflict_lines USING (_line)")
        finally:
            con.close()
        return self._record(delivery, feed, hmap, rows_in, ingested_at, landed, quarantined, by_rule, partitions)

    # -- the order-independent part of the finish, prepared where the delivery was staged (issue 7)

    def _prepare(self, delivery: Delivery, feed: Feed, stage: Path, hmap: HeaderMap, rows_in: int,
                 ingested_at: dt.datetime) -> dict:
        """Everything of the finish that depends on this delivery only, written under
        `<stage>/prepared/` as the final files: duplicate_conflict within the delivery, the
        quarantine file, the sorted landing files and the key index. Runs in the worker process
        that staged the delivery, so the main process only checks that no key meets an earlier
        delivery's and renames the files into place (`_commit_prepared`). The staged batches
        stay: when keys do meet, the main process decides as before (`_finish`)."""
        final = stage / PREPARED
        final.mkdir(exist_ok=True)
        good_files = sorted(stage.glob("good-*.arrow"))
        con = self._connect(stage)
        landed, partitions, by_rule, quarantined = 0, [], {}, 0
        try:
            if good_files:
                _staged_view(con, good_files)
                self._hash_rows(con, feed)
                conflicts = self._conflict_rows(con, feed, self._within_lines(con, feed))
                if conflicts.height:
                    conflicts.write_parquet(final / "bad-conflicts.parquet")
                    con.register("conflict_lines", conflicts.select(pl.col("line").alias("_line")))
                else:
                    con.execute("CREATE TABLE conflict_lines (_line BIGINT)")
            bad_files = sorted(stage.glob("bad-*.parquet")) + sorted(final.glob("bad-*.parquet"))
            if bad_files:
                self._write_quarantine(con, delivery, feed, bad_files, ingested_at, final / "quarantine.parquet")
                counts = con.sql(f"SELECT rule, count(*) FROM read_parquet({_sql_list(bad_files)}) GROUP BY rule").fetchall()
                by_rule = {r: int(c) for r, c in sorted(counts, key=lambda rc: RULE_ORDER.index(rc[0]))}
                quarantined = sum(by_rule.values())
            if good_files:
                pieces = _pieces_by_day(good_files)
                written = None
                if pieces is not None:
                    lines = {int(x) for x in con.sql("SELECT _line FROM conflict_lines").fetchnumpy()["_line"]}
                    written = self._write_landing_pieces(delivery, feed, pieces, lines, ingested_at, final / "landing")
                if written is None:
                    written = self._write_landing(con, delivery, feed, stage, ingested_at, root=final / "landing")
                landed, partitions = written
                if feed.kind == "event" and landed:  # after the landing files: an index is never newer than its data
                    write_index(con, self.home, feed, delivery.content_id, "h ANTI JOIN conflict_lines USING (_line)",
                                target=final / "index.parquet")
        finally:
            con.close()
        return {"landed": landed, "partitions": partitions, "by_rule": by_rule, "quarantined": quarantined}

    def _write_landing_pieces(self, delivery: Delivery, feed: Feed, pieces: dict[str, list[Path]], conflict_lines: set[int],
                              ingested_at: dt.datetime, root: Path) -> tuple[int, list[str]] | None:
        """The landing files from the staged pieces (one per batch and date, `_stage_good`):
        per date, its pieces in batch order are already in line order, so no sort of the
        whole delivery is needed (issue 7: DuckDB's ORDER BY over every column was the
        largest part of the finish). Memory: one piece at a time plus one row group.
        None when the lines are not ascending (then the caller sorts in DuckDB)."""
        cid = delivery.content_id
        schema = landing_arrow_schema(feed)
        cols = feed.landed_columns()
        written: list[Path] = []
        landed = 0
        for day in sorted(pieces):
            target = root / f"part_date={day}" / f"{cid}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            rows = 0
            last_line = -1
            with pq.ParquetWriter(target, schema, compression="zstd", use_dictionary=_dictionary_columns(feed, schema)) as writer:
                pending: list[pa.Table] = []
                pending_rows = 0
                for piece in pieces[day]:
                    t = _read_staged(piece)
                    lines = t.column("_line")
                    if len(lines):
                        first = pc.min(lines).as_py()
                        if first <= last_line or not _ascending(lines):
                            writer.close()
                            for p in [*written, target]:
                                p.unlink(missing_ok=True)
                            return None
                        last_line = pc.max(lines).as_py()
                    if conflict_lines:
                        t = t.filter(pc.invert(pc.is_in(lines, value_set=pa.array(sorted(conflict_lines), pa.int64()))))
                    n = t.num_rows
                    if not n:
                        continue
                    t = pa.table([*(t.column(c) for c in cols), pa.repeat(cid, n), pa.repeat(delivery.source, n), t.column("_line"),
                                  pa.repeat(pa.scalar(ingested_at, pa.timestamp("us")), n)], names=schema.names).cast(schema)
                    pending.append(t)
                    pending_rows += n
                    if pending_rows >= LANDING_ROW_GROUP:
                        writer.write_table(pa.concat_tables(pending), row_group_size=LANDING_ROW_GROUP)
                        pending, pending_rows = [], 0
                    rows += n
                if pending:
                    writer.write_table(pa.concat_tables(pending), row_group_size=LANDING_ROW_GROUP)
            if rows:
                written.append(target)
                landed += rows
            else:
                target.unlink()
        return landed, [p.parent.name.removeprefix("part_date=") for p in written]

    def _keys_meet_earlier(self, feed: Feed, cid: str, index_file: Path) -> bool:
        """Does any key of this delivery's landed rows (its prepared key index: every key of
        its good rows, since the first line of a key never conflicts within) appear in an
        earlier delivery's key index? The same semi join as `_across_lines`' table p: when
        it is empty, the across-delivery rule changes nothing."""
        prev_index = None
        con = duckdb.connect()
        try:
            con.execute(f"SET threads={duckdb_threads()}")
            con.execute("SET enable_progress_bar=false")
            prev_index = earlier_index_files(con, self.home, feed, exclude=cid)
            if not prev_index:
                return False
            keys = ", ".join(_q(k) for k in feed.key)
            hit = con.sql(f"""SELECT 1 FROM read_parquet({_sql_list(prev_index)}, hive_partitioning=false) x
                              SEMI JOIN (SELECT DISTINCT {keys} FROM read_parquet('{_esc(index_file)}')) USING ({keys})
                              LIMIT 1""").fetchall()
            return bool(hit)
        finally:
            con.close()

    def _commit_prepared(self, delivery: Delivery, feed: Feed, stage: Path, hmap: HeaderMap, rows_in: int,
                         ingested_at: dt.datetime, prepared: dict) -> DeliveryResult | None:
        """In delivery order: rename the prepared files into place and write the ledger.
        None when the delivery's keys meet an earlier delivery's (then `_finish` decides)."""
        cid = delivery.content_id
        final = stage / PREPARED
        landed, partitions = prepared["landed"], prepared["partitions"]
        if feed.kind == "event" and landed and self._keys_meet_earlier(feed, cid, final / "index.parquet"):
            return None
        if prepared["quarantined"]:
            _move(final / "quarantine.parquet", self.home.quarantine / feed.name / f"{cid}.parquet")
        faults.checkpoint("after_quarantine_write")
        for day in partitions:
            _move(final / "landing" / f"part_date={day}" / f"{cid}.parquet",
                  self.home.landing / feed.name / f"part_date={day}" / f"{cid}.parquet")
            faults.checkpoint("after_partition_write")
        if feed.kind == "event" and landed:  # after the landing files (its mtime is later too: written after them)
            _move(final / "index.parquet", index_path(self.home, feed, cid))
        return self._record(delivery, feed, hmap, rows_in, ingested_at, landed, prepared["quarantined"],
                            prepared["by_rule"], partitions)

    def _record(self, delivery: Delivery, feed: Feed, hmap: HeaderMap, rows_in: int, ingested_at: dt.datetime,
                landed: int, quarantined: int, by_rule: dict[str, int], partitions: list[str]) -> DeliveryResult:
        """After the delivery's files are in place: the reconciliation check, then the ledger (last)."""
        cid = delivery.content_id
        result = DeliveryResult(
            delivery.feed, delivery.source, cid, "landed", rows_in=rows_in, landed=landed, quarantined=quarantined,
            by_rule=by_rule, ignored_columns=_printable_names(hmap.unknown), partitions=partitions,
        )
        if landed + quarantined != rows_in:  # the reconciliation is an invariant, not a hope
            raise RuntimeError(f"{delivery.source}: rows in {rows_in} != landed {landed} + quarantined {quarantined}")
        self._remove_stale(feed, cid, partitions, quarantined)
        faults.checkpoint("before_ledger")
        entry = {"feed": feed.name, "source": delivery.source, "content_id": cid, "landed_at": ingested_at.isoformat(),
                 "rows_in": rows_in, "landed": landed, "quarantined": quarantined, "by_rule": by_rule, "partitions": partitions}
        atomic_write_bytes(self.ledger_path(cid), json.dumps(entry, ensure_ascii=False, indent=1).encode("utf-8"))
        faults.checkpoint("after_ledger")
        (self.home.ledger / f"{cid}.pending").unlink(missing_ok=True)
        return result

    def _remove_stale(self, feed: Feed, cid: str, partitions: list[str], quarantined: int) -> None:
        """Files of an interrupted earlier attempt that this attempt did not rewrite (possible
        only if the reference data changed in between): the ledgered result must be this one."""
        for p in (self.home.landing / feed.name).glob(f"part_date=*/{cid}.parquet"):
            if p.parent.name.removeprefix("part_date=") not in partitions:
                p.unlink()
        if not quarantined:
            (self.home.quarantine / feed.name / f"{cid}.parquet").unlink(missing_ok=True)
        if not partitions:
            index_path(self.home, feed, cid).unlink(missing_ok=True)

    def _duplicate_conflicts(self, con: duckdb.DuckDBPyConnection, feed: Feed, cid: str) -> pl.DataFrame:
        """Rows whose id is already known with other content and no later recorded_at."""
        self._hash_rows(con, feed)
        lines = self._within_lines(con, feed)
        if feed.kind == "event":  # across deliveries (reference feeds are full snapshots, the latest wins)
            lines = self._across_lines(con, feed, cid, lines)
        return self._conflict_rows(con, feed, lines)

    @staticmethod
    def _match_sql(feed: Feed) -> tuple[str, str]:
        keys = [_q(k) for k in feed.key]
        key_eq = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in keys)
        # b is an earlier version; a is "not later" when either time is unknown or a <= b
        not_later = ("(a.recorded_at IS NULL OR b.recorded_at IS NULL OR a.recorded_at <= b.recorded_at)"
                     if "recorded_at" in feed.by_name else "TRUE")
        return key_eq, not_later

    def _hash_rows(self, con: duckdb.DuckDBPyConnection, feed: Feed) -> None:
        """Table h: line, keys, recorded_at and content hash of every good row of the delivery."""
        keys = [_q(k) for k in feed.key]
        has_rec = "recorded_at" in feed.by_name
        con.execute(f"CREATE TABLE h AS SELECT _line, {', '.join(keys)}{', recorded_at' if has_rec else ''}, {content_hash_sql(feed, 's')} AS _rh FROM s")

    def _within_lines(self, con: duckdb.DuckDBPyConnection, feed: Feed) -> set[int]:
        """Within the delivery: lines with an earlier line of the same id and other content
        (depends on this delivery only, so a worker decides it). Keys seen once are dropped
        first: a distinct count over every key cost three times as much."""
        keys = [_q(k) for k in feed.key]
        key_eq, not_later = self._match_sql(feed)
        within = con.sql(f"""
            WITH dup0 AS (SELECT {', '.join(keys)} FROM h GROUP BY ALL HAVING count(*) > 1),
                 dup AS (SELECT {', '.join(keys)} FROM h SEMI JOIN dup0 USING ({', '.join(keys)}) GROUP BY ALL HAVING count(DISTINCT _rh) > 1),
                 d AS (SELECT h.* FROM h SEMI JOIN dup USING ({', '.join(keys)}))
            SELECT DISTINCT a._line FROM d a JOIN d b ON {key_eq} AND b._line < a._line AND a._rh <> b._rh AND {not_later}
        """).pl()
        return set(within["_line"].to_list())

    def _across_lines(self, con: duckdb.DuckDBPyConnection, feed: Feed, cid: str, lines: set[int]) -> set[int]:
        """`lines` (within) adjusted by the rows of earlier deliveries with the same ids."""
        keys = [_q(k) for k in feed.key]
        key_eq, not_later = self._match_sql(feed)
        prev_index = earlier_index_files(con, self.home, feed, exclude=cid)
        if prev_index:
            # the key index holds exactly (keys, recorded_at, content hash) of every earlier landed row
            con.execute(f"""CREATE TABLE p AS
                SELECT {', '.join(keys)}, recorded_at, _rh
                FROM read_parquet({_sql_list(prev_index)}, hive_partitioning=false) x
                SEMI JOIN (SELECT DISTINCT {', '.join(keys)} FROM h) USING ({', '.join(keys)})""")
            across = con.sql(f"""
                SELECT a._line FROM h a
                WHERE EXISTS (SELECT 1 FROM p b WHERE {key_eq} AND a._rh <> b._rh AND {not_later})
                  AND NOT EXISTS (SELECT 1 FROM p b WHERE {key_eq} AND a._rh = b._rh)
            """).pl()
            # a re-send identical to a landed row is harmless even after a conflicting line
            resent = con.sql(f"SELECT a._line FROM h a WHERE EXISTS (SELECT 1 FROM p b WHERE {key_eq} AND a._rh = b._rh)").pl()
            lines = (lines - set(resent["_line"].to_list())) | set(across["_line"].to_list())
        return lines

    def _conflict_rows(self, con: duckdb.DuckDBPyConnection, feed: Feed, lines: set[int]) -> pl.DataFrame:
        """The quarantine rows (line, rule, detail, raw) of the duplicate_conflict lines."""
        if not lines:
            return pl.DataFrame(schema={"line": pl.Int64, "rule": pl.String, "detail": pl.String, "raw": pl.String})
        rows = con.sql(f"SELECT * EXCLUDE (part_date) FROM s WHERE _line IN ({', '.join(str(int(x)) for x in sorted(lines))}) ORDER BY _line").pl()
        key_desc = "+".join(feed.key)
        return rows.select(
            pl.col("_line").alias("line"),
            pl.lit("duplicate_conflict").alias("rule"),
            pl.lit(f"{key_desc}: this id was already delivered with other content and a recorded_at not earlier than this row's").alias("detail"),
            _scrub_bounded(pl.struct([c for c in rows.columns if c != "_line"]).struct.json_encode()).alias("raw"),
        )

    def _write_quarantine(self, con, delivery: Delivery, feed: Feed, bad_files: list[Path], ingested_at: dt.datetime,
                          target: Path | None = None) -> None:
        target = target or self.home.quarantine / feed.name / f"{delivery.content_id}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_name(target)
        con.execute(
            f"""COPY (SELECT ? AS feed, ? AS source_file, CAST(line AS BIGINT) AS line, rule, detail, raw,
                       CAST(? AS TIMESTAMP) AS quarantined_at
                FROM read_parquet({_sql_list(bad_files)}) ORDER BY line)
                TO '{_esc(tmp)}' (FORMAT parquet)""",
            [feed.name, delivery.source, ingested_at],
        )
        os.replace(tmp, target)

    def _write_landing(self, con, delivery: Delivery, feed: Feed, stage: Path, ingested_at: dt.datetime,
                       root: Path | None = None) -> tuple[int, list[str]]:
        """Stream the good rows sorted by (part_date, line) out of DuckDB (it spills to disk
        beyond its memory limit) and cut them into one file per date in a single pass.

        A DuckDB PARTITION_BY write keeps one open writer per date: GBs for a year of data.
        Rows of one date are buffered up to LANDING_ROW_GROUP rows, so a file has few, full
        row groups; memory stays bounded by that buffer whatever the delivery's size.

        root: the folder of the part_date=… folders (default: the feed's landing folder; a
        worker prepares the files under its staging folder, and the fault checkpoint is the
        main process's)."""
        cid = delivery.content_id
        prepared = root is not None
        root = root or self.home.landing / feed.name
        cols = ", ".join(_q(c) for c in feed.landed_columns())
        rel = con.sql(
            f"""SELECT {cols}, $cid AS _delivery_id, $source AS _source, _line, CAST($at AS TIMESTAMP) AS _ingested_at, part_date
                FROM s ANTI JOIN conflict_lines USING (_line) ORDER BY part_date, _line""",
            params={"cid": cid, "source": delivery.source, "at": ingested_at},
        )
        reader = rel.to_arrow_reader(65_536)
        schema = _plain_strings(reader.schema)
        schema = schema.remove(schema.get_field_index("part_date"))
        partitions: list[str] = []
        landed = 0
        writer: pq.ParquetWriter | None = None
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        current: str | None = None
        target = tmp = None

        def flush() -> None:
            nonlocal pending, pending_rows
            if pending:
                writer.write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=LANDING_ROW_GROUP)
                pending, pending_rows = [], 0

        def close() -> None:
            nonlocal writer
            if writer is not None:
                flush()
                writer.close()
                os.replace(tmp, target)
                if not prepared:
                    faults.checkpoint("after_partition_write")
                writer = None

        for batch in reader:
            days = batch.column("part_date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
            starts = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist()]
            for i, start in enumerate(starts):
                stop = starts[i + 1] if i + 1 < len(starts) else len(days)
                day = str(days[start])
                if day != current:
                    close()
                    current = day
                    target = root / f"part_date={day}" / f"{cid}.parquet"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    tmp = _tmp_name(target)
                    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                    partitions.append(day)
                chunk = batch.slice(start, stop - start).drop_columns(["part_date"]).cast(schema)
                pending.append(chunk)
                pending_rows += chunk.num_rows
                landed += chunk.num_rows
                if pending_rows >= LANDING_ROW_GROUP:
                    flush()
        close()
        return landed, partitions


def _stage_good(good: pl.DataFrame, stage: Path, n: int) -> None:
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


def _read_staged(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _staged_view(con: duckdb.DuckDBPyConnection, good_files: list[Path]) -> None:
    """View s: the staged good rows (Arrow IPC files), memory-mapped: zero-copy tables. A
    pyarrow dataset read the same files with copies, ~0.9 s of system CPU per million rows
    (issue 7). The pieces of one delivery share one schema; if not, the dataset still reads them."""
    try:
        staged = pa.concat_tables([_read_staged(p) for p in good_files])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        import pyarrow.dataset as pads  # here only: it imports pandas (~0.3 s a process)

        staged = pads.dataset([str(p) for p in good_files], format="ipc")
    con.register("staged_good", staged)
    con.execute("CREATE VIEW s AS SELECT * FROM staged_good")


_PIECE = re.compile(r"good-(\d{6})-(\d{4}-\d{2}-\d{2})\.arrow")


def _pieces_by_day(good_files: list[Path]) -> dict[str, list[Path]] | None:
    """date -> staged pieces in batch order; None if any batch was staged whole."""
    out: dict[str, list[Path]] = {}
    for p in sorted(good_files):
        m = _PIECE.fullmatch(p.name)
        if m is None:
            return None
        out.setdefault(m.group(2), []).append(p)
    return out


def _ascending(lines: pa.ChunkedArray) -> bool:
    a = lines.to_numpy()
    return bool((a[1:] > a[:-1]).all())


def landing_arrow_schema(feed: Feed) -> pa.Schema:
    """The Arrow schema of a landing file (as DuckDB's export gives it, plain strings)."""
    return _plain_strings(pl.DataFrame(schema=landing_schema(feed)).to_arrow().schema)


def _dictionary_columns(feed: Feed, schema: pa.Schema) -> list[str]:
    """Dictionary-encode the columns with few distinct values; ids, hashes, times and line
    numbers are nearly unique, so a dictionary only costs CPU there (content unchanged)."""
    unique = {*feed.key, "case_id", "_line"}
    return [f.name for f in schema
            if f.name not in unique and not f.name.endswith("_hmac") and (f.name == "_ingested_at" or not pa.types.is_timestamp(f.type))]


PREPARED = "prepared"  # <stage>/prepared/: a delivery's final files, made where it was staged


def _move(src: Path, dst: Path) -> None:
    """Rename a prepared file into place (atomic); a copy to a temp name first when the
    staging folder is on another file system."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = _tmp_name(dst)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


LANDING_ROW_GROUP = 131_072  # rows per landing row group (and the most buffered per date)


def _plain_strings(schema: pa.Schema) -> pa.Schema:
    """Arrow from DuckDB may use string views / large strings; landing files hold plain strings."""
    fields = [f.with_type(pa.string()) if f.type in (pa.large_string(), pa.string_view()) else f for f in schema]
    return pa.schema(fields)
