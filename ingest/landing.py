"""Landing (the feed contract, core/feeds.py): validate a delivery, quarantine bad rows, write good rows as Parquet.

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
Parquet); the final files are then prepared from the staged pieces (`prepare`, DuckDB for the
within-delivery duplicate rule and the key index) and renamed into place in delivery order
unless the delivery's keys meet an earlier delivery's (`_commit_prepared`, else `_finish`).
"""


from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core import faults
from core.feeds import FEEDS, Feed
from core.localtime import now_local
from core.paths import Home
from core.settings import settings
from ingest.delivery import NOT_IN_BOUNDED_MEMORY, DeferredDelivery, Delivery, DeliveryReadError, UnreadableDelivery
from ingest.key_index import content_hash_sql, earlier_index_files, index_path, write_index
from ingest.landing_files import (
    DiskFullError,
    atomic_write_bytes,
    atomic_write_parquet,
    is_disk_full,
    staging_root,
    tmp_name,
)
from ingest.landing_schema import QUARANTINE_SCHEMA, dictionary_columns, landing_arrow_schema, plain_strings
from ingest.normalize import HeaderMap, map_headers
from ingest.privacy import check_key, pii_key
from ingest.sql_text import esc, q, sql_list
from ingest.stage_pool import StagePool, WorkerDied
from ingest.staged import (
    PREPARED,
    ascending_lines,
    move_into_place,
    pieces_by_day,
    read_staged,
    stage_good,
    staged_view,
)
from ingest.validation import RULE_ORDER, BatchValidator, printable, printable_names, scrub_bounded


def duckdb_threads() -> int:
    """DuckDB threads per connection: 2 (the cores) in one process; each staging worker gets
    cores // workers through WINDOWWATCH_INGEST_DUCKDB_THREADS (stage_pool.worker_threads_env):
    two workers already fill both cores."""
    return settings().ingest_duckdb_threads


LANDING_ROW_GROUP = 131_072  # rows per landing row group (and the most buffered per date)


DEFERRED = "still being written"  # the status of a delivery left for the next run
CHANGED_WHILE_READ = "still being written: the file changed while the run read it; it stays in the inbox for the next run"


@dataclass
class DeliveryResult:
    feed: str
    source: str
    content_id: str | None
    status: str  # landed | already landed | unreadable | still being written (DEFERRED)
    rows_in: int = 0
    landed: int = 0
    quarantined: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  # unreadable: why
    ignored_columns: list[str] = field(default_factory=list)  # delivered headers that map to no column
    partitions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)




class Lander:
    """Lands deliveries into one WINDOWWATCH_HOME. Land reference feeds before event feeds."""

    def __init__(self, home: Home, key: bytes | None = None):
        """key: the PII key when the caller already holds it (a staging worker gets the main
        process's); None reads it on first use (ingest/privacy.py)."""
        self.home = home.ensure()
        self._key: bytes | None = key
        self._pool: StagePool | None = None

    def key(self) -> bytes:
        """The PII key, checked against the fingerprint recorded with the landing (a worker is
        handed the checked key)."""
        if self._key is None:
            key = pii_key()
            check_key(self.home, key)
            self._key = key
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
        finishes earlier deliveries (performance, docs/scaling.md, `ingest/stage_pool.py`). Only the staging runs
        early: the duplicate check against earlier deliveries, the landing write, the key index
        and the ledger still happen in `land`, one delivery after the other in delivery order.
        The caller must only prestage a delivery whose reference feeds are fully landed and
        whose content id is not being landed already. Pass the result to `land`.
        None (stage in `land`) without workers or when the delivery is already landed."""
        if (self._pool is None or not isinstance(delivery, Delivery) or not delivery.reads_lazily
                or self.ledger_path(delivery.content_id).exists()):
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

    def land(self, delivery: Delivery | UnreadableDelivery | DeferredDelivery, prestaged: Future | None = None) -> DeliveryResult:
        if isinstance(delivery, UnreadableDelivery):
            self._record_unreadable(delivery.feed, delivery.source, delivery.reason)
            return DeliveryResult(delivery.feed, delivery.source, None, "unreadable", reason=delivery.reason)
        if isinstance(delivery, DeferredDelivery):
            return DeliveryResult(delivery.feed, delivery.source, None, DEFERRED, reason=delivery.reason)
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
        if prestaged is None and self._pool is not None:
            # with workers, every file delivery is staged in one, under its memory limit: a file
            # that cannot be read within bounded memory takes a worker down, never this process
            prestaged = self.prestage(delivery)
        stage = staging_root(self.home) / delivery.content_id
        if prestaged is None:
            shutil.rmtree(stage, ignore_errors=True)
            stage.mkdir(parents=True)
        try:
            if prestaged is not None:
                feed_name, stage_dir, hmap, rows_in, ingested_at, prepared = prestaged.result()
                staged = (FEEDS[feed_name], Path(stage_dir), hmap, rows_in, ingested_at)
            else:
                staged = self.stage(delivery, stage)
                prepared = self.prepare(delivery, *staged)
            if not delivery.still_as_read():  # rewritten after its bytes were hashed: not this content id
                (self.home.ledger / f"{delivery.content_id}.pending").unlink(missing_ok=True)
                return DeliveryResult(delivery.feed, delivery.source, None, DEFERRED, reason=CHANGED_WHILE_READ)
            result = self._commit_prepared(delivery, *staged, prepared)
            if result is None:  # its keys meet earlier deliveries': decided as before, in this process
                shutil.rmtree(stage / PREPARED, ignore_errors=True)
                result = self._finish(delivery, *staged)
        except (DeliveryReadError, WorkerDied, MemoryError) as exc:
            reason = str(exc) if not isinstance(exc, MemoryError) else NOT_IN_BOUNDED_MEMORY.format(how="MemoryError while staging it")
            (self.home.ledger / f"{delivery.content_id}.pending").unlink(missing_ok=True)
            self._record_unreadable(delivery.feed, delivery.source, reason)
            return DeliveryResult(delivery.feed, delivery.source, delivery.content_id, "unreadable", reason=reason)
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

    def stage(self, delivery: Delivery, stage: Path, ingested_at: dt.datetime | None = None,
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
            raise DeliveryReadError(f"duplicate columns: {printable(first)!r} and {printable(second)!r} both mean {target}; "
                                    "which one holds the data is ambiguous — remove one or set a column_mapping")
        ingested_at = ingested_at or self._ingested_at(cid)
        if references is None:
            references = self._references_for(feed)
        validator = BatchValidator(feed, delivery, hmap, references if not hmap.missing_required else {},
                                   self.key() if any(c.pii == "hash" for c in feed.columns) else None)
        rows_in = 0
        n = 0
        for batch in delivery.batches():
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
                    stage_good(good.with_columns(part.alias("part_date")), stage, n)
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
                staged_view(con, good_files)
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
                counts = con.sql(f"SELECT rule, count(*) FROM read_parquet({sql_list(bad_files)}) GROUP BY rule").fetchall()
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

    # -- the order-independent part of the finish, prepared where the delivery was staged (performance, docs/scaling.md)

    def prepare(self, delivery: Delivery, feed: Feed, stage: Path, hmap: HeaderMap, rows_in: int,
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
                staged_view(con, good_files)
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
                counts = con.sql(f"SELECT rule, count(*) FROM read_parquet({sql_list(bad_files)}) GROUP BY rule").fetchall()
                by_rule = {r: int(c) for r, c in sorted(counts, key=lambda rc: RULE_ORDER.index(rc[0]))}
                quarantined = sum(by_rule.values())
            if good_files:
                pieces = pieces_by_day(good_files)
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
        """The landing files from the staged pieces (one per batch and date, `stage_good`):
        per date, its pieces in batch order are already in line order, so no sort of the
        whole delivery is needed (the performance work (docs/scaling.md): DuckDB's ORDER BY over every column was the
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
            with pq.ParquetWriter(target, schema, compression="zstd", use_dictionary=dictionary_columns(feed, schema)) as writer:
                pending: list[pa.Table] = []
                pending_rows = 0
                for piece in pieces[day]:
                    t = read_staged(piece)
                    lines = t.column("_line")
                    if len(lines):
                        first = pc.min(lines).as_py()
                        if first <= last_line or not ascending_lines(lines):
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
            keys = ", ".join(q(k) for k in feed.key)
            hit = con.sql(f"""SELECT 1 FROM read_parquet({sql_list(prev_index)}, hive_partitioning=false) x
                              SEMI JOIN (SELECT DISTINCT {keys} FROM read_parquet('{esc(index_file)}')) USING ({keys})
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
            move_into_place(final / "quarantine.parquet", self.home.quarantine / feed.name / f"{cid}.parquet")
        faults.checkpoint("after_quarantine_write")
        for day in partitions:
            move_into_place(final / "landing" / f"part_date={day}" / f"{cid}.parquet",
                  self.home.landing / feed.name / f"part_date={day}" / f"{cid}.parquet")
            faults.checkpoint("after_partition_write")
        if feed.kind == "event" and landed:  # after the landing files (its mtime is later too: written after them)
            move_into_place(final / "index.parquet", index_path(self.home, feed, cid))
        return self._record(delivery, feed, hmap, rows_in, ingested_at, landed, prepared["quarantined"],
                            prepared["by_rule"], partitions)

    def _record(self, delivery: Delivery, feed: Feed, hmap: HeaderMap, rows_in: int, ingested_at: dt.datetime,
                landed: int, quarantined: int, by_rule: dict[str, int], partitions: list[str]) -> DeliveryResult:
        """After the delivery's files are in place: the reconciliation check, then the ledger (last)."""
        cid = delivery.content_id
        result = DeliveryResult(
            delivery.feed, delivery.source, cid, "landed", rows_in=rows_in, landed=landed, quarantined=quarantined,
            by_rule=by_rule, ignored_columns=printable_names(hmap.unknown), partitions=partitions,
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
    def _match_sql(feed: Feed, key: tuple[str, ...] | None = None) -> tuple[str, str]:
        keys = [q(k) for k in (key or feed.key)]
        key_eq = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in keys)
        # b is an earlier version; a is "not later" when either time is unknown or a <= b
        not_later = ("(a.recorded_at IS NULL OR b.recorded_at IS NULL OR a.recorded_at <= b.recorded_at)"
                     if "recorded_at" in feed.by_name else "TRUE")
        return key_eq, not_later

    @staticmethod
    def _version_key(feed: Feed) -> tuple[str, ...]:
        """What one row stands for within a delivery: the feed's key, and for a reference feed with
        versions (SPEC §3 valid_from) the key and its valid_from — two versions of an item in one
        snapshot are two rows, not a conflict."""
        return feed.key + (("valid_from",) if feed.kind != "event" and "valid_from" in feed.by_name else ())

    def _hash_rows(self, con: duckdb.DuckDBPyConnection, feed: Feed) -> None:
        """Table h: line, keys, recorded_at and content hash of every good row of the delivery."""
        # valid_from as text, '' when absent: the duplicate checks join on the key with USING (=),
        # which never matches two nulls
        keys = [f"coalesce(CAST({q(k)} AS VARCHAR), '') AS {q(k)}" if k == "valid_from" else q(k)
                for k in self._version_key(feed)]
        has_rec = "recorded_at" in feed.by_name
        con.execute(f"CREATE TABLE h AS SELECT _line, {', '.join(keys)}{', recorded_at' if has_rec else ''}, {content_hash_sql(feed, 's')} AS _rh FROM s")

    def _within_lines(self, con: duckdb.DuckDBPyConnection, feed: Feed) -> set[int]:
        """Within the delivery: lines with an earlier line of the same id and other content
        (depends on this delivery only, so a worker decides it). Keys seen once are dropped
        first: a distinct count over every key cost three times as much."""
        keys = [q(k) for k in self._version_key(feed)]
        key_eq, not_later = self._match_sql(feed, self._version_key(feed))
        within = con.sql(f"""
            WITH dup0 AS (SELECT {', '.join(keys)} FROM h GROUP BY ALL HAVING count(*) > 1),
                 dup AS (SELECT {', '.join(keys)} FROM h SEMI JOIN dup0 USING ({', '.join(keys)}) GROUP BY ALL HAVING count(DISTINCT _rh) > 1),
                 d AS (SELECT h.* FROM h SEMI JOIN dup USING ({', '.join(keys)}))
            SELECT DISTINCT a._line FROM d a JOIN d b ON {key_eq} AND b._line < a._line AND a._rh <> b._rh AND {not_later}
        """).pl()
        return set(within["_line"].to_list())

    def _across_lines(self, con: duckdb.DuckDBPyConnection, feed: Feed, cid: str, lines: set[int]) -> set[int]:
        """`lines` (within) adjusted by the rows of earlier deliveries with the same ids."""
        keys = [q(k) for k in feed.key]
        key_eq, not_later = self._match_sql(feed)
        prev_index = earlier_index_files(con, self.home, feed, exclude=cid)
        if prev_index:
            # the key index holds exactly (keys, recorded_at, content hash) of every earlier landed row
            con.execute(f"""CREATE TABLE p AS
                SELECT {', '.join(keys)}, recorded_at, _rh
                FROM read_parquet({sql_list(prev_index)}, hive_partitioning=false) x
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
            scrub_bounded(pl.struct([c for c in rows.columns if c != "_line"]).struct.json_encode()).alias("raw"),
        )

    def _write_quarantine(self, con, delivery: Delivery, feed: Feed, bad_files: list[Path], ingested_at: dt.datetime,
                          target: Path | None = None) -> None:
        target = target or self.home.quarantine / feed.name / f"{delivery.content_id}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(target)
        con.execute(
            f"""COPY (SELECT ? AS feed, ? AS source_file, CAST(line AS BIGINT) AS line, rule, detail, raw,
                       CAST(? AS TIMESTAMP) AS quarantined_at
                FROM read_parquet({sql_list(bad_files)}) ORDER BY line)
                TO '{esc(tmp)}' (FORMAT parquet)""",
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
        cols = ", ".join(q(c) for c in feed.landed_columns())
        rel = con.sql(
            f"""SELECT {cols}, $cid AS _delivery_id, $source AS _source, _line, CAST($at AS TIMESTAMP) AS _ingested_at, part_date
                FROM s ANTI JOIN conflict_lines USING (_line) ORDER BY part_date, _line""",
            params={"cid": cid, "source": delivery.source, "at": ingested_at},
        )
        reader = rel.to_arrow_reader(65_536)
        schema = plain_strings(reader.schema)
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
                    tmp = tmp_name(target)
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

