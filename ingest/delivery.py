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
# An optional batch column (not a delivered column): why a row's cells could not be read as
# delivered (an XLSX formula saved without its value). A row with one is quarantined as
# bad_value with this detail, before any other rule reads its (missing) values.
CELL_PROBLEM = "_cell_problem"


class DeliveryReadError(RuntimeError):
    """The delivery could not be read (encoding, format, truncation): it is unreadable."""


# why a delivery that exhausted the memory it may use is refused (ingest/stage_pool.py)
NOT_IN_BOUNDED_MEMORY = ("it could not be read within bounded memory ({how}) — a sparse, binary or damaged file? "
                         "Split or re-export it; the other deliveries were landed")


def out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or an allocation refused by the OS (ENOMEM: polars maps a file or grows a buffer
    beyond a worker's address-space limit and reports `Cannot allocate memory (os error 12)`)."""
    if isinstance(exc, OSError):
        return exc.errno == 12 or "os error 12" in str(exc)
    # polars panics (pyo3 PanicException, a BaseException) when a buffer cannot be allocated
    return isinstance(exc, MemoryError) or (rust_panic(exc) and "allocate memory" in str(exc))


def rust_panic(exc: BaseException) -> bool:
    """A panic inside polars/fastexcel surfaces as pyo3's PanicException, which derives from
    BaseException, not Exception: it means "cannot read this", not "stop the run"."""
    return type(exc).__name__ == "PanicException"


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
