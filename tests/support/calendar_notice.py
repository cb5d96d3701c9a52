"""State Council holiday notices as `windowwatch calendar add-year` reads them (YAML), for years
the official calendar does not cover."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def _weekend_before(d: dt.date) -> dt.date:
    d -= dt.timedelta(days=1)
    while d.weekday() < 5:
        d -= dt.timedelta(days=1)
    return d


def _weekend_after(d: dt.date) -> dt.date:
    d += dt.timedelta(days=1)
    while d.weekday() < 5:
        d += dt.timedelta(days=1)
    return d


def notice_days(year: int) -> tuple[dict[dt.date, str], list[dt.date]]:
    """(holiday date -> name, make-up working days) of a plausible notice for `year`."""
    holidays: dict[dt.date, str] = {}
    for name, start, end in (("元旦", (1, 1), (1, 1)), ("劳动节", (5, 1), (5, 5)), ("国庆节", (10, 1), (10, 7))):
        d = dt.date(year, *start)
        while d <= dt.date(year, *end):
            holidays[d] = name
            d += dt.timedelta(days=1)
    makeup = [_weekend_before(dt.date(year, 10, 1)), _weekend_after(dt.date(year, 10, 7))]
    return holidays, makeup


def notice_yaml(year: int) -> str:
    _, makeup = notice_days(year)
    return (
        f"# 国务院办公厅关于{year}年部分节假日安排的通知\n"
        f"year: {year}\n"
        "holidays:\n"
        f"  - {{name: 元旦, from: {year}-01-01, to: {year}-01-01}}\n"
        f"  - name: 劳动节\n    from: {year}-05-01\n    to: {year}-05-05\n"
        f"  - {{name: 国庆节, name_en: National Day, from: {year}-10-01, to: {year}-10-07}}\n"
        "makeup_workdays:\n"
        f"  - {makeup[0].isoformat()}\n"
        f"  - {{date: {makeup[1].isoformat()}, note: 国庆调休}}\n"
    )


def write_notice(path: Path, year: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notice_yaml(year), encoding="utf-8")
    return path
