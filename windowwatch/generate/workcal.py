"""Working-day arithmetic for the generator and its ground truth (docs/rules.md).

Days are held as int day numbers (days since 1970-01-01) in one dense table, so every
rule is a vectorised numpy lookup. The official calendar comes from chinesecalendar;
beyond its range (2004–2026) a day is a working day iff Monday–Friday (docs/rules.md), and
the table remembers which days were assumed that way.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import numpy as np

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


class WorkCalendar:
    """Dense working-day table over [first, last] (inclusive day numbers)."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first = day_number(first)
        n = (last - first).days + 1
        self.days = np.arange(self.first, self.first + n, dtype=np.int64)
        work = np.zeros(n, dtype=bool)
        assumed = np.zeros(n, dtype=bool)
        for i in range(n):
            d = first + dt.timedelta(days=i)
            try:
                work[i] = chinese_calendar.is_workday(d)
            except NotImplementedError:  # year not covered: Mon–Fri, flagged as assumed
                work[i] = d.weekday() < 5
                assumed[i] = True
        self.is_work = work
        self.assumed = assumed
        # cw[i] = number of working days among days[0..i]
        self.cw = np.cumsum(work).astype(np.int64)
        self.workdays = self.days[work]

    def idx(self, day) -> np.ndarray:
        i = np.asarray(day, dtype=np.int64) - self.first
        if np.any(i < 0) or np.any(i >= len(self.days)):
            raise ValueError("day outside the generator's calendar table; widen it")
        return i

    def is_workday(self, day) -> np.ndarray:
        return self.is_work[self.idx(day)]

    def nth_workday_after(self, day, n) -> np.ndarray:
        """The n-th working day strictly after `day` (n >= 1); n == 0 returns `day`."""
        day = np.asarray(day, dtype=np.int64)
        n = np.asarray(n, dtype=np.int64)
        pos = self.cw[self.idx(day)]  # index in self.workdays of the first working day > day
        k = np.clip(pos + n - 1, 0, len(self.workdays) - 1)
        if np.any(pos + n - 1 >= len(self.workdays)):
            raise ValueError("deadline beyond the generator's calendar table; widen it")
        return np.where(n > 0, self.workdays[k], day)

    def nth_workday_before(self, day, n) -> np.ndarray:
        """The n-th working day strictly before `day` (n >= 1); n == 0 returns `day`."""
        day = np.asarray(day, dtype=np.int64)
        n = np.asarray(n, dtype=np.int64)
        i = self.idx(day)
        pos = self.cw[i] - self.is_work[i]  # working days strictly before day
        k = pos - n
        if np.any((n > 0) & (k < 0)):
            raise ValueError("day before the generator's calendar table; widen it")
        return np.where(n > 0, self.workdays[np.clip(k, 0, len(self.workdays) - 1)], day)

    def workday_on_or_after(self, day) -> np.ndarray:
        day = np.asarray(day, dtype=np.int64)
        i = self.idx(day)
        pos = self.cw[i] - self.is_work[i]
        return self.workdays[pos]

    def workdays_between(self, start, end) -> np.ndarray:
        """Working days d with start < d <= end (0 when end <= start)."""
        start = np.asarray(start, dtype=np.int64)
        end = np.asarray(end, dtype=np.int64)
        out = self.cw[self.idx(end)] - self.cw[self.idx(start)]
        return np.where(end > start, out, 0)

    def workdays_in(self, first: int, last: int) -> np.ndarray:
        i0, i1 = first - self.first, last - self.first + 1
        return self.days[i0:i1][self.is_work[i0:i1]]

    def non_workdays_in(self, first: int, last: int) -> np.ndarray:
        i0, i1 = first - self.first, last - self.first + 1
        return self.days[i0:i1][~self.is_work[i0:i1]]

    def any_assumed(self, first: int, last: int) -> list[str]:
        i0, i1 = first - self.first, last - self.first + 1
        return [to_date(d).isoformat() for d in self.days[i0:i1][self.assumed[i0:i1]]]
