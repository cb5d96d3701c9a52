"""Generate seeds/official_calendar.csv from the chinesecalendar package (docs/rules.md#working-days).

Run once per package upgrade (the seed is committed, so `dbt build` needs no network):
    uv run python dbt_project/scripts/make_calendar_seed.py
One row per day of the years the package covers (2004–2026 for chinesecalendar 1.11):
date, is_workday, is_makeup_workday (调休: a weekend day that is a working day),
holiday_name (Chinese) and holiday_name_en, for public holidays and their make-up days.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import chinese_calendar
from chinese_calendar.constants import holidays, workdays

OUT = Path(__file__).resolve().parent.parent / "seeds" / "official_calendar.csv"

ZH_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def covered_years() -> range:
    days = list(holidays) + list(workdays)
    return range(min(days).year, max(days).year + 1)


def rows():
    years = covered_years()
    day = dt.date(years.start, 1, 1)
    last = dt.date(years.stop - 1, 12, 31)
    while day <= last:
        name = holidays.get(day) or workdays.get(day)
        yield {
            "date": day.isoformat(),
            "is_workday": str(chinese_calendar.is_workday(day)).lower(),
            "is_makeup_workday": str(day in workdays).lower(),
            "holiday_name": ZH_NAMES.get(name, name) if name else "",
            "holiday_name_en": name or "",
        }
        day += dt.timedelta(days=1)


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["date", "is_workday", "is_makeup_workday", "holiday_name", "holiday_name_en"])
        writer.writeheader()
        writer.writerows(rows())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
