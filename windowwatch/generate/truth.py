"""Ground truth: our own implementation of docs/rules.md applied to what we wrote.

The truth is computed from the generated events (after truncation at the as-of date), not
from the injection plan, and then checked against the plan: a normal case that fires a
rule is a generator bug and stops the run.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.config import Scoring
from windowwatch.generate.cases import DAY, EVENT_TYPES, Chunk, window_hours
from windowwatch.generate.reference import Centre
from windowwatch.generate.workcal import WorkCalendar


def deadlines(chunk: Chunk, centre: Centre, cal: WorkCalendar, as_of_day: int) -> tuple[np.ndarray, np.ndarray]:
    """(deadline day, paused working days) per case, docs/rules.md"""
    t = chunk.t
    paused = np.zeros(chunk.n, dtype=np.int64)
    for start, end in (("supplement_request", "supplement_received"), ("suspend", "resume")):
        has = t[start] >= 0
        s_day = np.where(has, t[start] // DAY, chunk.accept_day)
        e_day = np.where(t[end] >= 0, t[end] // DAY, as_of_day)  # an open pause runs to the as-of date
        paused += np.where(has, cal.workdays_between(s_day, e_day), 0)
    limit = centre.item_limit[chunk.item]
    n = limit + chunk.extend_days + paused
    calendar = centre.item_calendar[chunk.item]
    wd = cal.nth_workday_after(chunk.accept_day, np.where(calendar, 0, n))
    cd = cal.workday_on_or_after(chunk.accept_day + np.where(calendar, n, 0))
    return np.where(calendar, cd, wd), paused


def overdue(chunk: Chunk, centre: Centre, cal: WorkCalendar, ids: np.ndarray, as_of_day: int,
            scoring: Scoring) -> pl.DataFrame:
    t = chunk.t
    dl, _ = deadlines(chunk, centre, cal, as_of_day)
    completed = t["complete"] >= 0
    open_ = ~completed & (t["reject"] < 0) & (t["withdraw"] < 0)
    late = completed & (t["complete"] // DAY > dl)
    red = open_ & (dl < as_of_day)
    remaining = cal.workdays_between(np.full(chunk.n, as_of_day), np.maximum(dl, as_of_day))
    yellow = open_ & ~red & (remaining <= scoring.timeliness.yellow_workdays)
    kind = np.where(late, "completed_late", np.where(red, "open_red", np.where(yellow, "open_yellow", "")))
    m = kind != ""
    return pl.DataFrame({"case_id": ids[m], "kind": kind[m],
                         "deadline_date": dl[m].astype("datetime64[D]")})


def case_signals(chunk: Chunk, centre: Centre, cal: WorkCalendar, ids: np.ndarray, scoring: Scoring,
                 handover_keys: np.ndarray) -> dict[str, np.ndarray]:
    """rule -> bool mask over cases, for the case-level rules computable from transactions."""
    t, rec = chunk.t, chunk.rec
    ob = scoring.off_book
    out: dict[str, np.ndarray] = {}
    bf = np.zeros(chunk.n, dtype=bool)
    for key in ("accept", "complete"):
        bf |= (t[key] >= 0) & (rec[key] - t[key] > ob.backfill_hours * 3600)
    out["OB_BACKFILL"] = bf
    promised = centre.item_promised[chunk.item]
    limit = centre.item_limit[chunk.item]
    done = t["complete"] >= 0
    out["OB_INSTANT"] = (promised & (limit >= ob.instant_min_promised_limit) & done
                         & (t["complete"] - t["accept"] < ob.instant_minutes * 60))
    is_ww = chunk.window == centre.weekend_window
    off = np.zeros(chunk.n, dtype=bool)
    for key in ("accept", "complete"):
        has = t[key] >= 0
        day = np.where(has, t[key] // DAY, chunk.accept_day)
        sod = t[key] % DAY
        open_, close = window_hours(is_ww, cal.is_workday(day))
        off |= has & ((open_ == close) | (sod < open_) | (sod >= close))
    out["OB_OFF_HOURS"] = off
    ho = np.zeros(chunk.n, dtype=bool)
    if len(handover_keys):
        for key in EVENT_TYPES:
            has = t[key] >= 0
            k = chunk.window.astype(np.int64) * 1_000_000 + np.where(has, t[key] // DAY, 0)
            ho |= has & np.isin(k, handover_keys)
    out["OB_HANDOVER"] = ho
    return out


INJECTED_FOR = {"OB_BACKFILL": "backfill", "OB_INSTANT": "instant", "OB_OFF_HOURS": "off_hours"}


def check_against_plan(signals: dict[str, np.ndarray], chunk: Chunk) -> None:
    for rule, kind in INJECTED_FOR.items():
        fired = np.flatnonzero(signals[rule])
        extra = np.setdiff1d(fired, chunk.injected[kind])
        if len(extra):
            raise RuntimeError(f"generator bug: {len(extra)} normal cases fire {rule} (e.g. case index {extra[0]})")


def signal_rows(signals: dict[str, np.ndarray], chunk: Chunk, centre: Centre, ids: np.ndarray) -> pl.DataFrame:
    frames = []
    for rule, mask in signals.items():
        idx = np.flatnonzero(mask)
        frames.append(pl.DataFrame({
            "rule_id": [rule] * len(idx),
            "case_id": ids[idx],
            "window_id": centre.window_ids[chunk.window[idx]],
            "department_id": centre.window_dept[chunk.window[idx]],
            "month": [None] * len(idx),
        }, schema={"rule_id": pl.String, "case_id": pl.String, "window_id": pl.String,
                   "department_id": pl.String, "month": pl.String}))
    return pl.concat(frames)
