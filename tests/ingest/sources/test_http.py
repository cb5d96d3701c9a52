"""The http source against a real local HTTP server (http.server in a thread) that fails some requests."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ingest.sources import http as http_source
from ingest.sources.batch import SourceError, canonical_json, sha256_text
from ingest.sources.watermark import load_state
from core.config import Source, SourceOptions

T0 = dt.datetime(2025, 3, 3, 9, 0, 0)


def evaluation(i: int, recorded: dt.datetime) -> dict:
    return {
        "evaluation_id": f"V{i:04d}",
        "window_id": "W01",
        "rating": "非常满意" if i % 7 else "不满意",
        "evaluated_at": (recorded - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "recorded_at": recorded.strftime("%Y-%m-%d %H:%M:%S"),
        "round": 1,
        "is_real_name": i % 2 == 0,
        "comment": None if i % 3 else "窗口服务很好",
        "confidence": 0.25,
    }


class FakeAgency:
    """A paged JSON API (our protocol) with a script of failures per (page, nth request of it)."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.script: dict[tuple[int, int], str] = {}  # (page, attempt no. from 1) -> 503 | 429 | 404 | slow | garbage
        self.always: str | None = None
        self.bare_list = False
        self.log: list[dict] = []
        self.count: dict[int, int] = defaultdict(int)
        self.lock = threading.Lock()

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
        with self.lock:
            self.count[page] += 1
            action = self.always or self.script.get((page, self.count[page]))
            self.log.append({"page": page, "since": query.get("since"), "action": action, "query": query})
        if action == "slow":
            time.sleep(2.0)  # the client times out first; the reply goes nowhere
        elif action in ("503", "429", "404", "400"):
            handler.send_response(int(action))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        elif action == "garbage":
            self._send(handler, b"<html>proxy error</html>")
            return
        since = query.get("since")
        selected = [it for it in self.items if since is None or it["recorded_at"] > since]
        chunk = selected[(page - 1) * size : page * size]
        more = page * size < len(selected)
        body = chunk if self.bare_list else {"items": chunk, "next_page": page + 1 if more else None}
        self._send(handler, json.dumps(body, ensure_ascii=False).encode())

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, data: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


@contextmanager
def serving(api: FakeAgency):
    """Serve `api` on 127.0.0.1 (a free port) in a thread; always shut down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            try:
                api.respond(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): expected in the slow case

        def log_message(self, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}/api/evaluations"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture()
def agency():
    with serving(FakeAgency()) as api:
        yield api


def make_source(url: str, feed: str = "evaluations", **options) -> Source:
    options.setdefault("page_size", 10)
    options.setdefault("backoff_seconds", 0.01)
    options.setdefault("timeout_seconds", 1.0)
    return Source(name="haocha_api", kind="http", feed=feed, url=url, options=SourceOptions(**options))


def land(source: Source, home, ledger: set[str], stop_after: int | None = None, sleeps: list | None = None) -> list[dict]:
    """What landing does: skip a content_id already in the ledger, then call on_landed."""
    landed: list[dict] = []
    gen = http_source.fetch_deliveries(source, home, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    for n, d in enumerate(gen, start=1):
        if d.content_id not in ledger:
            landed += d.frame.rows(named=True)
            ledger.add(d.content_id)
        if d.on_landed:
            d.on_landed()
        if stop_after is not None and n >= stop_after:
            gen.close()  # the run is killed after `stop_after` deliveries
            break
    return landed


def test_retried_failures_give_complete_data_once(agency, ww_home):
    agency.items = [evaluation(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 26)]  # 3 pages of 10
    agency.script = {(2, 1): "503", (2, 2): "slow", (3, 1): "429"}
    sleeps: list[float] = []
    src = make_source(agency.url)
    deliveries = list(http_source.fetch_deliveries(src, ww_home, sleep=sleeps.append))
    rows = [r for d in deliveries for r in d.frame.rows(named=True)]
    assert [r["evaluation_id"] for r in rows] == [f"V{i:04d}" for i in range(1, 26)]
    assert [d.frame.height for d in deliveries] == [10, 10, 5]
    assert [d.frame["_line"].to_list()[:2] for d in deliveries] == [[1, 2]] * 3
    # every scripted failure happened and was retried, in order
    actions = [(e["page"], e["action"]) for e in agency.log]
    assert actions == [(1, None), (2, "503"), (2, "slow"), (2, None), (3, "429"), (3, None)]
    # back-off: 0.01 * 2^attempt * seeded jitter in [0.5, 1)
    expected = [http_source.backoff_delay("haocha_api", 2, 0, 0.01), http_source.backoff_delay("haocha_api", 2, 1, 0.01),
                http_source.backoff_delay("haocha_api", 3, 0, 0.01)]
    assert sleeps == expected
    assert 0.005 <= expected[0] < 0.01 and 0.01 <= expected[1] < 0.02
    # the query protocol
    assert agency.log[0]["query"] == {"page": "1", "page_size": "10"}  # no since on the first run
    # canonical text values and content ids
    first = rows[0]
    assert first["round"] == "1" and first["is_real_name"] == "false" and first["confidence"] == "0.25"
    assert rows[1]["is_real_name"] == "true" and first["comment"] is None and rows[2]["comment"] == "窗口服务很好"
    assert deliveries[0].content_id == sha256_text(canonical_json(agency.items[:10]))
    assert deliveries[0].source == "http:haocha_api" and deliveries[0].feed == "evaluations"


def test_content_ids_are_deterministic(agency, tmp_path):
    agency.items = [evaluation(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 16)]
    src = make_source(agency.url)
    a = [d.content_id for d in http_source.fetch_deliveries(src, tmp_path / "a")]
    # same items with keys in another order: same content
    agency.items = [dict(reversed(list(it.items()))) for it in agency.items]
    b = [d.content_id for d in http_source.fetch_deliveries(src, tmp_path / "b")]
    assert a == b and len(set(a)) == 2


def test_incremental_since_is_sent_and_honoured(agency, ww_home):
    agency.items = [evaluation(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 13)]
    src = make_source(agency.url)
    ledger: set[str] = set()
    assert len(land(src, ww_home, ledger)) == 12
    state = load_state(ww_home, "haocha_api")
    assert state["column"] == "recorded_at" and state["watermark"] == "2025-03-03 09:12:00"

    agency.items += [evaluation(i, T0 + dt.timedelta(hours=1, minutes=i)) for i in range(13, 16)]
    agency.log.clear()
    new = land(src, ww_home, ledger)
    assert [r["evaluation_id"] for r in new] == ["V0013", "V0014", "V0015"]
    assert [e["since"] for e in agency.log] == ["2025-03-03 09:12:00"]
    assert load_state(ww_home, "haocha_api")["watermark"] == "2025-03-03 10:15:00"
    agency.log.clear()
    assert land(src, ww_home, ledger) == []  # nothing new: nothing delivered, watermark kept
    assert load_state(ww_home, "haocha_api")["watermark"] == "2025-03-03 10:15:00"


def test_interrupted_run_lands_nothing_twice(agency, ww_home):
    agency.items = [evaluation(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 31)]
    src = make_source(agency.url)
    ledger: set[str] = set()
    part = land(src, ww_home, ledger, stop_after=2)  # killed after two of three pages landed
    assert len(part) == 20
    assert load_state(ww_home, "haocha_api") is None  # the watermark waits for the last page
    rest = land(src, ww_home, ledger)
    assert len(rest) == 10
    ids = [r["evaluation_id"] for r in part + rest]
    assert sorted(ids) == [f"V{i:04d}" for i in range(1, 31)] and len(set(ids)) == 30
    assert load_state(ww_home, "haocha_api")["watermark"] == "2025-03-03 09:30:00"


def test_permanent_4xx_fails_at_once_without_credentials(agency, ww_home):
    agency.always = "404"
    port = agency.url.split(":")[2].split("/")[0]
    url = f"http://svc:S3cretPw@127.0.0.1:{port}/api/evaluations?token=abc123xyz&region=gz"
    with pytest.raises(SourceError) as err:
        list(http_source.fetch_deliveries(make_source(url), ww_home, sleep=lambda s: None))
    msg = str(err.value)
    assert "haocha_api" in msg and "HTTP 404" in msg and "not retried" in msg and "/api/evaluations" in msg
    assert "S3cretPw" not in msg and "abc123xyz" not in msg and "svc:***@" in msg and "region=gz" in msg
    assert len(agency.log) == 1


def test_max_retries_exhausted_fails_clearly(agency, ww_home):
    agency.always = "503"
    sleeps: list[float] = []
    with pytest.raises(SourceError, match=r"gave up after 3 attempt\(s\) \(max_retries=2\); last error: HTTP 503"):
        list(http_source.fetch_deliveries(make_source(agency.url, max_retries=2), ww_home, sleep=sleeps.append))
    assert len(agency.log) == 3 and len(sleeps) == 2 and sleeps[1] > sleeps[0]


def test_connection_refused_is_retried_then_fails(ww_home):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="ConnectError"):
        list(http_source.fetch_deliveries(make_source(f"http://127.0.0.1:{port}/x", max_retries=1), ww_home, sleep=sleeps.append))
    assert len(sleeps) == 1


def test_not_json_fails_at_once(agency, ww_home):
    agency.always = "garbage"
    with pytest.raises(SourceError, match="not JSON"):
        list(http_source.fetch_deliveries(make_source(agency.url), ww_home))
    assert len(agency.log) == 1


def test_bare_list_chinese_keys_and_reference_snapshot(agency, ww_home):
    agency.bare_list = True
    agency.items = [
        {"评价编号": f"V{i}", "窗口编号": "W01", "满意度": "满意", "评价时间": f"2025-03-0{i} 10:00:00",
         "录入时间": f"2025030{i}T110000", "recorded_at": f"2025-03-0{i} 11:00:00"}
        for i in range(1, 4)
    ]
    # the Chinese alias of recorded_at is found; compact GB/T 39046 timestamps compare as times
    for it in agency.items:
        del it["recorded_at"]
    src = make_source(agency.url)
    ledger: set[str] = set()
    rows = land(src, ww_home, ledger)
    assert [r["评价编号"] for r in rows] == ["V1", "V2", "V3"]
    assert load_state(ww_home, "haocha_api") == {
        "column": "录入时间", "kind": "http", "source": "haocha_api", "watermark": "20250303T110000"}

    # a reference feed over several pages is ONE delivery (a full snapshot)
    agency.bare_list = False
    agency.items = [{"window_id": f"W{i:02d}", "window_name": "综合窗口", "recorded_at": "x"} for i in range(1, 26)]
    [snap] = list(http_source.fetch_deliveries(make_source(agency.url, feed="windows"), ww_home))
    assert snap.frame.height == 25 and snap.on_landed is None and snap.frame["_line"].to_list()[-1] == 25


def test_watermark_sort_key_orders_timestamp_formats():
    key = http_source.watermark_sort_key
    assert key("2025-03-03 10:00:00") < key("2025/03/03 10:00:01") < key("20250303T100002") < key("20250303100003")
    assert key("2025-03-03T10:00:04+08:00") < key("2025-03-03T02:00:05Z")
    assert key(9) < key(10)


def test_end_to_end_lands_api_pages_exactly_once(agency, ww_home):
    """Real landing (ingest.run.ingest_source): counts, quarantine, PII scrubbing, interrupted run."""
    import glob

    import polars as pl

    from ingest.run import ingest_source

    with serving(FakeAgency()) as windows_api:
        windows_api.items = [{"窗口编号": "W01", "窗口名称": "综合窗口"}, {"窗口编号": "W02", "窗口名称": "不动产"}]
        rep = ingest_source(ww_home, make_source(windows_api.url, feed="windows"))
        assert rep.exit_code == 0 and rep.by_feed()["windows"]["landed"] == 2

    agency.items = [evaluation(i, T0 + dt.timedelta(minutes=i)) for i in range(1, 26)]
    agency.items[3]["rating"] = "极好"  # not a rating level: quarantined
    agency.items[4]["comment"] = "请回电13812345678"  # a phone number: scrubbed by landing
    agency.script = {(2, 1): "503", (3, 1): "404"}  # page 3 fails for good in the first run
    src = make_source(agency.url)
    rep = ingest_source(ww_home, src)
    assert rep.exit_code == 1 and "HTTP 404" in rep.problems[0].detail  # reported, pages 1-2 stay landed
    counts = rep.by_feed()["evaluations"]
    assert counts["deliveries"] == 2 and counts["rows_in"] == 20 and counts["landed"] == 19 and counts["quarantined"] == 1
    assert load_state(ww_home, "haocha_api") is None

    rep = ingest_source(ww_home, src)  # the re-run asks the same pages again
    assert rep.exit_code == 0, rep.as_dict()
    assert [d.status for d in rep.deliveries] == ["already landed", "already landed", "landed"]
    landed = pl.read_parquet(glob.glob(str(ww_home / "landing" / "evaluations" / "*" / "*.parquet")))
    ids = landed["evaluation_id"].to_list()
    assert len(ids) == 24 == len(set(ids)) and "V0004" not in ids
    assert not landed["comment"].str.contains("13812345678").any()
    assert set(landed["_source"].to_list()) == {"http:haocha_api"}
    assert load_state(ww_home, "haocha_api")["watermark"] == "2025-03-03 09:25:00"

    agency.items.append(evaluation(26, T0 + dt.timedelta(hours=5)))
    agency.log.clear()
    rep = ingest_source(ww_home, src)
    assert rep.by_feed()["evaluations"]["landed"] == 1 and agency.log[0]["since"] == "2025-03-03 09:25:00"


def test_unusable_url_fails_at_once(ww_home):
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="UnsupportedProtocol") as err:
        list(http_source.fetch_deliveries(make_source("ftp://u:Pw-9secret@127.0.0.1/x"), ww_home, sleep=sleeps.append))
    assert sleeps == [] and "Pw-9secret" not in str(err.value)
