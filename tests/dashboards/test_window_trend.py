"""A window's month trends on 窗口明细 (issue 19): score, on-time rate and satisfaction over the last 12
months beside its centre's, months labelled in Chinese (2026年10月), the window's points equal to
fct_window_month."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from dashboards import queries as q
from tests.support.app_pages import signed_in
from tests.support.dashboard_snapshot import add_test_user, published_home

PASSWORD = "trend-pass-123"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with published_home(tmp_path_factory, "trend") as (h, snap):
        add_test_user("insp", "inspector", PASSWORD)
        yield h, str(snap)


def test_window_trend_query_beside_the_centre(home):
    _, snap = home
    trend = q.window_trend(snap, "W01", dt.date(2026, 10, 1))
    con = duckdb.connect(snap, read_only=True)
    try:
        expected = con.execute("select month, score, on_time_rate from marts.fct_window_month where window_id = 'W01' "
                               "order by month").fetchall()
        centre = con.execute("select avg(m.score) from marts.fct_window_month m join marts.dim_window w using (window_id) "
                             "where w.center_id = (select center_id from marts.dim_window where window_id = 'W01') "
                             "and m.month = '2026-10-01'").fetchone()[0]
    finally:
        con.close()
    assert [(r.month.date(), r.score, r.on_time_rate) for r in trend.itertuples()] == \
        [(m, s, o) for m, s, o in expected]
    assert trend.centre_score.iloc[-1] == pytest.approx(centre)
    assert q.window_trend(snap, "W01", dt.date(2026, 9, 1)).month.dt.date.tolist() == [dt.date(2026, 9, 1)]


def test_window_page_draws_the_trends_with_chinese_months(home):
    at = signed_in("insp", PASSWORD, "window_detail", {"month": "2026-10", "window": "W01"})
    charts = {}
    for el in at.get("plotly_chart"):
        fig = json.loads(el.proto.spec)
        charts[fig["layout"]["title"]["text"]] = fig
    score = charts["得分"]
    assert score["data"][0]["x"] == ["2026年9月", "2026年10月"]
    assert score["data"][1]["line"]["dash"] == "dash"
    rates = charts["按时办结率与满意度"]
    assert [d["name"] for d in rates["data"]] == ["按时办结率", "按时办结率（中心）", "好评率", "好评率（中心）"]
