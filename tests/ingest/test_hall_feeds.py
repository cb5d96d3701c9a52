"""The hall-operation feeds (SPEC §3, v2: attendance, queue_tickets, work_orders, inspections) through
real ingest: every file format and encoding with Chinese headers and enum values, the SQL source on a real
PostgreSQL, the paged HTTP source on a real local server; quarantine per rule, PII scrubbed, updates and
conflicts, the empty landing files and the raw gate."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import sqlalchemy as sa

from core.config import Source, SourceOptions
from core.feeds import FEEDS
from core.paths import Home
from ingest.landing_files import EMPTY_CONTRACT, ensure_empty_files
from ingest.landing_schema import landing_schema
from ingest.privacy import SCRUBBED
from ingest.run import ingest_source
from tests.ingest.sources.test_http import FakeAgency, serving
from tests.ingest.test_privacy import ID_A, ID_RE, PHONE, PHONE_RE, _all_text
from tests.support.inbox import landed, make_inbox, quarantined, result_for, run, write_csv
from tests.support.pg_server import new_database

D6, D7 = dt.date(2025, 1, 6), dt.date(2025, 1, 7)


def t(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm))


# feed -> English header, Chinese header (aliases in core/feeds.py), rows as a hall system exports
# them (Chinese enum labels, mixed timestamp shapes, 是/否), and the typed rows landing must hold.
HALL = {
    "attendance": (
        ["attendance_id", "staff_id", "window_id", "work_date", "sign_in_at", "sign_out_at", "absence_type"],
        ["考勤编号", "工作人员编号", "窗口编号", "考勤日期", "签到时间", "签退时间", "缺勤类型"],
        [["A1", "S1", "W01", "2025-01-06", "2025-01-06 08:31:00", "2025-01-06 18:00:00", "正常"],
         ["A2", "S2", "W02", "2025/01/07", "", "", "旷岗"]],
        [("A1", "S1", "W01", D6, t(D6, 8, 31), t(D6, 18), "none"),
         ("A2", "S2", "W02", D7, None, None, "absent")],
    ),
    "queue_tickets": (
        ["ticket_id", "center_id", "business_type", "window_id", "issued_at", "called_at", "finished_at", "status"],
        ["排队号", "中心编码", "业务类型", "叫号窗口", "取号时间", "叫号时间", "办理结束时间", "状态"],
        [["Q1", "C1", "I1", "W01", "2025-01-06 09:00:00", "20250106T091000", "2025-01-06 09:20:00", "已办理"],
         ["Q2", "C1", "不动产登记", "", "2025-01-07T09:05:00", "", "", "过号"]],
        [("Q1", "C1", "I1", "W01", t(D6, 9), t(D6, 9, 10), t(D6, 9, 20), "served"),
         ("Q2", "C1", "不动产登记", None, t(D7, 9, 5), None, None, "no_show")],
    ),
    "work_orders": (
        ["order_id", "channel", "category", "received_at", "window_id", "substantiated", "requester_satisfaction", "content"],
        ["工单编号", "工单来源", "工单类型", "受理时间", "窗口编号", "是否查实", "诉求人满意度", "工单内容"],
        [["O1", "12345热线", "投诉", "2025-01-06 10:00:00", "W01", "是", "不满意", "窗口态度差"],
         ["O2", "办不成事", "咨询", "2025/01/07 11:00:00", "", "否", "满意", "询问所需材料"]],
        [("O1", "hotline_12345", "complaint", t(D6, 10), "W01", True, "unsatisfied", "窗口态度差"),
         ("O2", "cant_get_done", "consultation", t(D7, 11), None, False, "satisfied", "询问所需材料")],
    ),
    "inspections": (
        ["inspection_id", "inspector_id", "window_id", "inspected_at", "method", "finding", "deduction", "note"],
        ["检查编号", "检查人", "窗口编号", "检查时间", "检查方式", "检查结果", "扣分", "备注"],
        [["P1", "IN1", "W01", "2025-01-06 11:00:00", "视频抽查", "脱岗", "1.5", "离岗十分钟"],
         ["P2", "IN1", "", "2025-01-07 09:00:00", "现场检查", "无问题", "0", ""]],
        [("P1", "IN1", "W01", t(D6, 11), "video_spot", "absent", 1.5, "离岗十分钟"),
         ("P2", "IN1", None, t(D7, 9), "on_site", "none", 0.0, None)],
    ),
}
PARTITIONS = ["part_date=2025-01-06", "part_date=2025-01-07"]


def _typed(home: Path, feed: str) -> list[tuple]:
    return landed(home, feed).sort(FEEDS[feed].key[0]).select(HALL[feed][0]).rows()


def _write(inbox: Path, feed: str, fmt: str) -> None:
    en, zh, rows, _ = HALL[feed]
    folder = inbox / feed
    if fmt == "csv-utf8":
        write_csv(folder / "d.csv", [en, *rows])
        return
    if fmt == "csv-gbk":
        write_csv(folder / "d.csv", [zh, *rows], encoding="gbk")
        return
    frame = pl.DataFrame([[v or None for v in r] for r in rows], schema=zh if fmt != "parquet" else en, orient="row")
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        (folder / "d.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in frame.to_dicts()), encoding="utf-8")
    elif fmt == "parquet":
        frame.write_parquet(folder / "d.parquet")
    else:
        frame.write_excel(folder / "d.xlsx")


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gbk", "jsonl", "parquet", "xlsx"])
def test_every_format_lands_the_four_feeds_typed_and_partitioned_by_their_time(ww_home, tmp_path, fmt):
    inbox = make_inbox(tmp_path)
    for feed in HALL:
        _write(inbox, feed, fmt)
    report = run(ww_home, inbox)
    assert report.exit_code == 0, [d.as_dict() for d in report.deliveries]
    for feed, (_, _, rows, want) in HALL.items():
        counts = report.by_feed()[feed]
        assert (counts["rows_in"], counts["landed"], counts["quarantined"]) == (2, 2, 0), (feed, report.deliveries)
        assert _typed(ww_home, feed) == want, feed
        folder = ww_home / "landing" / feed
        assert sorted(p.name for p in folder.glob("part_date=*")) == PARTITIONS, feed  # by work_date / the row's time
        for part in folder.glob("part_date=*/*.parquet"):
            assert dict(pl.read_parquet_schema(part)) == landing_schema(feed), (feed, part)
        assert (folder / "_empty.parquet").is_file()


QUARANTINE_CASES = {
    # feed -> (good row, [(bad row, rule)]) in the English header of HALL
    "attendance": (
        ["A1", "S1", "W01", "2025-01-06", "2025-01-06 08:31:00", "", "正常"],
        [(["", "S1", "W01", "2025-01-06", "", "", "正常"], "missing_required"),
         (["A3", "S1", "W01", "2025-01-06", "", "", "病假"], "unknown_enum"),
         (["A4", "S1", "W01", "2025-01-06", "2025-01-06 25:61:00", "", "正常"], "bad_timestamp"),
         (["A5", "S1", "W99", "2025-01-06", "", "", "旷岗"], "unknown_reference")],
    ),
    "queue_tickets": (
        ["Q1", "C1", "I1", "W01", "2025-01-06 09:00:00", "", "", "已办理"],
        [(["", "C1", "I1", "W01", "2025-01-06 09:00:00", "", "", "已办理"], "missing_required"),
         (["Q3", "C1", "I1", "W01", "2025-01-06 09:00:00", "", "", "插队"], "unknown_enum"),
         (["Q4", "C1", "I1", "W01", "昨天上午", "", "", "过号"], "bad_timestamp"),
         (["Q5", "C1", "I1", "W99", "2025-01-06 09:00:00", "", "", "已办理"], "unknown_reference")],
    ),
    "work_orders": (
        ["O1", "12345", "投诉", "2025-01-06 10:00:00", "W01", "否", "", "排队太久"],
        [(["", "12345", "投诉", "2025-01-06 10:00:00", "W01", "", "", "x"], "missing_required"),
         (["O3", "12345", "催办", "2025-01-06 10:00:00", "W01", "", "", "x"], "unknown_enum"),
         (["O4", "12345", "投诉", "2025-02-30 10:00:00", "W01", "", "", "x"], "bad_timestamp"),
         (["O5", "12345", "投诉", "2025-01-06 10:00:00", "W01", "待定", "", "x"], "bad_value"),
         (["O6", "12345", "投诉", "2025-01-06 10:00:00", "W99", "", "", "x"], "unknown_reference")],
    ),
    "inspections": (
        ["P1", "IN1", "W01", "2025-01-06 11:00:00", "暗访", "无问题", "0", ""],
        [(["", "IN1", "W01", "2025-01-06 11:00:00", "暗访", "无问题", "0", ""], "missing_required"),
         (["P3", "IN1", "W01", "2025-01-06 11:00:00", "暗访", "迟到", "0", ""], "unknown_enum"),
         (["P4", "IN1", "W01", "1999-12-31 11:00:00", "暗访", "无问题", "0", ""], "bad_timestamp"),
         (["P5", "IN1", "W99", "2025-01-06 11:00:00", "暗访", "脱岗", "1", ""], "unknown_reference"),
         (["P6", "IN1", "W01", "2025-01-06 11:00:00", "暗访", "脱岗", "-2", ""], "bad_value")],
    ),
}


@pytest.mark.parametrize("workers", ["0", "1"])  # staged in the main process, or in a worker process (ingest/stage_pool.py)
def test_bad_rows_of_each_feed_are_quarantined_with_file_line_and_rule(ww_home, tmp_path, monkeypatch, workers):
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKERS", workers)
    inbox = make_inbox(tmp_path)
    for feed, (good, bad) in QUARANTINE_CASES.items():
        write_csv(inbox / feed / "bad.csv", [HALL[feed][0], good, *[row for row, _ in bad]])
    report = run(ww_home, inbox)
    assert report.stage_workers == int(workers)
    for feed, (_, bad) in QUARANTINE_CASES.items():
        res = result_for(report, f"{feed}/bad.csv")
        assert (res.rows_in, res.landed, res.quarantined) == (1 + len(bad), 1, len(bad)), res
        assert res.rows_in == res.landed + res.quarantined
        q = quarantined(ww_home, feed)
        assert q.select("source_file", "line", "rule").rows() == [(res.source, 3 + i, rule) for i, (_, rule) in enumerate(bad)], feed
        assert landed(ww_home, feed).height == 1  # on disk too: rows in = landed + quarantined
    details = dict(quarantined(ww_home, "inspections").select("line", "detail").rows())
    assert details[7].startswith("deduction: must be ≥ 0"), details[7]
    assert details[6] == "window_id: 'W99' is not in any windows delivery"
    assert "substantiated" in dict(quarantined(ww_home, "work_orders").select("line", "detail").rows())[6]
    # what fct_quarantine reads (its dbt source: every quarantine Parquet of every feed)
    rows = duckdb.sql(f"select feed, count(*) from read_parquet('{ww_home}/quarantine/**/*.parquet', union_by_name=true, "
                      "hive_partitioning=false) group by feed order by feed").fetchall()
    assert rows == sorted((feed, len(bad)) for feed, (_, bad) in QUARANTINE_CASES.items())


def test_free_text_is_scrubbed_of_id_and_phone_numbers_in_landing_and_quarantine(ww_home, tmp_path):
    """SPEC §8: work_orders.content and inspections.note are scrubbed like evaluations.comment; the raw
    number is nowhere under the home, neither in landed rows nor in a quarantined row's raw."""
    inbox = make_inbox(tmp_path)
    text = f"来电人身份证{ID_A}，电话{PHONE}"
    wo, ins = HALL["work_orders"][0], HALL["inspections"][0]
    write_csv(inbox / "work_orders" / "w.csv", [wo, ["O1", "12345", "投诉", "2025-01-06 10:00:00", "W01", "", "", text],
                                                ["O2", "12345", "催办", "2025-01-06 10:00:00", "W01", "", "", text]])
    write_csv(inbox / "inspections" / "i.csv", [ins, ["P1", "IN1", "W01", "2025-01-06 11:00:00", "暗访", "脱岗", "1", text],
                                                ["P2", "IN1", PHONE, "2025-01-06 11:00:00", "暗访", "脱岗", "1", text]])
    run(ww_home, inbox)
    scrubbed = f"来电人身份证{SCRUBBED}，电话{SCRUBBED}"
    assert landed(ww_home, "work_orders")["content"].to_list() == [scrubbed]
    assert landed(ww_home, "inspections")["note"].to_list() == [scrubbed]
    raws = [json.loads(r) for feed in ("work_orders", "inspections") for r in quarantined(ww_home, feed)["raw"]]
    assert [r.get("content", r.get("note")) for r in raws] == [scrubbed, scrubbed]
    assert raws[1]["window_id"] == SCRUBBED  # a phone typed into the wrong column
    everything = _all_text(ww_home)
    assert ID_A not in everything and PHONE not in everything
    assert not ID_RE.search(everything) and not PHONE_RE.search(everything)


def test_redelivery_updates_only_with_a_later_recorded_at(ww_home, tmp_path):
    """recorded_at defaults to the latest of the row's times: a re-delivery once the order is closed is an
    update; other content with no later time is a duplicate_conflict; an explicit later recorded_at wins."""
    header = ["order_id", "category", "received_at", "window_id", "closed_at", "content", "recorded_at"]
    first = ["O1", "投诉", "2025-01-06 10:00:00", "W01", "", "排队太久", ""]
    deliveries = [
        ("1.csv", [first], (1, 0)),
        ("2.csv", [["O1", "投诉", "2025-01-06 10:00:00", "W01", "", "排队太久了", ""]], (0, 1)),  # same time, other text
        ("3.csv", [["O1", "投诉", "2025-01-06 10:00:00", "W01", "2025-01-08 16:00:00", "排队太久", ""]], (1, 0)),  # closed
        ("4.csv", [["O1", "投诉", "2025-01-06 10:00:00", "W01", "2025-01-08 16:00:00", "已查实", "2025-01-09 09:00:00"]], (1, 0)),
    ]
    inbox = make_inbox(tmp_path)
    run(ww_home, inbox)
    for name, rows, want in deliveries:
        box = tmp_path / name
        write_csv(box / "work_orders" / name, [header, *rows])
        res = result_for(run(ww_home, box), name)
        assert (res.landed, res.quarantined) == want, name
    assert quarantined(ww_home, "work_orders")["rule"].to_list() == ["duplicate_conflict"]
    got = landed(ww_home, "work_orders").sort("recorded_at").select("recorded_at", "content").rows()
    assert got == [(t(D6, 10), "排队太久"), (dt.datetime(2025, 1, 8, 16), "排队太久"), (dt.datetime(2025, 1, 9, 9), "已查实")]
    # attendance is dated by a DATE: an absence row defaults to its day's midnight, a signed row to its sign-out
    write_csv(tmp_path / "a" / "attendance" / "a.csv", [HALL["attendance"][0], *HALL["attendance"][2]])
    run(ww_home, tmp_path / "a")
    assert landed(ww_home, "attendance").sort("attendance_id")["recorded_at"].to_list() == [t(D6, 18), t(D7, 0)]


def test_old_homes_get_the_empty_files_of_the_new_feeds(ww_home):
    """A home whose `_empty.parquet` files were written for an older contract gets them rewritten, so
    dbt's source globs of the new feeds never fail before their first delivery."""
    h = Home(ww_home)
    ensure_empty_files(h)
    for feed in HALL:
        (h.landing / feed / "_empty.parquet").unlink()
    (h.landing / EMPTY_CONTRACT).write_text("older-contract\n", encoding="utf-8")
    ensure_empty_files(h)
    for feed in HALL:
        assert dict(pl.read_parquet_schema(h.landing / feed / "_empty.parquet")) == landing_schema(feed)
        assert (h.quarantine / feed / "_empty.parquet").is_file()


# ------------------------------------------------------------------ the SQL and HTTP sources

PG_DDL = {
    "attendance": "attendance_id text, staff_id text, window_id text, work_date date, sign_in_at timestamp, "
                  "sign_out_at timestamp, absence_type text",
    "queue_tickets": "ticket_id text, center_id text, business_type text, window_id text, issued_at timestamp, "
                     "called_at timestamp, finished_at timestamp, status text",
    "work_orders": "order_id text, channel text, category text, received_at timestamp, window_id text, "
                   "substantiated boolean, requester_satisfaction text, content text",
    "inspections": "inspection_id text, inspector_id text, window_id text, inspected_at timestamp, method text, "
                   "finding text, deduction numeric(5, 2), note text",
}


def _pg_value(feed: str, col: str, value):
    """The typed value a hall database holds for one of HALL's expected values."""
    if feed == "work_orders" and col == "channel":
        return {"hotline_12345": "12345热线", "cant_get_done": "办不成事"}[value]
    return Decimal(str(value)) if isinstance(value, float) else value


def test_sql_source_lands_the_four_feeds_from_postgres(postgres_url, ww_home):
    engine = sa.create_engine(new_database(postgres_url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create table ww_windows (window_id text, window_name text)"))
            conn.execute(sa.text("insert into ww_windows values ('W01', '综合窗口'), ('W02', '专业窗口')"))
            for feed, ddl in PG_DDL.items():
                conn.execute(sa.text(f"create table ww_{feed} ({ddl})"))
                cols = HALL[feed][0]
                rows = [{c: _pg_value(feed, c, v) for c, v in zip(cols, want)} for want in HALL[feed][3]]
                conn.execute(sa.text(f"insert into ww_{feed} values ({', '.join(':' + c for c in cols)})"), rows)
            conn.execute(sa.text("insert into ww_inspections (inspection_id, window_id, inspected_at, deduction) "
                                 "values ('P9', 'W01', '2025-01-06 12:00', -1.5)"))
        url = engine.url.render_as_string(hide_password=False)
        rep = ingest_source(ww_home, Source(name="db_windows", kind="sql", feed="windows", url=url, query="select * from ww_windows"))
        assert rep.exit_code == 0
        for feed in HALL:
            rep = ingest_source(ww_home, Source(name=f"db_{feed}", kind="sql", feed=feed, url=url, query=f"select * from ww_{feed}"))
            assert rep.exit_code == 0, rep.as_dict()
            counts = rep.by_feed()[feed]
            assert counts["rows_in"] == counts["landed"] + counts["quarantined"]
            assert _typed(ww_home, feed) == HALL[feed][3], feed
            assert set(landed(ww_home, feed)["_source"]) == {f"sql:db_{feed}"}
    finally:
        engine.dispose()
    q = quarantined(ww_home, "inspections")
    assert q.select("source_file", "line", "rule").rows() == [("sql:db_inspections", 3, "bad_value")]
    assert q["detail"][0].startswith("deduction: must be ≥ 0")


def test_paged_http_source_lands_the_four_feeds(ww_home):
    with serving(FakeAgency()) as windows_api:
        windows_api.items = [{"窗口编号": "W01"}, {"窗口编号": "W02"}]
        assert ingest_source(ww_home, Source(name="api_windows", kind="http", feed="windows", url=windows_api.url)).exit_code == 0
    for feed, (_, zh, rows, want) in HALL.items():
        with serving(FakeAgency()) as api:
            # JSON as an interface sends it: Chinese keys, nulls, a JSON boolean and number
            api.items = [{k: v or None for k, v in zip(zh, r)} for r in rows]
            if feed == "work_orders":
                api.items[0]["是否查实"], api.items[1]["是否查实"] = True, False
            if feed == "inspections":
                api.items[0]["扣分"] = 1.5
                api.items.append({"检查编号": "P9", "检查时间": "2025-01-06 12:00:00", "扣分": -1})
            rep = ingest_source(ww_home, Source(name=f"api_{feed}", kind="http", feed=feed, url=api.url,
                                                options=SourceOptions(page_size=1, backoff_seconds=0.01)))
        assert rep.exit_code == 0, rep.as_dict()
        counts = rep.by_feed()[feed]
        assert counts["deliveries"] >= 2 and counts["rows_in"] == len(api.items), counts  # one page a row
        assert _typed(ww_home, feed) == want, feed
    assert quarantined(ww_home, "inspections").select("source_file", "rule").rows() == [("http:api_inspections", "bad_value")]


# ------------------------------------------------------------------ the raw gate


def test_raw_gate_passes_the_landed_hall_feeds_and_stops_on_a_negative_deduction(ww_home, tmp_path):
    from expectations.raw import check_raw
    from tests.support.landing import write_landing

    inbox = make_inbox(tmp_path)
    for feed in HALL:
        _write(inbox, feed, "csv-gbk")
    run(ww_home, inbox)
    h = Home(ww_home)
    files = [p for feed in HALL for p in (h.landing / feed).glob("part_date=*/*.parquet")]
    gate = check_raw(files, h.landing, h.data_docs / "raw")
    assert gate.success, gate.summary()
    assert {n.split(":")[0] for n in gate.notes} >= set(HALL)  # each feed's suite ran on its landed rows
    bad = write_landing(h, "inspections", [{"inspection_id": "P9", "window_id": "W01", "inspected_at": "2025-01-06 11:00:00",
                                             "method": "lurking", "deduction": -3.0}], ingested_at="2025-01-31 20:00:00")
    gate = check_raw([*files, bad], h.landing, h.data_docs / "raw")
    assert not gate.success
    assert {(f.suite, f.column) for f in gate.critical} == {("raw.inspections.critical", "deduction"),
                                                           ("raw.inspections.critical", "method")}, gate.summary()


def test_dbt_lists_the_quarantined_rows_and_its_source_check_stops_a_landed_negative_deduction(ww_home, tmp_path):
    """One real dbt build: fct_quarantine lists every quarantined row of the four feeds with its file, line and
    rule; landing.inspections' column_checks (in_range deduction ≥ 0, from the contract's min_value) fails on a
    negative deduction that bypassed ingest, naming the column and the row."""
    from tests.support.landing import write_landing
    from windowwatch.transform import build

    inbox = make_inbox(tmp_path)
    for feed, (good, bad) in QUARANTINE_CASES.items():
        write_csv(inbox / feed / "bad.csv", [HALL[feed][0], good, *[row for row, _ in bad]])
    run(ww_home, inbox)
    h = Home(ww_home)
    write_landing(h, "inspections", [{"inspection_id": "P9", "inspected_at": "2025-01-06 12:00:00", "deduction": -3.0}])
    res = build(h, as_of="2025-01-31", select=["fct_quarantine", "source:landing.inspections"])
    assert [n.name for n in res.failures] == ["landing_inspections__column_checks"], res.summary()
    assert "deduction" in res.failures[0].message and res.failures[0].failures == 1, res.failures[0].message
    with duckdb.connect(str(res.warehouse), read_only=True) as con:
        got = con.sql("select feed, source_file, line, rule from marts.fct_quarantine order by feed, line").fetchall()
    assert got == [(feed, f"files:{feed}/bad.csv", 3 + i, rule)
                   for feed, (_, bad) in sorted(QUARANTINE_CASES.items()) for i, (_, rule) in enumerate(bad)]
