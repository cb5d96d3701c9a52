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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from core.config import SourceOptions

MAX_VALUE_BYTES = 16_384  # longer values are quarantined (bad_value) by landing


class DeliveryReadError(RuntimeError):
    """The delivery could not be read (encoding, format, truncation): it is unreadable."""


@dataclass
class Delivery:
    feed: str
    source: str  # "files:<path relative to the inbox>", "sql:<source name>", "http:<source name>"
    content_id: str  # SHA-256 hex of the delivery's content
    frame: pl.DataFrame  # String columns as delivered + "_line" (Int64)
    options: SourceOptions = field(default_factory=SourceOptions)
    # called once the delivery is in the ledger (e.g. advance a sql/http watermark)
    on_landed: Callable[[], None] | None = None
    # True for a delivery that reads its rows from its own storage in batches (a file): landing
    # may then stage it in a worker process (ingest/stage_pool.py); False: rows are in `frame`.
    reads_lazily: ClassVar[bool] = False
    # True when no value can hold a control character (a CSV without such bytes), so landing
    # skips that per-value check. False = unknown: every value is checked.
    control_free: bool = False

    def batches(self) -> Iterator[pl.DataFrame]:
        """The delivered rows, in bounded batches (as text + `_line`)."""
        yield self.frame

    def still_as_read(self) -> bool:
        """False when the delivery's storage changed since its content id was taken (a file
        rewritten while the run read it): landing then leaves it for the next run."""
        return True


@dataclass
class DeferredDelivery:
    """A delivery that is not complete yet (a file still being written): left where it is for
    the next run and reported as a warning; nothing of it lands or is quarantined."""

    feed: str
    source: str
    reason: str


@dataclass
class UnreadableDelivery:
    """A delivery that could not be read at all: reported, never silently skipped."""

    feed: str
    source: str
    reason: str
