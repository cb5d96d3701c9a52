"""What a hall-screen kiosk token reaches, through the real app with AppTest (SPEC §8; dashboards/kiosk.py):
the hall page only — by navigation, switch_page and direct URL alike —, no filter from the URL, the
screen's configured centre, and nothing at all with a wrong or revoked token."""

from __future__ import annotations

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from core.paths import REPO_ROOT, Home
from dashboards.common import fmt_int
from tests.support.app_pages import app_pages
from tests.support.dashboard_snapshot import AS_OF, published_home
from windowwatch import kiosk

APP = REPO_ROOT / "dashboards" / "app.py"
ONLY_HALL = "大屏链接只能打开大屏页面，其他页面不予显示。"


OTHER_PAGES = [key for key, _ in app_pages() if key != "hall"] + ["login"]
FILES = [file for key, file in app_pages() if key != "hall"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with published_home(tmp_path_factory, "kiosk") as (home, snap):
        h = Home(home)
        tokens = {"all": kiosk.add("tv-all", h), "c02": kiosk.add("tv-c02", h, center="C02"),
                  "revoked": kiosk.add("tv-old", h)}
        kiosk.revoke("tv-old", h)
        yield h, snap, tokens


def open_app(query: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def page_files(at: AppTest) -> set[str]:
    return {str(i["script_path"]).rsplit("/", 1)[-1] for i in at._registered_pages.values() if i.get("script_path")}


def day_count(snap, center: str | None = None) -> int:
    con = duckdb.connect(str(snap), read_only=True)
    day = con.execute("select max(evaluated_at)::date from marts.fct_evaluation where evaluated_at::date <= ?",
                      [AS_OF]).fetchone()[0]
    sql = ("select count(*) from marts.fct_evaluation e join marts.dim_window w using (window_id) "
           "where e.evaluated_at::date = ?" + (" and w.center_id = ?" if center else ""))
    n = con.execute(sql, [day, center] if center else [day]).fetchone()[0]
    con.close()
    return n


def test_the_token_reaches_the_hall_page_only(world):
    _, snap, tokens = world
    # a filter and a case in the URL change nothing: the screen shows the whole hall
    at = open_app({"kiosk": tokens["all"], "center": "C02", "case": "C000001"})
    assert page_files(at) == {"hall.py"}
    assert "今日窗口满意度" in at.title[0].value
    assert {m.label: m.value for m in at.metric}["今日评价数"] == fmt_int(day_count(snap))
    assert not [w for w in at.text_input if w.key == "login_password"]
    assert not at.sidebar.selectbox and not at.sidebar.radio
    for file in FILES:
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{file}")
    for key in OTHER_PAGES:
        at._page_hash = calc_hash(key)
        at.run()
        assert not at.exception
        assert not at.metric and not at.dataframe, key
        assert [e.value for e in at.error] == [ONLY_HALL], key


def test_a_screen_shows_its_configured_centre(world):
    _, snap, tokens = world
    at = open_app({"kiosk": tokens["c02"]})
    assert {m.label: m.value for m in at.metric}["今日评价数"] == fmt_int(day_count(snap, "C02"))
    assert day_count(snap, "C02") != day_count(snap)


@pytest.mark.parametrize("token", ["revoked", "wrong", ""])
def test_a_wrong_or_revoked_token_reaches_nothing(world, token):
    _, _, tokens = world
    for key in ("hall", "overview", "login"):
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params["kiosk"] = tokens.get(token, token)
        at._page_hash = calc_hash(key)
        at.run()
        assert not at.exception
        assert page_files(at) == set()
        assert not at.metric and not at.dataframe and not at.text_input
        assert at.error[0].value.startswith("大屏链接无效或已停用")
