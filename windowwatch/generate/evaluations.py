"""好差评: evaluations of completed cases, window-level ratings, bad-review follow-up."""

from __future__ import annotations

import numpy as np
import polars as pl

from windowwatch.generate import people
from windowwatch.generate.cases import DAY, HOUR, MIN, Chunk
from windowwatch.generate.reference import Centre
from windowwatch.generate.scales import Rates
from windowwatch.generate.workcal import WorkCalendar

EVAL_CHANNELS = np.array(["pad", "terminal", "pc", "mobile", "qr", "phone", "sms", "default"])
EVAL_CHANNEL_P = np.array([0.45, 0.08, 0.05, 0.20, 0.12, 0.02, 0.05, 0.03])
# seconds from completion to the rating, per channel (lo, hi)
EVAL_DELAY = np.array([(30, 10 * MIN), (60, 15 * MIN), (10 * MIN, 3 * DAY), (10 * MIN, 3 * DAY), (5 * MIN, 2 * DAY),
                       (HOUR, 5 * DAY), (HOUR, 5 * DAY), (15 * DAY, 15 * DAY + 2 * HOUR)])
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


def _in_hours(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    return days * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, len(days))


def evaluations_frame(chunk: Chunk, centre: Centre, ids: np.ndarray, cal: WorkCalendar, as_of_day: int,
                      rates: Rates, rng: np.random.Generator, id_prefix: str) -> tuple[pl.DataFrame, np.ndarray]:
    """Evaluations of this chunk's cases (+ a few without case). Returns (frame, runaround case indexes)."""
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
    rating = np.where(ch == 7, np.maximum(rating, 4), rating)  # 系统默认评价 is never bad
    bad = rating <= 2
    reasons = np.full(n, "", dtype=object)
    nb = np.flatnonzero(bad)
    reasons[nb] = np.array(NORMAL_BAD_REASONS)[rng.integers(0, 4, len(nb))]
    # runaround: multiple_trips / sent_to_department, only on injected cases
    pool = np.flatnonzero(~bad & (ch != 7))
    k = min(len(pool), max(rates.min_per_chunk, int(round(rates.runaround * n))))
    ra = np.sort(rng.choice(pool, size=k, replace=False)) if k else np.array([], dtype=np.int64)
    ra_reason = np.where(rng.random(len(ra)) < 0.6, "multiple_trips", "sent_to_department")
    reasons[ra] = np.where(rng.random(len(ra)) < 0.3, np.char.add(ra_reason, ";slow"), ra_reason)
    rating[ra] = np.where(rng.random(len(ra)) < 0.5, 2, 3)
    bad = rating <= 2

    comment = np.full(n, "", dtype=object)
    good_c = (rating >= 4) & (rng.random(n) < 0.08)
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
        "is_real_name": np.where(ch == 7, False, rng.random(n) < 0.9),
    })

    # window-level ratings without a case (QR codes on the counter)
    days = cal.workdays_in(int(chunk.accept_day.min()), min(int(chunk.accept_day.max()), as_of_day)) if chunk.n else np.array([], dtype=np.int64)
    m = max(1, int(0.01 * n)) if len(days) else 0
    if m:
        w = rng.integers(0, len(centre.window_ids), m)
        r = np.where(rng.random(m) < 0.97, 5, 4)
        nocase = pl.DataFrame({
            "case_idx": np.full(m, -1),
            "case_id": [None] * m,
            "window_id": centre.window_ids[w],
            "staff_id": [None] * m,
            "rating": r,
            "channel": ["qr"] * m,
            "evaluated_at": _in_hours(rng, days[rng.integers(0, len(days), m)]),
            "round": np.ones(m, dtype=np.int64),
            "reason_codes": [""] * m,
            "comment": [""] * m,
            "is_real_name": rng.random(m) < 0.3,
        }, schema_overrides={"case_id": pl.String, "staff_id": pl.String})
        ev = pl.concat([ev, nocase])

    ev = follow_up(ev, cal, as_of_day, rng, rates)
    ev = ev.sort("evaluated_at", "window_id", "case_idx")
    ev = ev.with_columns(
        (pl.lit(id_prefix) + (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(7)).alias("evaluation_id"))
    return ev, take[ra]


def follow_up(ev: pl.DataFrame, cal: WorkCalendar, as_of_day: int, rng: np.random.Generator, rates: Rates) -> pl.DataFrame:
    """verified_at / verdict / rectified_at / callback_at of bad reviews, plus round-2 ratings."""
    as_of_end = as_of_day * DAY + DAY - 1
    n = ev.height
    rating = ev["rating"].to_numpy()
    at = ev["evaluated_at"].to_numpy()
    day = at // DAY
    bad = np.flatnonzero(rating <= 2)
    # state plan: the first four bad reviews of a chunk cover every state, the rest are drawn;
    # follow-ups that would fall after the as-of date are dropped below (the truth is computed
    # from what remains, so a late rectification near the end becomes "unrectified")
    plan = rng.choice(4, size=len(bad), p=[0.15, 0.65, 0.10, 0.10])  # invalid, on time, late, unrectified
    plan[: min(4, len(bad))] = np.arange(min(4, len(bad)))
    verified = np.full(n, -1)
    verdict = np.full(n, "", dtype=object)
    rectified = np.full(n, -1)
    callback = np.full(n, -1)
    vday = cal.nth_workday_after(day[bad], 1)
    verified[bad] = _in_hours(rng, vday)
    verdict[bad] = np.where(plan == 0, "invalid", "valid")
    on_time = cal.nth_workday_after(day[bad], rng.integers(2, 15, len(bad)))
    late = cal.nth_workday_after(day[bad], 15 + rng.integers(1, 9, len(bad)))
    rdays = np.where(plan == 1, on_time, late)
    rectified[bad] = np.where((plan == 1) | (plan == 2), _in_hours(rng, rdays), -1)
    callback[bad] = np.where(rectified[bad] >= 0, _in_hours(rng, cal.nth_workday_after(rdays, 1)), -1)
    # nothing after the as-of date
    verdict = np.where((verified >= 0) & (verified <= as_of_end), verdict, "")
    verified = np.where(verified <= as_of_end, verified, -1)
    rectified = np.where(rectified <= as_of_end, rectified, -1)
    callback = np.where(callback <= as_of_end, callback, -1)
    ev = ev.with_columns(
        pl.Series("verified_at", verified), pl.Series("verdict", verdict.astype(str)),
        pl.Series("rectified_at", rectified), pl.Series("callback_at", callback))
    # a second round after the callback: the applicant rates again (satisfied)
    again = np.flatnonzero((callback >= 0) & (ev["case_idx"].to_numpy() >= 0))
    if len(again):
        r2 = ev[again].with_columns(
            pl.lit(4).alias("rating"), pl.lit("phone").alias("channel"),
            (pl.col("callback_at") + 10 * MIN).alias("evaluated_at"), pl.lit(2).alias("round"),
            pl.lit("").alias("reason_codes"), pl.lit("整改后满意").alias("comment"), pl.lit(True).alias("is_real_name"),
            pl.lit(-1).alias("verified_at"), pl.lit("").alias("verdict"), pl.lit(-1).alias("rectified_at"),
            pl.lit(-1).alias("callback_at"))
        r2 = r2.filter(pl.col("evaluated_at") <= as_of_end).cast(dict(ev.schema))
        ev = pl.concat([ev, r2])
    return ev
