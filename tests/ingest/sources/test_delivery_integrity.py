"""A delivery lands as the bytes it was hashed from, or waits, or is refused by name (docs/architecture.md#the-feed-contract).

Each test here failed before its fix: a 60th second rolled into the next minute or day; a UTF-8
file with one damaged byte was reported as "not valid gb18030 at byte 82"; a float-typed id
column landed as "1234567890123.0"; a file still being written landed its cut last value; a file
rewritten while the run read it landed under the hash of other bytes; a huge file was read whole.
"""

from __future__ import annotations

import os

import polars as pl

from ingest.landing import DEFERRED
from ingest.sources import files
from tests.support.inbox import TX_HEADER, landed, make_inbox, quarantined, result_for, run, write_csv

ROW = ["E1", "C1", "accept", "2025-03-03 09:00:00", "W01", "I1"]


def test_a_sixtieth_second_is_a_bad_timestamp_not_the_next_day(tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ROW,
                                                ["E2", "C2", "accept", "2025-03-03 23:59:60", "W01", "I1"],
                                                ["E3", "C3", "accept", "2025-03-03 10:00:60", "W01", "I1"],
                                                ["E4", "C4", "accept", "20250303T235960", "W01", "I1"]])
    home = tmp_path / "home"
    run(home, inbox)
    assert landed(home, "transactions")["event_id"].to_list() == ["E1"]
    q = quarantined(home, "transactions")
    assert q.select("line", "rule").rows() == [(3, "bad_timestamp"), (4, "bad_timestamp"), (5, "bad_timestamp")]


def test_a_damaged_utf8_file_is_reported_as_utf8_with_the_byte_and_line(tmp_path):
    inbox = make_inbox(tmp_path)
    rows = [TX_HEADER] + [[f"E{i}", f"C{i}", "accept", "2025-03-03 09:00:00", "W01", "I1"] for i in range(300)]
    rows[1][4] = "综合窗口" * 20  # multi-byte text early on, as a real Chinese file has
    raw = bytearray(write_csv(tmp_path / "ok.csv", rows).read_bytes())
    cut = raw.index(b"\n", 8400) + 3  # a byte inside a line near 8.4 KB
    raw[cut] = 0xFF  # never valid in UTF-8
    (inbox / "transactions").mkdir(parents=True, exist_ok=True)
    (inbox / "transactions" / "t.csv").write_bytes(bytes(raw))
    d = result_for(run(tmp_path / "home", inbox), "t.csv")
    assert d.status == "unreadable"
    line = bytes(raw[:cut]).count(b"\n") + 1
    assert f"not valid UTF-8 at byte {cut:,} (line {line:,})" in d.reason, d.reason


def test_a_float_typed_id_column_is_refused_by_name(tmp_path):
    inbox = make_inbox(tmp_path)
    (inbox / "transactions").mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"event_id": ["E1"], "case_id": [1234567890123.0], "event_type": ["accept"],
                  "event_time": ["2025-03-03 09:00:00"], "window_id": ["W01"], "item_code": ["I1"]}
                 ).write_parquet(inbox / "transactions" / "t.parquet")
    d = result_for(run(tmp_path / "home", inbox), "t.parquet")
    assert d.status == "unreadable" and "'case_id' (case_id) is stored as a floating-point number" in d.reason


def test_a_file_over_the_size_limit_is_refused_by_name_and_the_rest_lands(tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "small.csv", [TX_HEADER, ROW])
    big = [TX_HEADER] + [[f"B{i}", f"D{i}", "accept", "2025-03-03 09:00:00", "W01", "I1"] for i in range(2000)]
    write_csv(inbox / "transactions" / "big.csv", big)
    limit = (inbox / "transactions" / "big.csv").stat().st_size - 1
    report = run(tmp_path / "home", inbox, max_delivery_bytes=limit)
    refused = result_for(report, "big.csv")
    assert refused.status == "unreadable" and "max_delivery_bytes" in refused.reason
    assert result_for(report, "small.csv").status == "landed"
    assert landed(tmp_path / "home", "transactions")["event_id"].to_list() == ["E1"]


def test_a_csv_without_its_final_newline_waits_in_the_inbox(tmp_path):
    inbox = make_inbox(tmp_path)
    path = inbox / "transactions" / "t.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"event_id,case_id,event_type,event_time,window_id,item_code,extend_days\n"
                     b"E1,C1,extend,2025-03-03 09:00:00,W01,I1,1")  # the writer has not finished "10\n"
    home = tmp_path / "home"
    first = run(home, inbox)
    d = result_for(first, "t.csv")
    assert d.status == DEFERRED and "still being written" in d.reason and first.exit_code == 0
    assert landed(home, "transactions").is_empty() and quarantined(home, "transactions").is_empty() and path.exists()
    with path.open("ab") as fh:
        fh.write(b"0\n")
    second = run(home, inbox)
    assert result_for(second, "t.csv").status == "landed"
    assert landed(home, "transactions")["extend_days"].to_list() == [10]


def test_a_file_rewritten_while_the_run_reads_it_does_not_land_under_the_first_hash(tmp_path, monkeypatch):
    inbox = make_inbox(tmp_path)
    path = write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ROW])
    full = [TX_HEADER] + [[f"E{i}", f"C{i}", "accept", "2025-03-03 09:00:00", "W01", "I1"] for i in range(1, 1001)]
    real_read = files._read_batches

    def read_then_rewrite(d):
        if d.path == path:  # the writer replaces the file after its bytes were hashed
            write_csv(path, full)
            os.utime(path, ns=(d.scan.mtime_ns + 10**9, d.scan.mtime_ns + 10**9))
        yield from real_read(d)

    monkeypatch.setattr(files, "_read_batches", read_then_rewrite)
    home = tmp_path / "home"
    first = run(home, inbox)
    assert result_for(first, "t.csv").status == DEFERRED
    assert landed(home, "transactions").is_empty()
    monkeypatch.setattr(files, "_read_batches", real_read)
    second = run(home, inbox)
    assert result_for(second, "t.csv").landed == 1000  # all of it, under the hash of these bytes


def _workbook(path, sheets: dict[str, list[list]]):
    """An XLSX written by openpyxl: a formula cell ("=…") is saved without a calculated value."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_every_sheet_of_an_xlsx_lands_and_is_reconciled(tmp_path):
    inbox = make_inbox(tmp_path)
    _workbook(inbox / "transactions" / "t.xlsx", {
        "三月": [TX_HEADER, ROW, ["E2", "C2", "accept", "2025-03-04 09:00:00", "W01", "I1"]],
        "四月": [TX_HEADER, ["E3", "C3", "accept", "2025-04-01 09:00:00", "W02", "I2"]],
    })
    home = tmp_path / "home"
    report = run(home, inbox)
    march, april = result_for(report, "t.xlsx#三月"), result_for(report, "t.xlsx#四月")
    assert (march.status, march.rows_in, march.landed) == ("landed", 2, 2)
    assert (april.status, april.rows_in, april.landed) == ("landed", 1, 1)
    assert report.by_feed()["transactions"]["rows_in"] == report.by_feed()["transactions"]["landed"] == 3
    rows = landed(home, "transactions").sort("event_id")
    assert rows["event_id"].to_list() == ["E1", "E2", "E3"]
    assert rows["_source"].to_list() == ["files:transactions/t.xlsx#三月"] * 2 + ["files:transactions/t.xlsx#四月"]
    assert result_for(run(home, inbox), "t.xlsx#四月").status == "already landed"  # each sheet lands once


def test_a_source_that_names_its_sheets_reads_only_those_and_names_a_missing_one(tmp_path):
    inbox = make_inbox(tmp_path)
    _workbook(inbox / "transactions" / "t.xlsx", {"说明": [["本表为三月办件流水"]], "三月": [TX_HEADER, ROW]})
    report = run(tmp_path / "home", inbox, sheets={"transactions": ["三月", "四月"]})
    assert result_for(report, "t.xlsx#三月").landed == 1
    missing = result_for(report, "t.xlsx#四月")
    assert missing.status == "unreadable" and "no sheet '四月'" in missing.reason and "说明, 三月" in missing.reason
    assert not [d for d in report.deliveries if "说明" in d.source]


def test_a_formula_cell_without_a_cached_value_is_quarantined_not_read_as_zero(tmp_path):
    inbox = make_inbox(tmp_path)
    header = TX_HEADER + ["extend_days"]
    _workbook(inbox / "transactions" / "t.xlsx", {"延期": [
        header,
        ["E1", "C1", "extend", "2025-03-03 09:00:00", "W01", "I1", 5],
        ["E2", "C2", "extend", "2025-03-03 09:00:00", "W01", "I1", "=5+5"],  # no cached value: openpyxl computes nothing
    ]})
    home = tmp_path / "home"
    d = result_for(run(home, inbox), "t.xlsx")
    assert (d.rows_in, d.landed, d.quarantined) == (2, 1, 1)
    assert landed(home, "transactions").select("event_id", "extend_days").rows() == [("E1", 5)]
    q = quarantined(home, "transactions")
    assert q.select("source_file", "line", "rule").rows() == [("files:transactions/t.xlsx#延期", 3, "bad_value")]
    assert "cell G3 of sheet '延期'" in q["detail"][0] and "without its calculated value" in q["detail"][0]
