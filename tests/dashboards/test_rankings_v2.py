"""SPEC v2 §4.6 on the dashboards (docs/rules.md#stars, #score, #deductions, #bottom-repeat): a window
not eligible for ranking shows 不参评（样本不足） instead of stars, a window without a score shows —,
score_note codes are translated, deductions and a repeated 末位 are shown — never None, nan or a code.

The fixture snapshot is made v2 here: the v2 columns added and filled the way the dbt marts fill them
(no stars when ineligible; no score without a completed case). The v1 fixture (without the columns)
still opens every page: tests/dashboards/test_pages.py.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core.paths import REPO_ROOT
from tests.support.dashboard_snapshot import add_test_user, published_home

APP = REPO_ROOT / "dashboards" / "app.py"
MONTH = dt.date(2026, 10, 1)
LEAKS = ("None", "nan", "NaN", "S_left_out", "True", "False")


@pytest.fixture(scope="module")
def v2_home(tmp_path_factory):
    with published_home(tmp_path_factory, "dash_v2") as (home, snap):
        con = duckdb.connect(str(snap))
        try:
            con.execute("alter table marts.fct_window_month add column score_note varchar")
            con.execute("alter table marts.fct_window_month add column deductions double default 0.0")
            con.execute("alter table marts.fct_window_month add column is_bottom_repeat boolean default false")
            con.execute("update marts.fct_window_month set stars = null where not is_eligible")
            # W04 (C02, ineligible): no completed case in October, so no score either
            con.execute("update marts.fct_window_month set score = null, cases_completed = 0, on_time_rate = null "
                        "where window_id = 'W04' and month = ?", [MONTH])
            con.execute("update marts.fct_window_month set score_note = 'S_left_out', deductions = 2.5 "
                        "where window_id = 'W01' and month = ?", [MONTH])
            con.execute("update marts.fct_window_month set is_bottom_repeat = is_bottom where month = ?", [MONTH])
            bottom = con.execute("select count(*) from marts.fct_window_month where month = ? and is_bottom",
                                 [MONTH]).fetchone()[0]
            con.execute("checkpoint")
        finally:
            con.close()
        assert bottom > 0
        add_test_user("insp", "inspector", "insp-pass-123")
        yield home


def _open(page: str, lang: str | None = None, window: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["month"] = "2026-10"
    if window:
        at.query_params["window"] = window
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.text_input(key="login_user").input("insp")
    at.text_input(key="login_password").input("insp-pass-123")
    at.button[0].click().run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "info", "warning", "error", "subheader")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_rankings_show_not_rated_score_note_deductions_and_repeat(v2_home):
    at = _open("rankings")
    table = at.dataframe[0].value
    rows = {r["窗口"]: r for r in table.to_dict("records")}
    assert rows["高新区即办窗口"]["星级"] == "不参评（样本不足）"  # W04: ineligible, no stars
    assert rows["高新区即办窗口"]["得分"] == "—"  # and no score: nothing completed
    assert rows["公安综合窗口1"]["得分说明"] == "本月全中心无主动评价，满意度 S 不计入，其余权重按比例放大"
    assert rows["公安综合窗口1"]["扣分"] == "2.50"
    eligible = [r for r in table.to_dict("records") if r["参与排名"] == "✓"]
    assert eligible and all(r["星级"].startswith("★") for r in eligible)  # near miss: eligible rows keep stars
    assert "连续两个月末位，须约谈" in _text(at)
    shown = table.to_csv() + _text(at)
    assert not [s for s in LEAKS if s in shown], shown


def test_rankings_in_english(v2_home):
    at = _open("rankings", lang="en")
    table = at.dataframe[0].value
    assert "Not rated (too few cases)" in set(table["Stars"])
    assert "S left out" in " ".join(table["Score note"])


def test_window_detail_without_a_score(v2_home):
    at = _open("window_detail", window="W04")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["得分"] == "—" and metrics["星级"] == "不参评（样本不足）"
    assert any("本月无办结件" in c.value for c in at.caption)
    at = _open("window_detail", window="W01")
    captions = " ".join(c.value for c in at.caption)
    assert "得分说明：本月全中心无主动评价" in captions and "本月扣分：2.50 分" in captions
    assert not [s for s in LEAKS if s in captions + " ".join(m.value for m in at.metric)]
