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

from core.config import Scoring, load_scoring
from core.feeds import APPROVAL_MODES, PAUSE_REASONS
from windowwatch.generate import people
from windowwatch.generate.reference import CENTRE_WORKDAY, WEEKEND_NON_WORKDAY, WEEKEND_WORKDAY, Centre, step_table
from windowwatch.generate.scales import Rates
from windowwatch.generate.workcal import WorkCalendar

DAY = 86400
MIN = 60
HOUR = 3600
NONE = np.int64(-1)

EVENT_TYPES = ["submit", "accept", "supplement_request", "supplement_received", "suspend", "resume", "extend",
               "approve", "reject", "withdraw", "complete", "deliver"]
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
# event types a case may carry twice (TL_REPEAT_NOTICE, TL_EXTENSION_REPEAT): the second one's event_id
# suffix is its type index + 1 + REPEAT_OFFSET
REPEATED = ["supplement_request", "supplement_received", "extend"]
REPEAT_OFFSET = 20
ALLOWED_REASONS = ["hearing", "tender", "auction", "inspection", "testing", "quarantine", "appraisal",
                   "expert_review", "survey"]
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
    t2: dict[str, np.ndarray] = field(default_factory=dict)  # REPEATED type -> time of its second event (-1)
    rec2: dict[str, np.ndarray] = field(default_factory=dict)
    extend_days2: np.ndarray | None = None
    pause_reason: np.ndarray | None = None  # on the suspend: feed value (English or Chinese) or None
    approval_mode: np.ndarray | None = None  # on the accept: feed value or None (the item's)
    applicant_of: np.ndarray | None = None  # the case whose applicant this case's applicant is (itself mostly)
    extended: list[tuple[int, int, int]] = field(default_factory=list)  # 延时服务: (window, day, until second of day)
    applicant: np.ndarray | None = None  # applicant_id per case, set when the frame is written


def _pick(rng: np.random.Generator, eligible: np.ndarray, rate: float, minimum: int, taken: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(eligible & ~taken)
    k = min(len(idx), max(minimum, int(round(rate * eligible.sum()))))
    chosen = np.sort(rng.choice(idx, size=k, replace=False)) if k else np.array([], dtype=np.int64)
    taken[chosen] = True
    return chosen


def canonical(values: np.ndarray, enum: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Feed values (English or a Chinese alias, or None) as their English value (None stays None)."""
    back = {a: k for k, v in enum.items() for a in v} | {k: k for k in enum}
    return np.array([None if v is None else back[v] for v in values], dtype=object)


def _zh(rng: np.random.Generator, values: np.ndarray, enum: dict[str, tuple[str, ...]],
        share: float = 0.4) -> np.ndarray:
    """English enum values, ~share of them written as their Chinese label (the feeds mix both)."""
    out = values.astype(object)
    zh = rng.random(len(values)) < share
    for i in np.flatnonzero(zh):
        out[i] = enum[values[i]][0]
    return out


def generate_cases(centre: Centre, cal: WorkCalendar, first_day: int, last_day: int, as_of_day: int,
                   cases_per_workday: float, weekend_per_day: float, same_day_target: float,
                   rates: Rates, rng: np.random.Generator, boundary: bool = False,
                   scoring: Scoring | None = None, extended: list[tuple[int, int, int]] | None = None,
                   handover: tuple[np.ndarray, np.ndarray] | None = None) -> Chunk:
    scoring = scoring or load_scoring()
    tl = scoring.timeliness
    extended = [e for e in (extended or []) if first_day <= e[1] <= last_day]
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

    # ---------------------------------------------------------------- 时限合规 injections (SPEC §4.2.1)
    # each on its own cases, with room before the as-of date for the whole pattern
    inj: dict[str, np.ndarray] = {"overdue_late": late, "stalled": stalled}
    legal = centre.item_legal[item]
    cap = np.where(centre.item_max_ext[item] >= 0, centre.item_max_ext[item], tl.max_extension_days)
    room = wd_multi & ~is_ww & (cal.nth_workday_after(day, 25) <= as_of_day)
    in_period = cal.nth_workday_before(day, 2) >= first_day  # a late notice's submit may come 2 working days early
    for kind, rate in (("late_notice", rates.late_notice), ("repeat_notice", rates.repeat_notice),
                       ("pause_reason", rates.pause_reason), ("pause_no_reason", rates.pause_no_reason)):
        idx = _pick(rng, room & (in_period if kind == "late_notice" else True), rate, rates.min_per_chunk, taken)
        pause_kind[idx] = 1 if kind.endswith("notice") else 2
        pause_b[idx] = rng.integers(1, 4, len(idx))
        has_ext[idx] = False
        inj[kind] = idx
    for kind, rate in (("extension_repeat", rates.extension_repeat), ("extension_cap", rates.extension_cap),
                       ("extension_late", rates.extension_late)):
        idx = _pick(rng, room & (limit >= 3), rate, rates.min_per_chunk, taken)
        pause_kind[idx] = 0
        pause_b[idx] = 0
        has_ext[idx] = True
        ext[idx] = np.where(kind == "extension_cap", cap[idx] + 5, 5)
        k[idx] = limit[idx] + (3 if kind == "extension_late" else 1) + rng.integers(0, 3, len(idx))
        inj[kind] = idx
    lo_pool = wd_multi & ~is_ww & (cal.nth_workday_after(day, legal + 12) <= as_of_day)
    lo = _pick(rng, lo_pool, rates.legal_overdue, rates.min_per_chunk, taken)
    pause_kind[lo] = 0
    pause_b[lo] = 0
    has_ext[lo] = False
    ext[lo] = 0
    k[lo] = legal[lo] + rng.integers(1, 6, len(lo))
    inj["legal_overdue"] = lo
    ext = np.where(has_ext, ext, 0)

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
    # a normal extension comes a working day before the deadline without it (its only counted pause included)
    ext_off = np.maximum(np.minimum(limit, k) - 1, 1) + pause_b
    el = inj["extension_late"]
    ext_off[el] = limit[el] + 1 + rng.integers(0, 2, len(el))  # after the deadline without it
    ext_day = cal.nth_workday_after(day, ext_off)
    t["extend"] = np.where(has_ext, ext_day * DAY + morning(), NONE)
    t2 = {key: np.full(n, NONE) for key in REPEATED}
    extend_days2 = np.zeros(n, dtype=np.int64)
    er = inj["extension_repeat"]
    t2["extend"][er] = cal.nth_workday_after(ext_day[er], 1) * DAY + morning()[er]
    extend_days2[er] = 5
    # suspends: an allowed reason (English or Chinese), or the injected other 其他 / none
    reason = np.empty(n, dtype=object)
    reason[:] = None
    susp = np.flatnonzero(pause_kind == 2)
    reason[susp] = _zh(rng, np.array(ALLOWED_REASONS)[rng.integers(0, len(ALLOWED_REASONS), len(susp))], PAUSE_REASONS)
    pr = inj["pause_reason"]
    reason[pr] = np.where(rng.random(len(pr)) < 0.5, "other", "其他")
    reason[inj["pause_no_reason"]] = None
    # late notice: submit 0–2 working days before acceptance, the first notice 6–7 working days after submit
    ln = inj["late_notice"]
    shift = rng.integers(0, 3, len(ln))
    sub_day = cal.nth_workday_before(day[ln], shift)
    t["submit"][ln] = sub_day * DAY + t["submit"][ln] % DAY
    n_day = cal.nth_workday_after(sub_day, 6 + rng.integers(0, 2, len(ln)))
    r_day = cal.nth_workday_after(n_day, pause_b[ln])
    t["supplement_request"][ln] = n_day * DAY + morning()[ln]
    t["supplement_received"][ln] = r_day * DAY + morning()[ln]
    complete[ln] = cal.nth_workday_after(r_day, 1 + rng.integers(0, 3, len(ln))) * DAY + c_sod[ln]
    # repeated notice: a second request / received pair after the first
    rn = inj["repeat_notice"]
    q_day = cal.nth_workday_after(p2_day[rn], 1)
    r_day = cal.nth_workday_after(q_day, 1 + rng.integers(0, 2, len(rn)))
    t2["supplement_request"][rn] = q_day * DAY + morning()[rn]
    t2["supplement_received"][rn] = r_day * DAY + morning()[rn]
    complete[rn] = cal.nth_workday_after(r_day, 1 + rng.integers(0, 3, len(rn))) * DAY + c_sod[rn]
    if boundary:
        # a first notice exactly supplement_notice_workdays after submit (same day as accept): not late
        b = _pick(rng, room & (pause_kind == 0) & ~has_ext & (t["submit"] // DAY == day), 0.0, 1, taken)
        n_day = cal.nth_workday_after(day[b], tl.supplement_notice_workdays)
        r_day = cal.nth_workday_after(n_day, 1)
        t["supplement_request"][b] = n_day * DAY + morning()[b]
        t["supplement_received"][b] = r_day * DAY + morning()[b]
        complete[b] = cal.nth_workday_after(r_day, 1) * DAY + c_sod[b]
        inj["boundary_notice"] = b
        # an extension dated exactly on the deadline without it: not late
        b = _pick(rng, has_ext & (pause_kind == 0) & ~is_ww & (complete >= 0) & (limit >= 3), 0.0, 1, taken)
        t["extend"][b] = cal.nth_workday_after(day[b], limit[b]) * DAY + morning()[b]
        inj["boundary_extension"] = b

    # reject / withdraw
    rj_day = np.where(promised, cal.nth_workday_after(day, rng.integers(0, 3, n)), day)
    rj_time = np.where(rj_day == day, accept + rng.integers(5 * MIN, 14 * MIN, n), rj_day * DAY + c_sod)
    t["reject"] = np.where(rejected, rj_time, NONE)
    t["withdraw"] = np.where(withdrawn, np.where(promised, rj_time, accept + rng.integers(2 * MIN, 10 * MIN, n)), NONE)

    # ---------------------------------------------------------------- injections
    mode = np.empty(n, dtype=object)  # approval_mode on the accept: mostly none (the item's), some of each
    mode[:] = None
    some = np.flatnonzero(rng.random(n) < 0.03)
    mode[some] = _zh(rng, np.array(list(APPROVAL_MODES))[rng.integers(0, 3, len(some))], APPROVAL_MODES)
    item_mode = centre.item_mode[item]
    instant_pool = same_day & (limit >= 3)
    inst = _pick(rng, instant_pool & (item_mode == "standard"), rates.instant, rates.min_per_chunk, taken)
    mode[inst] = None
    # an accept saying standard 一般 overrides an item's 告知承诺: still OB_INSTANT
    std = _pick(rng, instant_pool & (item_mode != "standard"), 0.0, 1, taken)
    mode[std] = np.where(rng.random(len(std)) < 0.5, "standard", "一般")
    inst = np.sort(np.concatenate([inst, std]))
    complete[inst] = accept[inst] + rng.integers(1 * MIN, 12 * MIN, len(inst))
    inj["instant"] = inst
    # exempt instant cases (SPEC §4.3): the accept's approval mode, or the item's, is commitment / tolerance
    ci = _pick(rng, instant_pool & (item_mode == "standard"), rates.commitment_instant, rates.min_per_chunk, taken)
    mode[ci] = rng.choice(["commitment", "告知承诺", "tolerance", "容缺受理"], len(ci))
    ci_item = _pick(rng, instant_pool & (item_mode != "standard"), 0.0, 1, taken)
    mode[ci_item] = None
    ci = np.sort(np.concatenate([ci, ci_item]))
    complete[ci] = accept[ci] + rng.integers(1 * MIN, 12 * MIN, len(ci))
    inj["commitment_instant"] = ci
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
    # 延时服务 (planned: plan_extended_service): at each planned window-day a case completed after closing and
    # at or before until_time is not off-hours (one exactly at until_time in the boundary chunk); at the first
    # one a case completed after until_time is
    xs_pool = (imm | same_day) & normal_window & workday & (complete // DAY == day) & (accept_sod <= close - HOUR)
    xs_idx = []
    offc = []
    for w, d, until in extended:
        cand = np.flatnonzero(xs_pool & ~taken & (window == w) & (day == d))
        if not len(cand):
            continue
        i = int(cand[0])
        taken[i] = True
        complete[i] = d * DAY + close[i] + rng.integers(MIN, until - close[i])
        xs_idx.append(i)
        if len(cand) > 1 and not offc:
            j = int(cand[1])
            taken[j] = True
            complete[j] = d * DAY + until + rng.integers(10 * MIN, HOUR)
            offc.append(j)
        if boundary and len(cand) > 2 and "boundary_extended_service" not in inj:
            j = int(cand[2])
            taken[j] = True
            complete[j] = d * DAY + until
            inj["boundary_extended_service"] = np.array([j])
    inj["extended_service"] = np.array(sorted(xs_idx), dtype=np.int64)
    inj["off_hours"] = np.sort(np.concatenate([offa, offb, np.array(offc, dtype=np.int64)]))

    # 退件重收: a case at the same window and item accepted 1–9 days after another's reject/withdraw gets that
    # case's applicant (boundary chunk: exactly 10 days fires, exactly 11 does not)
    applicant_of = np.arange(n)
    end_t = np.where(t["reject"] >= 0, t["reject"], t["withdraw"])
    ended = np.flatnonzero((end_t >= 0) & (end_t <= as_of_day * DAY + DAY - 1) & ~taken)
    target = min(len(ended), max(rates.min_per_chunk, int(round(rates.reaccept * len(ended)))))
    pairs = []
    want = [(1, 9, "reaccept")] * target
    if boundary:
        want += [(10, 10, "boundary_reaccept_10"), (11, 11, "boundary_reaccept_11")]
    for lo_d, hi_d, kind in want:
        for e in rng.permutation(ended):
            if taken[e]:
                continue
            ed = end_t[e] // DAY
            cand = np.flatnonzero(going & ~taken & (window == window[e]) & (item == item[e]) & (t["accept"] >= end_t[e])
                                  & (day - ed >= lo_d) & (day - ed <= hi_d) & (day <= as_of_day))
            if len(cand):
                lcase = int(rng.choice(cand))
                taken[e] = taken[lcase] = True
                applicant_of[lcase] = e
                pairs.append((kind, lcase))
                break
    for kind in {k_ for k_, _ in pairs}:
        inj[kind] = np.array(sorted(lc for k_, lc in pairs if k_ == kind), dtype=np.int64)
    inj.setdefault("reaccept", np.array([], dtype=np.int64))

    t["complete"] = complete
    completed = complete >= 0
    # approve a little before completion (promised items); deliver after
    gap = np.maximum(complete - accept, 2 * MIN)
    t["approve"] = np.where(completed & promised, complete - np.minimum(rng.integers(MIN, 30 * MIN, n), gap // 2), NONE)
    t["deliver"] = np.where(completed, complete + rng.integers(MIN, 10 * MIN, n), NONE)
    # step overrun: the decision (approve) 1–2 working days earlier than the approve -> complete limit allows
    step_ac = step_table(centre).get(("approve", "complete"), np.full(len(centre.item_codes), -1))[item]
    cdays = np.where(completed, complete // DAY, day)
    span = cal.workdays_between(day, cdays)
    so = _pick(rng, completed & wd_multi & (pause_kind == 0) & ~has_ext & (step_ac >= 0) & (span >= step_ac + 3)
               & (complete <= as_of_day * DAY), rates.step_overdue, rates.min_per_chunk, taken)
    a_day = cal.nth_workday_before(cdays[so], step_ac[so] + 1 + rng.integers(0, 2, len(so)))
    t["approve"][so] = a_day * DAY + morning()[so]
    inj["step_overdue"] = so
    # late delivery: delivered 1–3 working days past the deliver limit after the decision
    dlim = np.where(centre.item_deliver[item] >= 0, centre.item_deliver[item], tl.deliver_limit_workdays)
    adays = np.where(t["approve"] >= 0, t["approve"] // DAY, day)
    ld = _pick(rng, completed & (t["approve"] >= 0) & normal_window
               & (cal.nth_workday_after(adays, dlim + 3) <= as_of_day), rates.late_delivery, rates.min_per_chunk, taken)
    t["deliver"][ld] = cal.nth_workday_after(adays[ld], dlim[ld] + 1 + rng.integers(0, 3, len(ld))) * DAY + c_sod[ld]
    inj["late_delivery"] = ld
    if boundary:
        # delivered exactly deliver_limit working days after the decision: not late
        b = _pick(rng, completed & (t["approve"] >= 0) & normal_window
                  & (cal.nth_workday_after(adays, dlim + 3) <= as_of_day), 0.0, 1, taken)
        t["deliver"][b] = cal.nth_workday_after(adays[b], dlim[b]) * DAY + c_sod[b]
        inj["boundary_delivery"] = b

    # recorded_at: on time for most rows, up to 2 h late for the rest
    if boundary and handover is not None and len(handover[0]):
        # OB_HANDOVER is inclusive: a delivery exactly handover_minutes after a confirmed flag fires, one a second
        # later does not (both cases' other events are more than an hour before the flag)
        h = scoring.off_book.handover_minutes * 60
        fw, fat = handover
        for w, at in zip(fw, fat):
            if not (first_day <= at // DAY <= min(last_day, as_of_day)):
                continue
            other = fat[(fw == w) & (fat != at)]
            if len(other) and np.min(np.abs(other - at)) < 6 * h:
                continue
            far = completed & ~taken & (window == w) & (complete // DAY == at // DAY) & (complete < at - 2 * h)
            cand = np.flatnonzero(far)
            if len(cand) >= 2:
                b = cand[:2]
                taken[b] = True
                t["deliver"][b] = at + h + np.array([0, 1])
                inj["boundary_handover_60"], inj["boundary_handover_61"] = b[:1], b[1:]
                break

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

    rec2 = {}
    for key in REPEATED:
        lag = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 2 * HOUR, n))
        rec2[key] = np.where(t2[key] >= 0, t2[key] + lag, NONE)

    # nothing exists after the as-of date
    for tt, rr in ((t, rec), (t2, rec2)):
        for key in tt:
            gone = tt[key] > as_of_end
            tt[key][gone] = NONE
            rr[key][gone] = NONE
            rr[key] = np.minimum(rr[key], as_of_end)
    ext = np.where(t["extend"] >= 0, ext, 0)
    extend_days2 = np.where(t2["extend"] >= 0, extend_days2, 0)
    return Chunk(n=n, window=window, item=item, accept_day=day, channel=channel, staff=staff, t=t, rec=rec,
                 extend_days=ext, injected=inj, t2=t2, rec2=rec2, extend_days2=extend_days2, pause_reason=reason,
                 approval_mode=mode, applicant_of=applicant_of, extended=[e for e in extended])


def plan_extended_service(centre: Centre, cal: WorkCalendar, months: list[tuple[int, int]], as_of_day: int,
                          per_month: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """延时服务 days of the whole period: (window index, working day, until second of day 18:30–20:00) at
    windows that close at 18:00 — planned before any case, so every case's truth knows them."""
    normal = np.array([i for i in range(len(centre.window_ids)) if i != centre.weekend_window])
    out = set()
    for first, last in months:
        days = cal.workdays_in(first, min(last, as_of_day - 1))
        for _ in range(per_month if len(days) else 0):
            until = int(CENTRE_WORKDAY[1] + 30 * MIN * rng.integers(1, 5))
            out.add((int(rng.choice(normal)), int(rng.choice(days)), until))
    best: dict[tuple[int, int], int] = {}
    for w, d, u in sorted(out):
        best[(w, d)] = u
    return sorted((w, d, u) for (w, d), u in best.items())


def applicants(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return people.id_numbers(rng, n), people.names(rng, n), people.mobiles(rng, n)
