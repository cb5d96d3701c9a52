"""The sql source: any SQLAlchemy URL, fetched incrementally by a watermark column.

    sources:
      - name: hall_db
        kind: sql
        feed: transactions
        url: ${HALL_DB_URL}            # e.g. postgresql+psycopg://user:pw@host/db, sqlite:///x.db
        query: select * from ww_transactions
        options: {watermark_column: recorded_at}

How a run works
- The configured query is wrapped as a subquery; the connector adds the filter and order
  itself, with the watermark as a bound parameter (never formatted into the SQL) and column
  names quoted as identifiers. Colons in the user's query are escaped so a literal like
  '10:00' is never taken for a parameter.
- Rows stream through a server-side cursor (`stream_results`) and are cut into batches of
  50,000 rows (or `options.page_size` when set explicitly); each batch is one Delivery whose
  frame holds every value as canonical text (see ingest.sources.batch) plus `_line`, the
  row's 1-based position in the batch. content_id = SHA-256 of the batch's canonical JSON.
- The position reached (watermark value and key of the batch's last row) is saved by the
  Delivery's `on_landed`, i.e. only after landing put the batch in its ledger. Before a batch
  is handed out, its end position is appended to the state's `pending` list (on_landed removes
  it). A run interrupted before on_landed re-fetches each pending batch first, bounded by
  (previous end, its end], so it gets the very same rows — the same content_id, which landing
  skips if its ledger already has it — even when new rows arrived meanwhile (without the upper
  bound the last, partial batch would grow, change its content_id and land its rows twice).

Ties at the watermark: keyset paging, not a bare `>`
  Many rows share a `recorded_at` (a bulk import stamps thousands with one second). With a
  bare `col > :watermark`, a batch cut in the middle of such a run would lose the rest of it.
  So rows are ordered by (watermark, NULL-key first, key), where key is the feed's key column
  (event_id, evaluation_id, flag_id — found by name, Chinese alias or column_mapping), and the
  next run resumes after the last landed row:
      col > :wm OR (col = :wm AND key > :key)
  Rows whose key is NULL (landing quarantines them: missing_required) sort first within their
  watermark value, and a batch never ends on one unless the watermark changes next, so the
  resume condition never skips them; nor does it end between two rows with the same key.
  Without a key column in the query, batches are only cut where the watermark value changes
  (a batch may then run over the size).

Limits, by design
- Rows must get their watermark when they become visible: a row committed later with an
  older watermark than one already landed is not fetched (the usual watermark contract; use
  a column set at commit time, e.g. an updated_at trigger).
- A NULL watermark could never be fetched incrementally, so it fails the run (naming the
  count) instead of silently dropping rows; give every row a value in the query, e.g.
  `coalesce(recorded_at, event_time) as recorded_at`.
- Reference feeds (windows, items, …) are full snapshots where the latest delivery wins:
  they are fetched whole into ONE delivery, and a watermark on them is a configuration error.
- Without a watermark column an event feed is fetched whole every run; unchanged batches have
  unchanged content_ids and land once.

Credentials come from the URL (often `${ENV_VAR}`, expanded by the config loader). Errors show
the URL with the password masked and have the password scrubbed from driver messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from core.config import Source
from core.feeds import FEEDS
from core.paths import Home
from ingest.delivery import Delivery
from ingest.sources.batch import SourceError, batch_content_id, find_column, scrub, text_columns, text_frame
from ingest.sources.watermark import decode_value, encode_value, load_state, save_state, state_file

BATCH_ROWS = 50_000  # rows per Delivery unless options.page_size is set explicitly
SUBQUERY = "ww_src"


def mask_url(url: str) -> str:
    """The SQLAlchemy URL with its password replaced by ***."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL may hold anything: show none of it
        return "<unparseable database URL>"


def _password(url: str) -> str | None:
    try:
        pw = sa.make_url(url).password
    except Exception:
        return None
    return str(pw) if pw else None


def _escape_user_sql(query: str) -> str:
    """The user's query as literal text for sa.text(): no trailing ';', colons escaped."""
    return query.strip().rstrip(";").strip().replace(":", r"\:")


class _Plan:
    """What to select and where to resume: resolved once per run against the query's columns."""

    def __init__(self, source: Source, columns: Sequence[str], quote) -> None:
        feed = FEEDS[source.feed]
        self.source = source
        self.columns = list(columns)
        self.quote = quote
        self.snapshot = feed.kind == "reference"
        opts = source.options
        if self.snapshot and opts.watermark_column:
            raise ValueError(
                f"options.watermark_column is set, but {feed.name} is a reference feed: a full snapshot "
                "where the latest delivery wins, so it is always fetched whole; remove watermark_column"
            )
        self.wm: str | None = None
        if opts.watermark_column:
            by_lower = {c.lower(): c for c in self.columns}
            self.wm = by_lower.get(opts.watermark_column.lower())
            if self.wm is None:
                raise ValueError(
                    f"options.watermark_column {opts.watermark_column!r} is not a column of the query "
                    f"(it returns: {', '.join(self.columns)})"
                )
        self.keys = [k for k in (find_column(self.columns, feed, opts, name) for name in feed.key) if k]
        if len(self.keys) != len(feed.key):
            self.keys = []  # landing reports the missing key column; order by all columns instead
        self.key = self.keys[0] if (self.wm and len(self.keys) == 1) else None

    def q(self, column: str) -> str:
        return f"{SUBQUERY}.{self.quote(column)}"

    def order_by(self) -> str:
        if self.wm:
            parts = [self.q(self.wm)]
            if self.key:
                parts += [f"CASE WHEN {self.q(self.key)} IS NULL THEN 0 ELSE 1 END", self.q(self.key)]
            return ", ".join(parts)
        if self.keys:
            return ", ".join(self.q(k) for k in self.keys)
        return ", ".join(self.q(c) for c in self.columns)  # any stable total order

    def where(self, after: dict[str, Any] | None, upto: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Rows strictly after position `after` and at or before `upto` (positions as saved)."""
        if not self.wm:
            return "", {}
        wm = self.q(self.wm)
        conds, params = [f"{wm} IS NOT NULL"], {}
        if after is not None:
            params["ww_after_wm"] = decode_value(after["watermark"])
            if after.get("key") is None:
                conds.append(f"{wm} > :ww_after_wm")
            else:
                params["ww_after_key"] = decode_value(after["key"])
                conds.append(f"({wm} > :ww_after_wm OR ({wm} = :ww_after_wm AND {self.q(self.key)} > :ww_after_key))")
        if upto is not None:  # NULL keys sort first within a watermark value: they are <= any key
            params["ww_upto_wm"] = decode_value(upto["watermark"])
            if upto.get("key") is None:
                conds.append(f"{wm} <= :ww_upto_wm")
            else:
                params["ww_upto_key"] = decode_value(upto["key"])
                k = self.q(self.key)
                conds.append(f"({wm} < :ww_upto_wm OR ({wm} = :ww_upto_wm AND ({k} IS NULL OR {k} <= :ww_upto_key)))")
        return " WHERE " + " AND ".join(conds), params


def _check_state(source: Source, plan: _Plan, state: dict[str, Any] | None, home) -> None:
    if state is None:
        return
    if state.get("column") != plan.wm or state.get("key_column") != plan.key:
        raise ValueError(
            f"{state_file(home, source.name)} was saved for watermark column {state.get('column')!r} / key "
            f"{state.get('key_column')!r}, but the query now resolves to {plan.wm!r} / {plan.key!r}; delete "
            "that file to fetch the source again from the start (nothing is lost; already landed rows may be delivered again)"
        )


def _short_error(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return " ".join(text.split())[:600]


def fetch_deliveries(source: Source, home: Home | str | os.PathLike, *, batch_rows: int | None = None) -> Iterator[Delivery]:
    """Yield one Delivery per batch of new rows; each saves its position once landed."""
    if source.kind != "sql" or not source.url or not source.query or not source.feed:
        raise SourceError(f"source {source.name!r} is not a complete sql source (kind, url, query, feed)")
    if batch_rows is None:
        batch_rows = source.options.page_size if "page_size" in source.options.model_fields_set else BATCH_ROWS
    where = f"sql source {source.name!r} ({mask_url(source.url)})"
    secrets = [_password(source.url)]
    try:
        yield from _fetch(source, home, batch_rows)
    except SourceError as exc:
        raise SourceError(scrub(f"{where}: {exc}", secrets)) from None
    except (sa.exc.SQLAlchemyError, ValueError, KeyError) as exc:  # KeyError: a hand-edited state file
        raise SourceError(scrub(f"{where}: {_short_error(exc)}", secrets)) from None


def _fetch(source: Source, home, batch_rows: int) -> Iterator[Delivery]:
    engine = sa.create_engine(source.url)
    try:
        base = f"SELECT * FROM ({_escape_user_sql(source.query)}) AS {SUBQUERY}"
        quote = engine.dialect.identifier_preparer.quote_identifier
        with engine.connect() as conn:
            columns = list(conn.execute(sa.text(f"{base} WHERE 1 = 0")).keys())
            plan = _Plan(source, columns, quote)
            state = load_state(home, source.name)
            _check_state(source, plan, state, home)
            if plan.wm:
                nulls = conn.execute(sa.text(f"SELECT COUNT(*) FROM ({base}) AS ww_n WHERE ww_n.{quote(plan.wm)} IS NULL")).scalar_one()
                if nulls:
                    raise ValueError(
                        f"{nulls} row(s) have NULL in the watermark column {plan.wm!r} and could never be fetched "
                        f"incrementally; give every row a value in the query, e.g. coalesce({plan.wm}, <event time>) "
                        f"as {plan.wm}"
                    )
            yield from _incremental(conn, source, home, plan, base, state, batch_rows)
    finally:
        engine.dispose()


def _position(plan: _Plan, row: Sequence[Any]) -> dict[str, Any]:
    """The saved form of a row's place in the (watermark, key) order."""
    key = row[plan.columns.index(plan.key)] if plan.key else None
    return {"watermark": encode_value(row[plan.columns.index(plan.wm)]), "key": None if key is None else encode_value(key)}


def _incremental(conn, source: Source, home, plan: _Plan, base: str, state: dict[str, Any] | None, batch_rows: int) -> Iterator[Delivery]:
    """First the batches an interrupted run handed to landing (same bounds: same content_ids), then new rows."""
    order = f" ORDER BY {plan.order_by()}"
    after = {"watermark": state["watermark"], "key": state.get("key")} if state and state.get("watermark") else None
    in_flight = ((state or {}).get("pending") or []) if plan.wm else []
    for pending in in_flight:
        end = {"watermark": pending["watermark"], "key": pending.get("key")}
        where_sql, params = plan.where(after, end)
        rows = list(conn.execute(sa.text(base + where_sql + order), params))
        if rows:  # on landing this settles the whole range, up to the recorded end
            yield _delivery(source, home, plan, rows, end=end)
        after = end
    where_sql, params = plan.where(after)
    result = conn.execution_options(stream_results=True, yield_per=min(batch_rows, 10_000)).execute(
        sa.text(base + where_sql + order), params
    )
    yield from _batches(source, home, plan, result, batch_rows)


def _batches(source: Source, home, plan: _Plan, result, batch_rows: int) -> Iterator[Delivery]:
    wm_i = plan.columns.index(plan.wm) if plan.wm else None
    key_i = plan.columns.index(plan.key) if plan.key else None

    def can_cut(prev: Sequence[Any], nxt: Sequence[Any]) -> bool:
        if plan.snapshot:
            return False  # a reference snapshot is one delivery
        if wm_i is None:
            return True  # no resume state: any cut is safe
        if prev[wm_i] != nxt[wm_i]:
            return True
        # same watermark: only between two different non-null keys (the resume is "key > last key")
        return key_i is not None and prev[key_i] is not None and prev[key_i] != nxt[key_i]

    buf: list[Sequence[Any]] = []
    for row in result:
        if len(buf) >= batch_rows and can_cut(buf[-1], row):
            yield _delivery(source, home, plan, buf, mark_pending=True)
            buf = []
        buf.append(row)
    if buf:
        yield _delivery(source, home, plan, buf, mark_pending=True)


def _update_state(home, source: Source, plan: _Plan, **changes: Any) -> None:
    state = load_state(home, source.name) or {}
    state.update({"source": source.name, "kind": "sql", "column": plan.wm, "key_column": plan.key}, **changes)
    save_state(home, source.name, state)


def _delivery(
    source: Source, home, plan: _Plan, rows: list[Sequence[Any]], mark_pending: bool = False, end: dict[str, Any] | None = None
) -> Delivery:
    """One batch as a Delivery; `end` = the position its landing confirms (default: its last row)."""
    text_cols = text_columns(rows, len(plan.columns))
    content_id = batch_content_id(plan.columns, text_cols)
    on_landed = None
    if plan.wm:
        end = end or _position(plan, rows[-1])
        if mark_pending:  # an interruption from here on re-fetches exactly these rows (see _incremental)
            pending = (load_state(home, source.name) or {}).get("pending") or []
            _update_state(home, source, plan, pending=[*pending, {**end, "delivery_id": content_id}])

        def on_landed() -> None:
            state = load_state(home, source.name) or {}
            still = [p for p in state.get("pending") or [] if {k: p.get(k) for k in end} != end]
            _update_state(home, source, plan, **end, pending=still)

    return Delivery(
        feed=source.feed,
        source=f"sql:{source.name}",
        content_id=content_id,
        frame=text_frame(plan.columns, text_cols),
        options=source.options,
        on_landed=on_landed,
    )
