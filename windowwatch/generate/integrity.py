"""评价真实性 (SPEC §4.9) in the generated ratings: the hall pads, the injected patterns and their ground truth.

Works on one centre-month at a time, when every rating evaluated that month and every transaction event of
that month are known (dataset.py, just before the month's evaluations file is written):

1. device_id: each window's hall pad (`pad_devices`: one per window, some shared by two neighbouring windows);
   terminal ratings carry no device (the rules then group by window), other channels none.
2. Normal in-hall ratings (pad, terminal) are made clean for every rule with a margin: a rating that would fall
   outside its window's hours (± 1 min) or more than 25 min from an event at its window becomes a mobile one,
   and so does every normal in-hall rating of a dense run (5 on one device within 4 min) or within 5 min of an
   injected burst.
3. Injected (case-less pad ratings, 非常满意): bursts of 5–8 ratings within 150 s, 1–5 min after an event at the
   window, in hall hours; single ratings in hall hours at least 40 min from any event at the window; single
   ratings at night (at least 5 min after closing, or on a closed day) 2–10 min after an off-hours event at the
   window. The too-perfect window-month is planned before the chunks (evaluations_frame makes its ratings
   all 非常满意); here every other window-month with ≥ 40 active ratings gets one 满意 if it had none.
4. The truth is our own implementation of §4.9 on what is written, checked against the plan: a normal rating
   that fires, or an injected one that does not fire its rule (or fires another), is a generator bug.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from windowwatch.generate.cases import DAY, HOUR, MIN, window_hours
from windowwatch.generate.reference import Centre
from windowwatch.generate.workcal import WorkCalendar

IN_HALL = ["pad", "terminal"]
RI_RULES = ["RI_BURST", "RI_NO_SERVICE", "RI_OFF_HOURS", "RI_TOO_PERFECT"]
KIND_RULE = {"burst": "RI_BURST", "no_service": "RI_NO_SERVICE", "off_hours": "RI_OFF_HOURS"}
TRUTH_SCHEMA = {"rule_id": pl.String, "evaluation_id": pl.String, "window_id": pl.String, "month": pl.String}

# margins (seconds) between the normal / injected ratings and each threshold
HOURS_MARGIN = MIN          # normal in-hall ratings at least this inside the hours
SERVICE_NORMAL = 25 * MIN   # normal in-hall ratings within this of an event at their window
SERVICE_INJECTED = 40 * MIN  # injected no-service ratings at least this far from every event at the window
DENSE_SECONDS = 4 * MIN     # no 5 normal in-hall ratings of one device within this
BURST_SPAN = 150            # an injected burst lasts at most this
BURST_ISOLATION = 5 * MIN   # no other in-hall rating of the device this close to a burst
PERFECT_MIN = 40            # a normal window-month with this many active ratings has a 满意 one
PERFECT_P = 1e-4            # the planned too-perfect window-month: p = c^n below this (the rule: < 0.001)


def pad_devices(centre: Centre) -> np.ndarray:
    """The hall pad of each window: one per window; every sixth window shares its neighbour's (never the
    weekend window, whose hours differ)."""
    code = centre.center_id[1:]
    dev = np.empty(len(centre.window_ids), dtype=object)
    k = 0
    for w in range(len(centre.window_ids)):
        if w % 6 == 5 and centre.weekend_window not in (w, w - 1):
            dev[w] = dev[w - 1]
        else:
            k += 1
            dev[w] = f"PAD{code}{k:03d}"
    return dev


def perfect_window(centre: Centre) -> int:
    """The window whose middle month is made too perfect: the busiest one (the weekend window excepted)."""
    weight = centre.window_weight.copy()
    weight[centre.weekend_window] = -1
    return int(np.argmax(weight))


def _ext_until(ext_map: dict[int, int], widx: np.ndarray, day: np.ndarray) -> np.ndarray:
    """extended_service until (second of day) of each row's window-day, -1 when none."""
    if not ext_map:
        return np.full(len(widx), -1, dtype=np.int64)
    keys = np.array(sorted(ext_map), dtype=np.int64)
    until = np.array([ext_map[k] for k in keys], dtype=np.int64)
    k = widx.astype(np.int64) * 1_000_000 + day
    pos = np.clip(np.searchsorted(keys, k), 0, len(keys) - 1)
    return np.where(keys[pos] == k, until[pos], -1)


def hours(centre: Centre, cal: WorkCalendar, ext_map: dict[int, int], widx: np.ndarray,
          secs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(second of day, open, close, extended until or -1) of each (window, time)."""
    day = secs // DAY
    open_, close = window_hours(widx == centre.weekend_window, cal.is_workday(day))
    return secs % DAY, open_, close, _ext_until(ext_map, widx, day)


def outside_hours(sod: np.ndarray, open_: np.ndarray, close: np.ndarray, until: np.ndarray) -> np.ndarray:
    """SPEC §4.9 RI_OFF_HOURS as OB_OFF_HOURS: outside the window's hours, unless at or before its 延时服务 until."""
    out = (open_ == close) | (sod < open_) | (sod > close)
    return out & ~((until >= 0) & (sod <= until))


def _inside_with_margin(sod, open_, close, until) -> np.ndarray:
    eff_close = np.where(until >= 0, np.maximum(close, until), close)
    return (open_ < close) & (sod >= open_ + HOURS_MARGIN) & (sod <= eff_close - HOURS_MARGIN)


def _outside_with_margin(sod, open_, close, until, margin: int) -> np.ndarray:
    eff_close = np.where(until >= 0, np.maximum(close, until), close)
    closed = (open_ == close) & (until < 0)
    return closed | (sod > eff_close + margin)


def _nearest_event(ratings: pl.DataFrame, events: pl.DataFrame) -> np.ndarray:
    """Seconds from each rating (_i, window_id, _t) to the nearest event at its window (a huge number if none)."""
    if ratings.height == 0:
        return np.array([], dtype=np.int64)
    r = ratings.select("_i", "window_id", "_t").sort("_t")
    e = events.select("window_id", pl.col("_t").alias("_e")).sort("_e")
    j = r.join_asof(e, left_on="_t", right_on="_e", by="window_id", strategy="nearest",
                    check_sortedness=False)  # both sorted by time, so within each window too
    j = j.with_columns((pl.col("_t") - pl.col("_e")).abs().fill_null(10 * DAY).alias("_d")).sort("_i")
    return j["_d"].to_numpy()


def _burst_members(hall: pl.DataFrame, count: int, seconds: int) -> pl.Series:
    """Per row of `hall` (_key, _t; any order): part of ≥ count ratings of one key within `seconds`."""
    h = hall.with_row_index("_o").sort("_key", "_t")
    k = count - 1
    start = ((pl.col("_key").shift(-k) == pl.col("_key")) & (pl.col("_t").shift(-k) - pl.col("_t") <= seconds)).fill_null(False)
    h = h.with_columns(start.alias("_s"))
    member = pl.lit(False)
    for s in range(count):
        member = member | pl.col("_s").shift(s).fill_null(False)
    return h.with_columns(member.alias("_m")).sort("_o")["_m"]


def _hall_key() -> pl.Expr:
    return pl.coalesce(pl.col("device_id"), pl.lit("W|") + pl.col("window_id")).alias("_key")


def month_ratings(ev: pl.DataFrame, tx: pl.DataFrame, centre: Centre, cal: WorkCalendar, ext_map: dict[int, int],
                  first_day: int, last_day: int, as_of_day: int, rates, rng: np.random.Generator,
                  perfect: int | None, month_label: str, id_prefix: str, ri) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """One centre-month: (the month's evaluations with device_id and the injected ratings, RI truth rows, counts).

    ev: the ratings evaluated this month (Datetime columns, `_role`); tx: the transaction events of this month;
    perfect: the too-perfect window's index if this is its month; ri: the scoring file's rating_integrity."""
    wmap = {w: i for i, w in enumerate(centre.window_ids)}
    devices = pad_devices(centre)
    dev_of = {w: devices[i] for i, w in enumerate(centre.window_ids)}
    last = min(last_day, as_of_day)
    ev = ev.with_columns(
        pl.col("evaluated_at").dt.epoch("s").alias("_t"),
        pl.col("window_id").replace_strict(wmap, return_dtype=pl.Int64).alias("_w"),
        pl.when(pl.col("channel") == "pad").then(pl.col("window_id").replace_strict(dev_of, return_dtype=pl.String))
        .alias("device_id"),
        pl.lit("").alias("_kind"),
    ).with_row_index("_i")
    events = tx.select("window_id", pl.col("event_time").dt.epoch("s").alias("_t")).with_columns(
        pl.col("window_id").replace_strict(wmap, return_dtype=pl.Int64).alias("_w"))

    def to_mobile(df: pl.DataFrame, idx: np.ndarray) -> pl.DataFrame:
        m = pl.col("_i").is_in(pl.Series(idx, dtype=pl.UInt32).implode())
        return df.with_columns(pl.when(m).then(pl.lit("mobile")).otherwise(pl.col("channel")).alias("channel"),
                               pl.when(m).then(None).otherwise(pl.col("device_id")).alias("device_id"))

    # ---------------------------------------------------------------- 2. normal in-hall ratings: clean
    hall = ev.filter(pl.col("channel").is_in(IN_HALL))
    w, t = hall["_w"].to_numpy(), hall["_t"].to_numpy()
    sod, op, cl, un = hours(centre, cal, ext_map, w, t)
    dist = _nearest_event(hall, events)
    bad = ~_inside_with_margin(sod, op, cl, un) | (dist > SERVICE_NORMAL)
    ev = to_mobile(ev, hall["_i"].to_numpy()[bad])
    converted = int(bad.sum())

    # ---------------------------------------------------------------- 3. injections
    n_hall = int(ev["channel"].is_in(IN_HALL).sum())
    ew, et = events["_w"].to_numpy(), events["_t"].to_numpy()
    esod, eop, ecl, eun = hours(centre, cal, ext_map, ew, et)
    eday = et // DAY
    usable = (eday >= first_day) & (eday <= last) & ((ew != perfect) if perfect is not None else True)
    new_rows: list[tuple[int, int, str, int]] = []  # (window, time, kind, burst number)

    # bursts: 5–8 ratings within BURST_SPAN, 1–5 min after an event at the window, well inside the hours
    k = max(rates.min_per_chunk, int(round(rates.ri_burst * n_hall)))
    cand = np.flatnonzero(usable & (eop < ecl) & (esod >= eop + 10 * MIN) & (esod <= ecl - 20 * MIN))
    taken: dict[str, list[int]] = {}
    for e in rng.permutation(cand)[: 50 * k]:
        if len({b for *_, b in new_rows}) >= k:
            break
        dev = devices[ew[e]]
        t0 = int(et[e]) + int(rng.integers(MIN, 5 * MIN))
        if any(abs(t0 - x) < 2 * HOUR for x in taken.get(dev, [])):
            continue
        taken.setdefault(dev, []).append(t0)
        m = int(rng.integers(5, 9))
        offs = np.sort(np.concatenate([[0, BURST_SPAN], rng.integers(0, BURST_SPAN + 1, m - 2)]))
        b = len({b for *_, b in new_rows})
        new_rows += [(int(ew[e]), t0 + int(o), "burst", b) for o in offs]

    # no service: a gap of ≥ 2 × SERVICE_INJECTED between events at the window, inside the hours by 5 min
    k = max(rates.min_per_chunk, int(round(rates.ri_no_service * n_hall)))
    days = np.arange(first_day, last + 1, dtype=np.int64)
    ww, dd = np.repeat(np.arange(len(centre.window_ids)), len(days)), np.tile(days, len(centre.window_ids))
    o, c = window_hours(ww == centre.weekend_window, cal.is_workday(dd))
    openday = (o < c) & ((ww != perfect) if perfect is not None else True)
    sent = pl.DataFrame({"_w": np.concatenate([ww[openday], ww[openday]]),
                         "_t": np.concatenate([dd[openday] * DAY + o[openday] + 5 * MIN - SERVICE_INJECTED,
                                               dd[openday] * DAY + c[openday] - 5 * MIN + SERVICE_INJECTED])})
    ev_days = events.filter(pl.col("_t") // DAY >= first_day).select("_w", "_t")
    open_wd = pl.DataFrame({"_w": ww[openday], "_d": dd[openday], "_o": o[openday], "_c": c[openday]})
    gaps = (pl.concat([ev_days, sent]).with_columns((pl.col("_t") // DAY).alias("_d")).sort("_w", "_t")
            .with_columns(pl.col("_t").shift(-1).over("_w", "_d").alias("_n"))
            .join(open_wd, on=["_w", "_d"])  # open window-days only (a closed day has no sentinels)
            .with_columns(
                pl.max_horizontal(pl.col("_t") + SERVICE_INJECTED, pl.col("_d") * DAY + pl.col("_o") + 5 * MIN).alias("_lo"),
                pl.min_horizontal(pl.col("_n") - SERVICE_INJECTED, pl.col("_d") * DAY + pl.col("_c") - 5 * MIN).alias("_hi"))
            .filter(pl.col("_hi") >= pl.col("_lo")))
    if gaps.height:
        pick = rng.permutation(gaps.height)
        seen: set[tuple[int, int]] = set()
        got = 0
        for i in pick:
            if got >= k:
                break
            gw, gd, lo, hi = (int(gaps[col][int(i)]) for col in ("_w", "_d", "_lo", "_hi"))
            if (gw, gd) in seen:
                continue
            seen.add((gw, gd))
            new_rows.append((gw, lo + int(rng.integers(0, hi - lo + 1)), "no_service", -1))
            got += 1

    # at night: 2–10 min after an event outside the hours, still outside by ≥ 5 min, the same day
    k = max(rates.min_per_chunk, int(round(rates.ri_off_hours * n_hall)))
    cand = np.flatnonzero(usable & _outside_with_margin(esod, eop, ecl, eun, 10 * MIN) & (esod <= DAY - 20 * MIN))
    seen_dev: set[tuple[str, int]] = set()
    got = 0
    for e in rng.permutation(cand):
        if got >= k:
            break
        key = (devices[ew[e]], int(eday[e]))
        if key in seen_dev:
            continue
        r = int(et[e]) + int(rng.integers(2 * MIN, 10 * MIN + 1))
        rs, ro, rc, ru = hours(centre, cal, ext_map, np.array([ew[e]]), np.array([r]))
        if r // DAY != eday[e] or not _outside_with_margin(rs, ro, rc, ru, 5 * MIN)[0]:
            continue
        seen_dev.add(key)
        new_rows.append((int(ew[e]), r, "off_hours", -1))
        got += 1

    n_new = len(new_rows)
    staff = [centre.window_staff[r[0]][0] for r in new_rows]
    inj = pl.DataFrame({
        "case_idx": np.full(n_new, -1, dtype=np.int64),
        "case_id": [None] * n_new,
        "window_id": [str(centre.window_ids[r[0]]) for r in new_rows],
        "staff_id": [str(s) for s in staff],
        "rating": np.full(n_new, 5, dtype=np.int64),
        "channel": ["pad"] * n_new,
        "_t": np.array([r[1] for r in new_rows], dtype=np.int64),
        "round": np.ones(n_new, dtype=np.int64),
        "reason_codes": [""] * n_new,
        "comment": [""] * n_new,
        "is_real_name": np.zeros(n_new, dtype=bool),
        "evaluation_id": [f"{id_prefix}9{j + 1:06d}" for j in range(n_new)],
        "device_id": [devices[r[0]] for r in new_rows],
        "_w": np.array([r[0] for r in new_rows], dtype=np.int64),
        "_kind": [r[2] for r in new_rows],
        "_burst": np.array([r[3] for r in new_rows], dtype=np.int64),
    }, schema_overrides={"case_id": pl.String})
    inj = inj.with_columns(pl.from_epoch("_t", time_unit="s").alias("evaluated_at"))
    ev = ev.with_columns(pl.lit(-1, dtype=pl.Int64).alias("_burst"))
    inj = inj.with_columns(pl.int_range(ev.height, ev.height + n_new, dtype=pl.UInt32).alias("_i"))
    ev = pl.concat([ev, inj], how="diagonal_relaxed")

    # ---------------------------------------------------------------- isolation of bursts, no dense normal runs
    for _ in range(20):
        hall = ev.filter(pl.col("channel").is_in(IN_HALL)).with_columns(_hall_key())
        spans = hall.filter(pl.col("_kind") == "burst").group_by("_key", "_burst").agg(
            pl.col("_t").min().alias("_lo"), pl.col("_t").max().alias("_hi"))
        near = hall.filter(pl.col("_kind") == "").join(spans, on="_key").filter(
            (pl.col("_t") >= pl.col("_lo") - BURST_ISOLATION) & (pl.col("_t") <= pl.col("_hi") + BURST_ISOLATION))
        rest = hall.filter(pl.col("_kind") != "burst")
        dense = rest.filter(_burst_members(rest, ri.ri_burst_count, DENSE_SECONDS) & (pl.col("_kind") == ""))
        fix = np.unique(np.concatenate([near["_i"].to_numpy(), dense["_i"].to_numpy()]))
        if not len(fix):
            break
        ev = to_mobile(ev, fix)
        converted += len(fix)
    else:
        raise RuntimeError("generator bug: in-hall ratings still too dense after 20 passes")

    # ---------------------------------------------------------------- the too-perfect window-month
    # (a centre too small for a clear-cut one, n ≥ 60 and p < 1e-4, gets none: the window is flipped like any other)
    cancelled = False
    if perfect is not None:
        act = ev.filter((pl.col("channel") != "default"))
        n_w = act.filter(pl.col("_w") == perfect).height
        others = act.filter(pl.col("_w") != perfect)
        c_o = float((others["rating"] == 5).mean()) if others.height else 1.0
        if n_w < PERFECT_MIN + 20 or c_o ** n_w >= PERFECT_P:
            perfect, cancelled = None, True
    narrow = (pl.col("round") == 1) & (pl.col("channel") != "default") & (pl.col("appeal_result") != "overturned")
    ev = ev.with_columns(pl.col("appeal_result").fill_null(""))
    per_w = ev.group_by("_w").agg(
        (pl.col("channel") != "default").sum().alias("n"),
        (narrow & (pl.col("rating") != 5)).any().alias("has_other"),
        pl.col("_i").filter(narrow & (pl.col("rating") == 5) & (pl.col("_kind") == "")).min().alias("flip"))
    flip = per_w.filter((pl.col("n") >= PERFECT_MIN) & ~pl.col("has_other") & pl.col("flip").is_not_null()
                        & ((pl.col("_w") != perfect) if perfect is not None else pl.lit(True)))["flip"]
    ev = ev.with_columns(pl.when(pl.col("_i").is_in(flip.implode())).then(4).otherwise(pl.col("rating")).alias("rating"))
    flipped = flip.len()

    # ---------------------------------------------------------------- 4. truth, checked against the plan
    truth_rows: list[pl.DataFrame] = []
    hall = ev.filter(pl.col("channel").is_in(IN_HALL)).with_columns(_hall_key())
    if hall.filter(((pl.col("_t") // DAY) < first_day) | ((pl.col("_t") // DAY) > last)).height:
        raise RuntimeError("generator bug: an in-hall rating outside its month")
    w, t = hall["_w"].to_numpy(), hall["_t"].to_numpy()
    sod, op, cl, un = hours(centre, cal, ext_map, w, t)
    fired = {
        "RI_BURST": _burst_members(hall, ri.ri_burst_count, ri.ri_burst_minutes * 60).to_numpy(),
        "RI_NO_SERVICE": _nearest_event(hall, events) > ri.ri_service_minutes * 60,
        "RI_OFF_HOURS": outside_hours(sod, op, cl, un),
    }
    kind = hall["_kind"].to_numpy()
    for kd, rule in KIND_RULE.items():
        if not np.array_equal(fired[rule], kind == kd):
            extra = np.flatnonzero(fired[rule] & (kind != kd))
            miss = np.flatnonzero(~fired[rule] & (kind == kd))
            example = f"{hall['evaluation_id'][int(extra[0])]}, kind {kind[extra[0]] or 'normal'}" if len(extra) else "-"
            raise RuntimeError(f"generator bug: {rule} in {month_label} at {centre.center_id}: {len(extra)} ratings "
                               f"fire that were not injected for it (e.g. {example}), {len(miss)} injected do not")
        idx = np.flatnonzero(fired[rule])
        truth_rows.append(pl.DataFrame({
            "rule_id": [rule] * len(idx), "evaluation_id": hall["evaluation_id"].to_numpy()[idx],
            "window_id": hall["window_id"].to_numpy()[idx], "month": [month_label] * len(idx)}, schema=TRUTH_SCHEMA))
    # RI_TOO_PERFECT: ≥ ri_min_ratings active ratings all 非常满意, p = c^n < ri_p_value, c = the other windows' share
    act = ev.filter(pl.col("channel") != "default")
    per_w = act.group_by("_w").agg(pl.len().alias("n"), (pl.col("rating") == 5).sum().alias("n5"))
    tot_n, tot_5 = int(per_w["n"].sum()), int(per_w["n5"].sum())
    per_w = per_w.with_columns(((tot_5 - pl.col("n5")) / (tot_n - pl.col("n"))).alias("c")).with_columns(
        (pl.col("c") ** pl.col("n")).alias("p"))
    fires = per_w.filter((pl.col("n") >= ri.ri_min_ratings) & (pl.col("n5") == pl.col("n"))
                         & (pl.col("p") < ri.ri_p_value))
    if sorted(fires["_w"].to_list()) != ([perfect] if perfect is not None else []):
        raise RuntimeError(f"generator bug: RI_TOO_PERFECT in {month_label} fires at windows {fires['_w'].to_list()}, "
                           f"planned {perfect}")
    if perfect is not None:
        row = per_w.filter(pl.col("_w") == perfect)
        if row["p"][0] >= PERFECT_P or row["n"][0] < PERFECT_MIN + 20 or ev.filter(
                (pl.col("_w") == perfect) & ((pl.col("rating") != 5) | (pl.col("channel") == "default"))).height:
            raise RuntimeError(f"generator bug: the too-perfect window-month is not clear-cut: {row.to_dicts()}")
        truth_rows.append(pl.DataFrame({"rule_id": ["RI_TOO_PERFECT"], "evaluation_id": [None],
                                        "window_id": [str(centre.window_ids[perfect])], "month": [month_label]},
                                       schema=TRUTH_SCHEMA))

    ev = ev.sort("_t", maintain_order=True).drop("_i", "_t", "_w", "_kind", "_burst")
    counts = {"injected_ratings": n_new, "bursts": len({b for *_, b in new_rows if b >= 0}),
              "converted_to_mobile": converted, "flipped_to_satisfied": flipped, "too_perfect_cancelled": int(cancelled)}
    return ev, pl.concat(truth_rows), counts

