"""The off-book rules' evidence in words (issue 19: no English sentence in the Chinese interface).

The evidence dbt publishes is pinned by the rules' dbt unit tests (dbt_project/models/intermediate/
off_book/_int_off_book.yml): every expected evidence there is read back by dashboards/evidence.py into a
Chinese sentence without an English word, carrying the evidence's ids and times, and into English when
the page is switched. A change of the dbt phrasing fails here, not on a page.
"""

from __future__ import annotations

import re

import pytest
import yaml

from core.paths import REPO_ROOT
from dashboards.evidence import explain
from dashboards.i18n import t
from tests.support.untranslated import untranslated

UNIT_TESTS = REPO_ROOT / "dbt_project" / "models" / "intermediate" / "off_book" / "_int_off_book.yml"
TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def dbt_evidence() -> list[tuple[str, str]]:
    doc = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))
    rows = [row for test in doc.get("unit_tests", []) for row in (test.get("expect") or {}).get("rows") or []]
    return sorted({(r["rule_id"], r["evidence"]) for r in rows if r.get("evidence") and r.get("rule_id")})


def test_the_dbt_expectations_cover_the_rules():
    assert {rule for rule, _ in dbt_evidence()} >= {"OB_BACKFILL", "OB_OFF_HOURS", "OB_HANDOVER", "OB_REACCEPT",
                                                    "OB_RUNAROUND"}


@pytest.mark.parametrize("rule,evidence", dbt_evidence())
def test_dbt_evidence_reads_as_chinese(rule, evidence, monkeypatch):
    monkeypatch.setattr("dashboards.i18n.current_lang", lambda: "zh")
    text = explain(rule, evidence)
    assert untranslated(text) == {}, (evidence, text)
    assert TS.findall(text) == TS.findall(evidence)  # every time of the evidence is in the sentence
    assert text != evidence


def test_the_sentences_fill_their_values():
    backfill = explain("OB_BACKFILL", "complete C-2 2025-10-13 09:12:00 录入 2025-10-15 10:42:00 (+49.5 h)")
    assert backfill == t("evidence.OB_BACKFILL", lang="zh", event="办结", event_id="C-2", at="2025-10-13 09:12:00",
                         recorded="2025-10-15 10:42:00", hours="49.5")
    two = explain("OB_OFF_HOURS", "accept A-1 2025-10-09 08:29:59 at W1 (workday 08:30:00–18:00:00); "
                                  "accept D-1 2025-10-03 10:00:00 at W1 (non_workday closed)")
    assert "工作日 08:30:00–18:00:00" in two and "非工作日不开放" in two and two.count("受理") == 2
    runaround = explain("OB_RUNAROUND", "evaluation V1 2025-10-10 10:00:00 reasons slow;multiple_trips")
    assert "办理慢；多次跑" in runaround
    gap = explain("OB_VOLUME_GAP", "department D2 2025-10-01: reported 120 cases, centre recorded 100 (120.0 %) "
                                   "> 110.0 % threshold")
    assert gap == "部门 D2 2025-10 报送办件 120 件，中心系统记录 100 件（为记录量的 120.0%），超过 110.0% 的阈值"
    instant = explain("OB_INSTANT", "accept 2025-10-09 09:00:00 complete 2025-10-09 09:06:00 (6.0 min; item I1 "
                                    "promised limit 5)")
    assert "仅用 6.0 分钟" in instant and "I1" in instant


def test_evidence_of_another_shape_keeps_its_text_with_codes_named():
    """An evidence the pattern does not know (an older snapshot's) is shown, its event codes in words."""
    assert explain("OB_BACKFILL", "complete 事件录入时间晚于环节时间 52.3 小时") == "办结 事件录入时间晚于环节时间 52.3 小时"
