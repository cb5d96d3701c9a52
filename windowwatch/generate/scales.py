"""Scales (docs/scaling.md) and the injection rates of the generator.

Calibration (published figures of a real city centre): 701,400 applications in Jan–Sep
(≈ 3,731 per working day), 88.31 % completed the same day, satisfaction ≈ 99.9 %.
docs/scaling.md names ~2.5 M cases a year at city scale, which is more than 3,731 × 250: we keep
that total and the published same-day share and satisfaction (stated in the truth notes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rates:
    """Injected anomalies: share of eligible cases/rows, with a minimum count per chunk."""

    overdue_late: float = 0.004  # promised multi-day cases completed after the deadline
    stalled: float = 0.0015  # promised cases never completed (open, red once past the deadline)
    backfill: float = 0.00004  # accept/complete recorded 26–96 h after the event (a veto: keep it rare)
    instant: float = 0.0004  # promised (limit >= 3) accept -> complete in 1–12 min
    off_hours: float = 0.0004  # accept/complete 19:00–23:30 or on a closed non-working day
    runaround: float = 0.0003  # evaluations with multiple_trips / sent_to_department
    handover_per_month: int = 2  # confirmed private_handover flags per centre-month
    volume_gap_share: float = 0.05  # department-months reporting 115–150 %
    bad_review: float = 0.0006  # 不满意 / 非常不满意 among ratings
    # 时限合规 (SPEC §4.2.1), shares of promised multi-day cases unless said otherwise
    late_notice: float = 0.004  # first 补正告知 6–7 working days after submit (submit 0–2 days before accept)
    repeat_notice: float = 0.004  # a second supplement_request / supplement_received pair
    pause_reason: float = 0.002  # a suspend with pause_reason other 其他 (not allowed)
    pause_no_reason: float = 0.002  # a suspend without pause_reason
    extension_repeat: float = 0.002  # a second extend
    extension_cap: float = 0.002  # one extend of the cap + 5 days
    extension_late: float = 0.002  # one extend dated 1–2 working days after the deadline without it
    legal_overdue: float = 0.002  # completed 1–5 working days after the legal deadline
    step_overdue: float = 0.003  # approve 1–2 working days more before complete than the step limit allows
    late_delivery: float = 0.0005  # of completed promised cases: deliver 1–3 working days past the deliver limit
    reaccept: float = 0.002  # of rejected/withdrawn cases: re-accepted for the same applicant within 1–9 days
    commitment_instant: float = 0.0004  # instant cases exempt by approval mode (告知承诺 / 容缺受理)
    extended_service_days: int = 3  # window-days of 延时服务 per centre-month, each with a case after closing
    # 好差评 closed loop (SPEC §4.4), extra bad reviews per role (share of a chunk's ratings): appealed and
    # upheld, appealed and overturned, verified late, called back late, called back unsatisfied (发回重办)
    loop_role: float = 0.00002
    # 评价真实性 (SPEC §4.9), per centre-month: bursts from one pad, ratings with no service nearby, ratings at
    # night, as shares of the month's in-hall ratings; one too-perfect window-month per centre
    ri_burst: float = 0.00005
    ri_no_service: float = 0.00005
    ri_off_hours: float = 0.00005
    min_per_chunk: int = 2  # every kind at least this many times per centre-month


@dataclass(frozen=True)
class Scale:
    name: str
    centers: int
    windows: int  # per centre
    departments: int  # per centre
    months: int
    cases_per_workday: float  # per centre
    weekend_cases_per_day: float  # weekend/extended window on non-working days
    items_per_department: int
    inspectors: int  # per centre
    default_as_of: dt.date = dt.date(2026, 10, 31)
    rates: Rates = field(default_factory=Rates)


SCALES: dict[str, Scale] = {
    # a county hall, one quarter (Aug–Oct 2026: Mid-Autumn, National Day and its 调休 days)
    "small": Scale("small", 1, 20, 8, 3, 300, 25, 8, 30),
    # a city centre, one year (incl. Spring Festival): ~2.5 M cases (docs/scaling.md)
    "city": Scale("city", 1, 150, 40, 12, 10_000, 120, 15, 200),
    # a province: 8 city centres, ~20 M cases
    "province": Scale("province", 8, 150, 40, 12, 10_000, 120, 15, 200),
}
