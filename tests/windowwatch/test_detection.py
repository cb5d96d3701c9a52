"""Detection quality (issue 3): on `windowwatch generate --scale small` output, every injected
anomaly in the ground truth is found by its rule and nothing else fires — precision and recall
1.0 per off-book rule, per 时限合规 TL_ rule (issue 16) and per 评价真实性 RI_ rule (issue 17) — and the
vetoes, bad-review rectification states and the §4.4 closed-loop flags (default ratings, appeals,
verification and callback deadlines) match the truth.

generate -> ingest.run.ingest_all (the repo's windowwatch.yaml: one files source) ->
transform.build as of the truth's as-of date -> compare marts with <out>/_truth/*.csv.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from windowwatch.detection import (RI_RULES, RULES, RuleQuality, compare, detection_table, evaluation_flag_mismatches,
                                   format_table)
from core.paths import Home

@pytest.fixture(scope="module")
def small(small_pipeline) -> dict:
    p = small_pipeline
    assert any(n.resource_type == "test" for n in p.build.nodes), "the data tests must run on generated data"
    return {"home": p.home, "truth_dir": p.truth_dir, "truth": p.truth, "build": p.build}


def _query(home: Home, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def _truth_csv(small: dict, name: str) -> pl.DataFrame:
    return pl.read_csv(small["truth_dir"] / name, infer_schema=False)


@pytest.fixture(scope="module")
def quality(small) -> list[RuleQuality]:
    return detection_table(small["home"].warehouse, small["truth_dir"])


@pytest.mark.parametrize("rule", RULES + RI_RULES)
def test_precision_and_recall_are_one(quality, rule):
    q = next(r for r in quality if r.rule_id == rule)
    assert q.truth, f"the generator injected no {rule}: the test would prove nothing"
    assert (q.precision, q.recall) == (1.0, 1.0), (
        f"{rule}: precision {q.precision} recall {q.recall}; missed {q.missed[:5]} extra {q.extra[:5]}"
    )


def test_boundary_cases_fire_as_the_truth_says(small):
    """The cases placed exactly at a threshold (ground_truth.json boundary_cases) fire only where inclusive."""
    found = _query(small["home"], """
        select rule_id, case_id from marts.fct_off_book_signal
        union select rule_id, case_id from marts.fct_timeliness_signal
    """)
    got = set(found.rows())
    boundary = small["truth"]["boundary_cases"]
    assert {b["rule_id"] for b in boundary} >= {"OB_INSTANT", "OB_BACKFILL", "OB_REACCEPT", "OB_OFF_HOURS",
                                                "TL_LATE_NOTICE", "TL_EXTENSION_LATE", "TL_LATE_DELIVERY"}
    for b in boundary:
        fires = b["expected"].startswith("signal")
        assert ((b["rule_id"], b["case_id"]) in got) == fires, b


def test_no_rule_outside_the_spec_fires(quality):
    assert [r.rule_id for r in quality] == RULES + RI_RULES, format_table(quality)


def test_detection_table_counts_misses_and_extras():
    # the comparison itself: one missed, one extra, one outside the spec
    truth = {("OB_INSTANT", "K1", "W1", "D1", None), ("OB_INSTANT", "K2", "W1", "D1", None),
             ("OB_VOLUME_GAP", None, None, "D1", "2025-10")}
    found = {("OB_INSTANT", "K1", "W1", "D1", None), ("OB_INSTANT", "K3", "W1", "D1", None),
             ("OB_VOLUME_GAP", None, None, "D1", "2025-10"), ("OB_MADE_UP", "K1", "W1", "D1", None)}
    rows = {r.rule_id: r for r in compare(truth, found)}
    assert (rows["OB_INSTANT"].precision, rows["OB_INSTANT"].recall) == (0.5, 0.5)
    assert rows["OB_VOLUME_GAP"].precision == rows["OB_VOLUME_GAP"].recall == 1.0
    assert rows["OB_BACKFILL"].recall is None and rows["OB_MADE_UP"].precision == 0.0
    assert "| OB_INSTANT | 2 | 2 | 1 | 0.5000 | 0.5000 |" in format_table(list(rows.values()))


def test_vetoes_match_the_truth(small):
    truth = _truth_csv(small, "vetoes.csv")
    expected: dict[tuple, set[str]] = {}
    for w, m, reason in truth.rows():
        expected.setdefault((w, m), set()).add(reason)
    assert expected
    wm = _query(small["home"], """
        select window_id, strftime(month, '%Y-%m') as month, veto_reason, stars, is_eligible
        from marts.fct_window_month where veto_reason is not null
    """)
    got: dict[tuple, set[str]] = {}
    for w, m, reason, stars, eligible in wm.rows():
        # SPEC v2 §4.6 changed it: an ineligible window has no stars at all (v1: ★ under a veto)
        assert stars == (1 if eligible else None), f"{w} {m}: vetoed but {stars} stars"
        kinds = set()
        if "private_handover" in reason:
            kinds.add("private_handover")
        if "OB_BACKFILL" in reason:
            kinds.add("backfill")
        got[(w, m)] = kinds
    assert got == expected


def test_bad_review_rectification_matches_the_truth(small):
    truth = _truth_csv(small, "bad_reviews.csv")
    ev = _query(small["home"], """
        select evaluation_id, needs_rectification, cast(rectification_deadline as date) as deadline,
               is_rectified_on_time, rectified_at is not null and cast(rectified_at as date) <= as_of as rectified
        from marts.fct_evaluation, (select max(as_of_date) as as_of from marts.fct_window_month)
        where is_bad
    """)
    mine = {r[0]: r for r in ev.rows()}
    assert set(mine) == set(truth["evaluation_id"])
    for eid, deadline, state in truth.rows():
        _, needs, my_deadline, on_time, rectified = mine[eid]
        if state == "invalid":
            assert not needs, eid
            continue
        assert needs and str(my_deadline) == deadline, (eid, my_deadline, deadline)
        assert {"rectified_on_time": (True, True), "rectified_late": (False, True),
                "unrectified": (False, False),
                # 发回重办: rectified_at is given, but the applicant was unsatisfied at the callback
                "rejected_at_callback": (False, True)}[state] == (on_time, rectified), (eid, state, on_time, rectified)
    assert {"rejected_at_callback", "rectified_on_time", "rectified_late", "unrectified", "invalid"} <= set(truth["state"])


def test_closed_loop_flags_match_the_truth(small):
    """SPEC §4.4 v2 on the generator's data: default ratings, overturned appeals, the verification and callback
    deadlines and whether each was met — every evaluation of fct_evaluation agrees with the truth."""
    truth = pl.read_csv(small["truth_dir"] / "evaluation_flags.csv", try_parse_dates=True)
    assert truth["is_default"].sum() > 100 and truth["is_overturned"].sum() >= 2
    assert (truth["is_verified_on_time"] == False).sum() >= 2  # noqa: E712
    assert (truth["is_called_back_on_time"] == False).sum() >= 2  # noqa: E712
    mismatches = evaluation_flag_mismatches(small["home"].warehouse, small["truth_dir"])
    assert not any(mismatches.values()), {f: m[:3] for f, m in mismatches.items() if m}
    # the default ratings are in no satisfaction figure: the window-month counts leave them out
    wm = _query(small["home"], """
        select sum(default_ratings) as d from marts.fct_window_month
    """)
    assert wm["d"][0] == truth["is_default"].sum()


def test_ranking_is_consistent(small):
    wm = _query(small["home"], "select * from marts.fct_window_month")
    assert wm.height > 0
    for (month,), part in wm.group_by(["month"]):
        eligible = part.filter(pl.col("is_eligible"))
        assert eligible.height > 0, f"{month}: no eligible window in the small centre"
        # SPEC v2 §4.6 changed it: vetoed windows rank after every window without a veto, so rank 1
        # is the best score without a veto (or the best vetoed one when all are vetoed)
        unvetoed = eligible.filter(pl.col("veto_reason").is_null())
        best = (unvetoed if unvetoed.height else eligible).sort("score", descending=True)
        assert best["rank"][0] == 1
        if unvetoed.height and unvetoed.height < eligible.height:
            assert eligible.filter(pl.col("veto_reason").is_not_null())["rank"].min() > unvetoed["rank"].max()
        assert part.filter(~pl.col("is_eligible"))["rank"].null_count() == part.filter(~pl.col("is_eligible")).height
        assert part.filter(pl.col("is_red_flag") & pl.col("veto_reason").is_not_null()).height == 0
        assert part.filter(pl.col("is_bottom")).height >= 1


def test_truth_summary_is_what_we_checked(small):
    """The truth file's own counts agree with the CSV we compared (guards a stale truth dir)."""
    gt = json.loads(Path(small["truth_dir"] / "ground_truth.json").read_text(encoding="utf-8"))
    by_rule = _truth_csv(small, "signals.csv").group_by("rule_id").len()
    assert dict(by_rule.rows()) == gt["counts"]["signals_by_rule"]


@pytest.mark.parametrize("rule_model", ["int_off_book__backfill", "int_off_book__off_hours", "int_off_book__handover"])
def test_event_rules_find_hits_in_a_narrow_pass(small, rule_model):
    # The truth above is checked on the DuckDB rowid path (macros/incremental/case_events.sql): each rule finds
    # its hits on narrow columns of int_cases__events_latest and reads the wide columns by rowid for
    # the hits only, never the whole view (the dbt unit tests check the plain path Spark uses).
    compiled = next((small["home"].root / "dbt" / "target" / "compiled").rglob(f"{rule_model}.sql")).read_text()
    assert "rowid as event_rid" in compiled and "rowid in (select event_rid from" in compiled, compiled[:2000]
    assert '"int_cases__events_latest"' in compiled
    assert '"int_cases__events"' not in compiled, "a rule still scans the whole view"
    # the narrow pass reads exactly the rows of the view (one definition of its filter and columns)
    view = _query(small["home"], "select count(*) as n, sum(hash(columns(*))) as h from intermediate.int_cases__events")
    narrow_pass = "select rowid as event_rid," + compiled.split("(select rowid as event_rid,", 1)[1].split(") as events", 1)[0]
    narrow = _query(small["home"], f"select count(*) as n, sum(hash(columns(* exclude (event_rid)))) as h from ({narrow_pass})")
    assert view.rows() == narrow.rows() and view["n"][0] > 0
