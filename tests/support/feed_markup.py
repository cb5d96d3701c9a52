"""Markdown and HTML in feed text (docs/architecture.md#privacy-and-access): a corpus whose
every URL points at a local server that records each request, and a published dashboard home
whose names, comments, evidence, report changes and audit draw carry it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

# columns of the fixture marts that hold free text from the feeds (ids stay intact: they join)
TEXT_COLUMNS = ("window_name", "department_name", "center_name", "item_name", "comment", "evidence", "source_file", "raw")


def corpus(port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [
        f"![t]({base}/pixel.png)",
        f"[官网通知]({base}/phish)",
        f"<img src={base}/img onerror=\"fetch('{base}/onerror')\">",
        f"<script>fetch('{base}/script')</script>",
        f"[点此](javascript:fetch('{base}/js'))",
        f"<a href=\"{base}/anchor\">链接</a>",
        f"{base}/autolink",
        f"<{base}/angle>",
        f":red[红字] $x^2$ **粗体** <iframe src=\"{base}/iframe\"></iframe>",
    ]


class Recorder:
    """A local HTTP server that answers 200 and records every path requested."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                recorder.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    @contextmanager
    def running(self) -> Iterator["Recorder"]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def poison_snapshot(snapshot: Path, payloads: list[str]) -> int:
    """Append the whole corpus to every free-text value of the fixture marts; returns the
    number of columns changed."""
    tail = " " + " ".join(payloads)
    con = duckdb.connect(str(snapshot))
    try:
        cols = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
            "and data_type = 'VARCHAR' and column_name in (select unnest(?))", [list(TEXT_COLUMNS)]).fetchall()
        for table, column in cols:
            con.execute(f'update marts."{table}" set "{column}" = "{column}" || ? where "{column}" is not null', [tail])
        con.execute("checkpoint")
    finally:
        con.close()
    return len(cols)


def changes_markdown(payloads: list[str]) -> str:
    """A report's changes.md as windowwatch/reports/changes.py writes it, names from the feed."""
    return "# 2026-10 第 2 版变更\n\n" + "\n".join(f"- 窗口 {p} 名次 3 → 2" for p in payloads) + "\n"
