"""满意度 · 差评闭环 (SPEC §4.4 v2, issue 17): the backlog queries (dashboards/queries.py) against the
fixture snapshot's marts computed independently here, the days-left wording, and the tab in AppTest:
every value in Chinese, no column name or enum value (upheld / overturned / default) showing through.
The browser test is tests/dashboards/e2e/test_satisfaction_backlog_tab.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from dashboards import queries as q
from dashboards.satisfaction_backlog import backlog_table, days_text
from tests.dashboards.test_pages import MONTH, all_text, dash_home, login, marts, open_page  # noqa: F401 (fixtures)
from tests.support.dashboard_snapshot import AS_OF

OPEN = {  # stage -> (needs it, deadline, still open): written out here, not taken from the module
    "verification": ("needs_verification", "verification_deadline", "verified_at is null"),
    "rectification": ("needs_rectification", "rectification_deadline",
                      "(rectified_at is null or coalesce(callback_result, '') = 'unsatisfied')"),
    "callback": ("needs_callback", "callback_deadline", "callback_at is null"),
}


@pytest.mark.parametrize("stage", list(OPEN))
def test_backlog_is_every_open_review_by_deadline(dash_home, marts, stage):
    needs, deadline, still_open = OPEN[stage]
    want = marts.execute(f"select evaluation_id, {deadline}::date from marts.fct_evaluation "
                         f"where {needs} and {still_open} order by {deadline}, evaluation_id").fetchall()
    got = q.review_backlog(str(dash_home[1]), q.Filters(), stage)
    assert want, f"the fixture has no open {stage}"
    assert list(got.evaluation_id) == [e for e, _ in want]
    assert list(got.days_left) == [(d - AS_OF).days for _, d in want]
    assert list(got.deadline) == sorted(got.deadline)
    # the window filter narrows it to that window's reviews
    w = got.window_id.iloc[0]
    only = q.review_backlog(str(dash_home[1]), q.Filters(window=w), stage)
    assert len(only) and set(only.window_id) == {w}


def test_backlogs_hold_an_overdue_callback_and_no_closed_review(dash_home, marts):
    path = str(dash_home[1])
    callbacks = q.review_backlog(path, q.Filters(), "callback")
    assert (callbacks.days_left < 0).any()
    closed = {r[0] for r in marts.execute("select evaluation_id from marts.fct_evaluation "
                                          "where callback_at is not null or is_overturned").fetchall()}
    assert not closed & set(callbacks.evaluation_id)
    overturned = {r[0] for r in marts.execute("select evaluation_id from marts.fct_evaluation where is_overturned").fetchall()}
    assert overturned and not overturned & set(q.review_backlog(path, q.Filters(), "rectification").evaluation_id)


def test_appeals_and_their_outcome_per_window(dash_home, marts):
    path = str(dash_home[1])
    months = [r[0] for r in marts.execute("select distinct date_trunc('month', appeal_at)::date from "
                                          "marts.fct_evaluation where appeal_at is not null").fetchall()]
    seen = {"upheld": 0, "overturned": 0, "pending": 0}
    for month in months:
        per_window = q.appeals_by_window(path, q.Filters(), month)
        rows = q.appeals(path, q.Filters(), month)
        assert per_window.appeals.sum() == len(rows) > 0
        for _, r in per_window.iterrows():
            mine = rows[rows.window_id == r.window_id]
            assert r.upheld == (mine.appeal_result == "upheld").sum()
            assert r.overturned == (mine.appeal_result == "overturned").sum()
            assert r.pending == mine.appeal_result.isna().sum()
        seen["upheld"] += int(per_window.upheld.sum())
        seen["overturned"] += int(per_window.overturned.sum())
        seen["pending"] += int(per_window.pending.sum())
    assert seen == {"upheld": 2, "overturned": 1, "pending": 1}


def test_default_share_beside_the_v2_rates(dash_home, marts):
    df = q.default_share(str(dash_home[1]), q.Filters(), MONTH).set_index("window_id")
    want = marts.execute("select window_id, count(*), count(*) filter (where is_default) from marts.fct_evaluation "
                         "where date_trunc('month', evaluated_at)::date = ? group by all", [MONTH]).fetchall()
    assert want
    for w, n, defaults in want:
        assert (df.loc[w, "ratings"], df.loc[w, "default_ratings"]) == (n, defaults)
        assert df.loc[w, "default_share"] == pytest.approx(defaults / n)
    rates = dict(marts.execute("select window_id, callback_rate from marts.fct_window_month where month = ?",
                               [MONTH]).fetchall())
    assert df.callback_rate.to_dict() == pytest.approx(rates)


def test_days_left_in_words():
    assert days_text(3) == "剩余 3 天"
    assert days_text(0) == "今日到期"
    assert days_text(-2) == "已逾期 2 天"


def test_backlog_table_links_the_window_and_the_case():
    import pandas as pd

    df = pd.DataFrame({"evaluation_id": ["EV1"], "case_id": ["C 1"], "window_id": ["W01"], "window_name": ["窗口"],
                       "rating": [1], "evaluated_at": [pd.Timestamp("2026-10-09 10:00")],
                       "deadline": [pd.Timestamp("2026-10-14 23:59:59")], "days_left": [-6]})
    row = backlog_table(df).iloc[0]
    assert row.open_window == "window?w=W01" and row.open_case == "case?case=C%201"
    assert (row.deadline, row.status, row.rating) == ("2026-10-14", "已逾期 6 天", "非常不满意")


def _frame(at, header: str):
    frames = [v.data if hasattr(v, "data") else v for v in (df.value for df in at.dataframe)]  # a Styler: .data
    frames = [f for f in frames if header in f.columns]
    assert frames, header
    return frames


def test_loop_tab_in_chinese_without_english_enums(dash_home, marts):
    at = open_page(login("insp", query={"month": "2026-10"}), "satisfaction")
    text = all_text(at)
    for heading in ("待核实差评", "待整改差评", "待回访差评", "申诉复核", "系统默认评价占比"):
        assert heading in text
    statuses = [s for f in _frame(at, "剩余/逾期") for s in f["剩余/逾期"]]
    assert any(re.fullmatch(r"已逾期 \d+ 天", s) for s in statuses), statuses
    assert all(re.fullmatch(r"已逾期 \d+ 天|剩余 \d+ 天|今日到期", s) for s in statuses), statuses
    outcomes = set(_frame(at, "复核结果")[0]["复核结果"])
    assert outcomes and outcomes <= {"维持差评", "撤销差评", "复核中"}
    shares = _frame(at, "默认评价占比")[0]
    assert {"主动评价率", "按时核实率", "按时回访率"} <= set(shares.columns)
    for word in ("upheld", "overturned", "default", "sblcol.", "sbl.", "days_left", "callback_deadline"):
        assert word not in text, word
