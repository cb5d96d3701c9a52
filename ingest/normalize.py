"""Turn a delivery's text columns into contract columns (the feed contract, core/feeds.py), one place per concern.

Everything here is a vectorised polars expression over String columns: headers are mapped
to contract names, then every value is parsed into its landing type together with a
boolean "this value is bad" expression, so landing can pick the first failing rule per row.
A parse never raises: a bad value becomes null plus a failure flag naming the rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import polars as pl

from core.config import SourceOptions
from core.feeds import BOOL_FALSE, BOOL_TRUE, RATING_LABELS, Column, Feed

LIST_SEPARATORS = r"[;；,，]"

# ------------------------------------------------------------------ headers


def _header_key(name: str) -> str:
    """Case-, space- and underscore-insensitive form of a header (also strips a stray BOM)."""
    return re.sub(r"[\s_\-\ufeff]+", "", name).lower()


@dataclass
class HeaderMap:
    mapping: dict[str, str]  # delivered header -> contract column
    unknown: list[str]  # delivered headers that map to nothing (ignored, never landed)
    missing_required: list[str]  # required contract columns the delivery lacks
    # (second header, contract column) where two delivered columns mean the same column
    # (e.g. `event_time` and `环节时间`): ambiguous, so landing refuses the delivery
    conflicts: list[tuple[str, str]] = field(default_factory=list)


def map_headers(headers: list[str], feed: Feed, options: SourceOptions) -> HeaderMap:
    lookup: dict[str, str] = {}
    for col in feed.columns:
        for name in (col.name, *col.aliases):
            lookup[_header_key(name)] = col.name
    # the source's own column_mapping wins over the built-in aliases
    for src, dst in options.column_mapping.get(feed.name, {}).items():
        lookup[_header_key(src)] = dst
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    conflicts: list[tuple[str, str]] = []
    for h in headers:
        if h == "_line":
            continue
        target = lookup.get(_header_key(h))
        if target is not None and target in mapping.values():
            conflicts.append((h, target))
            unknown.append(h)
        elif target is None:
            unknown.append(h)
        else:
            mapping[h] = target
    missing = [c for c in feed.required if c not in mapping.values()]
    return HeaderMap(mapping, unknown, missing, conflicts)


# ------------------------------------------------------------------ parsed values


def vcol(name: str) -> pl.Expr:
    """The parsed value of a column, once materialised (failure checks refer to it, so the
    parse is computed once per batch instead of once per rule)."""
    return pl.col(f"__v_{name}")


@dataclass
class Parsed:
    """One contract column: its typed value and, per rule, when the value breaks it.

    The failure expressions refer to the text column `name` and to `vcol(name)`."""

    value: pl.Expr
    failures: dict[str, pl.Expr]  # rule id -> boolean expr (true = this row fails the rule)


def text(name: str) -> pl.Expr:
    """The delivered text, stripped; empty or whitespace-only is null."""
    return pl.col(name).cast(pl.String).map_batches(_stripped, return_dtype=pl.String)


def _stripped(values: pl.Series) -> pl.Series:
    # a BOM inside a file (two files concatenated, a BOM before a value) is never data; the
    # BOM replace and the nulling of empty values run only when a batch has any (performance, docs/scaling.md)
    if values.str.contains("\ufeff", literal=True).any():
        values = values.str.replace_all("\ufeff", "", literal=True)
    values = values.str.strip_chars()
    empty = values.str.len_bytes() == 0
    if empty.any():
        values = values.zip_with(~empty, pl.Series([None], dtype=pl.String))
    return values


def tcol(name: str) -> pl.Expr:
    """`text(name)`, once materialised as a column (landing computes it once per batch and
    every parse and rule reads it, instead of stripping the same column once per rule)."""
    return pl.col(f"__t_{name}")


def _enum_lookup(enum: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, aliases in enum.items():
        for label in (canonical, *aliases):
            out[label.strip().lower()] = canonical
    return out


def parse_enum(name: str, enum: dict[str, tuple[str, ...]], s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    value = s.str.to_lowercase().replace_strict(_enum_lookup(enum), default=None, return_dtype=pl.String)
    return Parsed(value, {"unknown_enum": s.is_not_null() & vcol(name).is_null()})


def parse_list(name: str, enum: dict[str, tuple[str, ...]] | None, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    items = s.str.replace_all(LIST_SEPARATORS, ";").str.split(";").list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.len_chars() > 0)
    )
    if enum is None:
        value = items.list.join(";")
        value = pl.when(value.str.len_chars() > 0).then(value).otherwise(None)
        return Parsed(value, {})
    lookup = _enum_lookup(enum)
    mapped = items.list.eval(pl.element().str.to_lowercase().replace_strict(lookup, default=None, return_dtype=pl.String))
    bad = s.is_not_null() & (mapped.list.eval(pl.element().is_null()).list.any())
    value = pl.when(bad | (mapped.list.len() == 0)).then(None).otherwise(mapped.list.join(";"))
    return Parsed(value, {"unknown_enum": bad})


# --- timestamps: separators are unified, an explicit offset is split off, then a handful of
# strptime formats are tried (cheap, vectorised; regex extraction per field was 30x slower).
_OFFSET = r"(Z|[+-]\d{2}(?::?\d{2})?)$"
_TS_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y%m%d %H%M%S", "%Y%m%d%H%M%S")
SHANGHAI_OFFSET_MINUTES = 8 * 60  # Asia/Shanghai has had no DST since 1991


def _timestamp_value(s: pl.Expr) -> pl.Expr:
    """ISO 8601 (T, fraction, offset), YYYY-MM-DD HH:MM:SS, YYYY/MM/DD HH:MM:SS,
    YYYYMMDDThhmmss, YYYYMMDDhhmmss -> naive local Datetime("us"), null outside [TS_MIN, TS_MAX);
    an offset is converted."""
    # polars evaluates every branch of a when/then for every row: the offset arithmetic ran
    # on millions of values that have none (performance, docs/scaling.md). It now runs on the rows with one only,
    # and the range check is inside, as an opaque function referenced twice runs twice.
    return s.map_batches(_timestamps, return_dtype=pl.Datetime("us"))


def _naive_timestamp(local: pl.Expr) -> pl.Expr:
    local = local.str.replace_all("/", "-").str.replace(r"^(\S+)T", "$1 ")
    return pl.coalesce([local.str.strptime(pl.Datetime("us"), f, strict=False) for f in _TS_FORMATS])


def _offset_timestamp(s: pl.Expr) -> pl.Expr:
    """The general rule (a value with or without offset); used for the values with one."""
    tz = s.str.extract(r"\d" + _OFFSET, 1)  # only after a digit: never eats a date's "-"
    local = pl.when(tz.is_null()).then(s).otherwise(s.str.replace(_OFFSET, ""))
    naive = _naive_timestamp(local)
    sign = pl.when(tz.str.starts_with("-")).then(-1).otherwise(1)
    digits = tz.str.replace_all(r"[^0-9]", "")
    hours = digits.str.slice(0, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(2, 2).str.zfill(2).cast(pl.Int64, strict=False)
    offset_min = pl.when(tz == "Z").then(0).otherwise(sign * (hours * 60 + minutes))
    # real offsets run from -12:00 to +14:00; "+99:00" is a typo, not a time zone
    offset_ok = (tz == "Z") | ((hours <= 14) & (minutes < 60))
    shifted = pl.when(offset_ok).then(naive + pl.duration(minutes=pl.lit(SHANGHAI_OFFSET_MINUTES) - offset_min)).otherwise(None)
    return pl.when(tz.is_null()).then(naive).otherwise(shifted)


# The shapes real feeds deliver, parsed directly; anything else (or a fast miss) takes the
# general rule above. tests/ingest/test_normalize.py pins that both always agree.
_FAST_TS = (
    (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S"),  # 'T' is made ' ' first
    (r"^\d{8}T\d{6}$", "%Y%m%dT%H%M%S"),
)


def _fast_timestamp(s: pl.Expr) -> pl.Expr:
    (shape1, fmt1), (shape2, fmt2) = _FAST_TS
    return (pl.when(s.str.contains(shape1)).then(s.str.replace("T", " ", literal=True).str.strptime(pl.Datetime("us"), fmt1, strict=False))
            .when(s.str.contains(shape2)).then(s.str.strptime(pl.Datetime("us"), fmt2, strict=False))
            .otherwise(None))


def _general_timestamps(frame: pl.DataFrame) -> pl.Series:
    has_tz = frame.select(pl.col("s").str.contains(r"\d" + _OFFSET).fill_null(False)).to_series()
    out = frame.select(_naive_timestamp(pl.col("s"))).to_series()  # exact for values without an offset
    if has_tz.any():
        shifted = frame.filter(has_tz).select(_offset_timestamp(pl.col("s"))).to_series()
        out = out.scatter(has_tz.arg_true(), shifted)
    return out


# A seconds field of 60 or more (a leap second "23:59:60", or a typo "10:00:60"): strptime
# rolls it into the next minute (23:59:60 became the next day's 00:00:00); it is a bad value.
_SECONDS_OVERFLOW = r"(?:\d:[0-5]\d:|^\d{8}T?\d{4})[6-9]\d(?:\D|$)"


def reject_second_overflow(text: pl.Series, parsed: pl.Series) -> pl.Series:
    """`parsed` with null where `text` has a 60th (or later) second. A rolled-over second parses
    to :00, so only those rows need the (slower) text check."""
    rolled = (parsed.dt.second() == 0).fill_null(False)
    if not rolled.any():
        return parsed
    idx = rolled.arg_true()
    bad = idx.filter(text.gather(idx).str.contains(_SECONDS_OVERFLOW).fill_null(False))
    return parsed.scatter(bad, pl.Series([None] * len(bad), dtype=pl.Datetime("us"))) if len(bad) else parsed


# A typed source's times (a Parquet or SQL Datetime, cast to text by the reader) arrive as
# '2026-09-01 08:31:00.000000': parsed directly too, on the fast path's misses only (issue 23: the
# general rule on a 1 M-row Parquet feed was a tenth of ingest). No offset can follow the fraction,
# so the general rule gives the same; a miss here still takes it (tests/ingest/test_normalize.py).
_FRACTION_TS = (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d+$", "%Y-%m-%d %H:%M:%S%.f")


def _rest_timestamps(frame: pl.DataFrame) -> pl.Series:
    shape, fmt = _FRACTION_TS
    s = pl.col("s")
    out = frame.select(pl.when(s.str.contains(shape)).then(s.str.replace("T", " ", literal=True).str.strptime(pl.Datetime("us"), fmt, strict=False))
                       .otherwise(None)).to_series()
    rest = out.is_null()
    if rest.any():
        out = out.scatter(rest.arg_true(), _general_timestamps(frame.filter(rest)))
    return out


def _timestamps(values: pl.Series) -> pl.Series:
    frame = values.cast(pl.String).to_frame("s")
    out = frame.select(_fast_timestamp(pl.col("s"))).to_series()
    rest = out.is_null() & values.is_not_null()
    if rest.any():
        out = out.scatter(rest.arg_true(), _rest_timestamps(frame.filter(rest)))
    out = reject_second_overflow(frame["s"], out)
    in_range = out.is_between(TS_MIN, TS_MAX, closed="left").fill_null(False)
    return out.zip_with(in_range, pl.Series([None], dtype=pl.Datetime("us"))).alias(values.name)


# Times outside this range are typos or device defaults (0001-01-01, 1970-01-01, 9999-12-31),
# not events of a service hall: they are quarantined as bad_timestamp. Fixed bounds, not
# "now", so that a re-run decides exactly as the first run did.
TS_MIN = dt.datetime(2000, 1, 1)
TS_MAX = dt.datetime(2100, 1, 1)  # exclusive


def parse_datetime(name: str, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    value = _timestamp_value(s)
    return Parsed(value, {"bad_timestamp": s.is_not_null() & vcol(name).is_null()})


def _date_value(s: pl.Expr) -> pl.Expr:
    """YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD (a midnight time part, as spreadsheets write it, is allowed)."""
    d = s.str.replace_all("/", "-").str.replace(r"[T ]00:00(?::00(?:\.0+)?)?$", "")
    return pl.coalesce([d.str.strptime(pl.Date, f, strict=False) for f in ("%Y-%m-%d", "%Y%m%d")])


def parse_date(name: str, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    value = _date_value(s)
    return Parsed(value, {"bad_value": s.is_not_null() & vcol(name).is_null()})


def parse_month(name: str, s: pl.Expr | None = None) -> Parsed:
    """YYYY-MM, YYYYMM or any accepted date -> the first day of that month."""
    s = text(name) if s is None else s
    m = s.str.replace_all("/", "-")
    month_only = pl.coalesce(
        [
            pl.when(m.str.contains(r"^\d{4}-\d{1,2}$")).then(m + pl.lit("-01")).otherwise(None).str.strptime(pl.Date, "%Y-%m-%d", strict=False),
            pl.when(m.str.contains(r"^\d{6}$")).then(m + pl.lit("01")).otherwise(None).str.strptime(pl.Date, "%Y%m%d", strict=False),
        ]
    )
    value = pl.coalesce([month_only, _date_value(s).dt.month_start()])
    return Parsed(value, {"bad_value": s.is_not_null() & vcol(name).is_null()})


def parse_time(name: str, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    value = pl.coalesce([s.str.strptime(pl.Time, f, strict=False) for f in ("%H:%M:%S", "%H:%M")])
    value = pl.when(s.str.contains(r"^\d{1,2}:[0-5]\d:[6-9]\d")).then(None).otherwise(value)  # no 60th second
    return Parsed(value, {"bad_value": s.is_not_null() & vcol(name).is_null()})


def parse_bool(name: str, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    lookup = {v: True for v in BOOL_TRUE} | {v: False for v in BOOL_FALSE}
    value = s.str.to_lowercase().replace_strict(lookup, default=None, return_dtype=pl.Boolean)
    return Parsed(value, {"bad_value": s.is_not_null() & vcol(name).is_null()})


def parse_int(name: str, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    # spreadsheets write whole numbers as "3.0"; anything else fractional is bad. One match
    # without capture groups (a capturing replace on every row cost 5x more, the performance work (docs/scaling.md))
    whole = pl.when(s.str.contains(".", literal=True)).then(s.str.replace(r"\.0*$", "")).otherwise(s)
    value = pl.when(s.str.contains(r"^[+-]?\d{1,18}(?:\.0*)?$")).then(whole).otherwise(None).cast(pl.Int64, strict=False)
    return Parsed(value, {"bad_value": s.is_not_null() & vcol(name).is_null()})


def parse_float(name: str, s: pl.Expr | None = None) -> Parsed:
    s = text(name) if s is None else s
    value = s.cast(pl.Float64, strict=False)
    return Parsed(value, {"bad_value": s.is_not_null() & (vcol(name).is_null() | vcol(name).is_nan() | vcol(name).is_infinite())})


def parse_rating(name: str, options: SourceOptions, s: pl.Expr | None = None) -> Parsed:
    """Labels are always accepted; a number only with a declared direction (the feed contract, core/feeds.py)."""
    s = text(name) if s is None else s
    labels = {label.lower(): level for level, names in RATING_LABELS.items() for label in names}
    from_label = s.str.to_lowercase().replace_strict(labels, default=None, return_dtype=pl.Int8)
    number = pl.when(s.str.contains(".", literal=True)).then(s.str.replace(r"\.0*$", "")).otherwise(s)  # "4.0" -> "4"
    is_number = s.str.contains(r"^\d{1,9}(?:\.0*)?$")
    n = pl.when(is_number).then(number).otherwise(None).cast(pl.Int64, strict=False)
    in_range = n.is_between(1, 5)
    if options.rating_direction == "five_is_best":
        from_number = n
    elif options.rating_direction == "one_is_best":
        from_number = 6 - n
    else:
        from_number = pl.lit(None, dtype=pl.Int64)
    value = pl.coalesce([from_label, pl.when(in_range).then(from_number).otherwise(None).cast(pl.Int8)])
    failures = {
        "rating_out_of_range": s.is_not_null() & from_label.is_null() & ~(is_number & in_range).fill_null(False),
        "rating_direction_undeclared": s.is_not_null() & from_label.is_null() & vcol(name).is_null(),
    }
    return Parsed(value, failures)


def parse_column(col: Column, options: SourceOptions, stripped: bool = False) -> Parsed:
    """stripped: read the column's text from `tcol(name)` (materialised before the parse)."""
    s = tcol(col.name) if stripped else None
    if col.type == "list":
        return parse_list(col.name, col.enum, s=s)
    if col.enum is not None:
        return parse_enum(col.name, col.enum, s=s)
    parser = {
        "datetime": parse_datetime,
        "date": parse_date,
        "month": parse_month,
        "time": parse_time,
        "bool": parse_bool,
        "int": parse_int,
        "float": parse_float,
    }.get(col.type)
    if col.type == "rating":
        return parse_rating(col.name, options, s=s)
    if parser is not None:
        return parser(col.name, s=s)
    return Parsed(text(col.name) if s is None else s, {})


# ------------------------------------------------------------------ recorded_at

# A re-delivered row whose follow-up got filled in is an update: date it by its latest time.
RECORDED_AT_DEFAULT = {
    "transactions": ("event_time",),
    "evaluations": ("evaluated_at", "verified_at", "rectified_at", "callback_at", "appeal_at"),
    "video_flags": ("flagged_at", "reviewed_at"),
    # hall operations (v2): a re-delivery once the day, ticket, order or check has moved on is an update
    "attendance": ("work_date", "sign_in_at", "sign_out_at"),
    "queue_tickets": ("issued_at", "called_at", "served_at", "finished_at"),
    "work_orders": ("received_at", "responded_at", "closed_at"),
    "inspections": ("inspected_at",),
}


def recorded_at_default(feed: Feed) -> pl.Expr | None:
    sources = RECORDED_AT_DEFAULT.get(feed.name)
    if not sources:
        return None
    return pl.max_horizontal([vcol(c).cast(pl.Datetime("us")) for c in sources])  # a date (work_date) counts as its midnight


# ------------------------------------------------------------------ value shapes for error details


def shape(expr: pl.Expr, max_len: int = 40) -> pl.Expr:
    """A PII-free description of a value: digits become 9, latin letters a/A, other letters 字."""
    s = expr.cast(pl.String)
    out = (
        s.str.replace_all(r"[0-9]", "9")
        .str.replace_all(r"[a-z]", "a")
        .str.replace_all(r"[A-Z]", "A")
        .str.replace_all(r"[^\x00-\x7F]", "字")
    )
    return pl.when(out.str.len_chars() > max_len).then(out.str.slice(0, max_len) + pl.lit("…")).otherwise(out)

