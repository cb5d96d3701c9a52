"""The http source: a paged JSON API fetched incrementally with a "since" parameter.

    sources:
      - name: eval_api
        kind: http
        feed: evaluations
        url: https://haocha.example.gov.cn/api/evaluations    # credentials: https://user:${PW}@host/...
        options: {page_size: 500, since_param: since, max_retries: 5, backoff_seconds: 0.5}

Protocol (ours to define; a provincial interface gets an adapter in front of it)
- Request: `GET {url}?page=<n>&page_size=<options.page_size>[&{since_param}=<watermark>]`,
  pages numbered from 1. The since parameter is sent from the second run on: the largest
  watermark value landed so far, exactly as the API delivered it. It is EXCLUSIVE: the API
  returns the items whose watermark is strictly greater, and must only expose an item once
  its watermark is final (an item appearing later with an older value is not fetched).
- Items are ordered by (watermark, id) ascending, so new items only ever append pages.
- Response: `{"items": [{...}, ...], "next_page": <n+1> | null}`; a missing next_page, or
  a bare JSON list, is the last page. Every item is a JSON object of one feed row; its keys are
  the feed's column names, Chinese aliases or the source's column_mapping.
- Watermark column: `options.watermark_column`, else the item key that maps to `recorded_at`,
  else the one that maps to the feed's time column (evaluated_at, flagged_at, event_time).
  Values are compared as timestamps of the the feed contract, core/feeds.py formats (numbers as numbers, anything else
  as text) and the largest is stored.

Retries: connection errors, timeouts, 429 and 5xx are retried up to `max_retries` times,
waiting `backoff_seconds × 2^attempt`, scaled by a jitter factor in [0.5, 1.0) drawn from a
random generator seeded with (source, page, attempt) — spread out between sources and pages,
yet the same on every run so tests are stable — and at least a numeric Retry-After (capped at
60 s). Any other 4xx is permanent and fails at once; so does a 200 whose body is not the
protocol's JSON. Errors name the source, the URL (password and secret-looking query values
masked) and the status.

Deliveries: one per non-empty page; content_id = SHA-256 of the canonical JSON of the page's
items (so it does not depend on key order or page number), `_line` = the item's 1-based
position in the page, values as canonical text (ingest.sources.batch). Reference feeds (full
snapshots, the latest wins) are gathered from all pages into one delivery instead.

Why the watermark advances only after the LAST page landed: all pages of a run are asked with
the same since value, so page numbers stay stable while the run pages through, and no item
is skipped even if the API does not sort by the watermark. If a run is interrupted after page
k landed, the next run asks the same since value again, gets pages 1..k with the same
content_ids (landing skips them) and continues: nothing lands twice. That needs the API to
order items by (watermark, id), so items arriving meanwhile only append pages; an API that
does not may shift items between pages, and then items already landed come again in a page
with a new content_id (identical copies, which landing does not flag; nothing is lost). Each delivery's
on_landed marks its page; the state is saved (atomically, ingest.sources.watermark) when the
paging has finished and every yielded page has landed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from core.config import Source
from core.feeds import FEEDS, Feed
from core.localtime import LOCAL_TZ
from core.paths import Home
from ingest.delivery import Delivery
from ingest.sources.batch import (
    SourceError,
    canonical_json,
    find_column,
    mask_http_url,
    scrub,
    sha256_text,
    text_frame,
    to_text,
    url_secrets,
)
from ingest.sources.watermark import load_state, save_state, state_file

MAX_RETRY_AFTER = 60.0  # seconds: never wait longer for a server's Retry-After
RETRY_STATUS = frozenset({429}) | frozenset(range(500, 600))
_TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%dT%H%M%S", "%Y%m%d%H%M%S")


def backoff_delay(source_name: str, page: int, attempt: int, backoff_seconds: float) -> float:
    """Seconds to wait before retry `attempt` (0-based) of a page: doubled, with seeded jitter."""
    jitter = random.Random(f"{source_name}|{page}|{attempt}").uniform(0.5, 1.0)
    return backoff_seconds * (2**attempt) * jitter


def watermark_sort_key(value: Any) -> tuple[int, Any]:
    """Order watermark values: timestamps of the §3 formats as times, numbers as numbers, else text."""
    if isinstance(value, bool):
        return (2, str(value))
    if isinstance(value, (int, float)):
        return (1, float(value))
    text = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in _TS_FORMATS:
            try:
                parsed = dt.datetime.strptime(text.split(".")[0], fmt)
                break
            except ValueError:
                continue
    if parsed is not None:
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(LOCAL_TZ).replace(tzinfo=None)
        return (0, parsed)
    return (2, text)


def _watermark_column(feed: Feed, source: Source, keys: list[str]) -> str | None:
    if source.options.watermark_column:
        return source.options.watermark_column
    if "recorded_at" in feed.by_name:
        found = find_column(keys, feed, source.options, "recorded_at")
        if found:
            return found
    if feed.time_column:
        return find_column(keys, feed, source.options, feed.time_column) or feed.time_column
    return None


class _Run:
    """Bookkeeping of one run: which pages were yielded and landed, and the largest watermark."""

    def __init__(self, source: Source, home, column: str | None, since: str | None) -> None:
        self.source, self.home, self.column, self.since = source, home, column, since
        self.yielded: set[int] = set()
        self.landed: set[int] = set()
        self.best: tuple[tuple[int, Any], Any] | None = None
        self.finished = False
        self.saved = False

    def observe(self, items: list[dict[str, Any]]) -> None:
        if self.column is None:
            return
        for item in items:
            value = item.get(self.column)
            if value is None or value == "":
                continue
            key = watermark_sort_key(value)
            if self.best is None or key > self.best[0]:
                self.best = (key, value)

    def on_landed_for(self, page: int) -> Callable[[], None]:
        self.yielded.add(page)

        def on_landed() -> None:
            self.landed.add(page)
            self._maybe_save()

        return on_landed

    def _json_value(self) -> str | int | float:
        """The largest value as the API delivered it (sent back verbatim as since)."""
        value = self.best[1]
        return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else to_text(value)

    def finish(self) -> None:
        self.finished = True
        self._maybe_save()

    def _maybe_save(self) -> None:
        if self.saved or not self.finished or self.landed != self.yielded or self.best is None:
            return
        if self.since is not None and self.best[0] <= watermark_sort_key(self.since):
            return  # never move backwards
        save_state(
            self.home,
            self.source.name,
            {"source": self.source.name, "kind": "http", "column": self.column, "watermark": self._json_value()},
        )
        self.saved = True


def fetch_deliveries(
    source: Source,
    home: Home | str | os.PathLike,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Delivery]:
    """Yield one Delivery per non-empty page (reference feeds: one for all pages)."""
    if source.kind != "http" or not source.url or not source.feed:
        raise SourceError(f"source {source.name!r} is not a complete http source (kind, url, feed)")
    feed = FEEDS[source.feed]
    opts = source.options
    if feed.kind == "reference" and opts.watermark_column:
        raise SourceError(
            f"http source {source.name!r}: options.watermark_column is set, but {feed.name} is a reference feed "
            "(a full snapshot, fetched whole every run); remove watermark_column"
        )
    try:
        state = load_state(home, source.name) if feed.kind == "event" else None
    except SourceError as exc:
        raise SourceError(f"http source {source.name!r}: {exc}") from None
    since = state.get("watermark") if state else None
    if state and opts.watermark_column and state.get("column") != opts.watermark_column:
        raise SourceError(
            f"{state_file(home, source.name)} was saved for watermark column {state.get('column')!r}, but "
            f"options.watermark_column is now {opts.watermark_column!r}; delete that file to fetch the source "
            "again from the start (nothing is lost; already landed rows may be delivered again)"
        )
    run: _Run | None = None
    snapshot: list[dict[str, Any]] = []
    with httpx.Client(
        timeout=opts.timeout_seconds,
        follow_redirects=True,
        headers={"Accept": "application/json", "User-Agent": "windowwatch"},
    ) as client:
        page = 1
        while True:
            items, next_page = _get_page(client, source, page, since, sleep)
            if feed.kind == "reference":
                snapshot.extend(items)
            elif items:
                if run is None:
                    keys = list(dict.fromkeys(k for it in items for k in it))
                    column = state.get("column") if state else _watermark_column(feed, source, keys)
                    run = _Run(source, home, column, since)
                run.observe(items)
                yield _delivery(source, items, run.on_landed_for(page))
            if next_page is None:
                break
            if not isinstance(next_page, int) or isinstance(next_page, bool) or next_page <= page:
                raise SourceError(
                    f"http source {source.name!r} ({mask_http_url(source.url)}): page {page} names next_page "
                    f"{next_page!r}; it must be a larger page number or null"
                )
            page = next_page
    if snapshot:
        yield _delivery(source, snapshot, None)
    if run is not None:
        run.finish()


def _delivery(source: Source, items: list[dict[str, Any]], on_landed: Callable[[], None] | None) -> Delivery:
    columns = list(dict.fromkeys(k for it in items for k in it))
    data = [[to_text(it.get(c)) for it in items] for c in columns]
    return Delivery(
        feed=source.feed,
        source=f"http:{source.name}",
        content_id=sha256_text(canonical_json(items)),
        frame=text_frame(columns, data),
        options=source.options,
        on_landed=on_landed,
    )


def _describe(source: Source, page: int) -> str:
    return f"http source {source.name!r} (GET {mask_http_url(source.url)} page {page})"


def _get_page(
    client: httpx.Client, source: Source, page: int, since: str | None, sleep: Callable[[float], None]
) -> tuple[list[dict[str, Any]], int | None]:
    opts = source.options
    params: dict[str, Any] = {"page": page, "page_size": opts.page_size}
    if since is not None:
        params[opts.since_param] = since
    secrets = url_secrets(source.url)
    last_problem = ""
    for attempt in range(opts.max_retries + 1):
        retry_after = 0.0
        try:
            response = client.get(source.url, params=params)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.TooManyRedirects) as exc:  # retrying cannot help
            raise SourceError(scrub(f"{_describe(source, page)}: {type(exc).__name__}: {exc}", secrets)) from None
        except httpx.TransportError as exc:  # connection refused/reset, timeouts, broken responses
            last_problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except httpx.HTTPError as exc:  # e.g. a body that cannot be decoded: not a passing hiccup
            raise SourceError(scrub(f"{_describe(source, page)}: {type(exc).__name__}: {exc}", secrets)) from None
        else:
            if response.status_code == 200:
                return _parse_page(response, source, page)
            if response.status_code not in RETRY_STATUS:
                raise SourceError(
                    f"{_describe(source, page)}: HTTP {response.status_code} {response.reason_phrase} — not retried "
                    "(only connection errors, timeouts, 429 and 5xx are); check the url, credentials and since_param"
                )
            last_problem = f"HTTP {response.status_code} {response.reason_phrase}"
            header = response.headers.get("Retry-After", "")
            if header.strip().isdigit():
                retry_after = min(float(header.strip()), MAX_RETRY_AFTER)
        if attempt == opts.max_retries:
            break
        sleep(max(backoff_delay(source.name, page, attempt, opts.backoff_seconds), retry_after))
    raise SourceError(
        scrub(
            f"{_describe(source, page)}: gave up after {opts.max_retries + 1} attempt(s) "
            f"(max_retries={opts.max_retries}); last error: {last_problem}",
            secrets,
        )
    )


def _parse_page(response: httpx.Response, source: Source, page: int) -> tuple[list[dict[str, Any]], int | None]:
    try:
        body = response.json()
    except ValueError:
        raise SourceError(f"{_describe(source, page)}: the response is not JSON") from None
    if isinstance(body, list):
        items, next_page = body, None
    elif isinstance(body, dict) and isinstance(body.get("items"), list):
        items, next_page = body["items"], body.get("next_page")
    else:
        raise SourceError(
            f"{_describe(source, page)}: expected {{\"items\": [...], \"next_page\": n|null}} or a JSON list"
        )
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SourceError(f"{_describe(source, page)}: item {i} is {type(item).__name__}, not a JSON object")
    return items, next_page
