"""Turn a Chunk of cases into feed-shaped polars frames (transactions) with stable ids."""

from __future__ import annotations

import numpy as np
import polars as pl

from windowwatch.generate.cases import CHANNELS, EVENT_TYPES, REPEAT_OFFSET, REPEATED, Chunk, applicants
from windowwatch.generate.reference import Centre


def day_sequence(day: np.ndarray, t: np.ndarray) -> np.ndarray:
    """1-based sequence of each row within its day, in time order."""
    order = np.lexsort((t, day))
    day_sorted = day[order]
    starts = np.r_[0, np.flatnonzero(np.diff(day_sorted)) + 1] if len(order) else np.array([], dtype=np.int64)
    seq_sorted = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = seq_sorted + 1
    return seq


def case_ids(chunk: Chunk, code: str) -> np.ndarray:
    """办件编号: centre code + acceptance date + sequence of the day, in acceptance order."""
    seq = day_sequence(chunk.accept_day, chunk.t["accept"])
    dates = np.char.replace(np.datetime_as_string(chunk.accept_day.astype("datetime64[D]"), unit="D"), "-", "")
    return np.char.add(np.char.add(code, dates), np.char.zfill(seq.astype(str), 6))


def _texts(values: np.ndarray | None, n: int) -> list:
    return values.tolist() if values is not None else [None] * n


def transactions_frame(chunk: Chunk, centre: Centre, ids: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    # one row per case first (strings built once per case), then gathered per event
    app_id, app_name, app_phone = applicants(rng, chunk.n)
    # a re-accepted case (OB_REACCEPT) is the same person as the earlier rejected / withdrawn case
    who = chunk.applicant_of if chunk.applicant_of is not None else np.arange(chunk.n)
    app_id, app_name, app_phone = app_id[who], app_name[who], app_phone[who]
    chunk.applicant = app_id
    fee = centre.item_fee[chunk.item]
    paid_here = rng.random(chunk.n) < 0.85
    cases = pl.DataFrame({
        "case_id": ids,
        "window_id": pl.Series(centre.window_ids).gather(chunk.window),
        "staff_id": chunk.staff.astype(str),
        "item_code": pl.Series(centre.item_codes).gather(chunk.item),
        "channel": pl.Series(CHANNELS).gather(chunk.channel),
        "applicant_id": app_id,
        "applicant_name": app_name,
        "applicant_phone": app_phone,
        "_fee": np.where(fee > 0, fee, np.nan),
        "_paid": paid_here,
        "_ext": chunk.extend_days,
        "_ext2": chunk.extend_days2 if chunk.extend_days2 is not None else np.zeros(chunk.n, dtype=np.int64),
        "_reason": pl.Series(_texts(chunk.pause_reason, chunk.n), dtype=pl.String),
        "_mode": pl.Series(_texts(chunk.approval_mode, chunk.n), dtype=pl.String),
    })
    parts_case, parts_type, parts_t, parts_rec, parts_seq = [], [], [], [], []
    events = [(ti, key, chunk.t, chunk.rec, 0) for ti, key in enumerate(EVENT_TYPES)]
    events += [(EVENT_TYPES.index(key), key, chunk.t2, chunk.rec2, REPEAT_OFFSET)
               for key in REPEATED if key in chunk.t2]
    for ti, key, t, rec, offset in events:
        idx = np.flatnonzero(t[key] >= 0)
        parts_case.append(idx)
        parts_type.append(np.full(len(idx), ti, dtype=np.int64))
        parts_seq.append(np.full(len(idx), ti + 1 + offset, dtype=np.int64))
        parts_t.append(t[key][idx])
        parts_rec.append(rec[key][idx])
    case = np.concatenate(parts_case)
    ev = pl.DataFrame({
        "_type": np.concatenate(parts_type),
        "_seq": np.concatenate(parts_seq),
        "event_time": np.concatenate(parts_t),
        "recorded_at": np.concatenate(parts_rec),
    })
    df = pl.concat([cases[case], ev], how="horizontal")
    t = pl.col("_type")
    pii = t.is_in([EVENT_TYPES.index("submit"), EVENT_TYPES.index("accept")])
    done = (t == EVENT_TYPES.index("complete")) & pl.col("_fee").is_not_nan()
    df = df.select(
        (pl.col("case_id") + "-" + pl.col("_seq").cast(pl.String).str.zfill(2)).alias("event_id"),
        "case_id",
        pl.Series(EVENT_TYPES).gather(df["_type"]).alias("event_type"),
        pl.from_epoch("event_time", time_unit="s"),
        pl.from_epoch("recorded_at", time_unit="s"),
        "window_id", "staff_id", "item_code", "channel",
        pl.when((t == EVENT_TYPES.index("extend")) & (pl.col("_seq") > REPEAT_OFFSET)).then(pl.col("_ext2"))
        .when(t == EVENT_TYPES.index("extend")).then(pl.col("_ext")).alias("extend_days"),
        pl.when(pii).then(pl.col("applicant_id")).alias("applicant_id"),
        pl.when(pii).then(pl.col("applicant_name")).alias("applicant_name"),
        pl.when(pii).then(pl.col("applicant_phone")).alias("applicant_phone"),
        pl.when(done).then(pl.col("_fee")).alias("fee_amount"),
        pl.when(done).then(pl.col("_paid")).alias("fee_paid_at_center"),
        pl.when(t == EVENT_TYPES.index("suspend")).then(pl.col("_reason")).alias("pause_reason"),
        pl.when(t == EVENT_TYPES.index("accept")).then(pl.col("_mode")).alias("approval_mode"),
    )
    return df
