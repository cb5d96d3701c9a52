"""CSV/XLSX exports with spreadsheet formula injection neutralised.

A cell that starts with = + - @ tab or CR is read as a formula by Excel/WPS/LibreOffice
(OWASP "CSV injection"); such text cells get a leading apostrophe so they stay text.
"""

from __future__ import annotations

import io

import pandas as pd

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(v):
    if isinstance(v, str) and v.startswith(DANGEROUS_START):
        return "'" + v
    return v


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def to_csv(df: pd.DataFrame) -> bytes:
    # UTF-8 with BOM so that Excel on Chinese Windows opens it correctly
    return neutralise(df).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    clean = neutralise(df)
    for col in clean.columns:  # Excel has no time zones; our times are local already
        if isinstance(clean[col].dtype, pd.DatetimeTZDtype):
            clean[col] = clean[col].dt.tz_localize(None)
    with pd.ExcelWriter(buf, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}) as xw:
        clean.to_excel(xw, sheet_name=sheet, index=False)
    return buf.getvalue()
