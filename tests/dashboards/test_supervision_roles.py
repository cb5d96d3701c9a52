"""The 督办 page per role through the real app (AppTest): the manager sees the monthly figures and no
item, a department liaison only its department's queue, an inspector the actions; English shows no
Chinese state word and Chinese no store code (SPEC §4.11, §7, §8)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.paths import REPO_ROOT, Home
from tests.support.dashboard_snapshot import publish_fixture
from tests.support.security import screen_text
from tests.support.supervision import PASSWORD, add_users
from windowwatch.supervision.model import STATES, items
from windowwatch.supervision.store import open_store
from windowwatch.supervision.sync import sync

APP = REPO_ROOT / "dashboards" / "app.py"
NOW = dt.datetime(2026, 10, 21, 9, 0)


@pytest.fixture()
def world(ww_home, monkeypatch):
    monkeypatch.delenv("WINDOWWATCH_SUPERVISION_URL", raising=False)
    publish_fixture(ww_home)
    add_users()
    store = open_store(Home(ww_home))
    sync(store, now=NOW, send=False)
    yield store
    store.dispose()


def _page(user: str, query: dict | None = None, lang: str = "zh") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"lang": lang, **(query or {})})
    at.run()
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    at.switch_page("app_pages/supervision.py")
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _count(store, **where) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(items)
                            .where(*(items.c[k] == v for k, v in where.items()))).scalar_one()


def test_the_manager_sees_the_monthly_figures_and_no_item(world):
    at = _page("mgr")
    headers = [list(df.value.columns) for df in at.dataframe]
    assert headers and all("新立督办件" in h for h in headers), headers  # only the figures table
    at.selectbox(key="sup_stats_month").set_value(dt.date(2026, 10, 1)).run()
    figures = at.dataframe[0].value
    assert int(figures["新立督办件"].sum()) == _count(world)
    assert not at.get("form_submit_button") and not at.tabs
    first = _ids_of(world)[0]
    at = _page("mgr", {"item": str(first)})  # an item's link: still the figures only
    assert "督办件 " + str(first) not in screen_text(at)


def _ids_of(store) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(items.c.item_id).order_by(items.c.item_id)).scalars())


def test_a_department_queue_holds_only_its_department(world):
    at = _page("d02")
    text = screen_text(at)
    assert f"共 {_count(world, department_id='D02')} 件" in text
    queue = next(df.value for df in at.dataframe if "涉及对象" in df.value.columns)
    queue = getattr(queue, "data", queue)
    assert len(set(queue["部门"])) == 1  # one department: its own
    assert len(queue) == _count(world, department_id="D02")
    # no link to 窗口明细 or 办件: pages a department liaison cannot open (dashboards/app.py PAGES)
    assert "窗口详情" not in queue.columns and "办件" not in queue.columns, list(queue.columns)


def test_the_inspector_queue_links_each_window_and_case(world):
    """Issue 19: a queue row's window opens 窗口明细 with the page's month, its case — a case trigger's, or the
    case an evaluation rates — 办件, each in one click; a row about no case (a video flag, a work order) has no
    case link."""
    import duckdb

    from windowwatch.snapshot import current_snapshot

    with world.engine.connect() as conn:
        stored = {r.item_id: r for r in conn.execute(sa.select(items.c.item_id, items.c.kind, items.c.subject_id,
                                                               items.c.window_id))}
    con = duckdb.connect(str(current_snapshot(world.home)), read_only=True)
    rated = dict(con.sql("select evaluation_id, case_id from marts.fct_evaluation").fetchall())
    con.close()
    at = _page("insp")
    queue = next(df.value for df in at.dataframe if "涉及对象" in df.value.columns)
    queue = getattr(queue, "data", queue)
    assert len(queue) == min(_count(world), 500)
    kinds = set()
    for r in queue.itertuples(index=False):
        item = stored[int(r[list(queue.columns).index("编号")])]
        link = dict(zip(queue.columns, r))
        assert link["窗口详情"] == f"window?w={item.window_id}&month=2026-10", link
        case = item.subject_id if item.kind in ("red_card", "legal_overdue", "off_book", "timeliness") else (
            rated.get(item.subject_id) if item.kind in ("bad_review_late", "rating_integrity") else None)
        shown = link["办件"] if isinstance(link["办件"], str) else None  # no link: empty (NaN after Arrow)
        assert shown == (f"case?case={case}" if case else None), (item.kind, link)
        kinds.add((item.kind, case is not None))
    assert {("red_card", True), ("rating_integrity", True), ("substantiated_complaint", False)} <= kinds, kinds


def test_inspector_in_english_and_in_chinese_shows_no_foreign_words(world):
    first = _ids_of(world)[0]
    zh = screen_text(_page("insp", {"item": str(first)}))
    assert f"督办件 {first}" in zh
    for code in (*STATES, "red_card", "legal_overdue", "system"):
        assert not re.search(rf"(?<![A-Za-z_]){code}(?![A-Za-z_])", zh), code
    en = screen_text(_page("insp", {"item": str(first)}, lang="en"))
    assert f"Item {first}" in en
    for word in ("待督办", "已督办", "已升级", "立项"):
        assert word not in en, word
