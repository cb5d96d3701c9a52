"""Landing: schema, every quarantine rule, reconciliation, exactly-once and updates."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl

from ingest.landing_schema import QUARANTINE_SCHEMA, landing_schema
from tests.support.inbox import TX_HEADER, landed, make_inbox, quarantined, result_for, run, write_csv
from core.feeds import FEEDS, QUARANTINE_RULES


def _landing_files(home) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted((home / "landing").rglob("*.parquet"))}


def test_empty_files_of_an_older_contract_are_rewritten(ww_home):
    """A home from before a contract change (e.g. items' valid_from): its `_empty.parquet` lacks the
    new column, which fails staging; the next build or ingest rewrites it, once."""
    from core.paths import Home
    from windowwatch.transform import ensure_empty_files as build_ensure

    home = Home(ww_home)
    build_ensure(home)
    items = ww_home / "landing" / "items" / "_empty.parquet"
    old = pl.DataFrame(schema={k: v for k, v in landing_schema(FEEDS["items"]).items() if k != "valid_from"})
    old.write_parquet(items)
    (ww_home / "landing" / "_empty.contract").unlink()  # an older release wrote none
    build_ensure(home)
    assert dict(pl.read_parquet(items).schema) == landing_schema(FEEDS["items"])
    stamp = items.stat().st_mtime_ns
    build_ensure(home)  # current now: nothing rewritten
    assert items.stat().st_mtime_ns == stamp


def test_two_versions_of_an_item_in_one_delivery_both_land(ww_home, tmp_path):
    """SPEC §3 valid_from: a snapshot may carry an item's earlier and later version (a 减时限
    reform); they are two rows, not a duplicate_conflict. The same version twice with other
    content still is one."""
    inbox = make_inbox(tmp_path)
    header = ["item_code", "item_name", "department_id", "item_kind", "promised_limit", "limit_unit", "valid_from"]
    write_csv(inbox / "items" / "items.csv", [header,
                                              ["I1", "营业执照", "D01", "承诺件", "20", "工作日", ""],
                                              ["I1", "营业执照", "D01", "承诺件", "5", "工作日", "2025-10-01"],
                                              ["I2", "证明", "D02", "即办件", "0", "工作日", "2025-10-01"],
                                              ["I2", "证明", "D02", "即办件", "1", "工作日", "2025-10-01"]])
    report = run(ww_home, inbox)
    assert report.exit_code == 0
    items = landed(ww_home, "items").sort("item_code", "valid_from", nulls_last=False)
    assert items.select("item_code", "promised_limit").rows() == [("I1", 20), ("I1", 5), ("I2", 0)]
    q = quarantined(ww_home, "items")
    assert q.select("line", "rule").rows() == [(5, "duplicate_conflict")]


def test_landing_schema_partitions_and_empty_files(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER + ["recorded_at", "extend_days", "fee_amount", "fee_paid_at_center"],
                                                 ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "", "", "12.5", "是"],
                                                 ["E2", "C1", "extend", "2025-01-07 09:00:00", "W01", "I1", "2025-01-08 10:00:00", "5", "", ""]])
    report = run(ww_home, inbox)
    assert report.exit_code == 0
    for feed in FEEDS.values():
        empty = pl.read_parquet(ww_home / "landing" / feed.name / "_empty.parquet")
        assert empty.height == 0 and dict(empty.schema) == landing_schema(feed)
        assert dict(pl.read_parquet(ww_home / "quarantine" / feed.name / "_empty.parquet").schema) == QUARANTINE_SCHEMA
    parts = sorted(p.parent.name for p in (ww_home / "landing" / "transactions").glob("part_date=*/*.parquet"))
    assert parts == ["part_date=2025-01-06", "part_date=2025-01-07"]
    df = landed(ww_home, "transactions").sort("event_id")
    assert list(df.columns) == FEEDS["transactions"].landed_columns() + ["_delivery_id", "_source", "_line", "_ingested_at"]
    assert dict(df.schema) == landing_schema(FEEDS["transactions"])
    assert df["recorded_at"].to_list() == [dt.datetime(2025, 1, 6, 9), dt.datetime(2025, 1, 8, 10)]  # default = event_time
    assert df["extend_days"].to_list() == [None, 5] and df["fee_amount"].to_list() == [12.5, None]
    assert df["fee_paid_at_center"].to_list() == [True, None]
    assert df["_source"].unique().to_list() == ["files:transactions/t.csv"]
    # reference feeds: partitioned by the landing date
    w = list((ww_home / "landing" / "windows").glob("part_date=*/*.parquet"))
    assert len(w) == 1 and w[0].parent.name == "part_date=" + landed(ww_home, "windows")["_ingested_at"][0].date().isoformat()


def test_every_row_rule_is_quarantined_with_line_rule_and_detail(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    header = TX_HEADER + ["fee_amount", "fee_paid_at_center"]
    rows = [
        ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "", ""],      # 2 good
        ["E2", "", "accept", "2025-01-06 09:00:00", "W01", "I1", "", ""],        # 3 missing_required
        ["E3", "C3", "审核中", "2025-01-06 09:00:00", "W01", "I1", "", ""],       # 4 unknown_enum
        ["E4", "C4", "accept", "昨天下午三点", "W01", "I1", "", ""],               # 5 bad_timestamp
        ["E5", "C5", "accept", "2025-01-06 09:00:00", "W01", "I1", "二十元", ""],  # 6 bad_value
        ["E6", "C6", "accept", "2025-01-06 09:00:00", "W01", "I1", "", "也许"],    # 7 bad_value
        ["E7", "C7", "accept", "2025-01-06 09:00:00", "W999", "I1", "", ""],     # 8 unknown_reference
        ["E8", "C8", "accept", "2025-01-06 09:00:00", "W01", "I999", "", ""],    # 9 unknown_reference
        ["E9", "", "审核中", "bad", "W999", "I1", "", ""],                         # 10 first rule wins: missing_required
        ["E1", "C1", "complete", "2025-01-06 08:00:00", "W01", "I1", "", ""],    # 11 duplicate_conflict (earlier time)
    ]
    header = header + ["recorded_at"]
    rows = [r + [""] for r in rows] + [["E10", "C10", "accept", "2025-01-06 09:00:00", "W01", "I1", "", "", "录入时间不详"]]  # 12 bad_timestamp
    write_csv(inbox / "transactions" / "t.csv", [header] + rows)
    write_csv(inbox / "evaluations" / "e.csv", [
        ["evaluation_id", "window_id", "rating", "evaluated_at"],
        ["V1", "W01", "满意", "2025-01-06 10:00:00"],   # good
        ["V2", "W01", "6", "2025-01-06 10:00:00"],      # rating_out_of_range
        ["V3", "W01", "4", "2025-01-06 10:00:00"],      # rating_direction_undeclared (no direction configured)
        ["V4", "W01", "很好", "2025-01-06 10:00:00"],    # rating_out_of_range (not a level)
    ])
    write_csv(inbox / "video_flags" / "v.csv", [["flag_id", "window_id", "flagged_at", "flag_type"], ["F1", "W01", "2025-01-06 10:00:00", "phone"]])
    report = run(ww_home, inbox)
    q = quarantined(ww_home, "transactions")
    assert q.select("line", "rule").rows() == [
        (3, "missing_required"), (4, "unknown_enum"), (5, "bad_timestamp"), (6, "bad_value"), (7, "bad_value"),
        (8, "unknown_reference"), (9, "unknown_reference"), (10, "missing_required"), (11, "duplicate_conflict"),
        (12, "bad_timestamp")]
    details = dict(q.select("line", "detail").rows())
    assert details[3].startswith("case_id") and "event_type" in details[4] and "'审核中'" in details[4]
    assert "fee_amount" in details[6] and "fee_paid_at_center" in details[7]
    assert "'W999'" in details[8] and "item_code" in details[9]
    assert set(q["feed"]) == {"transactions"} and set(q["source_file"]) == {"files:transactions/t.csv"}
    raw = json.loads(q.filter(pl.col("line") == 4)["raw"][0])
    assert raw["event_type"] == "审核中" and raw["event_id"] == "E3"
    assert landed(ww_home, "transactions")["event_id"].to_list() == ["E1"]
    tx = result_for(report, "t.csv")
    assert (tx.rows_in, tx.landed, tx.quarantined) == (11, 1, 10)
    assert "recorded_at" in details[12]
    assert tx.by_rule == {"missing_required": 2, "unknown_enum": 1, "bad_timestamp": 2, "bad_value": 2,
                          "duplicate_conflict": 1, "unknown_reference": 2}
    ev = quarantined(ww_home, "evaluations")
    assert ev.select("line", "rule").rows() == [(3, "rating_out_of_range"), (4, "rating_direction_undeclared"), (5, "rating_out_of_range")]
    # video_flags lacks the required review_status column: every row -> missing_column
    vq = quarantined(ww_home, "video_flags")
    assert vq.select("line", "rule").rows() == [(2, "missing_column")] and "review_status" in vq["detail"][0]
    seen = set(q["rule"]) | set(ev["rule"]) | set(vq["rule"])
    assert seen == set(QUARANTINE_RULES) - {"unreadable_file"}  # unreadable files are reported per file
    # reconciliation stored: rows in = landed + quarantined per feed
    saved = json.loads((ww_home / "runs" / "ingest-latest.json").read_text(encoding="utf-8"))
    for feed, row in saved["by_feed"].items():
        assert row["rows_in"] == row["landed"] + row["quarantined"], feed
    assert saved["by_feed"]["transactions"] == {"deliveries": 1, "rows_in": 11, "landed": 1, "quarantined": 10, "already_landed": 0, "unreadable": 0, "deferred": 0}


def test_reference_checks_see_earlier_runs(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    run(ww_home, inbox)
    inbox2 = tmp_path / "inbox2"
    write_csv(inbox2 / "transactions" / "t.csv", [TX_HEADER, ["E1", "C1", "accept", "2025-01-06 09:00:00", "W02", "I2"]])
    report = run(ww_home, inbox2)
    assert result_for(report, "t.csv").landed == 1


def test_same_delivery_twice_and_a_renamed_copy_land_once(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    path = write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1"]])
    first = run(ww_home, inbox)
    before = _landing_files(ww_home)
    second = run(ww_home, inbox)
    assert [d.status for d in second.deliveries] == ["already landed"] * 3 and second.exit_code == 0
    shutil.copy(path, path.with_name("t-copy.csv"))
    third = run(ww_home, inbox)
    assert result_for(third, "t-copy.csv").status == "already landed"
    assert _landing_files(ww_home) == before
    assert landed(ww_home, "transactions").height == 1
    assert len(list((ww_home / "landing" / "_ledger").glob("*.json"))) == len(first.deliveries) == 3


def test_redelivery_later_recorded_at_updates_earlier_conflicts_identical_lands(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    header = TX_HEADER + ["recorded_at", "staff_id"]
    write_csv(inbox / "transactions" / "a.csv", [header,
                                                 ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "2025-01-06 09:00:00", "S1"],
                                                 ["E2", "C1", "complete", "2025-01-06 10:00:00", "W01", "I1", "2025-01-06 10:00:00", "S1"]])
    run(ww_home, inbox)
    inbox2 = tmp_path / "inbox2"
    write_csv(inbox2 / "transactions" / "b.csv", [header,
                                                  # correction: later recorded_at -> an update, lands
                                                  ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "2025-01-07 08:00:00", "S2"],
                                                  # other content, same recorded_at -> conflict
                                                  ["E2", "C1", "complete", "2025-01-06 10:00:00", "W01", "I1", "2025-01-06 10:00:00", "S9"],
                                                  # identical re-send -> lands (staging dedups)
                                                  ["E2", "C1", "complete", "2025-01-06 10:00:00", "W01", "I1", "2025-01-06 10:00:00", "S1"]])
    report = run(ww_home, inbox2)
    res = result_for(report, "b.csv")
    assert (res.rows_in, res.landed, res.quarantined, res.by_rule) == (3, 2, 1, {"duplicate_conflict": 1})
    assert quarantined(ww_home, "transactions").select("line", "rule").rows() == [(3, "duplicate_conflict")]
    latest = (landed(ww_home, "transactions").sort("recorded_at").group_by("event_id", maintain_order=True).last().sort("event_id"))
    assert latest.select("event_id", "staff_id").rows() == [("E1", "S2"), ("E2", "S1")]


def test_evaluation_follow_up_redelivery_is_an_update(ww_home, tmp_path):
    """recorded_at defaults to the latest of the row's times, so a filled-in follow-up updates."""
    inbox = make_inbox(tmp_path)
    header = ["evaluation_id", "window_id", "rating", "evaluated_at", "verified_at", "rectified_at"]
    write_csv(inbox / "evaluations" / "e1.csv", [header, ["V1", "W01", "不满意", "2025-01-06 10:00:00", "", ""]])
    run(ww_home, inbox)
    inbox2 = tmp_path / "inbox2"
    write_csv(inbox2 / "evaluations" / "e2.csv", [header, ["V1", "W01", "不满意", "2025-01-06 10:00:00", "2025-01-07 09:00:00", "2025-01-09 17:00:00"]])
    report = run(ww_home, inbox2)
    assert result_for(report, "e2.csv").landed == 1
    assert sorted(landed(ww_home, "evaluations")["recorded_at"].to_list()) == [dt.datetime(2025, 1, 6, 10), dt.datetime(2025, 1, 9, 17)]


def test_duplicate_id_within_one_reference_delivery(ww_home, tmp_path):
    inbox = make_inbox(tmp_path, with_reference=False)
    write_csv(inbox / "windows" / "w.csv", [["window_id", "window_name"], ["W01", "一号"], ["W01", "一号"], ["W01", "二号"]])
    report = run(ww_home, inbox)
    res = result_for(report, "w.csv")
    assert (res.landed, res.quarantined) == (2, 1)
    assert quarantined(ww_home, "windows").select("line", "rule").rows() == [(4, "duplicate_conflict")]


def test_clock_columns_and_the_optional_v2_feeds_land_with_chinese_names(ww_home, tmp_path):
    """pause_reason / approval_mode on transactions and items, and the step_limits and extended_service
    feeds (docs/rules.md#timeliness-signals): Chinese headers and enum values land as the canonical codes;
    an unknown reason is quarantined."""
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER + ["特别程序事由", "审批方式"],
                                                 ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "", "告知承诺"],
                                                 ["E2", "C1", "suspend", "2025-01-07 09:00:00", "W01", "I1", "专家评审", ""],
                                                 ["E3", "C1", "suspend", "2025-01-08 09:00:00", "W01", "I1", "喝茶", ""]])
    write_csv(inbox / "step_limits" / "s.csv", [["实施编码", "起始环节", "结束环节", "环节时限"], ["*", "受理", "审批", "3"]])
    write_csv(inbox / "extended_service" / "e.csv", [["登记编号", "窗口编号", "服务日期", "延时至", "延时原因"],
                                                     ["ES1", "W01", "2025-01-06", "20:30:00", "事不办完不下班"]])
    run(ww_home, inbox)
    tx = landed(ww_home, "transactions").sort("event_id")
    assert tx.select("event_id", "pause_reason", "approval_mode").rows() == [
        ("E1", None, "commitment"), ("E2", "expert_review", None)]
    assert quarantined(ww_home, "transactions").select("line", "rule").rows() == [(4, "unknown_enum")]
    assert landed(ww_home, "step_limits").select("item_code", "from_event", "to_event", "limit_workdays").rows() == [
        ("*", "accept", "approve", 3)]
    es = landed(ww_home, "extended_service")
    assert es.select("service_id", "window_id", "service_date", "until_time").rows() == [
        ("ES1", "W01", dt.date(2025, 1, 6), dt.time(20, 30))]
