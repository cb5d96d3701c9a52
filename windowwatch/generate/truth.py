"""Ground truth: our own implementation of SPEC §4.2, §4.2.1 and §4.3 applied to what we wrote.

The truth is computed from the generated events (after truncation at the as-of date), not
from the injection plan, and then checked against the plan: a normal case that fires a
rule is a generator bug and stops the run, and so is an injected case that does not fire
the rule it was made for.

Everything here is per case on the chunk's numpy arrays (one time per event type, plus the
second supplement_request / supplement_received / extend of the repeated-event injections);
the dbt models are the thing under test, so nothing here reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from core.config import Scoring
from core.feeds import APPROVAL_MODES, PAUSE_REASONS
from windowwatch.generate.cases import DAY, EVENT_TYPES, NONE, Chunk, canonical, window_hours
from windowwatch.generate.reference import Centre, step_table
from windowwatch.generate.workcal import WorkCalendar

TL_RULES = ["TL_LATE_NOTICE", "TL_REPEAT_NOTICE", "TL_PAUSE_REASON", "TL_PAUSE_NO_REASON", "TL_EXTENSION_REPEAT",
            "TL_EXTENSION_CAP", "TL_EXTENSION_LATE", "TL_LEGAL_OVERDUE", "TL_STEP_OVERDUE", "TL_LATE_DELIVERY"]


def _times(chunk: Chunk, key: str) -> list[np.ndarray]:
    out = [chunk.t[key]]
    if key in chunk.t2:
        out.append(chunk.t2[key])
    return out


def _first(chunk: Chunk, key: str, after: np.ndarray | None = None, inclusive: bool = False) -> np.ndarray:
    """Time of the case's first `key` event (after `after` when given); -1 when none."""
    best = np.full(chunk.n, np.iinfo(np.int64).max)
    for t in _times(chunk, key):
        ok = t >= 0
        if after is not None:
            ok &= (after >= 0) & ((t >= after) if inclusive else (t > after))
        best = np.where(ok & (t < best), t, best)
    return np.where(best == np.iinfo(np.int64).max, NONE, best)


def _deadline(cal: WorkCalendar, start: np.ndarray, n: np.ndarray, calendar: np.ndarray) -> np.ndarray:
    """SPEC §4.2: workday items the n-th working day after start (n = 0: start); calendar_day items the n-th
    calendar day after it, moved onto the next working day."""
    wd = cal.nth_workday_after(start, np.where(calendar, 0, n))
    cd = cal.workday_on_or_after(start + np.where(calendar, n, 0))
    return np.where(calendar, cd, wd)


@dataclass
class Clock:
    """The counted clock of every case of a chunk (SPEC §4.2 with §4.2.1's effects)."""

    completed: np.ndarray
    open_: np.ndarray
    clock_start: np.ndarray
    pauses: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (start day or -1, end day, counted) per pause slot
    counted_paused: np.ndarray
    counted_ext: np.ndarray
    deadline: np.ndarray
    legal_deadline: np.ndarray
    rules: dict[str, np.ndarray]  # TL rule -> mask


def clock(chunk: Chunk, centre: Centre, cal: WorkCalendar, as_of_day: int, scoring: Scoring) -> Clock:
    t, t2 = chunk.t, chunk.t2
    tl = scoring.timeliness
    n = chunk.n
    item = chunk.item
    completed = t["complete"] >= 0
    open_ = ~completed & (t["reject"] < 0) & (t["withdraw"] < 0)
    accept_day = t["accept"] // DAY
    calendar = centre.item_calendar[item]
    rules: dict[str, np.ndarray] = {}

    # TL_LATE_NOTICE / TL_REPEAT_NOTICE: the first notice against the receipt (submit, else accept)
    received = np.where(t["submit"] >= 0, t["submit"] // DAY, accept_day)
    n1 = t["supplement_request"]
    n2 = t2.get("supplement_request", np.full(n, NONE))
    if np.any((n2 >= 0) & ((n1 < 0) | (n2 <= n1))):
        raise RuntimeError("generator bug: a second supplement_request without an earlier first one")
    late_notice = (n1 >= 0) & (cal.workdays_between(received, np.where(n1 >= 0, n1 // DAY, received))
                               > tl.supplement_notice_workdays)
    rules["TL_LATE_NOTICE"] = late_notice
    rules["TL_REPEAT_NOTICE"] = n2 >= 0
    clock_start = np.where(late_notice, np.minimum(received, accept_day), accept_day)

    # TL_PAUSE_REASON / TL_PAUSE_NO_REASON
    reason = canonical(chunk.pause_reason if chunk.pause_reason is not None else np.full(n, None, dtype=object),
                       PAUSE_REASONS)
    has_susp = t["suspend"] >= 0
    no_reason = np.array([r is None for r in reason])
    allowed = np.array([r in tl.pause_reasons_allowed for r in reason])
    rules["TL_PAUSE_REASON"] = has_susp & ~no_reason & ~allowed
    rules["TL_PAUSE_NO_REASON"] = has_susp & no_reason
    susp_counted = allowed | (no_reason & (tl.pause_without_reason == "count"))

    # pauses: start day, end day (open: the as-of date), counted
    pauses = []
    slots = [(t["supplement_request"], t["supplement_received"], ~late_notice),
             (n2, t2.get("supplement_received", np.full(n, NONE)), np.zeros(n, dtype=bool)),
             (t["suspend"], t["resume"], susp_counted)]
    counted_paused = np.zeros(n, dtype=np.int64)
    for start, end, counted in slots:
        has = start >= 0
        if np.any(has & (end >= 0) & (end < start)):
            raise RuntimeError("generator bug: a pause ends before it starts")
        if np.any(has & (end < 0) & completed):
            raise RuntimeError("generator bug: a completed case with a pause still open (SPEC leaves it ambiguous)")
        s_day = np.where(has, start // DAY, -1)
        e_day = np.where(end >= 0, end // DAY, as_of_day)
        pauses.append((s_day, e_day, has & counted))
        counted_paused += np.where(has & counted, cal.workdays_between(np.where(has, s_day, accept_day), e_day), 0)

    # extensions: the first one counts, up to the cap, unless dated after the deadline without it
    limit = centre.item_limit[item]
    legal = centre.item_legal[item]
    cap = np.where(centre.item_max_ext[item] >= 0, centre.item_max_ext[item], tl.max_extension_days)
    e1 = t["extend"]
    e2 = t2.get("extend", np.full(n, NONE))
    if np.any((e2 >= 0) & ((e1 < 0) | (e2 <= e1))):
        raise RuntimeError("generator bug: a second extend without an earlier first one")
    without = _deadline(cal, clock_start, limit + counted_paused, calendar)
    ext_late = (e1 >= 0) & (np.where(e1 >= 0, e1 // DAY, 0) > without)
    rules["TL_EXTENSION_REPEAT"] = e2 >= 0
    rules["TL_EXTENSION_CAP"] = (e1 >= 0) & (chunk.extend_days > cap)
    rules["TL_EXTENSION_LATE"] = ext_late
    counted_ext = np.where((e1 >= 0) & ~ext_late, np.minimum(chunk.extend_days, cap), 0)

    deadline = _deadline(cal, clock_start, limit + counted_ext + counted_paused, calendar)
    legal_deadline = _deadline(cal, clock_start, legal + counted_ext + counted_paused, calendar)
    done_day = np.where(completed, t["complete"] // DAY, 0)
    rules["TL_LEGAL_OVERDUE"] = (completed & (done_day > legal_deadline)) | (open_ & (as_of_day > legal_deadline))

    # TL_STEP_OVERDUE: each (from, to) limit of the case's item (its own row over '*')
    step = np.zeros(n, dtype=bool)
    for (frm, to), per_item in step_table(centre).items():
        lim = per_item[item]
        f_t = _first(chunk, frm)
        to_t = _first(chunk, to, after=f_t)
        measured = (lim >= 0) & (f_t >= 0) & ((to_t >= 0) | open_)
        f_day = np.where(f_t >= 0, f_t // DAY, accept_day)
        to_day = np.where(to_t >= 0, to_t // DAY, as_of_day)
        inside = np.zeros(n, dtype=np.int64)
        for s_day, e_day, counted in pauses:
            lo = np.maximum(s_day, f_day)
            hi = np.minimum(e_day, to_day)
            inside += np.where(counted, cal.workdays_between(lo, hi), 0)
        step |= measured & (cal.workdays_between(f_day, np.maximum(to_day, f_day)) - inside > lim)
    rules["TL_STEP_OVERDUE"] = step

    # TL_LATE_DELIVERY: approve -> the first deliver at or after it (to the as-of date while open)
    a_t = _first(chunk, "approve")
    d_t = _first(chunk, "deliver", after=a_t, inclusive=True)
    dlim = np.where(centre.item_deliver[item] >= 0, centre.item_deliver[item], tl.deliver_limit_workdays)
    measured = (a_t >= 0) & ((d_t >= 0) | open_)
    a_day = np.where(a_t >= 0, a_t // DAY, accept_day)
    d_day = np.where(d_t >= 0, d_t // DAY, as_of_day)
    rules["TL_LATE_DELIVERY"] = measured & (cal.workdays_between(a_day, np.maximum(d_day, a_day)) > dlim)

    return Clock(completed, open_, clock_start, pauses, counted_paused, counted_ext, deadline, legal_deadline, rules)


def overdue(chunk: Chunk, centre: Centre, cal: WorkCalendar, ids: np.ndarray, as_of_day: int,
            scoring: Scoring, ck: Clock | None = None) -> pl.DataFrame:
    ck = ck or clock(chunk, centre, cal, as_of_day, scoring)
    t = chunk.t
    dl = ck.deadline
    late = ck.completed & (t["complete"] // DAY > dl)
    red = ck.open_ & (dl < as_of_day)
    remaining = cal.workdays_between(np.full(chunk.n, as_of_day), np.maximum(dl, as_of_day))
    yellow = ck.open_ & ~red & (remaining <= scoring.timeliness.yellow_workdays)
    kind = np.where(late, "completed_late", np.where(red, "open_red", np.where(yellow, "open_yellow", "")))
    m = kind != ""
    return pl.DataFrame({"case_id": ids[m], "kind": kind[m],
                         "deadline_date": dl[m].astype("datetime64[D]")})


def case_signals(chunk: Chunk, centre: Centre, cal: WorkCalendar, ids: np.ndarray, scoring: Scoring,
                 handover: tuple[np.ndarray, np.ndarray], extended: dict[int, int]) -> dict[str, np.ndarray]:
    """rule -> bool mask over cases, for the case-level off-book rules computable from transactions.

    handover: (window index, flagged_at) of the confirmed private_handover flags; extended: window index
    * 1_000_000 + day -> until (second of day) of the extended_service rows."""
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
    mode = canonical(chunk.approval_mode if chunk.approval_mode is not None else np.full(chunk.n, None, dtype=object),
                     APPROVAL_MODES)
    mode = np.where(np.array([m is None for m in mode]), centre.item_mode[chunk.item], mode)
    exempt = np.isin(mode.astype(str), ["commitment", "tolerance"])
    out["OB_INSTANT"] = (promised & (limit >= ob.instant_min_promised_limit) & done & ~exempt
                         & (t["complete"] - t["accept"] < ob.instant_minutes * 60))
    is_ww = chunk.window == centre.weekend_window
    off = np.zeros(chunk.n, dtype=bool)
    ext_keys = np.array(sorted(extended), dtype=np.int64)
    ext_until = np.array([extended[k] for k in ext_keys], dtype=np.int64)
    for key in ("accept", "complete"):
        has = t[key] >= 0
        day = np.where(has, t[key] // DAY, chunk.accept_day)
        sod = t[key] % DAY
        open_, close = window_hours(is_ww, cal.is_workday(day))
        outside = has & ((open_ == close) | (sod < open_) | (sod > close))
        if len(ext_keys):
            k = chunk.window.astype(np.int64) * 1_000_000 + day
            pos = np.clip(np.searchsorted(ext_keys, k), 0, len(ext_keys) - 1)
            outside &= ~((ext_keys[pos] == k) & (sod <= ext_until[pos]))
        off |= outside
    out["OB_OFF_HOURS"] = off
    ho = np.zeros(chunk.n, dtype=bool)
    h = ob.handover_minutes * 60
    for w, at in zip(*handover):
        at_window = chunk.window == w
        if not at_window.any():
            continue
        for key in EVENT_TYPES:
            for tt in _times(chunk, key):
                ho |= at_window & (tt >= 0) & (np.abs(tt - at) <= h)
    out["OB_HANDOVER"] = ho
    return out


def reaccept(chunk: Chunk, centre: Centre, ids: np.ndarray, scoring: Scoring, carry: pl.DataFrame | None,
             last_day: int) -> tuple[np.ndarray, pl.DataFrame]:
    """OB_REACCEPT mask over the chunk's cases, and the earlier cases to carry to the next chunk.

    Earlier case E: a reject or withdraw and no complete; its window, item and end from its first
    reject/withdraw. Later case L: accepted, L != E, same window, item and applicant, accepted at or after E's
    end with accept date - end date in [0, reaccept_days]. E may be in an earlier chunk (carry)."""
    t = chunk.t
    end = np.where((t["reject"] >= 0) & ((t["withdraw"] < 0) | (t["reject"] <= t["withdraw"])), t["reject"],
                   t["withdraw"])
    is_e = (end >= 0) & (t["complete"] < 0)
    e = pl.DataFrame({"e_case": ids[is_e], "w": chunk.window[is_e], "item": chunk.item[is_e],
                      "app": chunk.applicant[is_e], "end": end[is_e]},
                     schema={"e_case": pl.String, "w": pl.Int64, "item": pl.Int64, "app": pl.String, "end": pl.Int64})
    if carry is not None:
        e = pl.concat([carry, e])
    acc = t["accept"] >= 0
    later = pl.DataFrame({"idx": np.flatnonzero(acc), "case": ids[acc], "w": chunk.window[acc],
                          "item": chunk.item[acc], "app": chunk.applicant[acc], "at": t["accept"][acc]},
                         schema={"idx": pl.Int64, "case": pl.String, "w": pl.Int64, "item": pl.Int64,
                                 "app": pl.String, "at": pl.Int64})
    days = scoring.off_book.reaccept_days
    hit = later.join(e, on=["w", "item", "app"]).filter(
        (pl.col("case") != pl.col("e_case")) & (pl.col("at") >= pl.col("end"))
        & ((pl.col("at") // DAY - pl.col("end") // DAY) <= days))
    mask = np.zeros(chunk.n, dtype=bool)
    mask[hit["idx"].to_numpy()] = True
    return mask, e.filter(pl.col("end") // DAY >= last_day - days - 1)


# rule -> the injected kinds that may fire it (every other case is normal and must not); the kinds in the
# second map must each fire their rule
MAY_FIRE = {
    "OB_BACKFILL": {"backfill"}, "OB_INSTANT": {"instant"}, "OB_OFF_HOURS": {"off_hours"},
    "OB_REACCEPT": {"reaccept", "boundary_reaccept_10"},
    "TL_LATE_NOTICE": {"late_notice"}, "TL_REPEAT_NOTICE": {"repeat_notice"},
    "TL_PAUSE_REASON": {"pause_reason"}, "TL_PAUSE_NO_REASON": {"pause_no_reason"},
    "TL_EXTENSION_REPEAT": {"extension_repeat"}, "TL_EXTENSION_CAP": {"extension_cap"},
    "TL_EXTENSION_LATE": {"extension_late"},
    # a legal, step or delivery breach also follows from the other delays injected on purpose
    "TL_LEGAL_OVERDUE": {"legal_overdue", "stalled", "overdue_late", "late_notice", "repeat_notice", "pause_reason",
                         "extension_late"},
    "TL_STEP_OVERDUE": {"step_overdue", "stalled", "overdue_late", "legal_overdue", "late_notice", "repeat_notice",
                        "pause_reason", "extension_late", "extension_cap", "extension_repeat", "pause_no_reason"},
    "TL_LATE_DELIVERY": {"late_delivery"},
}
MUST_FIRE = {
    "late_notice": "TL_LATE_NOTICE", "repeat_notice": "TL_REPEAT_NOTICE", "pause_reason": "TL_PAUSE_REASON",
    "pause_no_reason": "TL_PAUSE_NO_REASON", "extension_repeat": "TL_EXTENSION_REPEAT",
    "extension_cap": "TL_EXTENSION_CAP", "extension_late": "TL_EXTENSION_LATE", "legal_overdue": "TL_LEGAL_OVERDUE",
    "step_overdue": "TL_STEP_OVERDUE", "late_delivery": "TL_LATE_DELIVERY", "reaccept": "OB_REACCEPT",
    "boundary_reaccept_10": "OB_REACCEPT", "boundary_handover_60": "OB_HANDOVER",
}
MUST_NOT_FIRE = {"commitment_instant": "OB_INSTANT", "extended_service": "OB_OFF_HOURS",
                 "boundary_extended_service": "OB_OFF_HOURS", "boundary_reaccept_11": "OB_REACCEPT",
                 "boundary_notice": "TL_LATE_NOTICE", "boundary_extension": "TL_EXTENSION_LATE",
                 "boundary_delivery": "TL_LATE_DELIVERY", "boundary_handover_61": "OB_HANDOVER"}


def check_against_plan(signals: dict[str, np.ndarray], chunk: Chunk) -> None:
    for rule, kinds in MAY_FIRE.items():
        if rule not in signals:
            continue
        ok = np.concatenate([chunk.injected.get(k, np.array([], dtype=np.int64)) for k in kinds])
        extra = np.setdiff1d(np.flatnonzero(signals[rule]), ok)
        if len(extra):
            raise RuntimeError(f"generator bug: {len(extra)} normal cases fire {rule} (e.g. case index {extra[0]})")
    for kind, rule in MUST_FIRE.items():
        idx = chunk.injected.get(kind, np.array([], dtype=np.int64))
        if rule in signals and len(idx) and not signals[rule][idx].all():
            miss = idx[~signals[rule][idx]]
            raise RuntimeError(f"generator bug: {len(miss)} injected {kind} cases do not fire {rule} (e.g. {miss[0]})")
    for kind, rule in MUST_NOT_FIRE.items():
        idx = chunk.injected.get(kind, np.array([], dtype=np.int64))
        if rule in signals and len(idx) and signals[rule][idx].any():
            raise RuntimeError(f"generator bug: an exempt {kind} case fires {rule}")


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
