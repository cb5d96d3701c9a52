"""The supervision store exported to landing (SPEC §2, §4.11): the first step of every run.

The store is the one place WindowWatch records what people do; dbt must never read it (data flows
one way). So each run starts by writing its items and transitions, as a full snapshot, to

    $WINDOWWATCH_HOME/landing/_supervision/items.parquet         one row per item
    $WINDOWWATCH_HOME/landing/_supervision/transitions.parquet   one row per transition
    $WINDOWWATCH_HOME/landing/_supervision/video_reviews.parquet 视频复核 decisions (video.py)

which dbt reads like a feed (source `supervision`, models/staging/_sources_supervision.yml) to
compute fct_supervision_item, fct_supervision_transition, the monthly figures and the
late-acknowledgement deductions (docs/rules.md#supervision-marts). The folder starts with `_` so
nothing that walks landing's feeds (the raw gate, delivery verdicts, the benchmark) takes it for one.

- Full snapshot, idempotent: every export rewrites both files from the store; an unchanged store
  leaves the files untouched (same bytes: not even rewritten).
- Atomic: each file is written to a temp file and renamed (core/atomic.py): a reader or a crash
  sees the old snapshot or the new one. The run's dbt build waits for this step (the DAG).
- What leaves the store: the items' workflow columns and the transitions. Not the trigger's
  `evidence` (its own mart holds it, joined by kind/subject_id/rule) nor the outbox (messages and
  e-mail addresses). Notes and reasons are staff's free text; as every free text that reaches the
  warehouse (SPEC §8), ID-card and phone numbers are scrubbed from them (ingest/privacy.py).
- A build without any export (a fresh home, a dbt test fixture) gets empty files with the full
  schema (`ensure_export_files`, called by windowwatch.transform), so the source never fails.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from core import atomic
from core.paths import SUPERVISION_EXPORT_DIR, SUPERVISION_EXPORT_TABLES, Home
from windowwatch.supervision.model import items, transitions, video_reviews
from windowwatch.supervision.store import Store

EXPORT_DIR = SUPERVISION_EXPORT_DIR  # under landing/

ITEM_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.Int64, "kind": pl.String, "subject_id": pl.String, "rule": pl.String, "state": pl.String,
    "department_id": pl.String, "window_id": pl.String, "trigger_at": pl.Datetime("us"),
    "opened_at": pl.Datetime("us"), "notified_at": pl.Datetime("us"), "reply_by": pl.Datetime("us"),
    "fix_by": pl.Datetime("us"), "acknowledged_at": pl.Datetime("us"), "rectified_at": pl.Datetime("us"),
    "escalated_at": pl.Datetime("us"), "closed_at": pl.Datetime("us"), "close_reason": pl.String,
    "trigger_cleared": pl.Boolean, "trigger_cleared_at": pl.Datetime("us"), "version": pl.Int64,
    "updated_at": pl.Datetime("us"), "updated_by": pl.String,
}
TRANSITION_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.Int64, "seq": pl.Int64, "actor": pl.String, "transitioned_at": pl.Datetime("us"), "from_state": pl.String,
    "to_state": pl.String, "action": pl.String, "note": pl.String, "reason": pl.String,
}
VIDEO_REVIEW_SCHEMA: dict[str, pl.DataType] = {
    "flag_id": pl.String, "decision": pl.String, "note": pl.String, "reviewer": pl.String,
    "reviewed_at": pl.Datetime("us"), "window_id": pl.String, "flag_type": pl.String, "item_id": pl.Int64,
}
# exported name -> the store's column, where they differ (`at` is a reserved word in SQL)
STORE_COLUMN = {"transitioned_at": "at"}
# file name -> (store table, exported columns, key order, free-text columns scrubbed)
TABLES: dict[str, tuple[sa.Table, dict[str, pl.DataType], tuple[str, ...], tuple[str, ...]]] = {
    "items": (items, ITEM_SCHEMA, ("item_id",), ()),
    "transitions": (transitions, TRANSITION_SCHEMA, ("item_id", "seq"), ("note", "reason")),
    # 视频复核 decisions (video.py): int_video__flags prefers them over the feed's review_status
    "video_reviews": (video_reviews, VIDEO_REVIEW_SCHEMA, ("flag_id",), ("note",)),
}
assert tuple(TABLES) == SUPERVISION_EXPORT_TABLES, "core.paths.SUPERVISION_EXPORT_TABLES names the files dbt checks for"


@dataclass
class ExportResult:
    rows: dict[str, int]  # file name -> rows exported
    written: list[str]  # the files whose content changed (rewritten)

    def counts(self) -> dict[str, int]:
        return {**self.rows, "files_rewritten": len(self.written)}


def export_dir(home: Home) -> Path:
    return home.landing / EXPORT_DIR


def export_path(home: Home, name: str) -> Path:
    return export_dir(home) / f"{name}.parquet"


def _frame(rows: list, schema: dict[str, pl.DataType], scrubbed: tuple[str, ...]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if scrubbed:
        from ingest.privacy import scrub

        frame = frame.with_columns(scrub(pl.col(c)).alias(c) for c in scrubbed)
    return frame


def _write(path: Path, frame: pl.DataFrame) -> bool:
    """Write `frame` to `path` atomically unless the file already holds these bytes; True if written."""
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="zstd", statistics=True)
    data = buf.getvalue()
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    with atomic.atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return True


def export(store: Store) -> ExportResult:
    """Write the store's items and transitions to landing as a full snapshot, read in one transaction
    (SQLite: BEGIN IMMEDIATE, store.py; PostgreSQL: REPEATABLE READ), so no transition is missing
    its item's new state or the other way round."""
    frames: dict[str, pl.DataFrame] = {}
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            for name, (table, schema, key, scrubbed) in TABLES.items():
                rows = conn.execute(sa.select(*(table.c[STORE_COLUMN.get(c, c)] for c in schema))
                                    .order_by(*(table.c[c] for c in key))).all()
                frames[name] = _frame([tuple(r) for r in rows], schema, scrubbed)
    written = [name for name, frame in frames.items() if _write(export_path(store.home, name), frame)]
    return ExportResult(rows={name: frame.height for name, frame in frames.items()}, written=written)


def ensure_export_files(home: Home) -> None:
    """Empty export files with the full schema where none exists yet (a home whose runs never
    exported: dbt's source globs must not fail). An existing export is never touched."""
    for name, (_, schema, _, _) in TABLES.items():
        path = export_path(home, name)
        if not path.exists():
            _write(path, pl.DataFrame(schema=schema))
