"""Turning a fetched batch of rows (sql) or items (http) into a Delivery's text frame.

Shared by the sql and http sources so both follow one canonical form:
- every value becomes text the landing parser accepts: datetimes `YYYY-MM-DD HH:MM:SS[.ffffff]`
  (aware ones converted to Asia/Shanghai local time first, core/localtime.py), dates/times ISO,
  decimals and ints plain (never exponent notation), bools `true`/`false`, NULL stays null,
  nested JSON values as canonical JSON text;
- content_id = SHA-256 of the canonical JSON (keys sorted, no spaces, UTF-8 unescaped) of
  the batch, so the same rows fetched twice are the same delivery and land once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import polars as pl

from core.config import SourceOptions
from core.feeds import Feed
from core.localtime import LOCAL_TZ


class SourceError(RuntimeError):
    """A sql/http source failed; the message names the source and its URL without credentials."""


def _datetime_text(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")


# exact type -> converter: one dict lookup per value (this is the hot loop of a sql fetch)
_CONVERTERS: dict[type, Any] = {
    str: lambda v: v,
    bool: lambda v: "true" if v else "false",
    int: str,
    Decimal: lambda v: format(v, "f"),  # plain, never exponent notation
    float: repr,  # shortest text that reads back as the same float
    dt.datetime: _datetime_text,
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    uuid.UUID: str,
}


def to_text(value: Any) -> str | None:
    """The canonical text of one value (None stays None)."""
    if value is None:
        return None
    convert = _CONVERTERS.get(type(value))
    if convert is not None:
        return convert(value)
    # subclasses (e.g. pendulum datetimes, str enums) and containers
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, dict, tuple)):
        return canonical_json(value)
    return str(value)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=to_text)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_frame(columns: Sequence[str], data: Sequence[Sequence[str | None]]) -> pl.DataFrame:
    """A String frame from already-canonical text, one sequence per column, plus `_line` (1-based)."""
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if list(columns).count(c) > 1})
        raise SourceError(f"duplicate column names {dupes}: give every column its own name (AS ...)")
    frame = pl.DataFrame({c: list(v) for c, v in zip(columns, data)}, schema={c: pl.String for c in columns})
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("_line"))


def text_columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[str | None]]:
    """Rows of raw values -> canonical text, column by column."""
    if not rows:
        return [[] for _ in range(width)]
    return [_column_text(col) for col in zip(*rows)]


def _column_text(col: Sequence[Any]) -> list[str | None]:
    types = set(map(type, col))
    types.discard(type(None))
    if types <= {str}:
        return list(col)
    if len(types) == 1:
        convert = _CONVERTERS.get(types.pop())
        if convert is not None:  # one known type: skip the per-value dispatch
            return [None if v is None else convert(v) for v in col]
    return list(map(to_text, col))


def batch_content_id(columns: Sequence[str], text_cols: Sequence[Sequence[str | None]]) -> str:
    """SHA-256 of the canonical JSON {"columns": [...], "rows": [[...], ...]} of a text batch."""
    return sha256_text(canonical_json({"columns": list(columns), "rows": list(zip(*text_cols))}))


def candidate_names(feed: Feed, options: SourceOptions, contract_column: str) -> list[str]:
    """Source column names that deliver `contract_column`: mapped, English, Chinese aliases."""
    mapped = [src for src, dst in options.column_mapping.get(feed.name, {}).items() if dst == contract_column]
    col = feed.by_name.get(contract_column)
    return [*mapped, contract_column, *(col.aliases if col else ())]


def header_key(name: str) -> str:
    """Case-, space- and underscore-insensitive form of a column name (as landing matches headers)."""
    return re.sub(r"[\s_\-\ufeff]+", "", name).lower()


def find_column(columns: Iterable[str], feed: Feed, options: SourceOptions, contract_column: str) -> str | None:
    """The source column that landing will map to `contract_column`, or None."""
    by_key = {header_key(c): c for c in columns}
    for name in candidate_names(feed, options, contract_column):
        if header_key(name) in by_key:
            return by_key[header_key(name)]
    return None


_SECRET_PARAM = re.compile(r"(pass|pwd|secret|token|key|sig|auth|credential)", re.IGNORECASE)


def mask_http_url(url: str) -> str:
    """The URL without a userinfo password and with secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = urlencode(
        [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The password and secret-looking query values of a URL, to scrub from messages."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
        found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _SECRET_PARAM.search(k)]
    except ValueError:
        return []
    return [s for s in found if s]


def scrub(message: str, secrets: Iterable[str | None]) -> str:
    """Remove every secret (a password, a token) from an error message."""
    for s in secrets:
        if s and len(s) >= 3:
            message = message.replace(s, "***")
    return message
