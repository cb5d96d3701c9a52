"""SPEC §4.4 v2 好差评 columns for the dashboard fixture snapshot (issue 17).

Applied to the fixture's fct_evaluation / fct_window_month after they are built, without the
fixture's random generator (so every other figure of the fixture stays as it was): a few
基本满意 ratings become system defaults, appeals (upheld, overturned) on bad reviews, the
verification / rectification / callback deadlines, and some verifications and callbacks left
outstanding so that the 满意度 backlogs hold due and overdue reviews.
"""

from __future__ import annotations

import datetime as dt

import duckdb

EVALUATION_COLUMNS = (
    "is_default BOOLEAN", "is_overturned BOOLEAN", "appeal_at TIMESTAMP", "appeal_result VARCHAR",
    "callback_result VARCHAR", "needs_rectification BOOLEAN", "needs_verification BOOLEAN",
    "verification_deadline TIMESTAMP", "is_verification_due BOOLEAN", "is_verified_on_time BOOLEAN",
    "needs_callback BOOLEAN", "callback_deadline TIMESTAMP", "is_callback_due BOOLEAN",
    "is_called_back_on_time BOOLEAN",
)
WINDOW_MONTH_COLUMNS = ("default_ratings BIGINT", "appeals_overturned BIGINT", "active_evaluation_rate DOUBLE",
                        "verification_rate DOUBLE", "callback_rate DOUBLE")


def _eod(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(23, 59, 59))


def add_satisfaction_v2(con: duckdb.DuckDBPyConnection, as_of: dt.date, add_workdays) -> None:
    for col in EVALUATION_COLUMNS:
        con.execute(f"alter table marts.fct_evaluation add column {col}")
    rows = con.execute("select evaluation_id, rating, evaluated_at, verified_at, verdict, rectified_at, callback_at, "
                       "is_real_name from marts.fct_evaluation order by evaluation_id").fetchall()
    updates = []
    neutral = bad_valid = bad_invalid = rectified = 0
    for eid, rating, at, verified_at, verdict, rectified_at, callback_at, real_name in rows:
        u = dict(is_default=False, is_overturned=False, appeal_at=None, appeal_result=None, is_bad=rating <= 2,
                 verified_at=verified_at, callback_at=callback_at, channel=None)
        if rating == 3:
            neutral += 1
            if neutral % 4 == 1:  # 系统默认评价: a province gives 基本满意 after 7 days
                u.update(is_default=True, channel="default")
        if rating <= 2:
            if verdict == "invalid":
                bad_invalid += 1
                if bad_invalid == 1:  # 申诉复核 撤销差评: no longer bad
                    u.update(appeal_at=at + dt.timedelta(days=2), appeal_result="overturned",
                             is_overturned=True, is_bad=False)
            else:
                bad_valid += 1
                if bad_valid in (2, 5):
                    u.update(appeal_at=at + dt.timedelta(days=2), appeal_result="upheld")
                elif bad_valid == 7:
                    u.update(appeal_at=at + dt.timedelta(days=2))  # still under review
            if at.date() > as_of - dt.timedelta(days=8) and verdict != "invalid":
                u["verified_at"] = None  # the last week's bad reviews are not verified yet
        needs_verification = rating <= 2
        v_deadline = add_workdays(at.date(), 3) if needs_verification else None
        needs_rect = u["is_bad"] and verdict != "invalid"
        needs_callback = bool(needs_rect and real_name and rectified_at is not None)
        c_deadline = add_workdays(rectified_at.date(), 5) if needs_callback else None
        if needs_callback:
            rectified += 1
            if rectified % 3 == 0:
                u["callback_at"] = None  # not called back yet (due, or overdue)
        vat, cat = u["verified_at"], u["callback_at"]
        u.update(
            needs_rectification=needs_rect, needs_verification=needs_verification,
            verification_deadline=_eod(v_deadline) if v_deadline else None,
            is_verification_due=bool(v_deadline and v_deadline <= as_of),
            is_verified_on_time=(vat is not None and vat.date() <= v_deadline and vat.date() <= as_of)
            if needs_verification else None,
            needs_callback=needs_callback, callback_deadline=_eod(c_deadline) if c_deadline else None,
            is_callback_due=bool(c_deadline and c_deadline <= as_of),
            is_called_back_on_time=(cat is not None and cat.date() <= c_deadline and cat.date() <= as_of)
            if needs_callback else None,
        )
        updates.append((u, eid))
    for u, eid in updates:
        cols = [k for k in u if not (k == "channel" and u[k] is None)]
        con.execute(f"update marts.fct_evaluation set {', '.join(f'{k} = ?' for k in cols)} where evaluation_id = ?",
                    [u[k] for k in cols] + [eid])
    for col in WINDOW_MONTH_COLUMNS:
        con.execute(f"alter table marts.fct_window_month add column {col}")
    con.execute("""
        update marts.fct_window_month m set
            default_ratings = coalesce(a.defaults, 0), appeals_overturned = coalesce(a.overturned, 0),
            active_evaluation_rate = m.evaluation_rate * coalesce(1 - a.defaults / nullif(a.total, 0), 1),
            verification_rate = coalesce(a.verified_on_time / nullif(a.verification_due, 0), 1.0),
            callback_rate = coalesce(a.called_back / nullif(a.callback_due, 0), 1.0)
        from (select window_id, date_trunc('month', evaluated_at)::date as month, count(*) as total,
                     count(*) filter (where is_default) as defaults,
                     count(*) filter (where is_overturned) as overturned,
                     count(*) filter (where is_verification_due) as verification_due,
                     count(*) filter (where is_verification_due and is_verified_on_time) as verified_on_time,
                     count(*) filter (where is_callback_due) as callback_due,
                     count(*) filter (where is_callback_due and is_called_back_on_time) as called_back
              from marts.fct_evaluation group by all) a
        where a.window_id = m.window_id and a.month = m.month""")
    con.execute("update marts.fct_window_month set default_ratings = coalesce(default_ratings, 0), "
                "appeals_overturned = coalesce(appeals_overturned, 0)")
