"""The 评价真实性 tab of the 满意度 page, driven in-process with Streamlit's AppTest against the fixture
snapshot (tests/support/dashboard_snapshot.py): every signal of the month from fct_rating_signal, its rule
and evidence in Chinese, a link to its window and to the rated case (the browser test is
tests/dashboards/e2e/test_rating_integrity_tab.py)."""

from __future__ import annotations

import re

import pandas as pd

from tests.dashboards.test_pages import MONTH, dash_home, login, marts, open_page  # noqa: F401 (fixtures)


def _integrity_frame(at):
    frames = [df.value for df in at.dataframe if df.key == "sat_integrity"] if hasattr(at.dataframe[0], "key") else []
    if not frames:  # AppTest elements without a key attribute: the frame with the evidence column
        frames = [df.value for df in at.dataframe if "证据" in getattr(df.value, "columns", [])]
    assert len(frames) == 1
    return frames[0]


def test_every_signal_with_its_evidence_in_chinese_and_links(dash_home, marts):
    at = open_page(login("insp", query={"month": "2026-10"}), "satisfaction")
    frame = _integrity_frame(at)
    published = marts.execute(
        "select s.rule_id, s.window_id, e.case_id from marts.fct_rating_signal s "
        "left join marts.fct_evaluation e using (evaluation_id) where s.month = ? order by s.rule_id", [MONTH]).fetchall()
    assert len(frame) == len(published) == 2
    assert set(frame["规则"]) == {"无服务评价", "满意度异常"}
    by_rule = {r["规则"]: r for _, r in frame.iterrows()}
    no_service, too_perfect = by_rule["无服务评价"], by_rule["满意度异常"]
    assert "前后 30 分钟内没有任何办件记录" in no_service["证据"]
    assert "52 条主动评价全部为「非常满意」" in too_perfect["证据"] and "9.13e-06" in too_perfect["证据"]
    assert not any(re.search(r"[a-z_]+=\S", e) for e in frame["证据"])  # no key=value shows through
    (_, window_id, case_id), (_, perfect_window, _) = published
    # the window's link carries the page's filters (issue 19: a shareable URL with the filters)
    assert no_service["窗口详情"] == f"window?w={window_id}&month=2026-10"
    assert no_service["办件"] == f"case?case={case_id}"
    assert too_perfect["窗口详情"] == f"window?w={perfect_window}&month=2026-10"
    assert pd.isna(too_perfect["办件"])  # a window-month signal has no case
