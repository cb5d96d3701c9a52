"""End-to-end window scoring (SPEC §4.3–4.6): landing fixtures -> transform.build -> marts.

One hand-made month (November 2025: no holidays, as of 2025-11-30) in the default centre:
- W01 (D01): 20 WD5 cases, 2 completed late, one accepted at 19:00 (OB_OFF_HOURS), 10 ratings
  (8 good, 1 neither, 1 bad rectified in time), one confirmed phone flag, one dismissed.
- W02 (D01): 25 WD5 cases on time, 30 ratings (27 good), a confirmed private_handover flag on
  the day one of its cases was accepted (OB_HANDOVER on that case + veto).
- W03 (D02): 22 immediate cases completed within minutes (no OB_INSTANT: not a promised item),
  no ratings, one pending flag.
- W04 (D02): 20 WD5 cases on time + one accepted 11-28 and recorded 49.5 h later (OB_BACKFILL:
  veto of the acceptance month).
Every expected number is computed here from SPEC's formulas, not read back from the warehouse.
"""

from __future__ import annotations

import math

import pytest

from tests.support.landing import ITEMS, WINDOWS, case_events, write_landing
from tests.support.warehouse import warehouse_rows
from core.paths import Home
from windowwatch.transform import build

AS_OF = "2025-11-30"
W = {"T": 0.30, "S": 0.30, "D": 0.15, "I": 0.15, "R": 0.10}  # scoring.yaml defaults
PRIOR = 20


def _score(t: float, s: float, d: float, i: float, r: float) -> float:
    return round(100 * (W["T"] * t + W["S"] * s + W["D"] * d + W["I"] * i + W["R"] * r), 2)


def _stars(score: float) -> int:
    return next((n for n, lo in ((5, 95), (4, 90), (3, 85), (2, 80)) if score >= lo), 1)


W04 = {**WINDOWS[2], "window_id": "W04", "window_name": "公安综合窗", "window_kind": "comprehensive"}


def _dataset() -> dict[str, list[dict]]:
    tx: list[dict] = []
    # W01: 17 on time, 2 late (deadline = 5th working day after Mon 11-03 = Mon 11-10), 1 off-hours
    for n in range(17):
        tx += case_events(f"A{n:02d}", [("accept", "2025-11-03 10:00:00"), ("complete", "2025-11-05 15:00:00")], "W01")
    for n in (17, 18):
        tx += case_events(f"A{n:02d}", [("accept", "2025-11-03 10:00:00"), ("complete", "2025-11-12 15:00:00")], "W01")
    tx += case_events("A19", [("accept", "2025-11-03 19:00:00"), ("complete", "2025-11-05 15:00:00")], "W01")
    # W02: 24 cases on Tue 11-04, one on Fri 11-07 accepted 30 min before the handover flag (± 60 min)
    for n in range(24):
        tx += case_events(f"B{n:02d}", [("accept", "2025-11-04 10:00:00"), ("complete", "2025-11-06 11:00:00")], "W02")
    tx += case_events("B24", [("accept", "2025-11-07 14:30:00"), ("complete", "2025-11-10 11:00:00")], "W02")
    # W03: immediate items done in 5 minutes (limit 0: deadline = end of the acceptance day)
    for n in range(22):
        tx += case_events(f"C{n:02d}", [("accept", "2025-11-11 09:00:00"), ("complete", "2025-11-11 09:05:00")],
                          "W03", "IMM")
    # W04: 20 clean cases + KB accepted Fri 11-28, recorded 49.5 h later, still open (OB_BACKFILL)
    for n in range(20):
        tx += case_events(f"K{n:02d}", [("accept", "2025-11-03 10:00:00"), ("complete", "2025-11-05 10:00:00")], "W04")
    tx += case_events("KB", [("accept", "2025-11-28 09:12:00", {"recorded_at": "2025-11-30 10:42:00"})], "W04")

    def rating(eid, window, value, case=None, when="2025-11-06 12:00:00", **extra):
        return {"evaluation_id": eid, "case_id": case, "window_id": window, "rating": value,
                "channel": "pad", "evaluated_at": when, **extra}

    evals = [rating(f"VA{n}", "W01", 5, f"A{n:02d}") for n in range(8)]
    evals.append(rating("VA8", "W01", 3, "A08"))
    # bad review on Tue 11-04: 15th working day after = Tue 11-25; rectified 11-20 -> on time
    evals.append(rating("VA9", "W01", 1, "A09", when="2025-11-04 16:00:00", reason_codes="attitude",
                        verdict="valid", verified_at="2025-11-05 10:00:00", rectified_at="2025-11-20 10:00:00"))
    evals += [rating(f"VB{n}", "W02", 5 if n < 27 else 2, f"B{n:02d}" if n < 25 else None,
                     verdict="invalid" if n >= 27 else None) for n in range(30)]
    flags = [
        {"flag_id": "F1", "window_id": "W01", "flagged_at": "2025-11-12 10:00:00", "flag_type": "phone",
         "source": "ai", "confidence": 0.9, "review_status": "confirmed"},
        {"flag_id": "F2", "window_id": "W01", "flagged_at": "2025-11-13 10:00:00", "flag_type": "sleeping",
         "source": "ai", "confidence": 0.6, "review_status": "dismissed"},
        {"flag_id": "F3", "window_id": "W02", "flagged_at": "2025-11-07 15:00:00", "flag_type": "private_handover",
         "source": "inspector", "review_status": "confirmed"},
        {"flag_id": "F4", "window_id": "W03", "flagged_at": "2025-11-20 10:00:00", "flag_type": "absent",
         "source": "ai", "confidence": 0.7, "review_status": "pending"},
    ]
    volumes = [
        {"department_id": "D01", "month": "2025-11-01", "reported_cases": 50},  # 50 > 1.1 x 45
        {"department_id": "D02", "month": "2025-11-01", "reported_cases": 24},  # 24 <= 1.1 x 22
    ]
    return {"windows": WINDOWS + [W04], "items": ITEMS, "transactions": tx, "evaluations": evals,
            "video_flags": flags, "dept_volumes": volumes}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Home:
    home = Home(tmp_path_factory.mktemp("scoring") / "home")
    for feed, rows in _dataset().items():
        write_landing(home, feed, rows)
    result = build(home, as_of=AS_OF)
    assert result.success, result.summary()
    return home


def _window_month(home: Home) -> dict[str, dict]:
    rows = warehouse_rows(home, "select * from marts.fct_window_month where month = date '2025-11-01'")
    return {r["window_id"]: r for r in rows}


def test_window_scores_match_the_spec_formula(built):
    wm = _window_month(built)
    c = (8 + 27) / (10 + 30)  # the centre's satisfaction rate in November

    a = wm["W01"]
    assert (a["cases_accepted"], a["cases_completed"], a["off_book_cases"]) == (20, 20, 1)
    assert a["on_time_rate"] == pytest.approx(18 / 20)
    assert (a["evaluations"], a["good_reviews"], a["bad_reviews"]) == (10, 8, 1)
    assert a["satisfaction_rate"] == pytest.approx(0.8)
    s_a = (10 * 0.8 + PRIOR * c) / (10 + PRIOR)
    assert a["adjusted_satisfaction"] == pytest.approx(s_a)
    assert (a["rectification_due"], a["rectification_rate"]) == (1, 1.0)
    assert a["evaluation_rate"] == pytest.approx(10 / 20)
    assert (a["video_flags_confirmed"], a["handover_flags_confirmed"], a["video_flags_pending"]) == (1, 0, 0)
    expected_a = _score(18 / 20, s_a, 1 - 0.1 * 1, 1 - 5 * (1 / 20), 1.0)
    assert a["score"] == pytest.approx(expected_a) and expected_a == 87.25
    assert a["stars"] == _stars(expected_a) == 3
    assert a["veto_reason"] is None

    b = wm["W02"]
    assert (b["cases_accepted"], b["cases_completed"], b["off_book_cases"]) == (25, 25, 1)
    assert (b["evaluations"], b["good_reviews"], b["bad_reviews"]) == (30, 27, 3)
    s_b = (30 * 0.9 + PRIOR * c) / (30 + PRIOR)
    assert b["adjusted_satisfaction"] == pytest.approx(s_b)
    assert b["rectification_due"] == 0 and b["rectification_rate"] == 1.0  # the bad ones are invalid
    assert b["evaluation_rate"] == 1.0
    expected_b = _score(1.0, s_b, 1.0, 1 - 5 * (1 / 25), 1.0)  # handover is not in D
    assert b["score"] == pytest.approx(expected_b) and expected_b == 93.7
    assert b["stars"] == 1  # veto caps ★★★★ at ★
    assert "F3" in b["veto_reason"] and "private_handover" in b["veto_reason"]
    assert b["handover_flags_confirmed"] == 1

    w3 = wm["W03"]
    assert (w3["cases_completed"], w3["same_day_rate"], w3["immediate_on_time_rate"]) == (22, 1.0, 1.0)
    assert w3["off_book_cases"] == 0 and w3["evaluations"] == 0 and w3["satisfaction_rate"] is None
    assert w3["adjusted_satisfaction"] == pytest.approx(c)  # no ratings: c
    assert w3["video_flags_pending"] == 1 and w3["video_flags_confirmed"] == 0
    expected_c = _score(1.0, c, 1.0, 1.0, 1.0)
    assert w3["score"] == pytest.approx(expected_c) and w3["stars"] == _stars(expected_c) == 5


def test_ranking_red_flag_and_bottom(built):
    wm = _window_month(built)
    eligible = [w for w in wm.values() if w["is_eligible"]]
    assert len(eligible) == 4 and all(w["eligible_windows"] == 4 for w in eligible)
    by_score = sorted(eligible, key=lambda w: -w["score"])
    assert [w["window_id"] for w in by_score] == ["W03", "W02", "W04", "W01"]
    # SPEC v2 §4.6 changed it: the vetoed W02 (93.7) and W04 (92.68) rank after W01 (87.25), which has
    # no veto (v1: by score alone, 1 2 3 4 in the order above), and 末位 follows that order (v1: W01)
    by_rank = sorted(eligible, key=lambda w: w["rank"])
    assert [(w["window_id"], w["rank"]) for w in by_rank] == [("W03", 1), ("W01", 2), ("W02", 3), ("W04", 4)]
    assert math.ceil(0.10 * 4) == 1 and math.ceil(0.05 * 4) == 1
    # W02 and W04 vetoed, W01 only ★★★
    assert {w for w, r in wm.items() if r["is_red_flag"]} == {"W03"}
    assert {w for w, r in wm.items() if r["is_bottom"]} == {"W04"}
    # a first month: no month before to compare with, so a 末位 has is_bottom_repeat null
    assert wm["W04"]["is_bottom_repeat"] is None and wm["W01"]["is_bottom_repeat"] is False
    assert all(r["deductions"] == 0.0 and r["score_note"] is None for r in wm.values())


def test_off_book_signals_with_evidence(built):
    signals = warehouse_rows(built, "select * from marts.fct_off_book_signal order by rule_id, case_id")
    by_rule = {(s["rule_id"], s["case_id"]): s for s in signals}
    assert set(by_rule) == {("OB_HANDOVER", "B24"), ("OB_OFF_HOURS", "A19"), ("OB_BACKFILL", "KB"),
                            ("OB_VOLUME_GAP", None)}
    assert by_rule[("OB_BACKFILL", "KB")]["evidence"] == "accept KB-1 2025-11-28 09:12:00 录入 2025-11-30 10:42:00 (+49.5 h)"
    assert "F3" in by_rule[("OB_HANDOVER", "B24")]["evidence"]
    assert "B24-1" in by_rule[("OB_HANDOVER", "B24")]["evidence"]
    assert str(by_rule[("OB_HANDOVER", "B24")]["signal_date"]) == "2025-11-07"
    assert "19:00:00" in by_rule[("OB_OFF_HOURS", "A19")]["evidence"]
    gap = by_rule[("OB_VOLUME_GAP", None)]
    assert gap["department_id"] == "D01" and str(gap["signal_date"]) == "2025-11-01"
    assert "50" in gap["evidence"] and "45" in gap["evidence"]
    counts = {r["case_id"]: r["off_book_signals"] for r in warehouse_rows(
        built, "select case_id, off_book_signals from marts.fct_case where case_id in ('A19', 'B24', 'A00')")}
    assert counts == {"A19": 1, "B24": 1, "A00": 0}


def test_department_month_and_volume_gap(built):
    dm = {r["department_id"]: r for r in warehouse_rows(
        built, "select * from marts.fct_department_month where month = date '2025-11-01'")}
    d1, d2 = dm["D01"], dm["D02"]
    assert (d1["cases_accepted"], d1["cases_completed"], d1["reported_cases"], d1["volume_gap"]) == (45, 45, 50, 5)
    assert d1["has_volume_gap_signal"] is True and d2["has_volume_gap_signal"] is False
    assert d1["on_time_rate"] == pytest.approx(43 / 45)
    assert d1["satisfaction_rate"] == pytest.approx(35 / 40)
    assert (d2["cases_accepted"], d2["reported_cases"], d2["volume_gap"]) == (43, 24, -19)


def test_evaluation_and_video_marts(built):
    ev = {r["evaluation_id"]: r for r in warehouse_rows(built, "select * from marts.fct_evaluation")}
    va9 = ev["VA9"]
    assert va9["is_bad"] and va9["needs_rectification"]
    assert str(va9["rectification_deadline"]) == "2025-11-25 23:59:59"
    assert str(va9["rectification_month"]) == "2025-11-01"
    assert va9["is_rectified_on_time"] is True and va9["is_rectification_late"] is False
    assert ev["VB29"]["is_bad"] and not ev["VB29"]["needs_rectification"]  # verified invalid
    assert ev["VA8"]["is_good"] is False and ev["VA8"]["is_bad"] is False  # 基本满意
    flags = {r["flag_id"]: r["counts_for_discipline"] for r in warehouse_rows(built, "select * from marts.fct_video_flag")}
    assert flags == {"F1": True, "F2": False, "F3": True, "F4": False}


def test_backfill_vetoes_the_acceptance_month(built):
    """OB_BACKFILL on a case accepted in November caps November (the case is still open)."""
    wm = _window_month(built)["W04"]
    assert wm["veto_reason"] is not None and "KB" in wm["veto_reason"] and "OB_BACKFILL" in wm["veto_reason"]
    assert (wm["cases_accepted"], wm["cases_completed"], wm["off_book_cases"]) == (21, 20, 1)
    # T = 1, S = c (no ratings at W04), D = 1, I = 1 - 5 x 1/21, R = 1
    c = (8 + 27) / (10 + 30)
    expected = _score(1.0, c, 1.0, 1 - 5 / 21, 1.0)
    assert wm["score"] == pytest.approx(expected)
    assert wm["stars"] == 1 and _stars(expected) == 4
    assert wm["is_eligible"] and not wm["is_red_flag"]
