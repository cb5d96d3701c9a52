"""Cases of one centre-month: arrivals, the life of each case, and its transaction events.

All draws are vectorised numpy on the chunk's own stream. Times are int64 seconds since
1970-01-01 in local time (Asia/Shanghai, naive), days are int day numbers.
Normal cases obey every rule of docs/rules.md with a margin (events at least a minute inside
hall hours, promised-item processing >= 31 min, recorded_at <= 2 h late); the injected
anomalies break exactly one rule each, well past its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from windowwatch.generate import people
from windowwatch.generate.reference import CENTRE_WORKDAY, WEEKEND_NON_WORKDAY, WEEKEND_WORKDAY, Centre
from windowwatch.generate.scales import Rates
from windowwatch.generate.workcal import WorkCalendar

DAY = 86400
MIN = 60
HOUR = 3600
NONE = np.int64(-1)

EVENT_TYPES = ["submit", "accept", "supplement_request", "supplement_received", "suspend", "resume", "extend",
               "approve", "reject", "withdraw", "complete", "deliver"]
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
CHANNELS = np.array(["window", "online", "self_service", "mail"])
CHANNEL_P = np.array([0.72, 0.18, 0.07, 0.03])
# weekday factors Mon..Sun (Sat/Sun only as 调休 make-up working days)
WEEKDAY_FACTOR = np.array([1.25, 1.05, 1.0, 0.95, 0.8, 0.9, 0.9])


def _minute_profile() -> np.ndarray:
    """Relative arrival intensity per minute of the day: 09–11 and 14–16 peaks, lunch dip."""
    m = np.arange(1440)
    w = np.full(1440, 1.0)
    w[(m >= 9 * 60) & (m < 11 * 60)] = 2.2
    w[(m >= 11 * 60) & (m < 12 * 60)] = 1.3
    w[(m >= 12 * 60) & (m < 13 * 60 + 30)] = 0.35
    w[(m >= 14 * 60) & (m < 16 * 60)] = 1.8
    w[(m >= 17 * 60)] = 0.6
    w[(m >= 18 * 60)] = 0.45
    return w


PROFILE = _minute_profile()


def draw_time_of_day(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Seconds of day in [lo, hi) following PROFILE (lo/hi in seconds, per row)."""
    cum = np.concatenate([[0.0], np.cumsum(PROFILE)])
    clo = np.interp(lo / 60.0, np.arange(1441), cum)
    chi = np.interp(hi / 60.0, np.arange(1441), cum)
    u = clo + rng.random(len(lo)) * (chi - clo)
    minute = np.interp(u, cum, np.arange(1441))
    return np.clip((minute * 60).astype(np.int64), lo, hi - 1)


def window_hours(is_weekend_window: np.ndarray, workday: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(open, close) seconds of day of each row's window on that day; (0, 0) when closed."""
    open_ = np.where(is_weekend_window, np.where(workday, WEEKEND_WORKDAY[0], WEEKEND_NON_WORKDAY[0]),
                     np.where(workday, CENTRE_WORKDAY[0], 0))
    close = np.where(is_weekend_window, np.where(workday, WEEKEND_WORKDAY[1], WEEKEND_NON_WORKDAY[1]),
                     np.where(workday, CENTRE_WORKDAY[1], 0))
    return open_.astype(np.int64), close.astype(np.int64)


@dataclass
class Chunk:
    """The cases of one centre-month (arrays indexed by case) and their events."""

    n: int
    window: np.ndarray
    item: np.ndarray
    accept_day: np.ndarray
    channel: np.ndarray
    staff: np.ndarray
    t: dict[str, np.ndarray]  # event type -> time (-1 = no such event)
    rec: dict[str, np.ndarray]  # event type -> recorded_at
    extend_days: np.ndarray
    injected: dict[str, np.ndarray] = field(default_factory=dict)  # kind -> case indexes


def _pick(rng: np.random.Generator, eligible: np.ndarray, rate: float, minimum: int, taken: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(eligible & ~taken)
    k = min(len(idx), max(minimum, int(round(rate * eligible.sum()))))
    chosen = np.sort(rng.choice(idx, size=k, replace=False)) if k else np.array([], dtype=np.int64)
    taken[chosen] = True
    return chosen


def generate_cases(centre: Centre, cal: WorkCalendar, first_day: int, last_day: int, as_of_day: int,
                   cases_per_workday: float, weekend_per_day: float, same_day_target: float,
                   rates: Rates, rng: np.random.Generator, boundary: bool = False) -> Chunk:
    ww = centre.weekend_window
    # ---------------------------------------------------------------- arrivals
    wdays = cal.workdays_in(first_day, last_day)
    wd_weekday = (wdays + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    factor = WEEKDAY_FACTOR[wd_weekday] * np.where(np.arange(len(wdays)) < 3, 1.2, 1.0)
    counts = rng.poisson(cases_per_workday * factor * rng.uniform(0.95, 1.05))
    day = np.repeat(wdays, counts)
    window = rng.choice(len(centre.window_ids), size=len(day), p=centre.window_weight)
    nwdays = cal.non_workdays_in(first_day, last_day)
    wk_counts = rng.poisson(weekend_per_day, len(nwdays))
    day = np.concatenate([day, np.repeat(nwdays, wk_counts)])
    window = np.concatenate([window, np.full(wk_counts.sum(), ww)])
    n = len(day)
    workday = cal.is_workday(day)
    is_ww = window == ww
    open_, close = window_hours(is_ww, workday)
    accept_sod = draw_time_of_day(rng, open_ + 2 * MIN, close - 15 * MIN)
    accept = day * DAY + accept_sod

    item = np.empty(n, dtype=np.int64)
    staff = np.empty(n, dtype=object)
    for w in range(len(centre.window_ids)):
        m = window == w
        if m.any():
            item[m] = centre.window_items[w][rng.choice(len(centre.window_items[w]), size=m.sum(), p=centre.window_item_p[w])]
            staff[m] = centre.window_staff[w][rng.integers(0, len(centre.window_staff[w]), m.sum())]
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_P)
    online = channel == 1
    # applications arrive within hall hours: at the counter minutes before acceptance, online
    # earlier the same day (accepted when the window gets to them)
    room = accept_sod - open_ - MIN  # >= 1 min: acceptance is at least 2 min after opening
    wait = np.where(online, (rng.random(n) * np.minimum(6 * HOUR, room)).astype(np.int64), rng.integers(1 * MIN, 15 * MIN, n))
    submit = accept - np.clip(wait, MIN, room)

    promised = centre.item_promised[item]
    limit = centre.item_limit[item]
    calendar = centre.item_calendar[item]

    # ---------------------------------------------------------------- outcome
    u = rng.random(n)
    rejected = u < np.where(promised, 0.012, 0.003)
    withdrawn = (~rejected) & (u < np.where(promised, 0.018, 0.005))
    going = ~rejected & ~withdrawn
    taken = np.zeros(n, dtype=bool)  # a case carries at most one injected anomaly

    # same-day share calibrated to the published 88.31 % of completed cases
    imm_share = (~promised).mean() if n else 0.5
    p_same = np.clip((same_day_target - imm_share) / max(1e-9, 1 - imm_share), 0.05, 0.97)
    same_day = promised & going & (rng.random(n) < p_same)
    avail = close - MIN - accept_sod  # seconds until a minute before closing
    same_day &= avail >= 32 * MIN
    multi = promised & going & ~same_day

    t = {k: np.full(n, NONE) for k in EVENT_TYPES}
    t["submit"] = submit
    t["accept"] = accept
    complete = np.full(n, NONE)

    # immediate items: minutes, always before closing
    imm = ~promised & going
    dur = rng.integers(3 * MIN, 40 * MIN, n)
    complete = np.where(imm, np.minimum(accept + dur, day * DAY + close - MIN - rng.integers(0, 59, n)), complete)
    # promised, same day: 31 min .. 4 h, before closing
    dur = 31 * MIN + (rng.random(n) * (np.minimum(4 * HOUR, np.maximum(avail, 32 * MIN)) - 31 * MIN)).astype(np.int64)
    complete = np.where(same_day, accept + dur, complete)

    # promised, several days: k working days (workday items) or c calendar days
    ext = np.zeros(n, dtype=np.int64)
    pause_b = np.zeros(n, dtype=np.int64)
    pause_kind = np.zeros(n, dtype=np.int64)  # 0 none, 1 supplement, 2 suspend
    wd_multi = multi & ~calendar
    r = rng.random(n)
    pause_kind = np.where(wd_multi & (r < 0.06), 1, np.where(wd_multi & (r >= 0.06) & (r < 0.08), 2, 0))
    pause_b = np.where(pause_kind > 0, rng.integers(1, 6, n), 0)
    has_ext = wd_multi & (limit >= 3) & (rng.random(n) < 0.03)
    ext = np.where(has_ext, rng.choice([5, 10], n), 0)
    k = 1 + rng.binomial(np.maximum(limit - 1, 0), 0.35)
    k = np.where(has_ext, limit + 1 + (rng.random(n) * ext).astype(np.int64) % np.maximum(ext, 1), k)
    c = 1 + rng.binomial(np.maximum(limit - 1, 0), 0.4)

    late = _pick(rng, multi & (accept_sod > 0), rates.overdue_late, rates.min_per_chunk, taken)
    k[late] = limit[late] + ext[late] + rng.integers(1, 6, len(late))
    c[late] = limit[late] + rng.integers(3, 11, len(late))
    stalled_pool = multi & (day <= as_of_day - 10)
    stalled = _pick(rng, stalled_pool, rates.stalled, rates.min_per_chunk, taken)

    k_safe = np.where(wd_multi, k + pause_b, 1)
    cday = np.where(calendar, cal.workday_on_or_after(day + np.where(calendar, c, 0)), cal.nth_workday_after(day, k_safe))
    c_open, c_close = window_hours(is_ww, np.ones(n, dtype=bool))
    c_sod = 10 * HOUR + 30 * MIN + (rng.random(n) * (c_close - MIN - (10 * HOUR + 30 * MIN))).astype(np.int64)
    complete = np.where(multi, cday * DAY + c_sod, complete)
    complete[stalled] = NONE

    # pauses and extensions of workday items
    p1_day = cal.nth_workday_after(day, 1)
    p2_day = cal.nth_workday_after(day, 1 + pause_b)
    morning = lambda: c_open + MIN + (rng.random(n) * (10 * HOUR - c_open - MIN)).astype(np.int64)  # noqa: E731
    t1 = p1_day * DAY + morning()
    t2 = p2_day * DAY + morning()
    t["supplement_request"] = np.where(pause_kind == 1, t1, NONE)
    t["supplement_received"] = np.where(pause_kind == 1, t2, NONE)
    t["suspend"] = np.where(pause_kind == 2, t1, NONE)
    t["resume"] = np.where(pause_kind == 2, t2, NONE)
    ext_day = cal.nth_workday_after(day, np.minimum(limit, k) + pause_b)
    t["extend"] = np.where(has_ext, ext_day * DAY + morning(), NONE)

    # reject / withdraw
    rj_day = np.where(promised, cal.nth_workday_after(day, rng.integers(0, 3, n)), day)
    rj_time = np.where(rj_day == day, accept + rng.integers(5 * MIN, 14 * MIN, n), rj_day * DAY + c_sod)
    t["reject"] = np.where(rejected, rj_time, NONE)
    t["withdraw"] = np.where(withdrawn, np.where(promised, rj_time, accept + rng.integers(2 * MIN, 10 * MIN, n)), NONE)

    # ---------------------------------------------------------------- injections
    inj: dict[str, np.ndarray] = {"overdue_late": late, "stalled": stalled}
    instant_pool = same_day & (limit >= 3)
    inst = _pick(rng, instant_pool, rates.instant, rates.min_per_chunk, taken)
    complete[inst] = accept[inst] + rng.integers(1 * MIN, 12 * MIN, len(inst))
    inj["instant"] = inst
    if boundary:
        # deliberate boundary case: exactly 15 min 00 s is not "< 15 min" (no OB_INSTANT)
        b = _pick(rng, instant_pool, 0.0, 1, taken)
        complete[b] = accept[b] + 15 * MIN
        inj["boundary_instant"] = b

    completed = complete >= 0
    normal_window = ~is_ww
    # off-hours A: a completion at 19:00–23:30 on its (working) day at a window closed then
    offa = _pick(rng, multi & completed & normal_window & (complete <= as_of_day * DAY), rates.off_hours * 0.6, max(1, rates.min_per_chunk // 2), taken)
    cd = complete[offa] // DAY
    complete[offa] = cd * DAY + 19 * HOUR + rng.integers(0, 4 * HOUR + 30 * MIN, len(offa))
    # off-hours B: an immediate case handled on a non-working day at a window closed that day
    offb = np.array([], dtype=np.int64)
    if len(nwdays):
        offb = _pick(rng, imm & normal_window, rates.off_hours * 0.4, max(1, rates.min_per_chunk // 2), taken)
        nd = nwdays[rng.integers(0, len(nwdays), len(offb))]
        shift = (nd - day[offb]) * DAY
        for key in ("submit", "accept"):
            t[key][offb] += shift
        complete[offb] += shift
        day[offb] = nd
        accept = t["accept"]
    inj["off_hours"] = np.sort(np.concatenate([offa, offb]))

    t["complete"] = complete
    completed = complete >= 0
    # approve a little before completion (promised items); deliver after
    gap = np.maximum(complete - accept, 2 * MIN)
    t["approve"] = np.where(completed & promised, complete - np.minimum(rng.integers(MIN, 30 * MIN, n), gap // 2), NONE)
    t["deliver"] = np.where(completed, complete + rng.integers(MIN, 10 * MIN, n), NONE)

    # recorded_at: on time for most rows, up to 2 h late for the rest
    rec = {}
    for key in EVENT_TYPES:
        lag = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 2 * HOUR, n))
        rec[key] = np.where(t[key] >= 0, t[key] + lag, NONE)
    as_of_end = as_of_day * DAY + DAY - 1
    # backfill: an accept or complete typed in 26–96 h later (and before the as-of date)
    bf_pool = completed & (complete < as_of_end - 5 * DAY)
    bf = _pick(rng, bf_pool, rates.backfill, rates.min_per_chunk, taken)
    on_complete = rng.random(len(bf)) < 0.5
    lagbf = rng.integers(26 * HOUR, 96 * HOUR, len(bf))
    rec["complete"][bf[on_complete]] = complete[bf[on_complete]] + lagbf[on_complete]
    rec["accept"][bf[~on_complete]] = accept[bf[~on_complete]] + lagbf[~on_complete]
    inj["backfill"] = bf
    if boundary:
        # deliberate boundary case: accept recorded exactly 24 h 00 min 00 s later is not "> 24 h"
        b = _pick(rng, bf_pool, 0.0, 1, taken)
        rec["accept"][b] = accept[b] + 24 * HOUR
        inj["boundary_backfill"] = b

    # nothing exists after the as-of date
    for key in EVENT_TYPES:
        gone = t[key] > as_of_end
        t[key][gone] = NONE
        rec[key][gone] = NONE
        rec[key] = np.minimum(rec[key], as_of_end)
    ext = np.where(t["extend"] >= 0, ext, 0)
    return Chunk(n=n, window=window, item=item, accept_day=day, channel=channel, staff=staff, t=t, rec=rec,
                 extend_days=ext, injected=inj)


def applicants(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return people.id_numbers(rng, n), people.names(rng, n), people.mobiles(rng, n)
