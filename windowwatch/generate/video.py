"""视频巡查: AI and inspector flags, and the planned private_handover flags (OB_HANDOVER)."""

from __future__ import annotations

import numpy as np
import polars as pl

from windowwatch.generate.cases import DAY, HOUR
from windowwatch.generate.reference import Centre
from windowwatch.generate.workcal import WorkCalendar

FLAG_TYPES = np.array(["absent", "phone", "chatting", "eating", "attire", "sleeping", "unauthorized_person",
                       "smoking", "other"])
FLAG_P = np.array([0.30, 0.25, 0.15, 0.08, 0.08, 0.04, 0.03, 0.02, 0.05])


def plan_handover(centre: Centre, cal: WorkCalendar, months: list[tuple[int, int]], as_of_day: int, per_month: int,
                  rng: np.random.Generator) -> pl.DataFrame:
    """Confirmed private_handover flags (and pending/dismissed decoys) for the whole period.

    Planned before any case exists, so the cases of every month can be checked against them
    (a case accepted in July may complete on a flagged day in August).
    """
    rows = []
    normal = np.array([i for i in range(len(centre.window_ids)) if i != centre.weekend_window])
    for first, last in months:
        days = cal.workdays_in(first, min(last, as_of_day - 1))
        if not len(days):
            continue
        for status, k in (("confirmed", per_month), ("pending", 1), ("dismissed", 1)):
            for _ in range(k):
                rows.append((int(rng.choice(normal)), int(rng.choice(days)), status))
    # decoys never share a (window, day) with a confirmed flag, so they cannot change the truth
    confirmed = {(w, d) for w, d, s in rows if s == "confirmed"}
    rows = [r for r in rows if r[2] == "confirmed" or (r[0], r[1]) not in confirmed]
    df = pl.DataFrame(rows, schema={"window": pl.Int64, "day": pl.Int64, "status": pl.String}, orient="row")
    df = df.unique(["window", "day", "status"], maintain_order=True)
    # flagged_at, planned too: OB_HANDOVER takes the case events within ± handover_minutes of it
    return df.with_columns(at=pl.col("day") * DAY + 9 * HOUR + pl.Series(rng.integers(0, 8 * HOUR, df.height)))


def handover_flags(plan: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(window index, flagged_at seconds) of the confirmed private_handover flags."""
    c = plan.filter(pl.col("status") == "confirmed")
    return c["window"].to_numpy(), c["at"].to_numpy()


def handover_keys(plan: pl.DataFrame) -> np.ndarray:
    c = plan.filter(pl.col("status") == "confirmed")
    return np.unique(c["window"].to_numpy() * 1_000_000 + c["day"].to_numpy())


def flags_frame(centre: Centre, cal: WorkCalendar, first: int, last: int, as_of_day: int, plan: pl.DataFrame,
                inspectors: np.ndarray, rng: np.random.Generator, id_prefix: str) -> pl.DataFrame:
    as_of_end = as_of_day * DAY + DAY - 1
    days = cal.workdays_in(first, last)
    nw = len(centre.window_ids)
    per = rng.poisson(0.06, (len(days), nw))
    d_idx, w_idx = np.nonzero(per)
    reps = per[d_idx, w_idx]
    day = np.repeat(days[d_idx], reps)
    win = np.repeat(w_idx, reps)
    ftype = FLAG_TYPES[rng.choice(len(FLAG_TYPES), size=len(day), p=FLAG_P)]
    # planned private_handover flags of this month
    hp = plan.filter((pl.col("day") >= first) & (pl.col("day") <= last))
    day = np.concatenate([day, hp["day"].to_numpy()])
    win = np.concatenate([win, hp["window"].to_numpy()])
    ftype = np.concatenate([ftype, np.full(hp.height, "private_handover")])
    planned_status = np.concatenate([np.full(len(day) - hp.height, ""), hp["status"].to_numpy()])
    n = len(day)
    at = day * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, n)
    at[n - hp.height:] = hp["at"].to_numpy()
    ai = rng.random(n) < 0.8
    conf = np.where(ai, np.round(rng.uniform(0.5, 0.99, n), 2), np.nan)
    # review: recent flags are mostly still pending (the backlog)
    recent = day > as_of_day - 7
    u = rng.random(n)
    status = np.where(u < np.where(conf < 0.7, 0.15, 0.45), "confirmed", "dismissed")
    status = np.where((recent & (rng.random(n) < 0.7)) | (rng.random(n) < 0.03), "pending", status)
    status = np.where(planned_status != "", planned_status, status)
    # reviewed in office hours on one of the next working days
    rday = cal.nth_workday_after(day, rng.integers(0, 3, n))
    reviewed = np.maximum(at + HOUR, rday * DAY + 9 * HOUR + rng.integers(0, 8 * HOUR, n))
    late_review = reviewed > as_of_end
    status = np.where(late_review & (planned_status == ""), "pending", status)
    reviewed = np.where(planned_status == "confirmed", np.minimum(reviewed, as_of_end), reviewed)
    pending = status == "pending"
    reviewed = np.where(pending, -1, reviewed)
    reviewer = np.where(pending, "", inspectors[rng.integers(0, len(inspectors), n)])
    df = pl.DataFrame({
        "window_id": centre.window_ids[win],
        "camera_id": np.char.add("CAM-", centre.window_ids[win]),
        "flagged_at": at,
        "flag_type": ftype,
        "source": np.where(ai, "ai", "inspector"),
        "confidence": conf,
        "review_status": status,
        "reviewed_at": reviewed,
        "reviewer_id": reviewer,
    }).sort("flagged_at", "window_id", "flag_type")
    df = df.with_columns(
        (pl.lit(id_prefix) + (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(6)).alias("flag_id"),
    ).with_columns(
        ("clips/" + pl.col("flag_id") + ".mp4").alias("clip_ref"),
        pl.col("confidence").fill_nan(None),
        pl.when(pl.col("reviewer_id") != "").then(pl.col("reviewer_id")).alias("reviewer_id"),
    )
    return df
