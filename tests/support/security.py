"""What the security tests (issue 8) build on: a dashboard home with one account per role, a
published monthly report, a logged double-random draw (the `sec_home` fixture), a spy on
Streamlit's deferred downloads so a test can press "download" the way the browser does, after
the page was drawn (`deferred_downloads`), AppTest sessions per role, and the PII file scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.paths import REPO_ROOT
from tests.support.dashboard_snapshot import published_home

APP = REPO_ROOT / "dashboards" / "app.py"
ENTROPY = "2026-10-21 体彩排列五 38215"
# role -> (account name, password); the inspector account is linked to an inspector id in the fixture
ACCOUNTS = {"viewer": ("sec.view", "view-pass-123"), "inspector": ("sec.insp", "insp-pass-123"),
            "auditor": ("sec.aud", "aud-pass-123")}
# what a person would call a raw ID-card or mobile number on screen or in a file
PII_ON_SCREEN = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|1[3-9]\d{9})(?![0-9A-Za-z])")


def add_account(name: str, role: str, password: str, inspector_id: str | None = None) -> None:
    """accounts.add_user with cheap argon2 parameters (see tests.support.dashboard_snapshot.add_test_user)."""
    from argon2 import PasswordHasher

    from windowwatch import accounts

    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        accounts.add_user(name, role, password, inspector_id=inspector_id)
    finally:
        accounts._hasher = saved


def fake_report(home: Path, month: str = "2026-10") -> Path:
    """A published report version as windowwatch.reports lists it (files are placeholders: the
    access tests only need the download buttons; test_reports renders real ones)."""
    d = home / "reports" / month / "v1"
    d.mkdir(parents=True, exist_ok=True)
    names = ("ranking.pdf", "ranking.xlsx", "ranking.html")
    for n in names:
        (d / n).write_bytes(b"%s placeholder" % n.encode())
    (d / "manifest.json").write_text(json.dumps({
        "content_hash": "ab" * 32, "created_at": "2026-11-01T09:00:00+08:00", "watermark": "2026-10-31",
        "snapshot": {"file": "warehouse-fixture-1.duckdb"}, "files": {n: "00" * 32 for n in names}}), encoding="utf-8")
    return d


def pick_inspector(sample: list[dict]) -> tuple[str, str, str]:
    """(inspector_id, a case assigned to it, a case not assigned to it) from a draw's sample."""
    counts: dict[str, int] = {}
    for s in sample:
        for i in s["inspectors"]:
            counts[i] = counts.get(i, 0) + 1
    staffed = [s for s in sample if s["inspectors"]]
    for inspector in sorted(counts, key=lambda i: (-counts[i], i)):
        mine = [s["case_id"] for s in staffed if inspector in s["inspectors"]]
        other = [s["case_id"] for s in staffed if inspector not in s["inspectors"]]
        if mine and other:
            return inspector, mine[0], other[0]
    raise AssertionError(f"no inspector with both own and other cases in {sample}")


@contextmanager
def security_home(tmp_path_factory) -> Iterator[dict]:
    """A published fixture snapshot, a report, one draw, and an account per role."""
    import windowwatch.audit as audit
    from core.paths import Home

    with published_home(tmp_path_factory, "sec") as (root, snap):
        fake_report(root)
        h = Home(root)
        result = audit.draw(audit.load_plan(audit.EXAMPLE_PLAN), ENTROPY, h, user="fixture")
        inspector, own_case, other_case = pick_inspector(result.public_json()["sample"])
        for role, (name, pw) in ACCOUNTS.items():
            add_account(name, role, pw, inspector_id=inspector if role == "inspector" else None)
        yield {"home": h, "snapshot": snap, "draw_id": result.draw_id, "inspector_id": inspector,
               "own_case": own_case, "other_case": other_case}


def open_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sign_in(at: AppTest, role: str) -> AppTest:
    name, pw = ACCOUNTS[role]
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(pw)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not has_widget(at.text_input, "login_password"), f"{role}: still on the login page"
    return at


def session(role: str, query: dict | None = None) -> AppTest:
    """A fresh browser session of `role` ("anon" stays on the login page)."""
    at = open_app(query)
    return at if role == "anon" else sign_in(at, role)


def screen_text(at: AppTest) -> str:
    """Everything the app shows on the page: text elements, metrics, tables, code, choices (not
    what the user typed into a text field themselves)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success",
                 "code", "text", "exception"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [str(w.value) for w in at.selectbox] + [str(o) for w in at.selectbox for o in w.options]
    for df in at.dataframe:
        v = df.value
        parts.append((v.data if hasattr(v, "data") else v).to_csv())
    return "\n".join(parts)


def has_widget(elements, key: str) -> bool:
    return any(e.key == key for e in elements)


def downloads(at: AppTest) -> dict[str, str]:
    """key -> label of the download buttons on the page."""
    return {e.key: e.proto.label for e in at.get("download_button")}


def spy_deferred_downloads(monkeypatch) -> dict[str, object]:
    """file name -> the deferred data callable Streamlit registered for a download button: what
    the download request runs when the user clicks, after the page was drawn."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return made


# ---------------------------------------------------------------- PII scan of files

# The ID-card / mobile shapes of hostile_corpus, minus decimal fractions: timings and rates such
# as 4.073770046234131 carry 15–17 digits after the point and are not identifiers.
_B, _E = r"(?<![0-9A-Za-z.])", r"(?![0-9A-Za-z]|\.\d)"
FILE_PII_RES = {
    "id_card": re.compile(_B + r"(?:\d{17}[\dXx]|\d{15})" + _E),
    "mobile": re.compile(_B + r"(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}" + _E),
}
_NUMBER_TOKEN = re.compile(r"(?<![0-9A-Za-z])\d{11,17}[\dXx]?(?![0-9A-Za-z])")


def _texts(path: Path):
    """hostile_corpus.texts_of_file, but a DuckDB file yields the text of its tables only: its
    views (staging) re-read the landing Parquet, which the scan reads itself."""
    from tests.support.hostile_corpus import texts_of_file

    if not path.name.endswith(".duckdb"):
        yield from texts_of_file(path)
        return
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.sql("""select c.table_schema, c.table_name, c.column_name from information_schema.columns c
                          join information_schema.tables t using (table_catalog, table_schema, table_name)
                          where c.data_type = 'VARCHAR' and t.table_type = 'BASE TABLE'
                            and c.table_catalog = current_database()""").fetchall()
        for schema, table, col in cols:
            yield from (r[0] for r in con.sql(f'select distinct "{col}" from "{schema}"."{table}" '
                                              f'where "{col}" is not null').fetchall())
    finally:
        con.close()


def scan_pii(root: Path, raw_values: set[str] = frozenset(), skip=lambda p: False) -> list[tuple[str, str, str]]:
    """(file, kind, masked match) for every ID/phone-shaped value, and every value the feeds
    delivered as applicant id/phone (separators ignored), in any file under root, whatever its
    format (Parquet and DuckDB cells, XLSX cells, PDF text, any text file)."""
    wanted = {re.sub(r"[\s+-]", "", v).upper() for v in raw_values} - {""}
    hits: list[tuple[str, str, str]] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or skip(path):
            continue
        text = "\n".join(t for t in _texts(path) if isinstance(t, str))
        rel = str(path.relative_to(root))
        for kind, rx in FILE_PII_RES.items():
            hits += [(rel, kind, m.group(0)[:3] + "…") for m in rx.finditer(text)]
        if wanted:
            tokens = {t.upper() for t in _NUMBER_TOKEN.findall(re.sub(r"(?<=\d)[\s-](?=\d)", "", text))}
            hits += [(rel, "raw value", v[:3] + "…") for v in sorted(tokens & wanted)]
    return hits


def produce_outputs(home: Path, month: str) -> dict:
    """What people take out of a built home: the monthly report (PDF/XLSX/HTML), a double-random
    draw with a finding whose note carries an ID and a phone number, the audit public list in
    every format, and the timeliness export of the dashboards — all written under home/exports
    or where the product keeps them, so that a scan of `home` sees them."""
    import yaml

    import windowwatch.audit as audit
    from windowwatch import spreadsheets
    from dashboards import queries as q
    from core.paths import Home
    from windowwatch.reports.publication import publish_month
    from windowwatch.snapshot import current_snapshot

    h = Home(home)
    report = publish_month(month, h)
    plan = yaml.safe_load(audit.EXAMPLE_PLAN.read_text(encoding="utf-8"))
    plan["population"]["month"] = month
    result = audit.draw(audit.parse_plan(plan), "2026-10-21 体彩排列五 38215", h, user="security-test")
    staffed = next(s for s in result.public_json()["sample"] if s["inspectors"])
    finding = audit.add_finding(result.draw_id, staffed["case_id"], ["其他"],
                                "申请人身份证 110101199003074518，电话 139 1234 5678，座机 0531-88886666",
                                staffed["inspectors"], h, user="security-test")
    out = home / "exports"
    files = [audit.export_draw(result.draw_id, fmt, out, h) for fmt in ("csv", "xlsx", "html", "json")]
    snap = str(current_snapshot(h))
    frame = q.open_cases(snap, q.Filters(), ("red", "yellow", "green"), None, limit=q.EXPORT_LIMIT)
    (out / "open_cases.csv").write_bytes(spreadsheets.csv_bytes(frame))
    (out / "open_cases.xlsx").write_bytes(spreadsheets.xlsx_bytes({"open_cases": frame}))
    return {"report": report, "draw_id": result.draw_id, "finding": finding, "exports": files, "open_cases": len(frame)}


def scan_everything(home: Path, raw_values: set[str]) -> tuple[list, set[str]]:
    """scan_pii over the whole home, each distinct file content once (the published snapshot is
    a byte copy of the work warehouse); returns (hits, top-level kinds of files scanned)."""
    import hashlib

    seen: set[str] = set()
    kinds: set[str] = set()

    def skip(p: Path) -> bool:
        digest = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        kinds.add(p.relative_to(home).parts[0])  # covered, whether scanned here or as its identical copy
        if digest.hexdigest() in seen:
            return True
        seen.add(digest.hexdigest())
        return False

    return scan_pii(home, raw_values, skip), kinds
