"""`windowwatch generate`: a synthetic service centre with injected anomalies and ground truth.

Generation streams month by month (and centre by centre): each centre-month's cases are drawn
on their own numpy stream (SeedSequence.spawn), their events are written into the month
files they fall in (events that spill into a later month wait in a small carry buffer),
and only the ground-truth lists are kept until the end.
"""

from __future__ import annotations

import calendar as pycal
import csv
import dataclasses
import datetime as dt
import json
import math
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from core.config import Scoring, load_scoring
from core.feeds import FEEDS, REASON_CODES
from windowwatch.generate import badrows, hall_ops, integrity, truth
from windowwatch.generate import writers as W
from windowwatch.generate.cases import DAY, generate_cases, plan_extended_service
from windowwatch.generate.evaluations import LOOP_ROLES, evaluations_frame
from windowwatch.generate.frames import case_ids, transactions_frame
from windowwatch.generate.reference import Centre, build_centre, hall_hours_frame
from windowwatch.generate.scales import SCALES, Rates, Scale
from windowwatch.generate.video import flags_frame, handover_flags, plan_handover
from windowwatch.generate.workcal import WorkCalendar, day_number, to_date

SAME_DAY_TARGET = 0.8831


def _months(as_of: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    out = []
    y, m = as_of.year, as_of.month
    for _ in range(n):
        first = dt.date(y, m, 1)
        last = dt.date(y, m, pycal.monthrange(y, m)[1])
        out.append((first, min(last, as_of)))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _rng(ss: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(ss))


def _month_key(secs: pl.Expr) -> pl.Expr:
    return secs.dt.year() * 12 + secs.dt.month() - 1


def _with_gen_notes(scale: Scale, scoring: Scoring) -> list[str]:
    return [
        "Every truth list is computed from the generated rows with our own implementation of docs/rules.md "
        "(thresholds from the default scoring file), then checked against the injection plan.",
        "Calibration: same-day share and satisfaction follow the published city figures (88.31 %, ≈99.9 %); "
        "the city volume follows docs/scaling.md (~2.5 M cases a year), which is more than the published 3,731 per "
        "working day × 250 days.",
        "signals.csv holds one row per (rule, case) even when several events of the case qualify; "
        "OB_VOLUME_GAP rows have no case and carry the month (YYYY-MM).",
        "A case's window is its accept window; all events of a case happen at that window. Every case has "
        "an accept; reject and withdraw come after it. Applications (submit, also online ones) and accepts arrive "
        "only on working days within hall hours, except at the weekend window (open on every non-working day "
        "09:00–17:00, holidays included) and the injected OB_OFF_HOURS cases.",
        "boundary_cases lists deliberately placed cases exactly at a threshold, with the expected outcome; "
        "every other value is well away from every threshold.",
        "OB_OFF_HOURS: hours are the centre's (workday 08:30–18:00, closed on non-working days) unless the "
        "window has its own hall_hours rows (the weekend window: workday 08:30–20:00, non_workday 09:00–17:00); "
        "normal events are at least a minute inside the hours, injected ones at 19:00–23:30 or on a closed day.",
        "OB_HANDOVER: every accepted case with any event (any type) at the flagged window within ± handover_minutes "
        "(60, both ends included) of a confirmed private_handover flag's flagged_at (flags are planned, time "
        "included, before any case); pending/dismissed private_handover flags are on other window-days and must "
        "not fire.",
        "OB_OFF_HOURS exemption: extended_service rows (3 window-days per month at windows closing 18:00, until "
        "18:30–20:00) each carry a case completed after closing and at or before until_time (no signal; one "
        "exactly at until_time in the first month); the first one also a case completed 10–60 min after "
        "until_time (a signal).",
        "OB_INSTANT exemption: the approval mode is the accept event's approval_mode, else the item's, else "
        "standard; commitment 告知承诺 / tolerance 容缺受理 cases decided in 1–12 min are injected and never fire; "
        "an accept saying standard on a commitment item does fire.",
        "OB_REACCEPT: earlier case = a reject or withdraw and no complete (window, item, end from its first "
        "reject/withdraw); later case = any accepted case at that window and item with the same applicant_id, "
        "accepted at or after that end, accept date − end date in 0..reaccept_days (10) calendar days. Injected: "
        "a normal case accepted 1–9 days later is given the earlier case's applicant (id, name, phone); boundary "
        "pairs at exactly 10 (fires) and 11 days (does not).",
        "TL_ rules (SPEC §4.2.1) are in signals.csv with an empty month, one row per (rule, case) however many "
        "events of the case break the rule. Normal cases obey every rule: suspends give an allowed pause_reason "
        "(English or Chinese), a notice comes 1 working day after accept (submit the same day), at most one "
        "extension of 5 or 10 days (≤ every item's cap) a working day before the deadline without it, approve "
        "minutes before complete and deliver minutes after, legal_limit ≥ max(20 workdays / 30 calendar days, "
        "2 × promised). Injected on their own cases: late notice (6–7 working days after submit, submit 0–2 "
        "working days before accept), a second notice pair, pause_reason other/其他, no pause_reason, a second "
        "extend, an extend of cap + 5, an extend 1–2 working days after the deadline without it, completion "
        "1–5 working days past the legal deadline, approve 1–2 working days more before complete than "
        "step_limits allows, deliver 1–3 working days past the deliver limit. Stalled and late cases may also "
        "breach the legal and step limits (listed when they do). Second events have event_id suffix type + 21.",
        "The deadlines of overdue.csv and of the TL rules follow the counted clock: the clock starts at the "
        "submit date when the first notice is late; late and repeated notices' pauses, pauses with a disallowed "
        "reason (and none with pause_without_reason: ignore), repeated and late extensions are not counted; an "
        "extension counts up to the item's max_extension_days (else the scoring file's). No completed case has "
        "a pause still open.",
        "OB_VOLUME_GAP: recorded = cases accepted in the month at the department's windows; normal reports are "
        "95–105 % (floor), injected 115–150 % (ceil).",
        "overdue.csv: completed_late = complete date > deadline date; open_red = open and deadline date < as-of "
        "date; open_yellow = open, not red, working days in (as_of, deadline] <= yellow_workdays. Rejected and "
        "withdrawn cases are never listed. Pauses still open at the as-of date run to it.",
        "bad_reviews.csv: rating 不满意/非常不满意; invalid = verdict invalid; unrectified = no rectified_at (whether "
        "or not the deadline has passed); rectified_on_time = rectified_at date <= deadline; rectification "
        "deadline = end of the 15th working day after the evaluation day.",
        "vetoes.csv: one row per (window, month, reason): private_handover = a confirmed private_handover flag "
        "flagged that month; backfill = an OB_BACKFILL case accepted that month. Listed for every window, "
        "eligible for ranking or not.",
        "quarantine.csv: line is the 1-based physical line (header = line 1); missing_column lists every data "
        "row of the file lacking the column; unreadable_file has no line. Duplicate conflicts are in "
        "transactions/resend-*.csv, which sorts after the month files it conflicts with: it assumes files "
        "land in path order. rating_direction_undeclared cannot occur with the default sources file (it "
        "declares five_is_best), so it is not injected.",
        "Numeric ratings (5 = 非常满意) appear only in the last month's evaluations file.",
        "Default ratings (SPEC §4.4, channel default 系统默认评价, ~3 % of ratings): 基本满意 exactly 7 days after the "
        "case's completion, no device, not real-name, no comment.",
        "evaluation_flags.csv: every default rating and every rating 不满意/非常不满意 (overturned or not): is_default, "
        "is_overturned (appeal_result overturned); a bad rating's verification_deadline (the verify_workdays-th [3] "
        "working day after the evaluation day) and is_verified_on_time (verified_at date <= it); for a real-name "
        "bad review neither verified invalid nor overturned that was rectified, callback_deadline (the "
        "callback_workdays-th [5] working day after the rectified_at day) and is_called_back_on_time (callback_at "
        "date <= it); empty when not due. Normal bad reviews are verified 1 working day after, called back 1 working "
        "day after the rectification (satisfied, ~15 % basically_satisfied). Injected on extra real-name bad reviews "
        "(the closed-loop roles, each otherwise valid and rectified 7–14 working days after): appealed a working day "
        "later and upheld; appealed and overturned (no rectification, no callback, not in bad_reviews.csv); verified "
        "4–6 working days after; called back 6–8 working days after the rectification; called back on time but "
        "unsatisfied (发回重办: bad_reviews.csv state rejected_at_callback, no second-round rating).",
        "rating_signals.csv (SPEC §4.9): one row per (rule, evaluation) for RI_BURST, RI_NO_SERVICE, RI_OFF_HOURS "
        "(month = the evaluation month YYYY-MM) and one per window-month for RI_TOO_PERFECT (no evaluation_id). "
        "device_id: pad ratings carry the window's hall pad (one per window, every sixth window shares its "
        "neighbour's); terminal ratings carry none (the rules group them by window); other channels none. Normal "
        "in-hall (pad, terminal) ratings are ≥ 1 min inside their window's hours, ≤ 25 min from an event at the "
        "window, and no 5 of one device lie within 4 min (an in-hall rating that would break this is written as a "
        "mobile one). Injected, each a case-less pad rating of 非常满意: bursts of 5–8 ratings within 150 s, 1–5 min "
        "after an event at the window, nothing else on that pad within 5 min; single ratings in hours ≥ 40 min from "
        "any event at the window; single ratings at night (≥ 5 min after closing or on a closed day, 2–10 min after "
        "an off-hours event at the window). RI_TOO_PERFECT: in the middle month the busiest window's ratings are all "
        "非常满意 with no default one (p = c^n < 1e-4, n >= 60; a centre too small for that gets none); every other "
        "window-month with >= 40 active ratings has a first-round 满意 one.",
        "Hall-operation feeds (SPEC §3, §4.10; windowwatch/generate/hall_ops.py) are drawn on a stream of their own "
        "(every earlier feed is byte-identical to a generator without them). attendance: every current staff member "
        "of a window has a row on every day the window's hall hours open (the weekend window every day), signing in "
        "1–25 min before opening (or within the grace) and out 0–25 min after closing or after the window's "
        "extended_service until_time; whoever signed in did so before their first case event that day and signed out "
        "after their last one within hours. Planted per centre-month: late arrivals (≥ 1 min past open + "
        "late_grace_minutes, still before the staff's first event) and early leaves, staff absences (absent), leave "
        "and business days (at windows whose other staff sign in), one covered window-day (every staff on leave or "
        "business) and one absent window-day (one staff row absent, the others no row); window-level and staff "
        "absences are drawn among the (window-)days with the fewest case events, whose events stay in the "
        "transactions. ~4 % of rows leave window_id empty (the staff's window). Exact boundaries once (sign-in at "
        "open + grace, sign-out at close − grace: neither counts), listed in hall_boundary_rows.",
        "queue_tickets: one per case with channel window whose submit is at the window that day within hours (called "
        "15–60 s before the submit, served at it, finished 1–8 min after the accept; waits 10.5–28 min), business_type "
        "= the item code (the weekend window's queue: 综合受理); plus ~4 % no_show (called, never served) and ~2 % "
        "cancelled (never called, no window). Tickets are issued from 30 min before opening. Planted: one item several "
        "windows serve waits 1–6 min in every month (−1), and in the middle month the busiest item waits 35–75 min "
        "(+1). hall_adjustment_proposals.csv holds every non-zero proposal computed from the tickets (p90 = the "
        "smallest wait with ≥ 90 % at or below it; open hours = hall hours × scheduled days of the windows that served "
        "the type that month).",
        "work_orders: ~0.3 % of the month's cases (≥ 12 a month), due 5 (complaint) or 3 working days after receipt at "
        "18:00, ~12 % closed 1–4 working days late, open ones past the as-of date have no closed_at; closed "
        "complaints are substantiated ~40 %; ≥ 2 contents a month hold a mobile or an ID number "
        "(hall_work_order_pii.csv: ingest must scrub them). hall_work_orders_closed_late.csv: due at or before the "
        "as-of date and closed after due_at or not at all.",
        "inspections: spot_checks_per_day video_spot checks per working day, ~1 day in 12 fewer (1–2; the first month "
        "has a day with none), on-site and mystery checks at windows with findings and deductions, and one hall-wide "
        "on-site check a month (window_id empty, a deduction that is not a window's). hall_spot_check_short_days.csv "
        "lists every working day short of the requirement, hall_inspection_window_month.csv the window-level sums.",
    ]


def generate(out: str | Path, scale: str = "small", seed: int = 1, as_of: dt.date | None = None,
             progress: bool = True, rates: Rates | dict | None = None) -> dict:
    """Write the feeds and `_truth/` under `out`; returns the ground-truth summary.

    `rates` overrides the scale's injection rates (a Rates or a dict of its fields).
    """
    spec = SCALES[scale]
    if rates is not None:
        spec = dataclasses.replace(spec, rates=rates if isinstance(rates, Rates) else dataclasses.replace(spec.rates, **rates))
    as_of = as_of or spec.default_as_of
    scoring = load_scoring()
    out = Path(out)
    if out.exists():
        for feed in list(FEEDS) + ["_truth"]:
            if (out / feed).exists():
                shutil.rmtree(out / feed)
    out.mkdir(parents=True, exist_ok=True)
    months = _months(as_of, spec.months)
    period_start, as_of_day = months[0][0], day_number(as_of)
    cal = WorkCalendar(period_start - dt.timedelta(days=40), as_of + dt.timedelta(days=500))
    month_days = [(day_number(a), day_number(b)) for a, b in months]
    month_keys = [a.year * 12 + a.month - 1 for a, _ in months]
    month_label = [a.strftime("%Y-%m") for a, _ in months]
    nm = len(months)

    root = np.random.SeedSequence(seed)
    ref_ss, plan_ss, chunk_ss, extra_ss = root.spawn(4)
    # v2 draws on their own streams (the closed loop of bad reviews, rating integrity): v1's draws unchanged
    loop_ss, ri_ss = root.spawn(2)
    loop_seeds = loop_ss.spawn(nm * spec.centers)
    ri_seeds = ri_ss.spawn(nm * spec.centers)
    # the hall-operation feeds (SPEC §3, v2) on a stream of their own: every earlier feed byte-identical
    (hall_ss,) = root.spawn(1)
    hall_seeds = hall_ss.spawn(nm * spec.centers)
    verify_wd = int(getattr(scoring.satisfaction, "verify_workdays", 3))
    callback_wd = int(getattr(scoring.satisfaction, "callback_workdays", 5))
    ref_rngs = [_rng(s) for s in ref_ss.spawn(spec.centers)]
    plan_rngs = [_rng(s) for s in plan_ss.spawn(spec.centers)]
    chunk_seeds = chunk_ss.spawn(nm * spec.centers)
    extra = _rng(extra_ss)

    centres = [build_centre(spec, c, ref_rngs[c]) for c in range(spec.centers)]
    counts: dict[str, int] = defaultdict(int)
    files: dict[str, int] = {}

    def record(rel: str, rows: int) -> None:
        files[rel] = rows
        counts[rel.split("/")[0]] += rows

    _write_reference(out, centres, record)

    plans = [plan_handover(c, cal, month_days, as_of_day, spec.rates.handover_per_month, plan_rngs[i])
             for i, c in enumerate(centres)]
    flags_at = [handover_flags(p) for p in plans]
    ext_plans = [plan_extended_service(c, cal, month_days, as_of_day, spec.rates.extended_service_days, plan_rngs[i])
                 for i, c in enumerate(centres)]
    ext_maps = [{w * 1_000_000 + d: u for w, d, u in p} for p in ext_plans]
    _write_extended_service(out, centres, ext_plans, record)
    reaccept_carry: list[pl.DataFrame | None] = [None] * len(centres)
    # RI_TOO_PERFECT: each centre's busiest window, in the middle month, rates all 非常满意
    perfect_month = nm // 2
    perfect_w = [integrity.perfect_window(c) for c in centres]
    pm_first, pm_last = month_days[perfect_month]
    perfect = [(w, pm_first * DAY, pm_last * DAY + DAY - 1) for w in perfect_w]
    ri_parts, flag_parts = [], []
    hall_truth = hall_ops.HallTruth()
    merge_items = [hall_ops.merge_item(c) for c in centres]  # the −1 business type of each centre

    tx_carry: dict[tuple[int, int], list[pl.DataFrame]] = defaultdict(list)
    ev_carry: dict[tuple[int, int], list[pl.DataFrame]] = defaultdict(list)
    overdue_parts, signal_parts, bad_parts = [], [], []
    accepted: dict[tuple[str, str], int] = defaultdict(int)
    stats = defaultdict(int)
    vetoes: set[tuple[str, str, str]] = set()
    dup_source: dict | None = None
    injected_counts: dict[str, int] = defaultdict(int)
    multi = spec.centers > 1
    boundary_cases: list[dict] = []

    bar = tqdm(total=nm * spec.centers, desc=f"generate {scale}", unit="centre-month", file=sys.stderr,
               disable=not progress)
    for i in range(nm):
        first, last = month_days[i]
        for c, centre in enumerate(centres):
            rng = _rng(chunk_seeds[i * spec.centers + c])
            code = centre.center_id[1:]
            suffix = f"-{centre.center_id}" if multi else ""
            chunk = generate_cases(centre, cal, first, last, as_of_day, spec.cases_per_workday,
                                   spec.weekend_cases_per_day, SAME_DAY_TARGET, spec.rates, rng,
                                   boundary=(i == 0 and c == 0), scoring=scoring, extended=ext_plans[c],
                                   handover=flags_at[c])
            ids = case_ids(chunk, code)
            for k, v in chunk.injected.items():
                if k.startswith("boundary_"):
                    boundary_cases += _boundary_rows(k, ids[v])
                else:
                    injected_counts[k] += len(v)
            tx = transactions_frame(chunk, centre, ids, rng)
            hall_rngs = [_rng(s) for s in hall_seeds[i * spec.centers + c].spawn(4)]
            tickets = hall_ops.queue_tickets(chunk, centre, cal, merge_items[c], i == nm // 2, hall_rngs[1], code)
            month_cases = chunk.n

            # ground truth of these cases
            sig = truth.case_signals(chunk, centre, cal, ids, scoring, flags_at[c], ext_maps[c])
            sig["OB_REACCEPT"], reaccept_carry[c] = truth.reaccept(chunk, centre, ids, scoring, reaccept_carry[c], last)
            clock = truth.clock(chunk, centre, cal, as_of_day, scoring)
            sig.update(clock.rules)
            truth.check_against_plan(sig, chunk)
            ev, runaround_idx = evaluations_frame(chunk, centre, ids, cal, as_of_day, spec.rates, rng,
                                                  f"E{code}{month_label[i].replace('-', '')}",
                                                  rng2=_rng(loop_seeds[i * spec.centers + c]), perfect=perfect[c],
                                                  verify_workdays=verify_wd, callback_workdays=callback_wd)
            for role in LOOP_ROLES:
                injected_counts[role] += int((ev["_role"] == role).sum())
            injected_counts["default_rating"] += int((ev["channel"] == "default").sum())
            injected_counts["runaround"] += len(runaround_idx)
            sig["OB_RUNAROUND"] = _runaround_mask(ev, chunk.n)
            extra_ra = np.setdiff1d(np.flatnonzero(sig["OB_RUNAROUND"]), runaround_idx)
            if len(extra_ra):
                raise RuntimeError("generator bug: a normal evaluation carries a runaround reason")
            signal_parts.append(truth.signal_rows(sig, chunk, centre, ids))
            overdue_parts.append(truth.overdue(chunk, centre, cal, ids, as_of_day, scoring, clock))
            bad_parts.append(_bad_reviews(ev, cal, scoring))
            flag_parts.append(_evaluation_flags(ev, cal, verify_wd, callback_wd))
            for w, d in zip(chunk.window[sig["OB_BACKFILL"]], chunk.accept_day[sig["OB_BACKFILL"]]):
                vetoes.add((centre.window_ids[w], to_date(d).strftime("%Y-%m"), "backfill"))
            dept = centre.window_dept[chunk.window]
            udays, inv = np.unique(chunk.accept_day, return_inverse=True)
            mlabel = np.array([to_date(d).strftime("%Y-%m") for d in udays])
            for dd, mm, n_ in pl.DataFrame({"d": dept, "m": mlabel[inv]}).group_by("d", "m").len().iter_rows():
                accepted[(dd, mm)] += n_
            done = chunk.t["complete"] >= 0
            stats["cases"] += chunk.n
            stats["completed"] += int(done.sum())
            stats["same_day"] += int((done & (chunk.t["complete"] // DAY == chunk.accept_day)).sum())
            stats["open"] += int((~done & (chunk.t["reject"] < 0) & (chunk.t["withdraw"] < 0)).sum())
            stats["evaluated_cases"] += ev.filter(pl.col("case_idx") >= 0)["case_idx"].n_unique()
            stats["ratings"] += ev.height
            stats["good"] += int(((ev["rating"] >= 4) & (ev["channel"] != "default")).sum())
            stats["active"] += int((ev["channel"] != "default").sum())
            stats["active_evaluated_cases"] += ev.filter(
                (pl.col("case_idx") >= 0) & (pl.col("channel") != "default"))["case_idx"].n_unique()

            # split by event month: write this month, carry the rest
            tx = tx.with_columns(_month_key(pl.col("event_time")).alias("_mk"))
            ev = ev.with_columns(*W.secs_to_datetime(["evaluated_at", "verified_at", "rectified_at", "callback_at",
                                                      "appeal_at"]))
            ev = ev.with_columns(_month_key(pl.col("evaluated_at")).alias("_mk"))
            for (mk,), part in sorted(tx.partition_by("_mk", as_dict=True).items()):
                tx_carry[(c, month_keys.index(mk))].append(part.drop("_mk"))
            for (mk,), part in sorted(ev.partition_by("_mk", as_dict=True).items()):
                ev_carry[(c, month_keys.index(mk))].append(part.drop("_mk"))
            del tx, ev, chunk
            # stable sorts: the concatenation order is itself deterministic
            month_tx = pl.concat(tx_carry.pop((c, i))).sort("event_time", maintain_order=True)
            month_ev = pl.concat(ev_carry.pop((c, i))).sort("evaluated_at", maintain_order=True)
            month_ev, ri_truth, ri_counts = integrity.month_ratings(
                month_ev, month_tx, centre, cal, ext_maps[c], first, last, as_of_day, spec.rates,
                _rng(ri_seeds[i * spec.centers + c]), perfect_w[c] if i == perfect_month else None, month_label[i],
                f"E{code}{month_label[i].replace('-', '')}", scoring.rating_integrity)
            ri_parts.append(ri_truth)
            stats["ratings"] += ri_counts["injected_ratings"]
            stats["good"] += ri_counts["injected_ratings"]
            stats["active"] += ri_counts["injected_ratings"]
            for k_, v_ in ri_counts.items():
                stats["ri_" + k_] += v_
            dup = _write_transactions(out, month_tx, i, nm, month_label[i] + suffix, record)
            if dup is not None and dup_source is None:
                dup_source = dup
            staff_days = hall_ops.staff_days(month_tx)
            del month_tx
            _write_evaluations(out, month_ev, centre, i, nm, month_label[i] + suffix, record)
            del month_ev

            flags = flags_frame(centre, cal, first, last, as_of_day, plans[c],
                                centre.inspectors.filter(pl.col("active"))["inspector_id"].to_numpy(), rng,
                                f"V{code}{month_label[i].replace('-', '')}")
            for w in flags.filter((pl.col("flag_type") == "private_handover") & (pl.col("review_status") == "confirmed"))["window_id"]:
                vetoes.add((w, month_label[i], "private_handover"))
            flags = flags.with_columns(*W.secs_to_datetime(["flagged_at", "reviewed_at"]))
            _write_flags(out, flags, i, month_label[i] + suffix, record)
            stats["flags_pending"] += int((flags["review_status"] == "pending").sum())

            hall = {
                "attendance": hall_ops.attendance(centre, cal, first, last, staff_days, ext_maps[c],
                                                  scoring.hall.late_grace_minutes, hall_rngs[0], hall_truth,
                                                  boundary=(i == 0 and c == 0)),
                "queue_tickets": tickets,
                "work_orders": hall_ops.work_orders(centre, cal, first, last, as_of_day, month_cases, hall_rngs[2],
                                                    code, hall_truth),
                "inspections": hall_ops.inspections(centre, cal, first, last, scoring.hall.spot_checks_per_day,
                                                    hall_rngs[3], code, hall_truth, zero_day=(i == 0 and c == 0)),
            }
            hall_ops.queue_truth(tickets, centre, hall_ops.open_hours(centre, cal, first, last), scoring, hall_truth)
            hall_ops.write_month(out, hall, i, nm, month_label[i] + suffix, record)
            del hall, tickets, staff_days
            bar.update(1)
    bar.close()

    volume_rows = _dept_volumes(out, centres, month_label, accepted, extra, spec, scoring, record)
    quarantine = _bad_rows(out, centres[0], month_label, nm, as_of, dup_source, multi, record)

    # ---------------------------------------------------------------- truth files
    tdir = out / "_truth"
    tdir.mkdir(parents=True, exist_ok=True)
    signals = pl.concat(signal_parts + [volume_rows]).sort("rule_id", "month", "case_id", "department_id", nulls_last=False)
    signals.write_csv(tdir / "signals.csv", null_value="", line_terminator="\n")
    overdue = pl.concat(overdue_parts).sort("case_id")
    overdue.write_csv(tdir / "overdue.csv", line_terminator="\n")
    bad = pl.concat(bad_parts).sort("evaluation_id")
    bad.write_csv(tdir / "bad_reviews.csv", line_terminator="\n")
    ri = pl.concat(ri_parts).sort("rule_id", "month", "window_id", "evaluation_id", nulls_last=False)
    ri.write_csv(tdir / "rating_signals.csv", null_value="", line_terminator="\n")
    flags_truth = pl.concat(flag_parts).sort("evaluation_id")
    flags_truth.write_csv(tdir / "evaluation_flags.csv", null_value="", line_terminator="\n")
    vet = pl.DataFrame(sorted(vetoes), schema=["window_id", "month", "reason"], orient="row")
    vet.write_csv(tdir / "vetoes.csv", line_terminator="\n")
    q = pl.DataFrame(quarantine, schema={"feed": pl.String, "file": pl.String, "line": pl.Int64, "rule": pl.String},
                     orient="row").sort("feed", "file", "line")
    q.write_csv(tdir / "quarantine.csv", null_value="", line_terminator="\n")
    hall_counts = hall_ops.write_truth(tdir, hall_truth)

    by_rule = dict(sorted(signals.group_by("rule_id").len().iter_rows()))
    gt = {
        "seed": seed,
        "scale": scale,
        "as_of": as_of.isoformat(),
        "period": {"start": period_start.isoformat(), "end": as_of.isoformat()},
        "centres": [c.center_id for c in centres],
        "rates": dataclasses.asdict(spec.rates),
        "counts": {
            "rows_per_feed": dict(sorted(counts.items())),
            "cases": stats["cases"],
            "completed_cases": stats["completed"],
            "open_cases": stats["open"],
            "same_day_share": round(stats["same_day"] / max(1, stats["completed"]), 4),
            "ratings": stats["ratings"],
            "default_ratings": stats["ratings"] - stats["active"],
            "satisfaction_rate": round(stats["good"] / max(1, stats["active"]), 5),  # v2: active ratings only
            "evaluation_rate": round(stats["evaluated_cases"] / max(1, stats["completed"]), 4),
            "active_evaluation_rate": round(stats["active_evaluated_cases"] / max(1, stats["completed"]), 4),
            "video_flags_pending_at_as_of": stats["flags_pending"],
            "signals_by_rule": by_rule,
            "rating_signals_by_rule": dict(sorted(ri.group_by("rule_id").len().iter_rows())),
            "evaluation_flags": {
                "default": int(flags_truth["is_default"].sum()),
                "overturned": int(flags_truth["is_overturned"].sum()),
                "verified_late": int((flags_truth["is_verified_on_time"] == False).sum()),  # noqa: E712
                "called_back_late": int((flags_truth["is_called_back_on_time"] == False).sum()),  # noqa: E712
            },
            "rating_integrity": {k[3:]: v for k, v in sorted(stats.items()) if k.startswith("ri_")},
            "overdue_by_kind": dict(sorted(overdue.group_by("kind").len().iter_rows())),
            "bad_reviews_by_state": dict(sorted(bad.group_by("state").len().iter_rows())),
            "vetoes": vet.height,
            "quarantined_rows": q.height,
            "injected": dict(sorted(injected_counts.items())),
            "hall": hall_counts,
        },
        "files": dict(sorted(files.items())),
        "anomalies": {
            "overdue": "overdue.csv",
            "OB_BACKFILL": "signals.csv", "OB_INSTANT": "signals.csv", "OB_OFF_HOURS": "signals.csv",
            "OB_HANDOVER": "signals.csv", "OB_RUNAROUND": "signals.csv", "OB_VOLUME_GAP": "signals.csv",
            "OB_REACCEPT": "signals.csv", **{r: "signals.csv" for r in truth.TL_RULES},
            "bad_reviews": "bad_reviews.csv", "vetoes": "vetoes.csv", "quarantine": "quarantine.csv",
            **{r: "rating_signals.csv" for r in integrity.RI_RULES},
            "evaluation_flags": "evaluation_flags.csv",
            "gbk_file": [f for f in files if f.endswith("-gbk.csv")],
            **{name: f"{name}.csv" for name in hall_counts},
        },
        "boundary_cases": boundary_cases,
        "hall_boundary_rows": hall_truth.boundary,
        "calendar": {"assumed_mon_fri_days_used": cal.any_assumed(day_number(period_start), as_of_day)},
        "notes": _with_gen_notes(spec, scoring),
    }
    (tdir / "ground_truth.json").write_text(json.dumps(gt, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return gt


def _boundary_rows(kind: str, ids: np.ndarray) -> list[dict]:
    what = {
        "boundary_reaccept_10": ("OB_REACCEPT", "accepted exactly 10 calendar days after the same applicant's rejected "
                                 "or withdrawn case at the same window and item", "signal: the rule is <= 10 days"),
        "boundary_reaccept_11": ("OB_REACCEPT", "accepted exactly 11 calendar days after the same applicant's rejected "
                                 "or withdrawn case at the same window and item", "no signal: the rule is <= 10 days"),
        "boundary_handover_60": ("OB_HANDOVER", "deliver exactly handover_minutes (60 min 00 s) after a confirmed "
                                 "private_handover flag at the case's window; every other event > 1 h before it",
                                 "signal: the rule is within ± 60 min, both ends included"),
        "boundary_handover_61": ("OB_HANDOVER", "deliver 60 min 01 s after a confirmed private_handover flag at the "
                                 "case's window; every other event > 1 h before it", "no signal: outside ± 60 min"),
        "boundary_notice": ("TL_LATE_NOTICE", "first supplement_request exactly supplement_notice_workdays (5) working "
                            "days after submit", "no signal: the rule is more than 5"),
        "boundary_extension": ("TL_EXTENSION_LATE", "the extend dated exactly on the deadline computed without it",
                               "no signal: the rule is dated after it"),
        "boundary_delivery": ("TL_LATE_DELIVERY", "deliver exactly deliver_limit working days after approve",
                              "no signal: the rule is more than the limit"),
        "boundary_extended_service": ("OB_OFF_HOURS", "complete exactly at the extended_service until_time of its "
                                      "window and day (after the hall closed)", "no signal: exempt up to and including "
                                      "until_time"),
        "boundary_instant": ("OB_INSTANT", "accept -> complete exactly 15 min 00 s (promised item, limit >= 3)",
                             "no signal: the rule is strictly < 15 min"),
        "boundary_backfill": ("OB_BACKFILL", "accept recorded_at - event_time exactly 24 h 00 min 00 s",
                              "no signal: the rule is strictly > 24 h"),
    }[kind]
    return [{"case_id": str(c), "rule_id": what[0], "detail": what[1], "expected": what[2]} for c in ids]


def _runaround_mask(ev: pl.DataFrame, n: int) -> np.ndarray:
    hit = ev.filter((pl.col("case_idx") >= 0) & pl.col("reason_codes").str.contains("multiple_trips|sent_to_department"))
    mask = np.zeros(n, dtype=bool)
    mask[hit["case_idx"].to_numpy()] = True
    return mask


def _bad_reviews(ev: pl.DataFrame, cal: WorkCalendar, scoring: Scoring) -> pl.DataFrame:
    """Bad reviews (an overturned appeal is no longer one) and their rectification state; a callback the
    applicant was unsatisfied with (发回重办) leaves the review not rectified: rejected_at_callback."""
    b = ev.filter((pl.col("rating") <= 2) & (pl.col("appeal_result") != "overturned"))
    day = b["evaluated_at"].to_numpy() // DAY
    dl = cal.nth_workday_after(day, scoring.satisfaction.rectify_workdays)
    rect = b["rectified_at"].to_numpy()
    state = np.where(rect < 0, "unrectified", np.where(rect // DAY <= dl, "rectified_on_time", "rectified_late"))
    state = np.where(b["callback_result"].to_numpy() == "unsatisfied", "rejected_at_callback", state)
    state = np.where(b["verdict"].to_numpy() == "invalid", "invalid", state)
    return pl.DataFrame({"evaluation_id": b["evaluation_id"], "rectification_deadline": dl.astype("datetime64[D]"),
                         "state": state})


def _evaluation_flags(ev: pl.DataFrame, cal: WorkCalendar, verify_workdays: int, callback_workdays: int) -> pl.DataFrame:
    """SPEC §4.4 v2 per evaluation, for every default rating and every rating 不满意 / 非常不满意: is_default,
    is_overturned; a bad review's verification deadline (end of the verify_workdays-th working day after the
    evaluation day) and whether verified_at is on or before it; a callback's deadline (callback_workdays working
    days after rectified_at's day) and whether callback_at is on or before it, for a real-name bad review
    neither verified invalid nor overturned that was rectified (empty otherwise)."""
    e = ev.filter((pl.col("channel") == "default") | (pl.col("rating") <= 2))
    bad = e["rating"].to_numpy() <= 2
    day = e["evaluated_at"].to_numpy() // DAY
    ver, rect, cb = e["verified_at"].to_numpy(), e["rectified_at"].to_numpy(), e["callback_at"].to_numpy()
    overturned = e["appeal_result"].to_numpy() == "overturned"
    vdl = cal.nth_workday_after(day, verify_workdays)
    due = bad & ~overturned & (e["verdict"].to_numpy() != "invalid") & e["is_real_name"].to_numpy() & (rect >= 0)
    cdl = cal.nth_workday_after(np.where(due, rect // DAY, day), callback_workdays)
    return pl.DataFrame({
        "evaluation_id": e["evaluation_id"],
        "is_default": e["channel"] == "default",
        "is_overturned": overturned,
        "verification_deadline": pl.Series(np.where(bad, vdl, 0).astype("datetime64[D]")),
        "is_verified_on_time": (ver >= 0) & (ver // DAY <= vdl),
        "callback_deadline": pl.Series(np.where(due, cdl, 0).astype("datetime64[D]")),
        "is_called_back_on_time": (cb >= 0) & (cb // DAY <= cdl),
        "_bad": bad, "_due": due,
    }).with_columns(
        pl.when(pl.col("_bad")).then(pl.col("verification_deadline")).alias("verification_deadline"),
        pl.when(pl.col("_bad")).then(pl.col("is_verified_on_time")).alias("is_verified_on_time"),
        pl.when(pl.col("_due")).then(pl.col("callback_deadline")).alias("callback_deadline"),
        pl.when(pl.col("_due")).then(pl.col("is_called_back_on_time")).alias("is_called_back_on_time"),
    ).drop("_bad", "_due")


# ------------------------------------------------------------------------------------- writers


def _write_reference(out: Path, centres: list[Centre], record) -> None:
    windows = pl.concat([c.windows for c in centres]).with_columns(
        pl.col("window_kind").replace_strict(W_KIND_LABELS, return_dtype=pl.String))
    record("windows/windows.csv", W.write_csv(W.contract_order(windows, "windows"), out / "windows/windows.csv"))
    items = pl.concat([c.items for c in centres]).with_columns(
        pl.col("item_kind").replace_strict({"immediate": "即办件", "promised": "承诺件"}, return_dtype=pl.String),
        pl.col("limit_unit").replace_strict({"workday": "工作日", "calendar_day": "自然日"}, return_dtype=pl.String),
    )
    record("items/items.csv", W.write_csv(W.contract_order(items, "items"), out / "items/items.csv", encoding="utf-8-sig"))
    staff = pl.concat([c.staff for c in centres])
    record("staff/staff.xlsx", W.write_xlsx(W.contract_order(staff, "staff"), out / "staff/staff.xlsx"))
    ins = pl.concat([c.inspectors for c in centres])
    record("inspectors/inspectors.jsonl", W.write_jsonl(ins, out / "inspectors/inspectors.jsonl"))
    record("hall_hours/hall_hours.csv", W.write_csv(hall_hours_frame(centres), out / "hall_hours/hall_hours.csv"))
    steps = pl.concat([c.step_limits for c in centres]).unique(maintain_order=True)
    record("step_limits/step_limits.csv", W.write_csv(steps, out / "step_limits/step_limits.csv"))


def _write_extended_service(out: Path, centres: list[Centre], plans: list[list[tuple[int, int, int]]], record) -> None:
    rows = []
    for centre, plan in zip(centres, plans):
        for w, d, until in plan:
            rows.append((f"X{centre.center_id[1:]}{to_date(d).strftime('%Y%m%d')}{w + 1:03d}", centre.window_ids[w],
                         to_date(d).isoformat(), f"{until // 3600:02d}:{until % 3600 // 60:02d}:00",
                         "事不办完不下班：窗口延时服务"))
    df = pl.DataFrame(rows, schema=["service_id", "window_id", "service_date", "until_time", "reason"], orient="row")
    record("extended_service/extended_service.csv", W.write_csv(df, out / "extended_service/extended_service.csv"))


W_KIND_LABELS = {"comprehensive": "综合", "specialized": "专业", "immediate": "即办", "public_service": "公共服务"}
TX_FORMAT = {0: "parquet", 1: "iso", 2: "compact_t"}


def _write_transactions(out: Path, df: pl.DataFrame, i: int, nm: int, label: str, record) -> dict | None:
    df = W.contract_order(df, "transactions")
    fmt = TX_FORMAT.get(i, "default")
    if fmt == "parquet" and nm > 1:
        rel = f"transactions/{label}.parquet"
        record(rel, W.write_parquet(df, out / rel))
        return None
    fmt = "default" if fmt == "parquet" else fmt
    rel = f"transactions/{label}.csv"
    record(rel, W.write_csv(df, out / rel, ts_format=fmt))
    # a few delivered rows to re-send with conflicting content later (duplicate_conflict)
    sample = W.to_text(df.filter(pl.col("event_type") == "deliver").head(3), fmt)
    return {"file": rel, "format": fmt, "rows": sample.to_dicts(), "header": df.columns}


def _write_evaluations(out: Path, df: pl.DataFrame, centre: Centre, i: int, nm: int, label: str, record) -> None:
    df = df.with_columns(
        pl.when(pl.col("verdict") != "").then(pl.col("verdict")).alias("verdict"),
        pl.when(pl.col("reason_codes") != "").then(pl.col("reason_codes")).alias("reason_codes"),
        pl.when(pl.col("comment") != "").then(pl.col("comment")).alias("comment"),
        pl.when(pl.col("appeal_result") != "").then(pl.col("appeal_result")).alias("appeal_result"),
        pl.when(pl.col("callback_result") != "").then(pl.col("callback_result")).alias("callback_result"),
    )
    df = W.contract_order(df, "evaluations")
    if i == 1 or nm == 1:
        # one department's ratings as the department's own GBK export with Chinese headers and labels
        dept_windows = centre.windows.filter(pl.col("department_id") == centre.departments["department_id"][1])["window_id"]
        gbk = df.filter(pl.col("window_id").is_in(dept_windows.implode()))
        df = df.filter(~pl.col("window_id").is_in(dept_windows.implode()))
        rel = f"evaluations/{label}-gbk.csv"
        record(rel, W.write_csv(_chinese_evaluations(gbk), out / rel, encoding="gbk", ts_format="slash"))
    if i == nm - 1:
        rel = f"evaluations/{label}.csv"  # numeric ratings, 5 = 非常满意 (sources: five_is_best)
        record(rel, W.write_csv(df.with_columns(pl.col("rating").cast(pl.String)), out / rel))
        return
    rel = f"evaluations/{label}.csv"
    record(rel, W.write_csv(df.with_columns(W.rating_labels()), out / rel))


def _chinese_evaluations(df: pl.DataFrame) -> pl.DataFrame:
    feed = FEEDS["evaluations"]
    ch = {k: v[0] for k, v in feed.by_name["channel"].enum.items()}
    verdict = {k: v[0] for k, v in feed.by_name["verdict"].enum.items()}
    appeal = {k: v[0] for k, v in feed.by_name["appeal_result"].enum.items()}
    callback = {k: v[0] for k, v in feed.by_name["callback_result"].enum.items()}
    df = df.with_columns(
        W.rating_labels(),
        pl.col("channel").replace_strict(ch, return_dtype=pl.String),
        pl.col("verdict").replace_strict(verdict, default=None, return_dtype=pl.String),
        pl.col("appeal_result").replace_strict(appeal, default=None, return_dtype=pl.String),
        pl.col("callback_result").replace_strict(callback, default=None, return_dtype=pl.String),
        pl.col("reason_codes").str.split(";").list.eval(
            pl.element().replace_strict({k: v[0] for k, v in REASON_CODES.items()}, return_dtype=pl.String)
        ).list.join(";"),
        pl.when(pl.col("is_real_name")).then(pl.lit("是")).otherwise(pl.lit("否")).alias("is_real_name"),
    )
    return df.rename({c.name: c.aliases[0] for c in feed.columns if c.name in df.columns})


def _write_flags(out: Path, df: pl.DataFrame, i: int, label: str, record) -> None:
    df = W.contract_order(df, "video_flags")
    rel = f"video_flags/{label}.csv"
    record(rel, W.write_csv(df, out / rel, ts_format="compact" if i == 0 else "default"))


def _dept_volumes(out: Path, centres: list[Centre], month_label: list[str], accepted: dict, rng: np.random.Generator,
                  spec: Scale, scoring: Scoring, record) -> pl.DataFrame:
    rows, gaps = [], []
    keys = [(d, m) for c in centres for d in c.departments["department_id"] for m in month_label]
    k = max(spec.rates.min_per_chunk, math.ceil(spec.rates.volume_gap_share * len(keys)))
    gap_idx = set(rng.choice(len(keys), size=min(k, len(keys)), replace=False).tolist())
    for j, (d, m) in enumerate(keys):
        rec = accepted.get((d, m), 0)
        if j in gap_idx and rec > 0:
            reported = math.ceil(rec * rng.uniform(1.15, 1.50))
            gaps.append(("OB_VOLUME_GAP", None, None, d, m))
        else:
            reported = math.floor(rec * rng.uniform(0.95, 1.05))
        if reported > rec * scoring.off_book.volume_gap_ratio and j not in gap_idx:
            raise RuntimeError("generator bug: a normal department-month exceeds the volume gap ratio")
        rows.append((d, m, reported))
    df = pl.DataFrame(rows, schema=["department_id", "month", "reported_cases"], orient="row")
    record("dept_volumes/dept_volumes.csv", W.write_csv(df, out / "dept_volumes/dept_volumes.csv"))
    return pl.DataFrame(gaps, schema={"rule_id": pl.String, "case_id": pl.String, "window_id": pl.String,
                                      "department_id": pl.String, "month": pl.String}, orient="row")


def _csv_header(path: Path) -> list[str]:
    """The header row of a generated CSV (UTF-8, with or without BOM, or GB18030)."""
    with path.open("rb") as fh:
        first = fh.readline()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return next(csv.reader([first.decode(encoding)]))
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path}: header is neither UTF-8 nor GB18030")


def _bad_rows(out: Path, centre: Centre, month_label: list[str], nm: int, as_of: dt.date, dup: dict | None,
              multi: bool, record) -> list[tuple]:
    q: list[tuple] = []
    code = centre.center_id[1:]
    suffix = f"-{centre.center_id}" if multi else ""
    last = month_label[-1] + suffix
    w0 = centre.window_ids[1 if centre.weekend_window == 0 else 0]
    s0 = centre.window_staff[1 if centre.weekend_window == 0 else 0][0]
    it = centre.item_codes[centre.window_items[1 if centre.weekend_window == 0 else 0][0]]
    day_text = as_of.strftime("%Y%m%d")
    ts_default = as_of.strftime("%Y-%m-%d") + " 10:00:00"

    rel = f"transactions/{last}.csv"
    if (out / rel).exists():
        header = _csv_header(out / rel)  # the columns the file was written with (the contract has optional ones more)
        fmt = TX_FORMAT.get(nm - 1, "default")
        ts = dt.datetime.combine(as_of, dt.time(10, 0)).strftime(W.TS_FORMATS["default" if fmt == "parquet" else fmt])
        for line, rule in badrows.transactions_bad_rows(out / rel, list(header), code, w0, s0, it, day_text, ts):
            q.append(("transactions", rel, line, rule))
    rel = f"evaluations/{last}.csv"
    header = _csv_header(out / rel)  # the columns the file was written with
    for line, rule in badrows.evaluations_bad_rows(out / rel, header, code, w0, ts_default):
        q.append(("evaluations", rel, line, rule))
    rel = f"video_flags/{last}.csv"
    header = [c.name for c in FEEDS["video_flags"].columns if c.name != "recorded_at"]
    for line, rule in badrows.flags_bad_rows(out / rel, header, code, w0, ts_default):
        q.append(("video_flags", rel, line, rule))

    for feed in hall_ops.HALL_FEEDS:
        rel = f"{feed}/{last}.csv"
        for line, rule in badrows.hall_bad_rows(out / rel, _csv_header(out / rel), feed, code, w0, s0, it,
                                                as_of.isoformat()):
            q.append((feed, rel, line, rule))

    # a kiosk export without the rating column: every row lacks a required column
    rel = f"evaluations/{last}-kiosk.csv"
    kiosk = pl.DataFrame({"evaluation_id": [f"K{code}{k:04d}" for k in range(1, 4)], "window_id": [w0] * 3,
                          "channel": ["terminal"] * 3, "evaluated_at": [ts_default] * 3})
    record(rel, W.write_csv(kiosk, out / rel))
    q += [("evaluations", rel, line, "missing_column") for line in (2, 3, 4)]

    # a truncated Parquet export: unreadable
    rel = f"video_flags/{last}-corrupt.parquet"
    (out / rel).write_bytes(b"PAR1\x15\x04\x15\x00\x00truncated export")
    record(rel, 0)
    q.append(("video_flags", rel, None, "unreadable_file"))

    # re-sent rows: two conflicting (same recorded_at, other staff), one later correction (an update)
    if dup and dup["rows"]:
        rel = f"transactions/resend-{as_of.isoformat()}.csv"
        rows = []
        for r in dup["rows"][:2]:
            rows.append(dict(r, staff_id=(r["staff_id"] or "") + "X"))
        fix = dict(dup["rows"][-1])
        later = dt.datetime.strptime(fix["recorded_at"], W.TS_FORMATS[dup["format"]]) + dt.timedelta(days=1)
        fix["recorded_at"] = later.strftime(W.TS_FORMATS[dup["format"]])
        fix["staff_id"] = (fix["staff_id"] or "") + "Y"
        rows.append(fix)
        df = pl.DataFrame(rows, schema={c: pl.String for c in dup["header"]})
        record(rel, W.write_csv(df, out / rel))
        q += [("transactions", rel, line, "duplicate_conflict") for line in (2, 3)]
    return q
