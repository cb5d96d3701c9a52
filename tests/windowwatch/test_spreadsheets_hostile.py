"""Formula injection (issue 8): the corpus's hostile cells, landed as text by ingest, come out of
every CSV/XLSX writer neutralised (a spreadsheet never evaluates them)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import polars as pl
import pytest
from openpyxl import load_workbook

from tests.support.hostile_corpus import CORPUS
from tests.support.inbox import run
from windowwatch import spreadsheets

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture()
def landed_comments(ww_home, tmp_path):
    """The formula-injection evaluations, landed by the real ingest."""
    inbox = tmp_path / "inbox"
    for feed, name in (("windows", "windows.csv"), ("items", "items.csv"), ("evaluations", "formula_injection.csv")):
        (inbox / feed).mkdir(parents=True, exist_ok=True)
        (inbox / feed / name).write_bytes((CORPUS / feed / name).read_bytes())
    run(ww_home, inbox)
    files = sorted((ww_home / "landing" / "evaluations").glob("part_date=*/*.parquet"))
    df = pl.concat([pl.read_parquet(f, hive_partitioning=False) for f in files]).select("evaluation_id", "window_id", "comment")
    assert df["comment"].str.starts_with("=").any() and df["comment"].str.starts_with("+").any()
    return df


def _csv_cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]


def test_csv_export_neutralises_formulas(landed_comments):
    cells = _csv_cells(spreadsheets.csv_bytes(landed_comments))
    assert any("HYPERLINK" in c for c in cells)  # the text is kept, only defused
    assert [c for c in cells if c.startswith(DANGEROUS)] == []


def test_xlsx_export_neutralises_formulas(landed_comments):
    wb = load_workbook(io.BytesIO(spreadsheets.xlsx_bytes({"data": landed_comments})))
    ws = wb.active
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert any("HYPERLINK" in str(v) for v in values)
    assert [v for v in values if isinstance(v, str) and v.startswith(DANGEROUS)] == []
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)  # no cell is stored as a formula


def test_dashboard_downloads_neutralise_formulas(landed_comments):

    pdf = pd.DataFrame(landed_comments.to_dicts())
    assert [c for c in _csv_cells(spreadsheets.csv_bytes(pdf)) if c.startswith(DANGEROUS)] == []
    ws = load_workbook(io.BytesIO(spreadsheets.xlsx_bytes({"data": pdf}))).active
    assert [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith(DANGEROUS)] == []
