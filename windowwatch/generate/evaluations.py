"""好差评: evaluations of completed cases, window-level ratings, bad-review follow-up."""

from __future__ import annotations

import numpy as np
import polars as pl

from windowwatch.generate import people
from windowwatch.generate.cases import DAY, HOUR, MIN, Chunk
from windowwatch.generate.reference import Centre
from windowwatch.generate.scales import Rates
from windowwatch.generate.workcal import WorkCalendar

# 系统默认评价 (SPEC §4.4): the system rates 基本满意 exactly 7 days after completion when the applicant has not
# rated by then
DEFAULT_AFTER = 7 * DAY
DEFAULT_RATING = 3
EVAL_CHANNELS = np.array(["pad", "terminal", "pc", "mobile", "qr", "phone", "sms", "default"])
EVAL_CHANNEL_P = np.array([0.45, 0.08, 0.05, 0.20, 0.12, 0.02, 0.05, 0.03])
# seconds from completion to the rating, per channel (lo, hi)
EVAL_DELAY = np.array([(30, 10 * MIN), (60, 15 * MIN), (10 * MIN, 3 * DAY), (10 * MIN, 3 * DAY), (5 * MIN, 2 * DAY),
                       (HOUR, 5 * DAY), (HOUR, 5 * DAY), (DEFAULT_AFTER, DEFAULT_AFTER)])
GOOD_COMMENTS = ["服务热情，办事效率高", "一次办好，点赞", "工作人员很耐心", "流程清楚，材料一次过", "比以前快多了",
                 "帮办代办很贴心", "窗口人员态度好", "指引清晰", "不用跑第二趟，很方便"]
BAD_COMMENTS = {
    "attitude": ["工作人员态度生硬", "问了几遍都不耐烦"],
    "slow": ["等了很久才办完", "排队时间太长"],
    "unclear_guidance": ["办事指南写得不清楚", "材料清单和窗口说的不一样"],
    "other": ["系统老是卡顿", "停车不方便"],
    "multiple_trips": ["跑了三趟才办成", "材料要求前后不一致，又跑了一趟"],
    "sent_to_department": ["窗口让我去原单位办理", "让回部门办，大厅办不了"],
}
NORMAL_BAD_REASONS = ["attitude", "slow", "unclear_guidance", "other"]
# the closed loop of a bad review (SPEC §4.4), one role per extra bad review: what its follow-up breaks
LOOP_ROLES = ["appeal_upheld", "appeal_overturned", "late_verification", "late_callback", "unsatisfied_callback"]
CALLBACK_RESULTS = np.array(["satisfied", "basically_satisfied"])


def _in_hours(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    return days * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, len(days))


def evaluations_frame(chunk: Chunk, centre: Centre, ids: np.ndarray, cal: WorkCalendar, as_of_day: int,
                      rates: Rates, rng: np.random.Generator, id_prefix: str,
                      rng2: np.random.Generator | None = None, perfect: tuple[int, int, int] | None = None,
                      verify_workdays: int = 3, callback_workdays: int = 5) -> tuple[pl.DataFrame, np.ndarray]:
    """Evaluations of this chunk's cases (+ a few without case). Returns (frame, runaround case indexes).

    rng2 draws everything v2 added (the closed-loop roles, callback results), so `rng` draws what it always
    did; perfect = (window index, first second, last second): the too-perfect window-month (RI_TOO_PERFECT),
    whose every rating is 非常满意 and none a default one."""
    rng2 = rng2 if rng2 is not None else np.random.default_rng(0)
    as_of_end = as_of_day * DAY + DAY - 1
    done = np.flatnonzero(chunk.t["complete"] >= 0)
    take = done[rng.random(len(done)) < 0.78]
    ch = rng.choice(len(EVAL_CHANNELS), size=len(take), p=EVAL_CHANNEL_P)
    lo, hi = EVAL_DELAY[ch, 0], EVAL_DELAY[ch, 1]
    at = chunk.t["complete"][take] + lo + (rng.random(len(take)) * (hi - lo)).astype(np.int64)
    keep = at <= as_of_end
    take, ch, at = take[keep], ch[keep], at[keep]
    n = len(take)

    # ratings: satisfaction (good / all) ≈ 99.9 %
    u = rng.random(n)
    rating = np.where(u < 0.915, 5, 4)
    rating = np.where(u > 1 - 0.0003, 3, rating)
    bad = rng.random(n) < rates.bad_review
    if bad.sum() < rates.min_per_chunk * 2 and n > 50:
        bad[rng.choice(np.flatnonzero(~bad), size=rates.min_per_chunk * 2, replace=False)] = True
    rating = np.where(bad, np.where(rng.random(n) < 0.7, 2, 1), rating)
    rating = np.where(ch == 7, DEFAULT_RATING, rating)  # 系统默认评价: 基本满意, never bad
    perf = _perfect_mask(centre.window_ids[chunk.window[take]] if n else np.array([], dtype=object), at, centre, perfect)
    ch = np.where(perf & (ch == 7), 3, ch)  # no default rating in the too-perfect window-month (a mobile one)
    rating = np.where(perf, 5, rating)
    bad = rating <= 2
    reasons = np.full(n, "", dtype=object)
    nb = np.flatnonzero(bad)
    reasons[nb] = np.array(NORMAL_BAD_REASONS)[rng.integers(0, 4, len(nb))]
    # runaround: multiple_trips / sent_to_department, only on injected cases
    pool = np.flatnonzero(~bad & (ch != 7) & ~perf)
    k = min(len(pool), max(rates.min_per_chunk, int(round(rates.runaround * n))))
    ra = np.sort(rng.choice(pool, size=k, replace=False)) if k else np.array([], dtype=np.int64)
    ra_reason = np.where(rng.random(len(ra)) < 0.6, "multiple_trips", "sent_to_department")
    reasons[ra] = np.where(rng.random(len(ra)) < 0.3, np.char.add(ra_reason, ";slow"), ra_reason)
    rating[ra] = np.where(rng.random(len(ra)) < 0.5, 2, 3)
    bad = rating <= 2

    comment = np.full(n, "", dtype=object)
    good_c = ((rating >= 4) | (ch == 7)) & (rng.random(n) < 0.08)  # (the draws of v1, whose defaults were good)
    comment[good_c] = np.array(GOOD_COMMENTS)[rng.integers(0, len(GOOD_COMMENTS), good_c.sum())]
    for i in np.flatnonzero(reasons != ""):
        first = str(reasons[i]).split(";")[0]
        opts = BAD_COMMENTS[first]
        comment[i] = opts[int(rng.integers(0, len(opts)))]
    # a few comments leak a phone or ID-card number (ingest must scrub them)
    leak = np.flatnonzero(comment != "")
    leak = leak[rng.random(len(leak)) < 0.03][:5] if len(leak) else leak
    if len(leak) == 0 and n:
        leak = np.array([int(rng.integers(0, n))])
        comment[leak] = GOOD_COMMENTS[0]
    phones = people.mobiles(rng, len(leak))
    idn = people.id_numbers(rng, len(leak))
    for j, i in enumerate(leak):
        comment[i] = f"{comment[i]}，有事请打{phones[j]}" if j % 2 == 0 else f"{comment[i]}（本人身份证{idn[j]}）"

    comment[ch == 7] = ""  # the system writes no comment
    # the closed loop (SPEC §4.4): extra bad reviews, one role each, with room before the as-of date for the
    # whole follow-up (their reasons and comments drawn on rng2)
    role = np.full(n, "", dtype=object)
    loop_pool = ~bad & (ch != 7) & ~perf & (reasons == "") & (comment == "") & (at // DAY <= as_of_day - 45)
    for r in LOOP_ROLES:
        idx = np.flatnonzero(loop_pool & (role == ""))
        k = min(len(idx), max(rates.min_per_chunk, int(round(rates.loop_role * n))))
        if not k:
            continue
        pick = np.sort(rng2.choice(idx, size=k, replace=False))
        role[pick] = r
        rating[pick] = np.where(rng2.random(k) < 0.7, 2, 1)
        reasons[pick] = np.array(NORMAL_BAD_REASONS)[rng2.integers(0, 4, k)]
        for i in pick:
            opts = BAD_COMMENTS[str(reasons[i])]
            comment[i] = opts[int(rng2.integers(0, len(opts)))]
    is_real_name = np.where(ch == 7, False, rng.random(n) < 0.9)
    is_real_name = np.where(role != "", True, is_real_name)

    ev = pl.DataFrame({
        "case_idx": take,
        "case_id": ids[take],
        "window_id": centre.window_ids[chunk.window[take]],
        "staff_id": chunk.staff[take].astype(str),
        "rating": rating,
        "channel": EVAL_CHANNELS[ch],
        "evaluated_at": at,
        "round": np.ones(n, dtype=np.int64),
        "reason_codes": reasons.astype(str),
        "comment": comment.astype(str),
        "is_real_name": is_real_name,
        "_role": role.astype(str),
    })

    # window-level ratings without a case (QR codes on the counter)
    days = cal.workdays_in(int(chunk.accept_day.min()), min(int(chunk.accept_day.max()), as_of_day)) if chunk.n else np.array([], dtype=np.int64)
    m = max(1, int(0.01 * n)) if len(days) else 0
    if m:
        w = rng.integers(0, len(centre.window_ids), m)
        r = np.where(rng.random(m) < 0.97, 5, 4)
        qr_at = _in_hours(rng, days[rng.integers(0, len(days), m)])
        r = np.where(_perfect_mask(centre.window_ids[w], qr_at, centre, perfect), 5, r)
        nocase = pl.DataFrame({
            "case_idx": np.full(m, -1),
            "case_id": [None] * m,
            "window_id": centre.window_ids[w],
            "staff_id": [None] * m,
            "rating": r,
            "channel": ["qr"] * m,
            "evaluated_at": qr_at,
            "round": np.ones(m, dtype=np.int64),
            "reason_codes": [""] * m,
            "comment": [""] * m,
            "is_real_name": rng.random(m) < 0.3,
            "_role": [""] * m,
        }, schema_overrides={"case_id": pl.String, "staff_id": pl.String})
        ev = pl.concat([ev, nocase])

    ev = follow_up(ev, cal, as_of_day, rng, rates, rng2, verify_workdays, callback_workdays)
    if perfect is not None:
        pm = _perfect_mask(ev["window_id"].to_numpy(), ev["evaluated_at"].to_numpy(), centre, perfect)
        if np.any(pm & (ev["rating"].to_numpy() <= 2)):
            raise RuntimeError("generator bug: a bad review in the too-perfect window-month")
        ev = ev.with_columns(pl.when(pl.Series(pm)).then(5).otherwise(pl.col("rating")).alias("rating"))
    ev = ev.sort("evaluated_at", "window_id", "case_idx")
    ev = ev.with_columns(
        (pl.lit(id_prefix) + (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(7)).alias("evaluation_id"))
    return ev, take[ra]


def _perfect_mask(window_ids: np.ndarray, at: np.ndarray, centre: Centre,
                  perfect: tuple[int, int, int] | None) -> np.ndarray:
    if perfect is None or len(at) == 0:
        return np.zeros(len(at), dtype=bool)
    w, lo, hi = perfect
    return (np.asarray(window_ids) == centre.window_ids[w]) & (at >= lo) & (at <= hi)


def _plan(rng: np.random.Generator, cal: WorkCalendar, day: np.ndarray) -> tuple[np.ndarray, ...]:
    """v1's follow-up draws of bad reviews evaluated on `day`: (plan, verified, rectified, callback, rectification day)."""
    plan = rng.choice(4, size=len(day), p=[0.15, 0.65, 0.10, 0.10])  # invalid, on time, late, unrectified
    plan[: min(4, len(day))] = np.arange(min(4, len(day)))
    verified = _in_hours(rng, cal.nth_workday_after(day, 1))
    on_time = cal.nth_workday_after(day, rng.integers(2, 15, len(day)))
    late = cal.nth_workday_after(day, 15 + rng.integers(1, 9, len(day)))
    rdays = np.where(plan == 1, on_time, late)
    rectified = np.where((plan == 1) | (plan == 2), _in_hours(rng, rdays), -1)
    callback = np.where(rectified >= 0, _in_hours(rng, cal.nth_workday_after(rdays, 1)), -1)
    return plan, verified, rectified, callback, rdays


def follow_up(ev: pl.DataFrame, cal: WorkCalendar, as_of_day: int, rng: np.random.Generator, rates: Rates,
              rng2: np.random.Generator | None = None, verify_workdays: int = 3,
              callback_workdays: int = 5) -> pl.DataFrame:
    """verified_at / verdict / rectified_at / callback_at of bad reviews, plus round-2 ratings; v2: appeal_at /
    appeal_result / callback_result, and the closed-loop roles of the extra bad reviews (column _role):
    appeal_upheld (appealed a working day later, upheld; then as an on-time review), appeal_overturned
    (appealed, overturned: no rectification, no callback), late_verification (verified verify_workdays + 1..3
    working days after), late_callback (called back callback_workdays + 1..3 working days after the
    rectification), unsatisfied_callback (called back on time, the applicant unsatisfied: 发回重办, no second
    round). Every role is real-name, valid and rectified on time, with room before the as-of date."""
    rng2 = rng2 if rng2 is not None else np.random.default_rng(0)
    as_of_end = as_of_day * DAY + DAY - 1
    n = ev.height
    rating = ev["rating"].to_numpy()
    at = ev["evaluated_at"].to_numpy()
    day = at // DAY
    role = ev["_role"].to_numpy() if "_role" in ev.columns else np.full(n, "", dtype=object)
    # state plan: the first four bad reviews of a chunk cover every state, the rest are drawn;
    # follow-ups that would fall after the as-of date are dropped below (the truth is computed
    # from what remains, so a late rectification near the end becomes "unrectified")
    bad = np.flatnonzero((rating <= 2) & (role == ""))
    verified = np.full(n, -1)
    verdict = np.full(n, "", dtype=object)
    rectified = np.full(n, -1)
    callback = np.full(n, -1)
    appeal = np.full(n, -1)
    appeal_result = np.full(n, "", dtype=object)
    callback_result = np.full(n, "", dtype=object)
    plan, verified[bad], rectified[bad], callback[bad], _ = _plan(rng, cal, day[bad])
    verdict[bad] = np.where(plan == 0, "invalid", "valid")

    # the closed-loop roles (rng2): valid, rectified on time 2..14 working days after, called back a working day
    # after the rectification, unless the role says otherwise
    lp = np.flatnonzero(role != "")
    r = role[lp]
    d = day[lp]
    vday = np.where(r == "late_verification",
                    cal.nth_workday_after(d, verify_workdays + rng2.integers(1, 4, len(lp))),
                    cal.nth_workday_after(d, 1))
    verified[lp] = _in_hours(rng2, vday)
    verdict[lp] = "valid"
    rday = cal.nth_workday_after(d, rng2.integers(verify_workdays + 4, 15, len(lp)))  # after any verification
    overturned = r == "appeal_overturned"
    rectified[lp] = np.where(overturned, -1, _in_hours(rng2, rday))
    cday = cal.nth_workday_after(rday, np.where(r == "late_callback", callback_workdays + rng2.integers(1, 4, len(lp)), 1))
    callback[lp] = np.where(overturned, -1, _in_hours(rng2, cday))
    appealed = (r == "appeal_upheld") | overturned
    appeal[lp] = np.where(appealed, _in_hours(rng2, cal.nth_workday_after(d, 1)), -1)
    appeal_result[lp] = np.where(overturned, "overturned", np.where(appealed, "upheld", ""))

    # the rater's view at the callback: satisfied mostly, some basically satisfied; unsatisfied only by role
    called = callback >= 0
    callback_result[called] = CALLBACK_RESULTS[(rng2.random(int(called.sum())) < 0.15).astype(int)]
    callback_result[lp[r == "unsatisfied_callback"]] = "unsatisfied"

    # nothing after the as-of date
    verdict = np.where((verified >= 0) & (verified <= as_of_end), verdict, "")
    verified = np.where(verified <= as_of_end, verified, -1)
    rectified = np.where(rectified <= as_of_end, rectified, -1)
    callback = np.where(callback <= as_of_end, callback, -1)
    callback_result = np.where(callback >= 0, callback_result, "")
    appeal_result = np.where((appeal >= 0) & (appeal <= as_of_end), appeal_result, "")
    appeal = np.where(appeal <= as_of_end, appeal, -1)
    if np.any((role != "") & ((verified < 0) | ((rectified < 0) & (role != "appeal_overturned"))
                              | ((callback < 0) & (role != "appeal_overturned")))):
        raise RuntimeError("generator bug: a closed-loop role's follow-up falls after the as-of date")
    ev = ev.with_columns(
        pl.Series("verified_at", verified), pl.Series("verdict", verdict.astype(str)),
        pl.Series("rectified_at", rectified), pl.Series("callback_at", callback),
        pl.Series("appeal_at", appeal), pl.Series("appeal_result", appeal_result.astype(str)),
        pl.Series("callback_result", callback_result.astype(str)))
    # a second round after the callback: the applicant rates again (satisfied); not after 发回重办
    again = np.flatnonzero((callback >= 0) & (ev["case_idx"].to_numpy() >= 0) & (callback_result != "unsatisfied"))
    if len(again):
        r2 = ev[again].with_columns(
            pl.lit(4).alias("rating"), pl.lit("phone").alias("channel"),
            (pl.col("callback_at") + 10 * MIN).alias("evaluated_at"), pl.lit(2).alias("round"),
            pl.lit("").alias("reason_codes"), pl.lit("整改后满意").alias("comment"), pl.lit(True).alias("is_real_name"),
            pl.lit(-1).alias("verified_at"), pl.lit("").alias("verdict"), pl.lit(-1).alias("rectified_at"),
            pl.lit(-1).alias("callback_at"), pl.lit(-1).alias("appeal_at"), pl.lit("").alias("appeal_result"),
            pl.lit("").alias("callback_result"), pl.lit("").alias("_role"))
        r2 = r2.filter(pl.col("evaluated_at") <= as_of_end).cast(dict(ev.schema))
        ev = pl.concat([ev, r2])
    return ev
