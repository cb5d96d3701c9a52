"""Shared CSV / XLSX writers for every export of the project.

Spreadsheet programs run a cell that starts with = + - @ (or a tab / carriage return that
hides one) as a formula (CSV/formula injection, OWASP). Every text cell we export is therefore
neutralised with a leading apostrophe; numbers, dates and booleans are written as typed
values, never as text, so they need no escaping. Use these writers for every CSV/XLSX export.

Tables are given as (columns, rows) with rows a sequence of dicts or sequences, or as a
polars or pandas DataFrame. `write_*` write files atomically; `*_bytes` return the content
(for download buttons).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.atomic import atomic_path

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A text cell that a spreadsheet would evaluate gets a leading `'`; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _table(data: Any, columns: Sequence[str] | None) -> tuple[list[str], list[list[Any]]]:
    if hasattr(data, "columns") and hasattr(data, "iter_rows"):  # polars DataFrame
        cols = list(columns or data.columns)
        return cols, [list(r) for r in data.select(cols).iter_rows()]
    if hasattr(data, "columns") and hasattr(data, "itertuples"):  # pandas DataFrame
        cols = [str(c) for c in (columns or data.columns)]
        frame = data[list(columns)] if columns else data
        frame = frame.astype(object).where(frame.notna(), None)  # NaN/NaT/NA -> empty cell
        return cols, [[_from_pandas(v) for v in r] for r in frame.itertuples(index=False, name=None)]
    rows = list(data)
    if columns is None:
        if rows and isinstance(rows[0], Mapping):
            columns = list(rows[0].keys())
        else:
            raise ValueError("columns are required when rows are not dicts")
    cols = list(columns)
    out = [[r.get(c) for c in cols] if isinstance(r, Mapping) else list(r) for r in rows]
    return cols, out


def _from_pandas(value: Any) -> Any:
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp; Excel has no time zones, ours are local
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    return value


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return str(neutralize(str(value)))


def _write_csv_rows(fh, cols: list[str], rows: list[list[Any]]) -> None:
    w = csv.writer(fh)
    w.writerow([neutralize(c) for c in cols])
    for r in rows:
        w.writerow([_csv_text(v) for v in r])


def csv_bytes(data: Any, columns: Sequence[str] | None = None) -> bytes:
    """The CSV of write_csv as bytes (UTF-8 with BOM)."""
    cols, rows = _table(data, columns)
    buf = io.StringIO(newline="")
    _write_csv_rows(buf, cols, rows)
    return buf.getvalue().encode("utf-8-sig")


def write_csv(path: str | Path, data: Any, columns: Sequence[str] | None = None) -> Path:
    """UTF-8 with BOM (Excel opens Chinese text correctly), written atomically."""
    cols, rows = _table(data, columns)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        _write_csv_rows(fh, cols, rows)
    return Path(path)


def write_xlsx(
    path: str | Path,
    sheets: Mapping[str, Any],
    columns: Mapping[str, Sequence[str]] | None = None,
    formats: Mapping[str, Mapping[str, str]] | None = None,
    widths: Mapping[str, Mapping[str, float]] | None = None,
) -> Path:
    """One sheet per entry of `sheets` (name -> rows or DataFrame), text cells neutralised.

    `formats` (sheet -> column -> Excel num_format, e.g. "0.0%") formats that column's numbers and
    dates; `widths` (sheet -> column -> width in characters) overrides the width from the header.

    xlsxwriter's generic write() would turn "=…" text into a live formula; we only ever call
    write_string / write_number / write_datetime / write_boolean, with formula and URL
    conversion switched off as a second guard.
    """
    with atomic_path(path) as tmp:
        _write_workbook(str(tmp), sheets, columns or {}, formats or {}, widths or {})
    return Path(path)


def xlsx_bytes(sheets: Mapping[str, Any], columns: Mapping[str, Sequence[str]] | None = None,
               formats: Mapping[str, Mapping[str, str]] | None = None,
               widths: Mapping[str, Mapping[str, float]] | None = None) -> bytes:
    """The workbook of write_xlsx as bytes."""
    buf = io.BytesIO()
    _write_workbook(buf, sheets, columns or {}, formats or {}, widths or {})
    return buf.getvalue()


def _write_workbook(target: Any, sheets: Mapping[str, Any], columns: Mapping[str, Sequence[str]],
                    formats: Mapping[str, Mapping[str, str]] | None = None,
                    widths: Mapping[str, Mapping[str, float]] | None = None) -> None:
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    if isinstance(target, io.BytesIO):
        options["in_memory"] = True
    wb = xlsxwriter.Workbook(target, options)
    header = wb.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, data in sheets.items():
        cols, rows = _table(data, columns.get(name))
        ws = wb.add_worksheet(name[:31])
        sheet_formats = (formats or {}).get(name, {})
        sheet_widths = (widths or {}).get(name, {})
        col_fmt = [wb.add_format({"num_format": sheet_formats[c]}) if c in sheet_formats else None for c in cols]
        for j, c in enumerate(cols):
            ws.write_string(0, j, str(neutralize(str(c))), header)
            ws.set_column(j, j, sheet_widths.get(c, max(10, min(40, len(str(c)) * 2 + 2))))
        for i, r in enumerate(rows, start=1):
            for j, v in enumerate(r):
                fmt = col_fmt[j] if j < len(col_fmt) else None
                _write_cell(ws, i, j, v, fmt or date_fmt, fmt or time_fmt, fmt)
        ws.freeze_panes(1, 0)
    wb.close()


def _write_cell(ws, i: int, j: int, v: Any, date_fmt, time_fmt, number_fmt=None) -> None:
    if v is None:
        ws.write_blank(i, j, None)
    elif isinstance(v, bool):
        ws.write_boolean(i, j, v)
    elif isinstance(v, (int, float)):
        if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            ws.write_string(i, j, str(v))
        else:
            ws.write_number(i, j, v, number_fmt)
    elif isinstance(v, dt.datetime):
        ws.write_datetime(i, j, v, time_fmt)
    elif isinstance(v, dt.date):
        ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), date_fmt)
    elif isinstance(v, (list, tuple)):
        ws.write_string(i, j, str(neutralize(";".join(str(x) for x in v))))
    else:
        ws.write_string(i, j, str(neutralize(str(v))))
