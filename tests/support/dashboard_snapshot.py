"""A small, realistic published snapshot for the dashboard tests (SPEC §5 marts).

The dashboards are built against SPEC §5 while the dbt marts are built in parallel, so the
tests publish their own snapshot: a DuckDB file with schema `marts`, laid out the way
`windowwatch.snapshot` publishes (`published/warehouse-<run>.duckdb` + `published/CURRENT`).
Cases are generated deterministically; the window-month and department-month marts are
aggregated from them with SPEC §4.6's formula, so the numbers hang together.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chinese_calendar
import duckdb
import pytest
from tests.support.hall_snapshot import add_hall_operations
from tests.support.satisfaction_v2 import add_satisfaction_v2

AS_OF = dt.date(2026, 10, 20)
MONTHS = (dt.date(2026, 9, 1), dt.date(2026, 10, 1))

WINDOWS = [
    # window_id, window_name, department_id, department_name, center_id, center_name, window_kind, cases/month
    ("W01", "公安综合窗口1", "D01", "市公安局", "C01", "市政务服务中心", "comprehensive", 40),
    ("W02", "公安综合窗口2", "D01", "市公安局", "C01", "市政务服务中心", "comprehensive", 38),
    ("W03", "市场监管专业窗口", "D02", "市市场监管局", "C01", "市政务服务中心", "specialized", 40),
    ("W04", "高新区即办窗口", "D02", "市市场监管局", "C02", "高新区分中心", "immediate", 12),
]
ITEMS = [
    # item_code, item_name, department_id, item_kind, legal_limit, promised_limit, limit_unit
    ("I001", "居民身份证换领", "D01", "promised", 30, 20, "workday"),
    ("I002", "户口迁移登记", "D01", "promised", 20, 5, "workday"),
    ("I003", "营业执照设立登记", "D02", "promised", 15, 3, "workday"),
    ("I004", "食品经营许可", "D02", "promised", 20, 10, "calendar_day"),
    ("I005", "证明开具", "D02", "immediate", 0, 0, "workday"),
]
SCORING = dict(T=0.30, S=0.30, D=0.15, I=0.15, R=0.10, prior=20, min_completed=20)
# the inspector pool (名录库) the audit page draws from: inspector_id, name, department_id, active
INSPECTORS = [
    ("K01", "张检查", "D01", True), ("K02", "李检查", "D01", True), ("K03", "王检查", "D01", True),
    ("K04", "赵检查", "D02", True), ("K05", "钱检查", "D02", True), ("K06", "孙检查", "D02", True),
    ("K07", "周督查", "D09", True), ("K08", "吴退休", "D09", False),
]


def is_workday(d: dt.date) -> bool:
    if d.year >= 2027:  # beyond chinesecalendar: assumed Mon–Fri (SPEC §4.1)
        return d.weekday() < 5
    return chinese_calendar.is_workday(d)


def add_workdays(d: dt.date, n: int) -> dt.date:
    while n > 0:
        d += dt.timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days d with start < d <= end."""
    n, d = 0, start
    while d < end:
        d += dt.timedelta(days=1)
        n += is_workday(d)
    return n


def _workday_times(rng: random.Random, month: dt.date, n: int) -> list[dt.datetime]:
    days = [month + dt.timedelta(days=i) for i in range(31) if (month + dt.timedelta(days=i)).month == month.month]
    days = [d for d in days if is_workday(d) and d <= AS_OF]
    out = []
    for _ in range(n):
        d = rng.choice(days)
        out.append(dt.datetime.combine(d, dt.time(rng.randint(9, 16), rng.randint(0, 59), rng.randint(0, 59))))
    return sorted(out)


def build_cases(rng: random.Random) -> tuple[list[dict], list[dict]]:
    cases: list[dict] = []
    events: list[dict] = []
    seq = 0
    for w in WINDOWS:
        wid, dept = w[0], w[2]
        items = [i for i in ITEMS if i[2] == dept]
        for month in MONTHS:
            for accepted_at in _workday_times(rng, month, w[7]):
                seq += 1
                item = rng.choice(items)
                case_id = f"CASE{seq:05d}"
                limit = item[5]
                extend = 5 if rng.random() < 0.05 else 0
                paused = 0
                n = limit + extend + paused
                a_date = accepted_at.date()
                if limit == 0:
                    deadline_date = a_date
                elif item[6] == "calendar_day":
                    deadline_date = a_date + dt.timedelta(days=n)
                    while not is_workday(deadline_date):
                        deadline_date += dt.timedelta(days=1)
                else:
                    deadline_date = add_workdays(a_date, n)
                deadline_at = dt.datetime.combine(deadline_date, dt.time(23, 59, 59))
                r = rng.random()
                # most cases finish; some run late; October's newest stay open
                if r < 0.04:
                    status = "rejected"
                elif r < 0.06:
                    status = "withdrawn"
                else:
                    status = "completed"
                completed_at = None
                if status == "completed":
                    if limit == 0:
                        completed_at = accepted_at + dt.timedelta(minutes=rng.randint(5, 90))
                    else:
                        late = rng.random() < 0.12
                        span = rng.randint(0, max(1, n)) if not late else n + rng.randint(1, 4)
                        done = add_workdays(a_date, span) if span else a_date
                        completed_at = dt.datetime.combine(done, dt.time(rng.randint(9, 17), rng.randint(0, 59)))
                    if completed_at.date() > AS_OF:
                        status, completed_at = "open", None
                is_on_time = None if completed_at is None else completed_at <= deadline_at
                end = completed_at.date() if completed_at else AS_OF
                overdue = workdays_between(deadline_date, end) if end > deadline_date and status in ("open", "completed") else 0
                card = None
                if status == "open":
                    if AS_OF > deadline_date:
                        card = "red"
                    elif workdays_between(AS_OF, deadline_date) <= 1:
                        card = "yellow"
                    else:
                        card = "green"
                legal_date = add_workdays(a_date, item[4] + extend + paused) if item[4] else a_date
                legal_at = dt.datetime.combine(legal_date, dt.time(23, 59, 59))
                cases.append(
                    dict(
                        limit_unit=item[6], limit_source="promised" if limit else "none", extend_days=extend,
                        deadline_date=deadline_date, clock_start_date=a_date, legal_deadline_at=legal_at,
                        is_legal_overdue=(completed_at > legal_at if status == "completed"
                                          else AS_OF > legal_date if status == "open" else None),
                        timeliness_signals=0,
                        case_id=case_id, window_id=wid, department_id=dept, item_code=item[0], item_kind=item[3],
                        status=status, accepted_at=accepted_at, completed_at=completed_at, limit_workdays=n,
                        paused_workdays=paused, deadline_at=deadline_at, is_on_time=is_on_time,
                        overdue_workdays=overdue, card=card,
                        remaining_workdays=workdays_between(AS_OF, deadline_date) if status == "open" else None,
                        is_same_day=None if completed_at is None else completed_at.date() == a_date,
                        off_book_signals=0, as_of_date=AS_OF,
                    )
                )
                ev = [("submit", accepted_at - dt.timedelta(minutes=rng.randint(2, 30))), ("accept", accepted_at)]
                if extend:
                    ev.append(("extend", accepted_at + dt.timedelta(days=1)))
                if status == "completed":
                    ev.append(("complete", completed_at))
                elif status == "rejected":
                    ev.append(("reject", accepted_at + dt.timedelta(hours=2)))
                elif status == "withdrawn":
                    ev.append(("withdraw", accepted_at + dt.timedelta(hours=3)))
                for k, (etype, t) in enumerate(ev):
                    events.append(
                        dict(case_id=case_id, event_id=f"{case_id}-E{k + 1}", event_type=etype, event_time=t,
                             recorded_at=t + dt.timedelta(minutes=rng.randint(0, 20)), window_id=wid,
                             staff_id=f"S{wid[1:]}{rng.randint(1, 3)}", item_code=item[0],
                             extend_days=extend if etype == "extend" else None)
                    )
    # an open case whose deadline runs into 2027, beyond the official calendar
    cases[-1].update(status="open", completed_at=None, is_on_time=None, is_same_day=None, card="green",
                     overdue_workdays=0, limit_workdays=60,
                     deadline_at=dt.datetime.combine(add_workdays(cases[-1]["accepted_at"].date(), 60), dt.time(23, 59, 59)))
    return cases, events


def build_signals(rng: random.Random, cases: list[dict], events: list[dict]) -> list[dict]:
    sigs = []
    picks = rng.sample([c for c in cases if c["status"] == "completed"], 9)
    rules = ["OB_BACKFILL", "OB_INSTANT", "OB_OFF_HOURS", "OB_RUNAROUND", "OB_OFF_HOURS", "OB_INSTANT",
             "OB_RUNAROUND", "OB_BACKFILL", "OB_OFF_HOURS"]
    evidence = {
        "OB_BACKFILL": "complete 事件录入时间晚于环节时间 52.3 小时",
        "OB_INSTANT": "承诺件受理至办结仅 6 分钟（承诺时限 5 个工作日）",
        "OB_OFF_HOURS": "受理时间 19:42 不在大厅办公时间 08:30–18:00 内",
        "OB_RUNAROUND": "评价原因含“多次跑”",
    }
    for c, rule in zip(picks, rules):
        c["off_book_signals"] += 1
        sigs.append(dict(case_id=c["case_id"], window_id=c["window_id"], department_id=c["department_id"],
                         rule_id=rule, signal_date=c["accepted_at"].date(), evidence=evidence[rule]))
        if rule == "OB_BACKFILL":
            for e in events:
                if e["case_id"] == c["case_id"] and e["event_type"] == "complete":
                    e["recorded_at"] = e["event_time"] + dt.timedelta(hours=52, minutes=18)
    sigs.append(dict(case_id=None, window_id=None, department_id="D02", rule_id="OB_VOLUME_GAP",
                     signal_date=dt.date(2026, 9, 30), evidence="部门上报 80 件，中心记录 42 件（190%）"))
    return sigs


def build_timeliness(cases: list[dict], events: list[dict]) -> tuple[list[dict], list[dict]]:
    """The counted clock's parts and the timeliness signals (SPEC §4.2.1), deterministic: every
    extension counted in full; the most overdue red case past its legal deadline too (法定超时) with a
    special procedure whose reason the law does not allow (not counted, so its limit is unchanged)."""
    parts, sigs = [], []
    for e in events:
        if e["event_type"] == "extend":
            parts.append(dict(case_id=e["case_id"], part="extension", event_id=e["event_id"],
                              start_date=e["event_time"].date(), end_date=None, is_open=False,
                              workdays=e["extend_days"], counted_workdays=e["extend_days"], rule_id=None))
    red = sorted((c for c in cases if c["card"] == "red"), key=lambda c: (-c["overdue_workdays"], c["case_id"]))
    worst = red[0]
    legal_date = add_workdays(worst["deadline_date"], 1)
    worst.update(legal_deadline_at=dt.datetime.combine(legal_date, dt.time(23, 59, 59)), is_legal_overdue=True)
    start = add_workdays(worst["clock_start_date"], 1)
    end = add_workdays(start, 3)
    parts.append(dict(case_id=worst["case_id"], part="pause_suspend", event_id=f"{worst['case_id']}-E9",
                      start_date=start, end_date=end, is_open=False, workdays=3, counted_workdays=0,
                      rule_id="TL_PAUSE_REASON"))
    events += [dict(case_id=worst["case_id"], event_id=f"{worst['case_id']}-E9", event_type="suspend",
                    event_time=dt.datetime.combine(start, dt.time(10, 0)), recorded_at=dt.datetime.combine(start, dt.time(10, 5)),
                    window_id=worst["window_id"], staff_id="S011", item_code=worst["item_code"], extend_days=None),
               dict(case_id=worst["case_id"], event_id=f"{worst['case_id']}-E10", event_type="resume",
                    event_time=dt.datetime.combine(end, dt.time(10, 0)), recorded_at=dt.datetime.combine(end, dt.time(10, 5)),
                    window_id=worst["window_id"], staff_id="S011", item_code=worst["item_code"], extend_days=None)]
    base = dict(case_id=worst["case_id"], window_id=worst["window_id"], department_id=worst["department_id"])
    sigs.append(dict(base, rule_id="TL_PAUSE_REASON", signal_date=start,
                     evidence=f"suspend={worst['case_id']}-E9 date={start} reason=other not_counted"))
    sigs.append(dict(base, rule_id="TL_LEGAL_OVERDUE", signal_date=add_workdays(legal_date, 1),
                     evidence=f"legal_limit={worst['limit_workdays'] + 1} clock_start={worst['clock_start_date']} "
                              f"legal_deadline={legal_date} open as_of={AS_OF}"))
    worst["timeliness_signals"] = 2
    return parts, sigs


RATING_LABEL = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def build_evaluations(rng: random.Random, cases: list[dict]) -> list[dict]:
    out = []
    comments = {5: "办事很快，点赞", 4: "服务不错", 3: "还可以", 2: "排队太久，办理慢", 1: "态度差，让我多次跑"}
    n = 0
    for c in cases:
        if c["completed_at"] is None or rng.random() > 0.7:
            continue
        n += 1
        rating = rng.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 6, 4])[0]
        at = c["completed_at"] + dt.timedelta(minutes=rng.randint(1, 120))
        row = dict(evaluation_id=f"EV{n:05d}", case_id=c["case_id"], window_id=c["window_id"],
                   department_id=c["department_id"],
                   staff_id=None, rating=rating, channel=rng.choice(["pad", "mobile", "qr"]), evaluated_at=at,
                   round=1, reason_codes=None, comment=comments[rating], is_real_name=True, verified_at=None,
                   verdict=None, rectified_at=None, callback_at=None, is_good=rating >= 4, is_bad=rating <= 2,
                   rectification_deadline=None, is_rectified_on_time=None)
        if rating <= 2:
            row["reason_codes"] = "slow" if rating == 2 else "attitude;multiple_trips"
            row["verified_at"] = at + dt.timedelta(days=1)
            row["verdict"] = "valid" if rng.random() < 0.85 else "invalid"
            deadline = add_workdays(at.date(), 15)
            row["rectification_deadline"] = dt.datetime.combine(deadline, dt.time(23, 59, 59))
            if row["verdict"] == "valid":
                if rng.random() < 0.6:
                    row["rectified_at"] = at + dt.timedelta(days=rng.randint(2, 25))
                    row["callback_at"] = row["rectified_at"] + dt.timedelta(days=1)
                    if row["rectified_at"].date() > AS_OF:
                        row["rectified_at"] = row["callback_at"] = None
                on_time = row["rectified_at"] is not None and row["rectified_at"] <= row["rectification_deadline"]
                row["is_rectified_on_time"] = on_time if (row["rectified_at"] or deadline < AS_OF) else None
        out.append(row)
    # a comment that still carries a phone number: the dashboards must mask it anyway
    bad = next(r for r in out if r["is_bad"])
    bad["comment"] = "窗口人员态度差，回电 13912345678"
    return out


FLAG_TYPES = ["absent", "phone", "chatting", "eating", "attire"]


def build_flags(rng: random.Random) -> list[dict]:
    out = []
    for k in range(24):
        w = rng.choice(WINDOWS)
        month = rng.choice(MONTHS)
        at = _workday_times(rng, month, 1)[0]
        status = rng.choices(["confirmed", "pending", "dismissed"], weights=[50, 30, 20])[0]
        out.append(dict(flag_id=f"VF{k + 1:04d}", window_id=w[0], department_id=w[2], camera_id=f"CAM{w[0][1:]}", flagged_at=at,
                        flag_type=rng.choice(FLAG_TYPES), source=rng.choice(["ai", "inspector"]),
                        confidence=round(rng.uniform(0.6, 0.99), 2), review_status=status,
                        reviewed_at=None if status == "pending" else at + dt.timedelta(hours=3),
                        reviewer_id=None if status == "pending" else "INS01", clip_ref=f"clip://{w[0]}/{k + 1}",
                        counts_for_discipline=status == "confirmed"))
    # a confirmed private handover at W02 in October: a veto
    out.append(dict(flag_id="VF9001", window_id="W02", department_id="D01", camera_id="CAM02",
                    flagged_at=dt.datetime(2026, 10, 13, 10, 12), flag_type="private_handover", source="inspector",
                    confidence=None, review_status="confirmed", reviewed_at=dt.datetime(2026, 10, 13, 15, 0),
                    reviewer_id="INS02", clip_ref="clip://W02/handover", counts_for_discipline=True))
    return out


DDL = {
    "dim_date": "date DATE, is_workday BOOLEAN, is_assumed BOOLEAN, holiday_name VARCHAR, source VARCHAR, "
    "holiday_name_en VARCHAR",
    "dim_window": "window_id VARCHAR, window_name VARCHAR, department_id VARCHAR, department_name VARCHAR, "
    "center_id VARCHAR, center_name VARCHAR, window_kind VARCHAR, opened_on DATE, closed_on DATE",
    "dim_item": "item_code VARCHAR, item_name VARCHAR, department_id VARCHAR, item_kind VARCHAR, legal_limit INTEGER, "
    "promised_limit INTEGER, limit_unit VARCHAR, fee_required BOOLEAN",
    "fct_case": "case_id VARCHAR, window_id VARCHAR, department_id VARCHAR, item_code VARCHAR, item_kind VARCHAR, "
    "status VARCHAR, accepted_at TIMESTAMP, completed_at TIMESTAMP, limit_workdays INTEGER, paused_workdays INTEGER, "
    "deadline_at TIMESTAMP, is_on_time BOOLEAN, overdue_workdays INTEGER, card VARCHAR, is_same_day BOOLEAN, "
    "off_book_signals INTEGER, as_of_date DATE, remaining_workdays INTEGER, limit_unit VARCHAR, limit_source VARCHAR, "
    "extend_days INTEGER, deadline_date DATE, clock_start_date DATE, legal_deadline_at TIMESTAMP, "
    "is_legal_overdue BOOLEAN, timeliness_signals INTEGER",
    "fct_case_event": "case_id VARCHAR, event_id VARCHAR, event_type VARCHAR, event_time TIMESTAMP, "
    "recorded_at TIMESTAMP, window_id VARCHAR, staff_id VARCHAR, item_code VARCHAR, extend_days INTEGER",
    "fct_off_book_signal": "case_id VARCHAR, window_id VARCHAR, department_id VARCHAR, rule_id VARCHAR, "
    "signal_date DATE, evidence VARCHAR",
    "fct_timeliness_signal": "case_id VARCHAR, window_id VARCHAR, department_id VARCHAR, rule_id VARCHAR, "
    "signal_date DATE, evidence VARCHAR",
    "fct_case_clock_part": "case_id VARCHAR, part VARCHAR, event_id VARCHAR, start_date DATE, end_date DATE, "
    "is_open BOOLEAN, workdays INTEGER, counted_workdays INTEGER, rule_id VARCHAR",
    "fct_evaluation": "evaluation_id VARCHAR, case_id VARCHAR, window_id VARCHAR, staff_id VARCHAR, rating TINYINT, "
    "channel VARCHAR, evaluated_at TIMESTAMP, round INTEGER, reason_codes VARCHAR, comment VARCHAR, "
    "is_real_name BOOLEAN, verified_at TIMESTAMP, verdict VARCHAR, rectified_at TIMESTAMP, callback_at TIMESTAMP, "
    "is_good BOOLEAN, is_bad BOOLEAN, rectification_deadline TIMESTAMP, is_rectified_on_time BOOLEAN, "
    "department_id VARCHAR",
    "fct_rating_signal": "evaluation_id VARCHAR, window_id VARCHAR, department_id VARCHAR, month DATE, rule_id VARCHAR, "
    "signal_date DATE, evidence VARCHAR",
    "fct_video_flag": "flag_id VARCHAR, window_id VARCHAR, department_id VARCHAR, camera_id VARCHAR, flagged_at TIMESTAMP, "
    "flag_type VARCHAR, source VARCHAR, confidence DOUBLE, review_status VARCHAR, reviewed_at TIMESTAMP, "
    "reviewer_id VARCHAR, clip_ref VARCHAR, counts_for_discipline BOOLEAN",
    "fct_quarantine": "feed VARCHAR, source_file VARCHAR, line BIGINT, rule VARCHAR, raw VARCHAR, "
    "quarantined_at TIMESTAMP",
}

# 评价真实性 (fct_rating_signal): per month, the first rated case's rating without service nearby, and W03
# too perfect (the window-month rule: no evaluation) - evidence as the dbt models write it
RATING_SIGNAL_SQL = """
insert into marts.fct_rating_signal
select evaluation_id, window_id, department_id, month, 'RI_NO_SERVICE', evaluated_at::date,
       'rated=' || strftime(evaluated_at, '%Y-%m-%d %H:%M:%S') || ' window=' || window_id || ' minutes=30'
from (select e.*, w.department_id, date_trunc('month', e.evaluated_at)::date as month,
             row_number() over (partition by date_trunc('month', e.evaluated_at) order by e.evaluated_at, e.evaluation_id) as n
      from marts.fct_evaluation e join marts.dim_window w on w.window_id = e.window_id
      where e.case_id is not null) as first_rated
where n = 1
union all
select null, 'W03', 'D02', month, 'RI_TOO_PERFECT', month + interval 18 day,
       'n=52 c=0.8 p=9.134385233318143e-06 others=120 min_ratings=50 p_value=0.001'
from (select distinct date_trunc('month', evaluated_at)::date as month from marts.fct_evaluation) as months
"""

HOLIDAY_ZH = {"National Day": "国庆节", "Mid-autumn Festival": "中秋节", "New Year's Day": "元旦"}

# SPEC §4.6 over the fixture's own facts (rates by completion / acceptance / evaluation month).
WINDOW_MONTH_SQL = """
create table marts.fct_window_month as
with months as (select unnest(?::date[]) as month),
grid as (select m.month, w.window_id, w.department_id from months m cross join marts.dim_window w),
acc as (select date_trunc('month', accepted_at)::date as month, window_id, count(*) cases_accepted,
               count(*) filter (where off_book_signals > 0) off_book_cases
        from marts.fct_case group by all),
comp as (select date_trunc('month', completed_at)::date as month, window_id, count(*) cases_completed,
                avg(is_on_time::int) on_time_rate, avg(is_same_day::int) same_day_rate,
                avg(is_on_time::int) filter (where item_kind = 'immediate') immediate_on_time_rate
         from marts.fct_case where status = 'completed' group by all),
ev as (select date_trunc('month', evaluated_at)::date as month, window_id, count(*) evaluations,
              count(*) filter (where is_good) good_reviews, count(*) filter (where is_bad) bad_reviews,
              count(distinct case_id) evaluated_cases
       from marts.fct_evaluation group by all),
centre as (select date_trunc('month', evaluated_at)::date as month, avg(is_good::int) c from marts.fct_evaluation group by all),
rect as (select date_trunc('month', rectification_deadline)::date as month, window_id, count(*) rectification_due,
                avg(coalesce(is_rectified_on_time, false)::int) rectification_rate
         from marts.fct_evaluation where is_bad and coalesce(verdict, '') <> 'invalid'
           and rectification_deadline::date <= ? group by all),
vf as (select date_trunc('month', flagged_at)::date as month, window_id,
              count(*) filter (where review_status = 'confirmed') video_flags_confirmed,
              count(*) filter (where review_status = 'confirmed' and flag_type = 'private_handover') handover_flags_confirmed,
              count(*) filter (where review_status = 'pending') video_flags_pending
       from marts.fct_video_flag group by all),
backfill as (select distinct date_trunc('month', c.accepted_at)::date as month, c.window_id
             from marts.fct_off_book_signal s join marts.fct_case c using (case_id) where s.rule_id = 'OB_BACKFILL'),
base as (
  select g.month, g.window_id, g.department_id,
         coalesce(acc.cases_accepted, 0) cases_accepted, coalesce(comp.cases_completed, 0) cases_completed,
         comp.on_time_rate, comp.same_day_rate, comp.immediate_on_time_rate,
         coalesce(acc.off_book_cases, 0) off_book_cases,
         coalesce(acc.off_book_cases / nullif(acc.cases_accepted, 0), 0) off_book_rate,
         coalesce(ev.evaluations, 0) evaluations, coalesce(ev.good_reviews, 0) good_reviews,
         coalesce(ev.bad_reviews, 0) bad_reviews, ev.good_reviews / nullif(ev.evaluations, 0) satisfaction_rate,
         (coalesce(ev.good_reviews, 0) + ? * centre.c) / (coalesce(ev.evaluations, 0) + ?) adjusted_satisfaction,
         coalesce(rect.rectification_due, 0) rectification_due, coalesce(rect.rectification_rate, 1.0) rectification_rate,
         least(1.0, ev.evaluated_cases / nullif(comp.cases_completed, 0)) evaluation_rate,
         coalesce(vf.video_flags_confirmed, 0) video_flags_confirmed,
         coalesce(vf.handover_flags_confirmed, 0) handover_flags_confirmed,
         coalesce(vf.video_flags_pending, 0) video_flags_pending,
         case when coalesce(vf.handover_flags_confirmed, 0) > 0 then 'private_handover'
              when backfill.window_id is not null then 'OB_BACKFILL' end veto_reason
  from grid g
  left join acc using (month, window_id) left join comp using (month, window_id)
  left join ev using (month, window_id) left join centre using (month)
  left join rect using (month, window_id) left join vf using (month, window_id)
  left join backfill using (month, window_id)
),
scored as (
  select *, round(100 * (? * coalesce(on_time_rate, 0) + ? * adjusted_satisfaction
             + ? * greatest(0, 1 - 0.1 * (video_flags_confirmed - handover_flags_confirmed))
             + ? * greatest(0, 1 - 5 * off_book_rate) + ? * rectification_rate), 2) score,
         cases_completed >= ? is_eligible
  from base
),
starred as (
  select *, case when veto_reason is not null then 1 when score >= 95 then 5 when score >= 90 then 4
                 when score >= 85 then 3 when score >= 80 then 2 else 1 end stars,
         case when is_eligible then rank() over (partition by month, is_eligible order by score desc) end rank,
         count(*) filter (where is_eligible) over (partition by month) n_eligible
  from scored
)
select month, window_id, department_id, cases_accepted, cases_completed, on_time_rate, same_day_rate,
       immediate_on_time_rate, off_book_cases, off_book_rate, evaluations, good_reviews, bad_reviews,
       satisfaction_rate, adjusted_satisfaction, rectification_due, rectification_rate, evaluation_rate,
       video_flags_confirmed, handover_flags_confirmed, video_flags_pending, score, stars, rank, is_eligible,
       coalesce(is_eligible and stars >= 4 and veto_reason is null and rank <= ceil(0.10 * n_eligible), false) is_red_flag,
       coalesce(is_eligible and rank > n_eligible - ceil(0.05 * n_eligible), false) is_bottom,
       veto_reason
from starred
"""

DEPT_MONTH_SQL = """
create table marts.fct_department_month as
select m.month, m.department_id, sum(cases_accepted) cases_accepted, sum(cases_completed) cases_completed,
       sum(on_time_rate * cases_completed) / nullif(sum(cases_completed), 0) on_time_rate,
       sum(same_day_rate * cases_completed) / nullif(sum(cases_completed), 0) same_day_rate,
       sum(off_book_cases) off_book_cases, sum(off_book_cases) / nullif(sum(cases_accepted), 0) off_book_rate,
       sum(evaluations) evaluations, sum(good_reviews) good_reviews, sum(bad_reviews) bad_reviews,
       sum(good_reviews) / nullif(sum(evaluations), 0) satisfaction_rate,
       sum(video_flags_confirmed) video_flags_confirmed, sum(video_flags_pending) video_flags_pending,
       v.reported_cases, case when v.reported_cases is not null then v.reported_cases - sum(cases_accepted) end volume_gap
from marts.fct_window_month m
left join (values (date '2026-09-01', 'D02', 80), (date '2026-10-01', 'D02', 50), (date '2026-09-01', 'D01', 60))
     v(month, department_id, reported_cases) on v.month = m.month and v.department_id = m.department_id
group by m.month, m.department_id, v.reported_cases
"""


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Bulk insert through Arrow (DuckDB's executemany is row by row and slow)."""
    import pyarrow as pa

    cols = [c.split()[0] for c in DDL[table].split(", ")]
    data = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])  # noqa: F841 (read by DuckDB)
    con.execute(f"insert into marts.{table} select {', '.join(cols)} from data")


def build_snapshot(path: Path, *, with_case_events: bool = True, seed: int = 4) -> Path:
    rng = random.Random(seed)
    cases, events = build_cases(rng)
    signals = build_signals(rng, cases, events)
    clock_parts, tl_signals = build_timeliness(cases, events)
    evals = build_evaluations(rng, cases)
    flags = build_flags(rng)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for table, ddl in DDL.items():
        if table == "fct_case_event" and not with_case_events:
            continue
        con.execute(f"create table marts.{table} ({ddl})")
    dates = []
    d = dt.date(2026, 8, 1)
    while d <= dt.date(2027, 2, 28):
        on, name = (False, None) if d.year >= 2027 else chinese_calendar.get_holiday_detail(d)
        dates.append(dict(date=d, is_workday=is_workday(d), is_assumed=d.year >= 2027,
                          holiday_name=HOLIDAY_ZH.get(name, name) if on and name else None,
                          holiday_name_en=name if on else None,
                          source="assumed" if d.year >= 2027 else "chinesecalendar"))
        d += dt.timedelta(days=1)
    _insert(con, "dim_date", dates)
    _insert(con, "dim_window", [dict(zip(["window_id", "window_name", "department_id", "department_name", "center_id",
                                          "center_name", "window_kind"], w[:7]), opened_on=dt.date(2020, 1, 1))
                                for w in WINDOWS])
    _insert(con, "dim_item", [dict(zip(["item_code", "item_name", "department_id", "item_kind", "legal_limit",
                                        "promised_limit", "limit_unit"], i), fee_required=False) for i in ITEMS])
    con.execute("create table marts.dim_inspector (inspector_id varchar, inspector_name varchar, "
                "department_id varchar, qualifications varchar, active boolean)")
    con.executemany("insert into marts.dim_inspector values (?, ?, ?, null, ?)", INSPECTORS)
    _insert(con, "fct_case", cases)
    if with_case_events:
        _insert(con, "fct_case_event", events)
    _insert(con, "fct_off_book_signal", signals)
    _insert(con, "fct_timeliness_signal", tl_signals)
    _insert(con, "fct_case_clock_part", clock_parts)
    _insert(con, "fct_evaluation", evals)
    con.execute(RATING_SIGNAL_SQL)
    _insert(con, "fct_video_flag", flags)
    _insert(con, "fct_quarantine", [
        dict(feed="transactions", source_file="transactions/2026-10-19.csv", line=17, rule="unknown_enum",
             raw='{"event_type": "审核中"}', quarantined_at=dt.datetime(2026, 10, 20, 2, 0)),
        dict(feed="evaluations", source_file="evaluations/2026-10-19.csv", line=5, rule="rating_out_of_range",
             raw='{"rating": "7"}', quarantined_at=dt.datetime(2026, 10, 20, 2, 0)),
    ])
    s = SCORING
    con.execute(WINDOW_MONTH_SQL, [list(MONTHS), AS_OF, s["prior"], s["prior"], s["T"], s["S"], s["D"], s["I"], s["R"],
                                   s["min_completed"]])
    con.execute(DEPT_MONTH_SQL)
    add_satisfaction_v2(con, AS_OF, add_workdays)  # §4.4 v2 好差评 columns (issue 17)
    add_hall_operations(con, AS_OF, is_workday)  # §4.10 / §4.12 hall marts (issue 25)
    con.execute("checkpoint")
    con.close()
    return path


def publish_fixture(home: Path, *, with_case_events: bool = True, run_id: str = "fixture-1",
                    run_status: str | None = "success") -> Path:
    """Publish a fixture snapshot under `home` and write runs/latest.json; returns the file."""
    published = home / "published"
    published.mkdir(parents=True, exist_ok=True)
    name = f"warehouse-{run_id}.duckdb"
    build_snapshot(published / name, with_case_events=with_case_events)
    (published / "CURRENT").write_text(name, encoding="utf-8")
    if run_status:
        runs = home / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        latest = dict(status=run_status, run_id=run_id, finished_at="2026-10-20T02:14:05+08:00",
                      failed_task=None if run_status == "success" else "dbt_build",
                      reason=None if run_status == "success" else "fct_case: contract violated (column card)",
                      data_docs=str(home / "data_docs" / "index.html"))
        (runs / "latest.json").write_text(json.dumps(latest, ensure_ascii=False), encoding="utf-8")
    return published / name


@contextmanager
def published_home(tmp_path_factory, name: str) -> Iterator[tuple[Path, Path]]:
    """A fresh WINDOWWATCH_HOME with the fixture snapshot published, for a module-scoped fixture.

    Yields (home, snapshot). The environment points at the home (test PII key, default session
    length) until the block ends, then is restored.
    """
    home = tmp_path_factory.mktemp(name) / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WINDOWWATCH_HOME", str(home))
        env.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
        env.delenv("WINDOWWATCH_SESSION_MINUTES", raising=False)
        yield home, publish_fixture(home)


def add_test_user(name: str, role: str, password: str, **extra: str) -> None:
    """`windowwatch.accounts.add_user` with cheap argon2 parameters (they travel in the hash, so
    verifying stays cheap too): the real login path, without seconds of hashing per test on a
    loaded 2-core machine. Production hashes use argon2-cffi's recommended parameters."""
    from argon2 import PasswordHasher

    from windowwatch import accounts

    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        accounts.add_user(name, role, password, **extra)
    finally:
        accounts._hasher = saved


CITY_CASES_SQL = """
create table marts.fct_case as
with base as (
  select i, 'W' || lpad(((i * 7919) % 150 + 1)::varchar, 3, '0') as window_id,
         'I' || lpad(((i * 104729) % 50 + 1)::varchar, 3, '0') as item_code,
         timestamp '2025-11-01 09:00:00' + to_days(((i * 48271) % 365)::int) + to_minutes(((i * 16807) % 480)::int) as accepted_at,
         (i * 69621) % 100 as r
  from range(?) t(i)
)
select 'C' || lpad(i::varchar, 8, '0') as case_id, b.window_id, w.department_id, b.item_code,
       case when r < 20 then 'immediate' else 'promised' end as item_kind,
       case when accepted_at > timestamp '2026-10-10' and r < 40 then 'open' when r = 99 then 'rejected'
            else 'completed' end as status,
       accepted_at,
       case when accepted_at > timestamp '2026-10-10' and r < 40 then null when r = 99 then null
            else accepted_at + to_hours((r % 30) * 24 + 1) end as completed_at,
       10 as limit_workdays, 0 as paused_workdays, accepted_at + to_days(14) as deadline_at,
       case when accepted_at > timestamp '2026-10-10' and r < 40 then null when r = 99 then null else r % 30 < 14 end as is_on_time,
       case when r % 30 >= 14 then r % 30 - 14 else 0 end as overdue_workdays,
       case when accepted_at > timestamp '2026-10-10' and r < 40 then (case when r < 5 then 'red' when r < 10 then 'yellow' else 'green' end) end as card,
       case when r = 99 or (accepted_at > timestamp '2026-10-10' and r < 40) then null else r % 30 = 0 end as is_same_day,
       case when r in (41, 42) then 1 else 0 end as off_book_signals, date '2026-10-31' as as_of_date,
       case when accepted_at > timestamp '2026-10-10' and r < 40 then (case when r < 5 then 0 when r < 10 then r % 2 else 2 + r % 8 end) end as remaining_workdays,
       'workday' as limit_unit, 'promised' as limit_source, 0 as extend_days, (accepted_at + to_days(14))::date as deadline_date,
       accepted_at::date as clock_start_date, accepted_at + to_days(28) as legal_deadline_at,
       case when accepted_at > timestamp '2026-10-10' and r < 40 then r < 2 when r = 99 then null
            else (r % 30) * 24 + 1 > 28 * 24 end as is_legal_overdue,
       0 as timeliness_signals
from base b join marts.dim_window w using (window_id)
"""


def build_city_snapshot(path: Path, cases: int = 2_500_000) -> Path:
    """City scale (SPEC §9: ~150 windows, one year, ~2.5 M cases) for render-time measurements:
    the same tables and columns as `build_snapshot`, generated inside DuckDB."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for table, ddl in DDL.items():
        if table not in ("fct_case",):
            con.execute(f"create table marts.{table} ({ddl})")
    dates = []
    d = dt.date(2025, 10, 1)
    while d <= dt.date(2027, 1, 31):
        dates.append(dict(date=d, is_workday=is_workday(d), is_assumed=d.year >= 2027, holiday_name=None,
                          source="assumed" if d.year >= 2027 else "chinesecalendar"))
        d += dt.timedelta(days=1)
    _insert(con, "dim_date", dates)
    _insert(con, "dim_window", [dict(window_id=f"W{k:03d}", window_name=f"窗口{k:03d}", department_id=f"D{k % 30:02d}",
                                     department_name=f"部门{k % 30:02d}", center_id=f"C{k % 3}",
                                     center_name=f"中心{k % 3}", window_kind="comprehensive") for k in range(1, 151)])
    _insert(con, "dim_item", [dict(item_code=f"I{k:03d}", item_name=f"事项{k:03d}", department_id=f"D{k % 30:02d}",
                                   item_kind="promised", legal_limit=20, promised_limit=10, limit_unit="workday")
                              for k in range(1, 51)])
    con.execute(CITY_CASES_SQL, [cases])
    con.execute("""insert into marts.fct_off_book_signal
                   select case_id, window_id, department_id, 'OB_INSTANT', accepted_at::date, '秒办'
                   from marts.fct_case where off_book_signals > 0""")
    con.execute("""insert into marts.fct_evaluation (evaluation_id, case_id, window_id, department_id, rating,
                       evaluated_at, comment, is_good, is_bad, rectification_deadline, rectified_at, verdict)
                   select 'E' || case_id, case_id, window_id, department_id, 5 - (hash(case_id) % 5)::int, completed_at + interval 1 hour,
                          '好', (5 - (hash(case_id) % 5)::int) >= 4, (5 - (hash(case_id) % 5)::int) <= 2,
                          completed_at + interval 21 day,
                          case when hash(case_id) % 3 = 0 then completed_at + interval 5 day end, 'valid'
                   from marts.fct_case where completed_at is not null and hash(case_id) % 10 < 6""")
    con.execute("""insert into marts.fct_video_flag (flag_id, window_id, department_id, flagged_at, flag_type,
                       review_status, counts_for_discipline)
                   select 'F' || i, 'W' || lpad((i % 150 + 1)::varchar, 3, '0'), 'D' || lpad(((i % 150 + 1) % 30)::varchar, 2, '0'),
                          timestamp '2025-11-01 09:00' + to_days((i % 365)::int) + to_minutes((i * 37 % 480)::int),
                          ['absent', 'phone', 'chatting', 'eating'][i % 4 + 1],
                          ['confirmed', 'pending', 'dismissed'][i % 3 + 1], i % 3 = 0
                   from range(20000) t(i)""")
    months = [dt.date(2025 + (10 + k) // 12, (10 + k) % 12 + 1, 1) for k in range(12)]
    s = SCORING
    con.execute(WINDOW_MONTH_SQL, [months, dt.date(2026, 10, 31), s["prior"], s["prior"], s["T"], s["S"], s["D"],
                                   s["I"], s["R"], s["min_completed"]])
    con.execute(DEPT_MONTH_SQL)
    con.execute("checkpoint")
    con.close()
    return path
