"""The files source end to end: every format and encoding lands the same rows."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from tests.support.inbox import TX_HEADER, csv_bytes, landed, make_inbox, quarantined, result_for, run, write_csv

# Chinese headers and labels, as a hall system exports them
ZH_HEADER = ["流水号", "办件编号", "环节", "环节时间", "窗口编号", "实施编码", "申报来源"]
ZH_ROWS = [
    ["E1", "C1", "受理", "2025-01-06 09:00:00", "W01", "I1", "窗口"],
    ["E2", "C1", "办结", "2025/01/07 10:30:00", "W01", "I1", "网上"],
    ["E3", "C2", "收件", "20250108T083000", "W02", "I2", "自助"],
]


def _expected_events() -> list[tuple]:
    return [
        ("E1", "C1", "accept", dt.datetime(2025, 1, 6, 9), "W01", "I1", "window"),
        ("E2", "C1", "complete", dt.datetime(2025, 1, 7, 10, 30), "W01", "I1", "online"),
        ("E3", "C2", "submit", dt.datetime(2025, 1, 8, 8, 30), "W02", "I2", "self_service"),
    ]


def _events(home) -> list[tuple]:
    df = landed(home, "transactions").sort("event_id")
    return df.select("event_id", "case_id", "event_type", "event_time", "window_id", "item_code", "channel").rows()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(ww_home, tmp_path, encoding):
    inbox = make_inbox(tmp_path)
    rows = [ZH_HEADER] + ZH_ROWS
    if encoding == "gb18030":
        rows = rows + [["E4", "C3", "受理", "2025-01-08 09:00:00", "W02", "I2", "窗口"]]  # plain GBK subset too
    write_csv(inbox / "transactions" / f"tx-{encoding}.csv", rows, encoding)
    report = run(ww_home, inbox)
    res = result_for(report, "tx-")
    assert res.status == "landed" and res.quarantined == 0, res
    assert _events(ww_home)[:3] == _expected_events()
    assert report.exit_code == 0


def test_gb18030_only_characters_survive(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    # 𠀀 (U+20000) exists in GB18030 but not in GBK
    write_csv(inbox / "windows" / "w2.csv", [["窗口编号", "窗口名称"], ["W09", "𠀀号窗口"]], "gb18030")
    run(ww_home, inbox)
    names = dict(landed(ww_home, "windows").select("window_id", "window_name").rows())
    assert names["W09"] == "𠀀号窗口"


def test_encoding_override_from_source_options(ww_home, tmp_path):
    inbox = make_inbox(tmp_path, with_reference=False)
    write_csv(inbox / "windows" / "w.csv", [["窗口编号", "窗口名称"], ["W01", "综合窗口"]], "gbk")
    run(ww_home, inbox, encoding="gbk")
    assert landed(ww_home, "windows")["window_name"].to_list() == ["综合窗口"]


def test_jsonl_parquet_xlsx_land_like_csv(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    frame = pl.DataFrame({h: [r[i] for r in ZH_ROWS] for i, h in enumerate(ZH_HEADER)})
    (inbox / "transactions").mkdir()
    # one file per format, each with its own ids so all three land
    for fmt, prefix in (("jsonl", "J"), ("parquet", "P"), ("xlsx", "X")):
        f = frame.with_columns((pl.lit(prefix) + pl.col("流水号")).alias("流水号"))
        path = inbox / "transactions" / f"tx.{fmt}"
        if fmt == "jsonl":
            path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in f.to_dicts()) + "\n", encoding="utf-8")
        elif fmt == "parquet":
            f.write_parquet(path)
        else:
            f.write_excel(path)
    report = run(ww_home, inbox)
    assert report.exit_code == 0, [d for d in report.deliveries]
    df = landed(ww_home, "transactions")
    for prefix in "JPX":
        rows = df.filter(pl.col("event_id").str.starts_with(prefix)).sort("event_id")
        got = rows.select("event_type", "event_time", "channel").rows()
        assert got == [(e[2], e[3], e[6]) for e in _expected_events()], prefix
    lines = {p: sorted(df.filter(pl.col("event_id").str.starts_with(p))["_line"].to_list()) for p in "JPX"}
    assert lines == {"J": [1, 2, 3], "P": [1, 2, 3], "X": [2, 3, 4]}  # JSONL line, row+1, header = line 1


def test_jsonl_numbers_and_booleans_are_read_as_delivered_text(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    rec = {"evaluation_id": "V1", "window_id": "W01", "rating": 5, "evaluated_at": "2025-01-06T10:00:00", "is_real_name": True, "round": 1}
    (inbox / "evaluations").mkdir()
    (inbox / "evaluations" / "e.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    run(ww_home, inbox, rating_direction="one_is_best")
    row = landed(ww_home, "evaluations").row(0, named=True)
    assert (row["rating"], row["is_real_name"], row["round"]) == (1, True, 1)


def test_csv_lines_count_the_header_as_line_one(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1"],
                                                 ["E2", "C1", "nope", "2025-01-06 09:00:00", "W01", "I1"]])
    run(ww_home, inbox)
    assert landed(ww_home, "transactions")["_line"].to_list() == [2]
    assert quarantined(ww_home, "transactions").select("line", "rule").rows() == [(3, "unknown_enum")]


def test_unreadable_file_is_reported_and_the_others_land(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "good.csv", [TX_HEADER, ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1"]])
    (inbox / "transactions" / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (inbox / "transactions" / "empty.csv").write_bytes(b"")
    (inbox / "transactions" / "notes.docx").write_bytes(b"x")
    report = run(ww_home, inbox)
    assert report.exit_code == 1
    statuses = {d.source.split("/")[-1]: d.status for d in report.deliveries if d.feed == "transactions"}
    assert statuses == {"broken.parquet": "unreadable", "empty.csv": "unreadable", "good.csv": "landed", "notes.docx": "unreadable"}
    assert all(d.reason for d in report.deliveries if d.status == "unreadable")
    assert landed(ww_home, "transactions")["event_id"].to_list() == ["E1"]
    saved = json.loads((ww_home / "runs" / "ingest-latest.json").read_text(encoding="utf-8"))
    assert saved["exit_code"] == 1
    assert {d["source"] for d in saved["deliveries"] if d["status"] == "unreadable"} == {
        "files:transactions/broken.parquet", "files:transactions/empty.csv", "files:transactions/notes.docx"}


def test_truncated_csv_waits_in_the_inbox_instead_of_landing_half(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    body = csv_bytes([TX_HEADER] + [[f"E{i}", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1"] for i in range(5)])
    (inbox / "transactions").mkdir()
    (inbox / "transactions" / "cut.csv").write_bytes(body + b'E9,C1,"accept')  # cut inside a quoted field
    report = run(ww_home, inbox)
    res = result_for(report, "cut.csv")
    # no final line break: still being written; nothing of it lands, nothing is quarantined
    assert res.status == "still being written" and landed(ww_home, "transactions").height == 0
    assert report.exit_code == 0


def test_unknown_feed_folder_is_reported_and_underscore_folders_ignored(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transaction" / "t.csv", [TX_HEADER])
    write_csv(inbox / "_truth" / "quarantine.csv", [["x"]])
    write_csv(inbox / ".cache" / "x.csv", [["x"]])
    report = run(ww_home, inbox)
    assert [(p.problem, p.detail.split(":")[0].split("/")[-1]) for p in report.problems] == [("unknown feed folder", "transaction")]
    assert report.exit_code == 1
    assert {d.feed for d in report.deliveries} == {"windows", "items"}


def test_inbox_scan_hashes_files_in_parallel_with_the_serial_result(tmp_path):
    """The scan hashes several files at once (HASH_THREADS): each delivery keeps exactly the
    content id and encoding decision of a one-file-at-a-time hash, in inbox order."""
    import hashlib

    from ingest.sources import files
    from core.config import SourceOptions

    inbox = tmp_path / "inbox"
    bodies = {}
    for i in range(7):
        text = ",".join(TX_HEADER) + "\n" + "".join(f"E{i}-{j},C{i},accept,2025-10-2{i % 9} 09:00:00,W01,I01\n" for j in range(2000 + i))
        data = text.encode("gb18030" if i == 3 else "utf-8") + ("办件\n".encode("gb18030") if i == 3 else b"")
        path = inbox / "transactions" / f"part-{i}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        bodies[path.name] = data
    assert files.HASH_THREADS >= 2
    scan = files.scan_inbox(inbox, SourceOptions(), tmp_path / "tmp")
    assert [d.source.rsplit("/", 1)[-1] for d in scan.deliveries] == sorted(bodies)
    for d in scan.deliveries:
        data = bodies[d.path.name]
        assert d.content_id == hashlib.sha256(data).hexdigest()
        assert (d.content_id, d.encoding == "utf-8") == (files._hash_and_check_utf8(d.path)[0], d.path.name != "part-3.csv")
