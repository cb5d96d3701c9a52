"""Download-button exports of dashboard tables: the project's shared writers
(windowwatch.exports), which neutralise spreadsheet formula injection."""

from __future__ import annotations

import pandas as pd

from windowwatch import exports


def to_csv(df: pd.DataFrame) -> bytes:
    return exports.csv_bytes(df)


def to_xlsx(df: pd.DataFrame, sheet: str = "data") -> bytes:
    return exports.xlsx_bytes({sheet: df})
