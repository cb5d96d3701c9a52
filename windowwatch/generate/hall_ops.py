"""大厅运行 (SPEC §3 hall-operation feeds, §4.10): attendance, queue tickets, work orders and inspections.

Drawn per centre-month on the seed's own hall stream (dataset.py), so every other feed stays byte-identical,
and consistent with what the rest of the generator wrote:
- attendance: every current staff member of a window has a row on every day the window's hall hours open
  (the weekend window on every day); sign-in 1–25 min before opening, sign-out 0–25 min after closing or after
  the window's 延时服务 until_time; a late sign-in only where the staff's first case event of the day comes
  later, an early sign-out only after their last one;
- queue tickets: one per in-hall case (channel window) whose application was made at the window that day
  (served_at = the submit event, finished_at a few minutes after the accept), plus no-shows and cancellations;
- work orders and inspections: about the centre's windows, departments and inspectors, in hall hours.
Planted patterns (the truth files are computed from the rows, with the rules of SPEC §4.10):
late arrivals and early leaves, staff absences, leave and business days, a covered window-day (everybody on
leave or business) and an absent window-day (nobody signed in, nobody on leave) per centre-month; a business
type whose p90 wait exceeds queue_add_p90_minutes in the middle month (+1) and one served by several windows
with short waits in every month (−1); substantiated complaints at windows, work orders closed late, contents
holding a phone or ID number (scrubbed at ingest); days short of the spot_checks_per_day video spot checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from core.config import Scoring
from core.feeds import FEEDS
from windowwatch.generate import people
from windowwatch.generate import writers as W
from windowwatch.generate.cases import DAY, HOUR, MIN, Chunk, window_hours
from windowwatch.generate.frames import day_sequence
from windowwatch.generate.reference import Centre
from windowwatch.generate.workcal import WorkCalendar, to_date

HALL_FEEDS = ("attendance", "queue_tickets", "work_orders", "inspections")
GENERAL_QUEUE = "综合受理"  # the weekend window's tickets: a queue name, not an item code
TICKETS_EARLY = 30 * MIN  # the ticket machine issues from 30 min before opening


@dataclass
class HallTruth:
    """Per centre-month truth frames, concatenated and written at the end."""

    parts: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    boundary: list[dict] = field(default_factory=list)

    def add(self, name: str, df: pl.DataFrame) -> None:
        self.parts.setdefault(name, []).append(df)


def _month(day: pl.Expr) -> pl.Expr:
    return day.dt.strftime("%Y-%m").alias("month")


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]"))


def _times(secs: np.ndarray, name: str) -> pl.Series:
    """int seconds (-1: none) as a nullable Datetime column."""
    s = pl.Series(name, np.asarray(secs, dtype=np.int64))
    return pl.select(pl.when(s >= 0).then(pl.from_epoch(s, time_unit="s")).alias(name)).to_series()


def _date_text(day: np.ndarray) -> pl.Series:
    """YYYYMMDD of each day number (formatted once per distinct day)."""
    uniq, inv = np.unique(np.asarray(day, dtype=np.int64), return_inverse=True)
    return pl.Series([to_date(d).strftime("%Y%m%d") for d in uniq], dtype=pl.String).gather(inv)


def _ids(prefix: str, day: np.ndarray, t: np.ndarray, width: int) -> pl.Series:
    """prefix + YYYYMMDD + the row's zero-padded sequence within its day, in time order."""
    seq = pl.Series(day_sequence(np.asarray(day), np.asarray(t))).cast(pl.String).str.zfill(width)
    return prefix + _date_text(day) + seq


def open_hours(centre: Centre, cal: WorkCalendar, first: int, last: int) -> np.ndarray:
    """Open hours of each window over the days [first, last] (hall hours × scheduled days)."""
    days = np.arange(first, last + 1)
    work = cal.is_workday(days)
    nw = len(centre.window_ids)
    is_ww = np.zeros(nw, dtype=bool)
    is_ww[centre.weekend_window] = True
    o, c = window_hours(np.repeat(is_ww, len(days)), np.tile(work, nw))
    return ((c - o).reshape(nw, len(days)).sum(axis=1)) / HOUR


# ------------------------------------------------------------------------------------------ attendance


def staff_days(month_tx: pl.DataFrame) -> pl.DataFrame:
    """First and last case event (seconds) and the number of events of each staff member and day."""
    secs = pl.col("event_time").dt.epoch("s")
    return (month_tx.select("staff_id", "event_time")
            .filter(pl.col("staff_id").is_not_null() & pl.col("event_time").is_not_null())
            .group_by("staff_id", (secs // DAY).alias("day"))
            .agg(secs.min().alias("first_ev"), secs.max().alias("last_ev"), pl.len().alias("events")))


def _fewest(eligible: np.ndarray, k: int, events: np.ndarray, key: np.ndarray, rng: np.random.Generator,
            taken: np.ndarray) -> np.ndarray:
    """k rows among the eligible, fewest case events first, at most one per key (window-day)."""
    idx = np.flatnonzero(eligible & ~taken)
    idx = idx[np.lexsort((rng.random(len(idx)), events[idx]))]
    _, first = np.unique(key[idx], return_index=True)
    chosen = np.sort(idx[np.sort(first)][:k])
    taken[chosen] = True
    return chosen


def _random(eligible: np.ndarray, k: int, rng: np.random.Generator, taken: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(eligible & ~taken)
    chosen = np.sort(rng.choice(idx, size=min(k, len(idx)), replace=False)) if len(idx) else idx
    taken[chosen] = True
    return chosen


def attendance(centre: Centre, cal: WorkCalendar, first: int, last: int, sdays: pl.DataFrame, ext_map: dict,
               grace_min: int, rng: np.random.Generator, truth: HallTruth, boundary: bool) -> pl.DataFrame:
    days = np.arange(first, last + 1)
    work = cal.is_workday(days)
    ww = centre.weekend_window
    swin = np.concatenate([np.full(len(s), w) for w, s in enumerate(centre.window_staff)])
    sids = np.concatenate([np.asarray(s, dtype=object) for s in centre.window_staff])
    s_idx = np.repeat(np.arange(len(sids)), len(days))
    d_idx = np.tile(np.arange(len(days)), len(sids))
    keep = work[d_idx] | (swin[s_idx] == ww)  # a window-day is scheduled when its hall hours open
    s_idx, d_idx = s_idx[keep], d_idx[keep]
    n = len(s_idx)
    day, w, wd = days[d_idx], swin[s_idx], work[d_idx]
    open_, close = window_hours(w == ww, wd)
    ev = pl.DataFrame({"staff_id": pl.Series(sids.astype(str)).gather(s_idx), "day": day}).join(
        sdays, on=["staff_id", "day"], how="left", maintain_order="left")
    first_ev = ev["first_ev"].fill_null(-1).to_numpy()
    last_ev = ev["last_ev"].fill_null(-1).to_numpy()
    events = ev["events"].fill_null(0).to_numpy()
    key = w * 1_000_000 + day
    ext_keys = np.array(sorted(ext_map), dtype=np.int64)
    ext_until = np.array([ext_map[k] for k in sorted(ext_map)], dtype=np.int64)
    pos = np.clip(np.searchsorted(ext_keys, key), 0, max(len(ext_keys) - 1, 0))
    extended = (ext_keys[pos] == key) if len(ext_keys) else np.zeros(n, dtype=bool)
    until = np.where(extended, ext_until[pos] if len(ext_keys) else 0, close)

    base = day * DAY
    grace = grace_min * MIN
    sign_in = base + open_ - rng.integers(MIN, 25 * MIN, n)
    sign_out = base + until + np.where(extended, rng.integers(2 * MIN, 15 * MIN, n), rng.integers(0, 25 * MIN, n))
    absence = np.full(n, "none", dtype=object)
    drop = np.zeros(n, dtype=bool)
    taken = np.zeros(n, dtype=bool)
    # room for a late sign-in (minutes past open + grace, still a minute before the first case event) and for an
    # early sign-out (before close - grace, a minute after the last one): at most 40 / 20 minutes
    late_room = np.where(first_ev < 0, 40 * MIN, np.minimum(40 * MIN, first_ev - base - open_ - grace - MIN))
    early_room = np.where(last_ev < 0, 20 * MIN, np.minimum(20 * MIN, base + close - grace - 2 * MIN - last_ev))
    starts_late = late_room >= MIN
    leaves_early = ~extended & (early_room >= 0)
    in_grace = (first_ev < 0) | (first_ev >= base + open_ + grace)

    # window-days: one absent (first staff row absent, the others no row) and one covered (leave / business)
    cand = wd & (w != ww)
    inv = np.unique(key, return_inverse=True)[1]
    day_events = np.bincount(inv, weights=events)[inv]  # the case events of the whole window-day
    for kind in ("absent", "covered"):
        pick = _fewest(cand, 1, day_events, key, rng, taken)
        rows = np.flatnonzero(np.isin(key, key[pick]))
        taken[rows] = True
        cand &= ~np.isin(key, key[pick])
        absence[rows[0]] = "absent" if kind == "absent" else "leave"
        if kind == "absent":
            drop[rows[1:]] = True
        else:
            absence[rows[1:]] = "business"
    # staff-level: absences, leave and business days at windows whose other staff sign in
    staffed_window = np.bincount(swin, minlength=len(centre.window_ids))[w] >= 2
    for kind, share in (("absent", 0.003), ("leave", 0.015), ("business", 0.004)):
        pick = _fewest(staffed_window, max(2, round(share * n)), events, key, rng, taken)
        absence[pick] = kind
        staffed_window &= ~np.isin(key, key[pick])
    late = _random(starts_late, max(2, round(0.012 * n)), rng, taken)
    sign_in[late] = (base[late] + open_[late] + grace + MIN
                     + (rng.random(len(late)) * (late_room[late] - MIN + 1)).astype(np.int64))
    early = _random(leaves_early, max(2, round(0.008 * n)), rng, taken)
    sign_out[early] = (base[early] + close[early] - grace - MIN
                       - (rng.random(len(early)) * (early_room[early] + 1)).astype(np.int64))
    # near misses: signed in within the grace (never late), and the exact boundaries once
    near = _random(in_grace, max(2, round(0.02 * n)), rng, taken)
    sign_in[near] = base[near] + open_[near] + rng.integers(0, max(grace - 30, 1), len(near))
    b_in = _random(in_grace, int(boundary), rng, taken)
    sign_in[b_in] = base[b_in] + open_[b_in] + grace
    b_out = _random(leaves_early, int(boundary), rng, taken)
    sign_out[b_out] = base[b_out] + close[b_out] - grace
    off = absence != "none"
    sign_in[off] = -1
    sign_out[off] = -1

    window_col = centre.window_ids[w].astype(object)
    window_col[rng.random(n) < 0.04] = None  # null: the staff's window (staff feed)
    staff_id = pl.Series(sids.astype(str)).gather(s_idx)
    att_id = "A" + _date_text(day) + staff_id
    df = pl.DataFrame({
        "attendance_id": att_id, "staff_id": staff_id,
        "window_id": pl.Series(window_col.tolist(), dtype=pl.String), "work_date": _dates(day),
        "sign_in_at": _times(sign_in, "sign_in_at"), "sign_out_at": _times(sign_out, "sign_out_at"),
        "absence_type": absence.astype(str),
    })
    keep = ~drop
    truth.boundary += [{"feed": "attendance", "id": a, "detail": "sign_in_at exactly open + late_grace_minutes",
                        "expected": "not a late arrival (the rule is after it)"} for a in att_id.gather(b_in).to_list()]
    truth.boundary += [{"feed": "attendance", "id": a, "detail": "sign_out_at exactly close - late_grace_minutes",
                        "expected": "not an early leave (the rule is before it)"} for a in att_id.gather(b_out).to_list()]
    _attendance_truth(df.filter(keep), w[keep], base[keep] + open_[keep], base[keep] + close[keep], centre, grace,
                      truth)
    return df.filter(keep)


def _attendance_truth(df: pl.DataFrame, w: np.ndarray, opens: np.ndarray, closes: np.ndarray, centre: Centre,
                      grace: int, truth: HallTruth) -> None:
    """SPEC §4.10 attendance on the rows written (every scheduled window-day has at least one row)."""
    sin = df["sign_in_at"].dt.epoch("s").fill_null(-1).to_numpy()
    sout = df["sign_out_at"].dt.epoch("s").fill_null(-1).to_numpy()
    a = df.select("attendance_id", "staff_id", "work_date", "absence_type").with_columns(
        window_id=pl.Series(centre.window_ids[w].astype(str)),
        late=pl.Series((sin >= 0) & (sin > opens + grace)),
        early=pl.Series((sout >= 0) & (sout < closes - grace)),
        signed=pl.Series(sin >= 0))
    ev = pl.concat([
        a.filter("late").select("attendance_id", "staff_id", "window_id", "work_date", kind=pl.lit("late_arrival")),
        a.filter("early").select("attendance_id", "staff_id", "window_id", "work_date", kind=pl.lit("early_leave")),
    ])
    truth.add("hall_late_events", ev)
    wdays = a.group_by("window_id", "work_date").agg(
        pl.col("signed").any().alias("staffed"),
        pl.col("absence_type").is_in(["leave", "business"]).any().alias("excused"),
    ).with_columns(
        pl.when("staffed").then(pl.lit("staffed")).when("excused").then(pl.lit("covered"))
        .otherwise(pl.lit("absent")).alias("status"), _month(pl.col("work_date")))
    truth.add("hall_absent_window_days", wdays.filter(pl.col("status") == "absent").select(
        "month", "window_id", "work_date"))
    per_window = a.group_by("window_id", _month(pl.col("work_date"))).agg(
        pl.col("late").sum().alias("late_arrivals"), pl.col("early").sum().alias("early_leaves"))
    wm = wdays.group_by("window_id", "month").agg(
        pl.len().alias("days_scheduled"), (pl.col("status") == "staffed").sum().alias("days_staffed"),
        (pl.col("status") == "covered").sum().alias("days_covered"),
        (pl.col("status") == "absent").sum().alias("absent_days"),
    ).with_columns((pl.col("days_staffed") / (pl.col("days_scheduled") - pl.col("days_covered")))
                   .alias("in_post_rate")).join(per_window, on=["window_id", "month"])
    truth.add("hall_attendance_window_month", wm.select(
        "month", "window_id", "days_scheduled", "days_staffed", "days_covered", "absent_days", "in_post_rate",
        "late_arrivals", "early_leaves"))
    truth.add("hall_attendance_staff_month", a.group_by("staff_id", "window_id", _month(pl.col("work_date"))).agg(
        pl.col("late").sum().alias("late_arrivals"), pl.col("early").sum().alias("early_leaves"),
        (pl.col("absence_type") == "absent").sum().alias("absent_days"),
    ).select("month", "staff_id", "window_id", "late_arrivals", "early_leaves", "absent_days"))


# ------------------------------------------------------------------------------------------ queue tickets


def merge_item(centre: Centre) -> int:
    """The −1 business type: an item several (non-weekend) windows serve, of middling expected volume."""
    ww = centre.weekend_window
    served_by = np.zeros(len(centre.item_codes))
    volume = np.zeros(len(centre.item_codes))
    for w, (items, p) in enumerate(zip(centre.window_items, centre.window_item_p)):
        if w != ww:
            served_by[items] += 1
            volume[items] += centre.window_weight[w] * p
    cand = np.flatnonzero(served_by >= 2)
    if not len(cand):
        return -1
    cand = cand[np.argsort(volume[cand], kind="stable")]
    return int(cand[len(cand) // 2])


def queue_tickets(chunk: Chunk, centre: Centre, cal: WorkCalendar, merge: int, add: bool, rng: np.random.Generator,
                  code: str) -> pl.DataFrame:
    ww = centre.weekend_window
    submit, accept = chunk.t["submit"], chunk.t["accept"]
    day = chunk.accept_day
    open_, close = window_hours(chunk.window == ww, cal.is_workday(day))
    sod = submit - day * DAY
    # in-hall applications made at the window that day, in hours (off-hours cases took no ticket)
    has = (chunk.channel == 0) & (submit >= 0) & (submit // DAY == day) & (sod >= open_) & (sod < close)
    idx = np.flatnonzero(has)
    m = len(idx)
    w, item, day, open_ = chunk.window[idx], chunk.item[idx], day[idx], open_[idx]
    served = submit[idx]
    called = served - rng.integers(15, 60, m)
    finished = accept[idx] + rng.integers(MIN, 8 * MIN, m)
    wait = np.minimum(10 * MIN + 30 + (rng.gamma(2.0, 2.5 * MIN, m)).astype(np.int64), 28 * MIN)
    is_merge = (item == merge) & (w != ww)
    wait = np.where(is_merge, rng.integers(MIN, 6 * MIN, m), wait)
    if add:  # the busiest item of the month queues 35–75 min
        counts = np.bincount(np.where((w != ww) & ~is_merge, item, len(centre.item_codes)),
                             minlength=len(centre.item_codes) + 1)[:-1]
        busy = (item == int(np.argmax(counts))) & (w != ww)
        wait = np.where(busy, rng.integers(35 * MIN, 75 * MIN, m), wait)
    issued = np.maximum(called - wait, day * DAY + open_ - TICKETS_EARLY)
    # no-shows (called, never served) and cancellations (never called), beside real tickets
    k_ns, k_c = int(round(0.04 * m)), int(round(0.02 * m))
    tpl = rng.choice(m, size=k_ns + k_c, replace=False) if m else np.array([], dtype=np.int64)
    no_show = np.arange(len(tpl)) < k_ns
    x_issued = np.maximum(issued[tpl] - rng.integers(0, 10 * MIN, len(tpl)),
                          day[tpl] * DAY + open_[tpl] - TICKETS_EARLY)
    none = np.full(len(tpl), -1, dtype=np.int64)
    all_day, all_issued = np.r_[day, day[tpl]], np.r_[issued, x_issued]
    all_w = np.r_[w, np.where(no_show, w[tpl], -1)]
    all_item = np.r_[item, item[tpl]]
    general = np.r_[w, w[tpl]] == ww  # the weekend window's queue has a name, not an item code
    return pl.DataFrame({
        "ticket_id": _ids(f"T{code}", all_day, all_issued, 5),
        "center_id": centre.center_id,
        "business_type": pl.select(pl.when(pl.Series(general)).then(pl.lit(GENERAL_QUEUE)).otherwise(
            pl.Series(centre.item_codes.astype(str)).gather(all_item))).to_series(),
        "window_id": pl.select(pl.when(pl.Series(all_w) >= 0).then(
            pl.Series(centre.window_ids.astype(str)).gather(np.maximum(all_w, 0)))).to_series(),
        "issued_at": _times(all_issued, "issued_at"),
        "called_at": _times(np.r_[called, np.where(no_show, x_issued + wait[tpl], -1)], "called_at"),
        "served_at": _times(np.r_[served, none], "served_at"),
        "finished_at": _times(np.r_[finished, none], "finished_at"),
        "status": pl.Series(["served", "no_show", "cancelled"]).gather(
            np.r_[np.zeros(m, dtype=np.int64), np.where(no_show, 1, 2)]),
    }).sort("issued_at", "ticket_id")


def _p90(col: str) -> pl.Expr:
    """The smallest value with at least 90 % of the values at or below it (SPEC §4.10)."""
    return pl.col(col).sort().get((pl.len() * 9 + 9) // 10 - 1)


def queue_truth(tickets: pl.DataFrame, centre: Centre, hours: np.ndarray, scoring: Scoring, truth: HallTruth) -> None:
    """Business-type-month figures and the window adjustment proposal (窗口动态增减, SPEC §4.10)."""
    h = scoring.hall
    hours_of = pl.DataFrame({"window_id": centre.window_ids.astype(str), "open_hours": hours})
    t = tickets.with_columns(_month(pl.col("issued_at")),
                             ((pl.col("called_at") - pl.col("issued_at")).dt.total_seconds() / 60).alias("wait"),
                             ((pl.col("finished_at") - pl.col("served_at")).dt.total_seconds() / 60).alias("service"))
    s = t.filter(pl.col("status") == "served")
    win = s.select("month", "business_type", "window_id").unique().join(hours_of, on="window_id").group_by(
        "month", "business_type").agg(pl.len().alias("current_windows"), pl.col("open_hours").sum())
    bt = t.group_by("month", "business_type").agg(pl.len().alias("tickets")).join(
        s.group_by("month", "business_type").agg(pl.len().alias("served"), _p90("wait").alias("p90_wait_minutes")),
        on=["month", "business_type"]).join(win, on=["month", "business_type"]).with_columns(
        (pl.col("served") / pl.col("open_hours")).alias("served_per_window_hour"))
    bt = bt.with_columns(
        pl.when(pl.col("p90_wait_minutes") > h.queue_add_p90_minutes).then(1)
        .when((pl.col("current_windows") > 1) & (pl.col("served_per_window_hour") < h.queue_merge_per_hour)
              & (pl.col("p90_wait_minutes") < h.queue_merge_p90_minutes)).then(-1).otherwise(0).alias("proposal"))
    truth.add("hall_adjustment_proposals", bt.filter(pl.col("proposal") != 0).select(
        "month", "business_type", "proposal", "current_windows", "tickets", "p90_wait_minutes",
        "served_per_window_hour"))
    per_w = t.filter(pl.col("window_id").is_not_null()).group_by("month", "window_id").agg(
        pl.len().alias("tickets"), (pl.col("status") == "served").sum().alias("served"),
        (pl.col("status") == "no_show").mean().alias("no_show_rate"))
    per_ws = s.group_by("month", "window_id").agg(
        pl.col("wait").mean().alias("avg_wait_minutes"), _p90("wait").alias("p90_wait_minutes"),
        pl.col("service").mean().alias("avg_service_minutes"))
    truth.add("hall_queue_window_month", per_w.join(per_ws, on=["month", "window_id"], how="left"))


# ------------------------------------------------------------------------------------------ work orders

WO_CHANNELS = np.array(["hotline_12345", "cant_get_done", "mailbox"])
WO_CATEGORIES = np.array(["complaint", "consultation", "suggestion", "praise"])
WO_TEXT = {
    "complaint": ["反映{w}工作人员态度生硬，办理{i}时不耐烦", "反映在{w}办理{i}时被要求重复提交材料，多跑了一趟",
                  "反映{w}中午提前离岗，排队近一小时无人办理", "反映{w}办理{i}超过承诺时限仍未办结"],
    "consultation": ["咨询{i}需要准备哪些材料", "咨询{i}能否全程网办", "咨询{w}周末是否对外办公"],
    "suggestion": ["建议{w}增加自助取号机", "建议大厅延长午间办理时间", "建议{i}材料清单在网上公开"],
    "praise": ["表扬{w}工作人员耐心细致，{i}一次办好", "感谢{w}帮办代办，节省了很多时间"],
}


def work_orders(centre: Centre, cal: WorkCalendar, first: int, last: int, as_of_day: int, cases: int,
                rng: np.random.Generator, code: str, truth: HallTruth) -> pl.DataFrame:
    n = int(rng.poisson(max(12.0, 0.003 * cases)))
    cat = WO_CATEGORIES[rng.choice(4, n, p=[0.35, 0.40, 0.15, 0.10])]
    ch = WO_CHANNELS[rng.choice(3, n, p=[0.60, 0.25, 0.15])]
    days = np.arange(first, last + 1)
    wdays = cal.workdays_in(first, last)
    day = np.where(ch == "cant_get_done", rng.choice(wdays, n), rng.choice(days, n))
    received = day * DAY + 8 * HOUR + 30 * MIN + rng.integers(0, 9 * HOUR, n)
    has_w = rng.random(n) < np.where(cat == "complaint", 0.8, 0.3)
    w = rng.choice(len(centre.window_ids), n, p=centre.window_weight)
    dept = np.where(has_w, centre.window_dept[w], centre.departments["department_id"].to_numpy()[
        rng.integers(0, centre.departments.height, n)])
    due_day = cal.nth_workday_after(day, np.where(cat == "complaint", 5, 3))
    due = due_day * DAY + 18 * HOUR
    # answered and closed in office hours (09:00–17:30) on working days; ~12 % closed 1–4 working days late
    office = lambda: 9 * HOUR + rng.integers(0, 8 * HOUR + 30 * MIN, n)  # noqa: E731
    responded = np.maximum(cal.nth_workday_after(day, rng.integers(0, 2, n)) * DAY + office(),
                           received + rng.integers(30 * MIN, 2 * HOUR, n))
    late = rng.random(n) < 0.12
    c_day = np.where(late, cal.nth_workday_after(due_day, rng.integers(1, 5, n)),
                     cal.nth_workday_before(due_day, rng.integers(0, 3, n)))
    closed = np.maximum(c_day * DAY + office(), responded + rng.integers(HOUR, 3 * HOUR, n))
    end = as_of_day * DAY + DAY - 1
    responded = np.where(responded <= end, responded, -1)
    closed = np.where(closed <= end, closed, -1)
    done = closed >= 0
    subst = np.where((cat == "complaint") & done, np.where(rng.random(n) < 0.4, "true", "false"), None)
    sat = np.where(done & (rng.random(n) < 0.9), np.array(["satisfied", "basically_satisfied", "unsatisfied"])[
        rng.choice(3, n, p=[0.70, 0.18, 0.12])], None)
    wname = centre.windows["window_name"].to_numpy()[w]
    names = centre.items["item_name"].to_numpy()
    pick = rng.integers(0, 1 << 30, n)
    iname = [names[centre.window_items[wj][k % len(centre.window_items[wj])]] for wj, k in zip(w, pick)]
    text = np.array([WO_TEXT[c][int(k) % len(WO_TEXT[c])].format(w=wname[j] if has_w[j] else "窗口", i=iname[j])
                     for j, (c, k) in enumerate(zip(cat, rng.integers(0, 12, n)))], dtype=object)
    # some requesters leave a phone or ID number in the text (ingest scrubs it)
    leak = np.sort(rng.choice(n, size=min(n, max(2, round(0.12 * n))), replace=False))
    phones, idn = people.mobiles(rng, len(leak)), people.id_numbers(rng, len(leak))
    kinds = np.where(np.arange(len(leak)) % 2 == 0, "phone", "id_number")
    values = np.where(kinds == "phone", phones, idn)
    for j, (i, kind, v) in enumerate(zip(leak, kinds, values)):
        text[i] = f"{text[i]}，联系电话{v}" if kind == "phone" else f"{text[i]}（身份证号{v}）"
    ids = _ids(f"G{code}", day, received, 4)
    df = pl.DataFrame({
        "order_id": ids, "channel": ch, "category": cat, "received_at": _times(received, "received_at"),
        "department_id": dept.astype(str), "window_id": pl.Series(np.where(has_w, centre.window_ids[w], None).tolist(),
                                                                 dtype=pl.String),
        "due_at": _times(due, "due_at"), "responded_at": _times(responded, "responded_at"),
        "closed_at": _times(closed, "closed_at"),
        "substantiated": pl.Series(subst.tolist(), dtype=pl.String).replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean),
        "requester_satisfaction": pl.Series(sat.tolist(), dtype=pl.String),
        "content": pl.Series(text.tolist(), dtype=pl.String),
    }).sort("received_at", "order_id")
    truth.add("hall_substantiated_complaints", df.filter(
        (pl.col("category") == "complaint") & pl.col("substantiated").fill_null(False) & pl.col("window_id").is_not_null()
    ).select(_month(pl.col("received_at")), "order_id", "window_id", "department_id"))
    truth.add("hall_work_orders_closed_late", df.filter(
        pl.col("due_at") <= pl.from_epoch(pl.lit(end), time_unit="s"),
        pl.col("closed_at").is_null() | (pl.col("closed_at") > pl.col("due_at")),
    ).select(pl.col("due_at").dt.strftime("%Y-%m").alias("due_month"), "order_id", "window_id", "due_at", "closed_at"))
    truth.add("hall_work_order_pii", pl.DataFrame({"order_id": ids.gather(leak), "kind": kinds,
                                                   "value": values.astype(str)}))
    return df


# ------------------------------------------------------------------------------------------ inspections

FINDINGS = np.array(["attitude", "discipline", "environment", "process", "absent", "other"])
NOTES = {"none": "检查未发现问题", "absent": "窗口人员离岗未放置暂停服务牌", "attitude": "接待群众语气生硬",
         "discipline": "工作时间使用手机处理私事", "environment": "窗口台面材料摆放杂乱", "process": "未执行一次性告知",
         "other": "其他问题，已当场指出"}


def inspections(centre: Centre, cal: WorkCalendar, first: int, last: int, required: int, rng: np.random.Generator,
                code: str, truth: HallTruth, zero_day: bool) -> pl.DataFrame:
    wdays = cal.workdays_in(first, last)
    nw = len(centre.window_ids)
    # 一日三查: `required` video spot checks per working day; about one day in twelve falls short
    done = np.full(len(wdays), required)
    short = np.flatnonzero(rng.random(len(wdays)) < 1 / 12)
    if not len(short) and len(wdays):
        short = rng.choice(len(wdays), 1)
    done[short] = rng.integers(1, max(required, 2), len(short))
    if zero_day and len(short):
        done[short[0]] = 0
    v_day = np.repeat(wdays, done)
    slot = np.concatenate([np.arange(k) for k in done]) if len(done) else np.array([], dtype=np.int64)
    v_t = v_day * DAY + 9 * HOUR + slot * (8 * HOUR // max(required, 1)) + rng.integers(0, 2 * HOUR, len(v_day))
    v_find = np.where(rng.random(len(v_day)) < 0.04, "absent", "none")
    # on-site and mystery checks at windows, and one hall-wide check a month (window null)
    k_on, k_my = max(2, len(wdays) // 5), max(1, len(wdays) // 10)
    o_day = rng.choice(wdays, k_on + k_my + 1)
    o_t = o_day * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, len(o_day))
    method = np.r_[np.full(len(v_day), "video_spot"), np.full(k_on, "on_site"), np.full(k_my, "mystery"), ["on_site"]]
    o_find = np.where(rng.random(k_on + k_my) < 0.6, FINDINGS[rng.integers(0, len(FINDINGS), k_on + k_my)], "none")
    o_find[0] = "attitude"  # at least one window finding a month
    finding = np.r_[v_find, o_find, ["environment"]]
    deduction = np.where(finding == "none", 0.0, np.where(method == "mystery", 2.0, np.where(
        method == "video_spot", 0.5, rng.choice([1.0, 1.5, 2.0, 3.0], len(finding)))))
    window = np.r_[centre.window_ids[rng.integers(0, nw, len(v_day) + k_on + k_my)].astype(object), [None]]
    active = centre.inspectors.filter(pl.col("active"))["inspector_id"].to_numpy()
    day = np.r_[v_day, o_day]
    t = np.r_[v_t, o_t]
    df = pl.DataFrame({
        "inspection_id": _ids(f"J{code}", day, t, 3),
        "inspector_id": active[rng.integers(0, len(active), len(t))].astype(str),
        "center_id": centre.center_id,
        "window_id": pl.Series(window.tolist(), dtype=pl.String),
        "inspected_at": _times(t, "inspected_at"),
        "method": method.astype(str),
        "finding": finding.astype(str),
        "deduction": deduction,
        "note": [NOTES[f] for f in finding],
    }).sort("inspected_at", "inspection_id")
    truth.add("hall_spot_check_short_days", pl.DataFrame({
        "center_id": centre.center_id, "date": _dates(wdays[short]), "done": done[short],
        "required": np.full(len(short), required)}))
    truth.add("hall_inspection_window_month", df.filter(pl.col("window_id").is_not_null()).group_by(
        _month(pl.col("inspected_at")), "window_id").agg(
        pl.len().alias("inspections"), (pl.col("finding") != "none").sum().alias("inspection_findings"),
        pl.col("deduction").sum().alias("deduction_points")))
    return df


# ------------------------------------------------------------------------------------------ writers


def _chinese(df: pl.DataFrame, feed: str, enums: tuple[str, ...]) -> pl.DataFrame:
    """A local export: Chinese headers and enum labels."""
    f = FEEDS[feed]
    df = df.with_columns(pl.col(c).replace_strict({k: v[0] for k, v in f.by_name[c].enum.items()},
                                                   return_dtype=pl.String) for c in enums)
    return df.rename({c.name: c.aliases[0] for c in f.columns if c.name in df.columns})


def write_month(out, frames: dict[str, pl.DataFrame], i: int, nm: int, label: str, record) -> None:
    """One file per feed and centre-month, in the shapes real exports come in; the last month's are plain
    UTF-8 CSV (bad rows are appended to them)."""
    last = i == nm - 1
    att = W.contract_order(frames["attendance"], "attendance")
    rel = f"attendance/{label}.csv"
    if i == 0 and not last:  # the 考勤机 export: Chinese headers and labels, UTF-8 with BOM, slashed times
        record(rel, W.write_csv(_chinese(att, "attendance", ("absence_type",)), out / rel, encoding="utf-8-sig",
                                ts_format="slash"))
    else:
        record(rel, W.write_csv(att, out / rel))
    q = W.contract_order(frames["queue_tickets"], "queue_tickets")
    if i == 0 and not last:
        rel = f"queue_tickets/{label}.parquet"
        record(rel, W.write_parquet(q, out / rel))
    else:
        rel = f"queue_tickets/{label}.csv"
        record(rel, W.write_csv(q, out / rel, ts_format="default" if last else "iso"))
    wo = W.contract_order(frames["work_orders"], "work_orders")
    if last:
        rel = f"work_orders/{label}.csv"
        record(rel, W.write_csv(wo, out / rel))
    else:  # the 12345 platform's JSON export
        rel = f"work_orders/{label}.jsonl"
        text = wo.with_columns(pl.col(c).dt.strftime(W.TS_FORMATS["default"])
                               for c, t in wo.schema.items() if t == pl.Datetime)
        record(rel, W.write_jsonl(text, out / rel))
    ins = W.contract_order(frames["inspections"], "inspections")
    rel = f"inspections/{label}.csv"
    if i == 1 and not last:  # the supervision office's own GBK sheet
        record(rel, W.write_csv(_chinese(ins, "inspections", ("method", "finding")), out / rel, encoding="gbk"))
    else:
        record(rel, W.write_csv(ins, out / rel, ts_format="compact" if i == 0 else "default"))


def write_truth(tdir, truth: HallTruth) -> dict:
    """The hall truth files (sorted, deterministic); returns their row counts."""
    sort_keys = {
        "hall_late_events": ["work_date", "attendance_id", "kind"],
        "hall_absent_window_days": ["work_date", "window_id"],
        "hall_attendance_window_month": ["month", "window_id"],
        "hall_attendance_staff_month": ["month", "staff_id"],
        "hall_adjustment_proposals": ["month", "business_type"],
        "hall_queue_window_month": ["month", "window_id"],
        "hall_substantiated_complaints": ["month", "order_id"],
        "hall_work_orders_closed_late": ["due_month", "order_id"],
        "hall_work_order_pii": ["order_id"],
        "hall_spot_check_short_days": ["center_id", "date"],
        "hall_inspection_window_month": ["month", "window_id"],
    }
    counts = {}
    for name, keys in sort_keys.items():
        df = pl.concat(truth.parts.get(name, []), how="vertical_relaxed").sort(keys)
        df.write_csv(tdir / f"{name}.csv", null_value="", line_terminator="\n", float_precision=4)
        counts[name] = df.height
    return counts
