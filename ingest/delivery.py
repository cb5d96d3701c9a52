"""What every source hands to landing: a Delivery.

A source (files, sql, http) reads its data into a Delivery whose frame holds the rows exactly
as delivered, every column as text (String), plus `_line`, the row's 1-based line in the
source (for CSV/XLSX the header is line 1, so the first data row is line 2; for sql/http the
row's position in the batch). Landing then maps aliases, parses, validates, hashes PII,
quarantines bad rows and writes Parquet, recording the delivery in the ledger last.

content_id identifies the delivery for exactly-once landing: the SHA-256 of the file's bytes,
or of the canonical JSON of a sql/http batch. The same content under another name is the
same delivery and lands once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from windowwatch.config import SourceOptions


@dataclass
class Delivery:
    feed: str
    source: str  # "files:<path relative to the inbox>", "sql:<source name>", "http:<source name>"
    content_id: str  # SHA-256 hex of the delivery's content
    frame: pl.DataFrame  # String columns as delivered + "_line" (Int64)
    options: SourceOptions = field(default_factory=SourceOptions)
    # called once the delivery is in the ledger (e.g. advance a sql/http watermark)
    on_landed: Callable[[], None] | None = None


@dataclass
class UnreadableDelivery:
    """A delivery that could not be read at all: reported, never silently skipped."""

    feed: str
    source: str
    reason: str
