"""The evidence of the 评价真实性 signals (fct_rating_signal, docs/rules.md#rating-integrity) reads as a
Chinese sentence (dashboards/evidence.py, catalogue `evidence.RI_*`), with the published `key=value`
text of each rule exactly as the dbt models write it (their unit tests in
dbt_project/models/intermediate/rating_integrity/_int_rating_integrity.yml)."""

from __future__ import annotations

import re

import pytest

from dashboards.evidence import explain
from dashboards.i18n import t

PUBLISHED = {
    "RI_BURST": ("device=D1 window=W1 ratings=5 first=2025-10-09 10:00:00 last=2025-10-09 10:03:00 count=5 minutes=3",
                 ["评价设备 D1", "2025-10-09 10:00:00 至 2025-10-09 10:03:00", "5 条评价", "3 分钟内", "集中评价"]),
    "RI_NO_SERVICE": ("rated=2025-10-09 10:00:00 window=W3 minutes=30",
                      ["2025-10-09 10:00:00", "窗口 W3", "30 分钟内没有任何办件记录"]),
    "RI_OFF_HOURS": ("rated=2025-10-09 08:29:59 window=W1 day=workday open=08:30:00 close=18:00:00",
                     ["2025-10-09 08:29:59", "窗口 W1", "工作日 08:30:00–18:00:00", "延时服务"]),
    "RI_TOO_PERFECT": ("n=50 c=0.87 p=0.0009464970839939551 others=100 min_ratings=50 p_value=0.001",
                       ["50 条主动评价全部为「非常满意」", "100 条", "87.0%", "p = cⁿ = 0.000946", "低于 0.001"]),
}


@pytest.mark.parametrize("rule", list(PUBLISHED))
def test_each_rating_rule_reads_as_a_chinese_sentence(rule):
    evidence, parts = PUBLISHED[rule]
    text = explain(rule, evidence)
    assert text != evidence
    for part in parts:
        assert part in text, (part, text)
    assert not re.search(r"\w+=", text), text  # no key=value shows through
    assert not re.search(r"[A-Za-z_]{4,}", text.replace("W1", "").replace("W3", "")), text  # no English words


def test_a_burst_without_a_device_names_the_window_and_a_closed_day_says_so():
    burst = explain("RI_BURST", "device=none window=W4 ratings=6 first=2025-10-09 15:00:00 "
                                "last=2025-10-09 15:02:00 count=5 minutes=3")
    assert "窗口 W4（未标明评价设备）" in burst and "6 条评价" in burst
    closed = explain("RI_OFF_HOURS", "rated=2025-10-03 10:00:00 window=W1 day=non_workday hours=closed")
    assert "非工作日不开放" in closed


def test_tiny_p_values_stay_readable_and_unreadable_evidence_is_shown_as_published():
    text = explain("RI_TOO_PERFECT", "n=300 c=0.5 p=4.909093465297727e-91 others=40 min_ratings=50 p_value=0.001")
    assert "4.91e-91" in text and "50.0%" in text
    assert explain("RI_BURST", "something else") == "something else"
    assert t("enum.rule.RI_TOO_PERFECT") == "满意度异常"
