"""Issue 25 end to end: the generated hall-operation feeds (attendance, queue_tickets, work_orders, inspections;
windowwatch/generate/hall_ops.py) through the real pipeline (generate small, seed 1 -> ingest -> dbt build on
DuckDB: the session fixture `small_pipeline`) give exactly the planted truth (`_truth/hall_*.csv`) in the
marts - precision and recall 1.0 for every SPEC v2 §4.10 rule - and their deductions (§4.6) reach the scores.
The comparisons live in tests/support/hall_truth.py.
"""

from __future__ import annotations

import math

import pytest

from tests.support.hall_truth import (check, deduction_checks, deduction_sources, format_table, hall_checks, query,
                                      truth_rows)


@pytest.fixture(scope="module")
def small(small_pipeline):
    return small_pipeline


@pytest.fixture(scope="module")
def checks(small):
    return hall_checks(small.home.warehouse, small.truth_dir)


@pytest.fixture(scope="module")
def scoring(small):
    """The scoring file the build used (windowwatch.transform stores a copy in the home's state/)."""
    from core.config import load_scoring

    return load_scoring(small.home.state / "scoring-used.yaml")


def test_every_hall_rule_finds_exactly_the_planted_truth(checks):
    table = format_table(checks)
    print("\n" + table)
    assert len(checks) == 15
    for c in checks:
        assert c.planted > 0, f"{c.rule}: nothing planted, the comparison would prove nothing\n{table}"
    bad = [c.message() for c in checks if (c.precision, c.recall) != (1.0, 1.0)]
    assert not bad, "\n".join([table, *bad])


def test_the_comparison_counts_misses_extras_and_wrong_figures():
    """No pipeline: one planted row found, one missed, one found with a wrong figure, one extra."""
    truth = [{"k": "a", "n": 1, "x": 0.5}, {"k": "b", "n": 2, "x": 0.25}, {"k": "c", "n": 3, "x": 1.0}]
    found = [{"k": "a", "n": 1, "x": 0.5 + 1e-12}, {"k": "c", "n": 3, "x": 1.1}, {"k": "d", "n": 4, "x": 0.0}]
    c = check("demo", "test", truth, found, ["k"], {"n": None, "x": 1e-9})
    assert (c.planted, c.found, c.true_positives) == (3, 3, 1)
    assert (c.precision, c.recall) == (1 / 3, 1 / 3)
    assert [m[0]["k"] for m in c.missing] == ["b", "c"] and [e[0]["k"] for e in c.extra] == ["c", "d"]
    assert "missing" in c.message() and "'d'" in c.message()
    with pytest.raises(AssertionError, match="duplicate key"):
        check("demo", "test", truth, found + found[:1], ["k"])


def test_the_planted_truth_holds_every_pattern(small):
    """The generator's truth is not degenerate: each kind of planted event is there."""
    events = truth_rows(small.truth_dir, "hall_late_events")
    assert {e["kind"] for e in events} == {"late_arrival", "early_leave"}
    proposals = truth_rows(small.truth_dir, "hall_adjustment_proposals", ints=("proposal",))
    assert {p["proposal"] for p in proposals} == {1, -1}
    wm = truth_rows(small.truth_dir, "hall_attendance_window_month", ints=("days_covered", "absent_days"))
    assert any(r["days_covered"] for r in wm) and any(r["absent_days"] for r in wm)
    short = truth_rows(small.truth_dir, "hall_spot_check_short_days", ints=("done",))
    assert any(r["done"] == 0 for r in short)
    # the boundary rows (exactly at the grace) are neither late nor early
    boundary = small.truth["hall_boundary_rows"]
    assert boundary
    planted_ids = {e["attendance_id"] for e in events}
    rows = query(small.home.warehouse, "select attendance_id, is_late_arrival, is_early_leave "
                                       "from intermediate.int_hall__attendance_staff_day")
    flags = {r["attendance_id"]: (r["is_late_arrival"], r["is_early_leave"]) for r in rows}
    for b in boundary:
        assert b["id"] not in planted_ids, b
        assert flags[b["id"]] == (False, False), b


def test_the_adjustment_evidence_states_the_p90(small):
    rows = query(small.home.warehouse, "select month, business_type, proposal, p90_wait_minutes, "
                                       "round(p90_wait_minutes, 1)::varchar as p90_text, evidence "
                                       "from marts.fct_window_adjustment where proposal <> 0")
    assert rows
    for r in rows:
        assert f"90%等候 {r['p90_text']} 分钟" in r["evidence"], r
        assert r["evidence"].startswith("增设窗口" if r["proposal"] == 1 else "合并窗口"), r


def test_deductions_per_source_match_the_truth(small, scoring):
    dc = deduction_checks(small.home.warehouse, small.truth_dir, scoring.hall)
    table = format_table(dc)
    print("\n" + table)
    for c in dc:
        assert c.planted > 0, f"{c.rule}: nothing planted\n{table}"
    bad = [c.message() for c in dc if (c.precision, c.recall) != (1.0, 1.0)]
    assert not bad, "\n".join([table, *bad])
    sources = deduction_sources(small.home.warehouse)
    print("fct_window_deduction rows per source:", sources)
    assert set(sources) <= {"absent_day", "late", "complaint", "inspection", "late_ack", "rating_signal"}
    # deduct_rating_signal is 0 by default: shown, not scored, so no row
    assert scoring.rating_integrity.deduct_rating_signal > 0 or "rating_signal" not in sources


def test_deductions_reach_the_scores(small, scoring):
    wh = small.home.warehouse
    months = query(wh, """
        select wm.month, wm.window_id, wm.deductions, wm.score, wm.score_note,
               wm.component_t, wm.component_s, wm.component_d, wm.component_i, wm.component_r,
               coalesce(d.points, 0) as listed, d.month is not null as has_rows
        from marts.fct_window_month as wm
        left join (select month, window_id, sum(points) as points from marts.fct_window_deduction group by all) as d
            on d.month = wm.month and d.window_id = wm.window_id""")
    orphans = query(wh, """
        select d.month, d.window_id, count(*) as n from marts.fct_window_deduction as d
        anti join marts.fct_window_month as wm on wm.month = d.month and wm.window_id = d.window_id
        group by all""")
    assert not orphans, f"deductions of window-months without a scorecard row reach no score: {orphans}"

    w = scoring.score.weights
    weights = {"t": w.T, "s": w.S, "d": w.D, "i": w.I, "r": w.R}
    scored_with_deductions = 0
    for r in months:
        key = (r["month"], r["window_id"])
        assert r["deductions"] is not None, key
        assert math.isclose(r["deductions"], r["listed"], abs_tol=1e-9), (key, r["deductions"], r["listed"])
        if r["component_t"] is None:
            assert r["score"] is None, key
            continue
        present = {c: wt for c, wt in weights.items() if r[f"component_{c}"] is not None}
        weighted = sum(wt * r[f"component_{c}"] for c, wt in present.items())
        if len(present) < len(weights):  # a component left out: the others rescaled to sum to 1
            weighted /= sum(present.values())
            left_out = sorted(f"{c.upper()}_left_out" for c in weights if c not in present)
            assert sorted((r["score_note"] or "").split(";")) == left_out, (key, r["score_note"])
        else:
            assert r["score_note"] is None, (key, r["score_note"])
        expected = max(0.0, 100 * weighted - r["deductions"])
        assert r["score"] is not None, key
        assert abs(r["score"] - expected) <= 0.005 + 1e-9, (key, r["score"], expected)
        assert abs(r["score"] * 100 - round(r["score"] * 100)) < 1e-6, (key, r["score"])  # 2 decimals
        if r["deductions"] > 0:
            scored_with_deductions += 1
            assert r["score"] < 100 * weighted or r["score"] == 0.0, key
    assert scored_with_deductions > 0, "no scored window-month carries a deduction: the check proves nothing"


def test_work_order_content_holds_no_planted_phone_or_id(small):
    pii = truth_rows(small.truth_dir, "hall_work_order_pii")
    assert {p["kind"] for p in pii} == {"phone", "id_number"}
    rows = query(small.home.warehouse, "select order_id, content from marts.fct_work_order")
    content = {r["order_id"]: r["content"] for r in rows}
    for p in pii:
        assert p["order_id"] in content, p
        text = content[p["order_id"]]
        assert text, p  # scrubbed, not dropped
        assert p["value"] not in text, (p, text)
    every = "\n".join(t for t in content.values() if t)
    leaked = [p for p in pii if p["value"] in every]
    assert not leaked, leaked
