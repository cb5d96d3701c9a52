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
