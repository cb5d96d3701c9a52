"""Formula injection is neutralised in every CSV / XLSX we write (windowwatch/spreadsheets.py)."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import polars as pl

from windowwatch.spreadsheets import neutralize, write_csv, write_xlsx

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "普通文本", "a=b"]


def test_neutralize_only_dangerous_text():
    assert [neutralize(v) for v in HOSTILE] == [
        "'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "普通文本", "a=b",
    ]
    assert neutralize(-5) == -5 and neutralize(None) is None and neutralize(1.5) == 1.5


def test_csv_neutralises_text_and_keeps_numbers(tmp_path):
    rows = [{"name": v, "n": -i, "when": dt.date(2026, 10, 1)} for i, v in enumerate(HOSTILE)]
    path = write_csv(tmp_path / "out.csv", rows)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel opens Chinese correctly"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == ["name", "n", "when"]
    names = [r[0] for r in got[1:]]
    assert names[:6] == ["'" + v for v in HOSTILE[:6]]
    assert names[6:] == ["普通文本", "a=b"]
    assert [r[1] for r in got[1:]][:3] == ["0", "-1", "-2"]  # numbers are not text: no apostrophe
    assert got[1][2] == "2026-10-01"
    assert not list(tmp_path.glob(".*tmp")), "no temp file left behind"


def test_csv_header_and_dataframe(tmp_path):
    df = pl.DataFrame({"=evil": ["=1+2", "ok"], "v": [1.25, None]})
    path = write_csv(tmp_path / "df.csv", df)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got == [["'=evil", "v"], ["'=1+2", "1.25"], ["ok", ""]]


def test_xlsx_cells_are_inert_text(tmp_path):
    rows = [[v, -i, dt.datetime(2026, 10, 1, 8, 30), True] for i, v in enumerate(HOSTILE)]
    path = write_xlsx(tmp_path / "out.xlsx", {"sheet1": rows, "other": [{"x": "@cmd"}]},
                      columns={"sheet1": ["text", "n", "at", "flag"]})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["sheet1", "other"]
    ws = wb["sheet1"]
    texts = [ws.cell(row=i, column=1) for i in range(2, 2 + len(HOSTILE))]
    for cell, original in zip(texts, HOSTILE):
        assert cell.data_type == "s", f"{original!r} must be stored as text, not a formula"
    assert [c.value for c in texts[:4]] == ["'" + v for v in HOSTILE[:4]]
    assert texts[6].value == "普通文本"
    assert ws.cell(row=3, column=2).value == -1 and ws.cell(row=3, column=2).data_type == "n"
    assert ws.cell(row=2, column=3).value == dt.datetime(2026, 10, 1, 8, 30)
    assert ws.cell(row=2, column=4).value is True
    assert wb["other"].cell(row=2, column=1).value == "'@cmd"
    # no cell anywhere is a formula
    for sheet in wb:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f"
