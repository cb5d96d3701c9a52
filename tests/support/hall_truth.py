"""Hall operations (SPEC v2 §4.10, §4.6) against the generator's planted truth: one comparison per rule.

Reads a built warehouse (read-only) and the generated `_truth/hall_*.csv` files
(windowwatch/generate/hall_ops.py) and returns, per rule, the planted and found rows matched by key and
value: precision = true positives / found, recall = true positives / planted. A found row whose key is
planted but whose figures differ is both a miss and an extra (the mismatch lists show both values).

The truth files hold floats with 4 decimals (hall_ops.write_truth): averages and p90s read from them
are compared to 5e-5; in_post_rate is recomputed from the truth's integer day counts and compared to 1e-9.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

FOUR_DECIMALS = 5.0001e-5  # a value the truth file wrote with 4 decimals
EXACT = 1e-9


@dataclass
class RuleCheck:
    rule: str
    source: str  # the model(s) the found rows come from
    planted: int
    found: int
    true_positives: int
    missing: list = field(default_factory=list)  # planted, not found with these figures
    extra: list = field(default_factory=list)  # found, not planted with these figures

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else (1.0 if not self.planted else 0.0)

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0

    def message(self, limit: int = 10) -> str:
        return (f"{self.rule} ({self.source}): planted {self.planted}, found {self.found}, "
                f"true positives {self.true_positives}; missing {self.missing[:limit]}; extra {self.extra[:limit]}")


def _norm(v):
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _same(a, b, tol: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if tol is None:
        return a == b
    return abs(float(a) - float(b)) <= tol


def check(rule: str, source: str, truth: list[dict], found: list[dict], key: list[str],
          values: dict[str, float | None] | None = None) -> RuleCheck:
    """Match rows by `key`; a match counts when every column of `values` agrees (None: exactly, else
    within that tolerance). Keys must be unique on both sides."""
    values = values or {}

    def index(rows: list[dict], side: str) -> dict[tuple, dict]:
        out: dict[tuple, dict] = {}
        for r in rows:
            k = tuple(_norm(r[c]) for c in key)
            assert k not in out, f"{rule}: duplicate key {dict(zip(key, k))} among the {side} rows"
            out[k] = {c: _norm(r[c]) for c in values}
        return out

    t, f = index(truth, "planted"), index(found, "found")
    tp, missing, extra = 0, [], []
    for k, tv in t.items():
        fv = f.get(k)
        if fv is not None and all(_same(tv[c], fv[c], tol) for c, tol in values.items()):
            tp += 1
            continue
        missing.append((dict(zip(key, k)), tv, fv))
    for k, fv in f.items():
        tv = t.get(k)
        if tv is None or not all(_same(tv[c], fv[c], tol) for c, tol in values.items()):
            extra.append((dict(zip(key, k)), fv, tv))
    return RuleCheck(rule, source, len(t), len(f), tp, missing, extra)


def format_table(checks: list[RuleCheck]) -> str:
    w = max(len(c.rule) for c in checks)
    lines = [f"{'rule':<{w}}  {'planted':>7}  {'found':>5}  {'tp':>5}  {'precision':>9}  {'recall':>6}  source",
             "-" * (w + 60)]
    lines += [f"{c.rule:<{w}}  {c.planted:>7}  {c.found:>5}  {c.true_positives:>5}  {c.precision:>9.3f}  "
              f"{c.recall:>6.3f}  {c.source}" for c in checks]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ reading


def query(warehouse: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rel = con.sql(sql)
        return [dict(zip(rel.columns, r)) for r in rel.fetchall()]
    finally:
        con.close()


def truth_rows(truth_dir: Path, name: str, ints: tuple[str, ...] = (), floats: tuple[str, ...] = ()) -> list[dict]:
    """A truth file as dicts of strings ('' -> None), with the named columns as int / float."""
    df = pl.read_csv(Path(truth_dir) / f"{name}.csv", infer_schema=False)
    rows = []
    for r in df.iter_rows(named=True):
        r = {k: (None if v in (None, "") else v) for k, v in r.items()}
        for c in ints:
            r[c] = None if r[c] is None else int(r[c])
        for c in floats:
            r[c] = None if r[c] is None else float(r[c])
        rows.append(r)
    return rows


def _month(col: str) -> str:
    return f"strftime({col}, '%Y-%m')"


# ------------------------------------------------------------------------------------------ the rules


def hall_checks(warehouse: Path, truth_dir: Path) -> list[RuleCheck]:
    """Every §4.10 rule the generator plants, compared with the marts."""
    q = lambda sql: query(warehouse, sql)  # noqa: E731
    out: list[RuleCheck] = []

    # 考勤: late arrivals / early leaves, event level (staff, date, kind) and per window-day
    events = truth_rows(truth_dir, "hall_late_events")
    staff_days = q("""
        select attendance_id, staff_id, window_id, cast(work_date as varchar) as work_date,
               is_late_arrival, is_early_leave
        from intermediate.int_hall__attendance_staff_day""")
    for kind, flag in (("late_arrival", "is_late_arrival"), ("early_leave", "is_early_leave")):
        out.append(check(
            f"{kind} (staff, date)", "int_hall__attendance_staff_day",
            [e for e in events if e["kind"] == kind], [r for r in staff_days if r[flag]],
            ["staff_id", "work_date"], {"attendance_id": None, "window_id": None}))
    per_day: dict[tuple, dict] = {}
    for e in events:
        d = per_day.setdefault((e["window_id"], e["work_date"]), {"window_id": e["window_id"], "date": e["work_date"],
                                                                  "late_arrival": 0, "early_leave": 0})
        d[e["kind"]] += 1
    out.append(check(
        "late/early per window-day", "fct_attendance_day", list(per_day.values()),
        q("""select window_id, cast(date as varchar) as date, late_arrivals as late_arrival,
                    early_leaves as early_leave
             from marts.fct_attendance_day where late_arrivals > 0 or early_leaves > 0"""),
        ["window_id", "date"], {"late_arrival": None, "early_leave": None}))

    out.append(check(
        "absent window-day", "fct_attendance_day", truth_rows(truth_dir, "hall_absent_window_days"),
        q(f"""select {_month('month')} as month, window_id, cast(date as varchar) as work_date
              from marts.fct_attendance_day where is_absent"""),
        ["month", "window_id", "work_date"]))

    counts = ("days_scheduled", "days_staffed", "days_covered", "absent_days", "late_arrivals", "early_leaves")
    wm = truth_rows(truth_dir, "hall_attendance_window_month", ints=counts, floats=("in_post_rate",))
    for r in wm:  # to 1e-9: from the truth's own day counts (the file holds 4 decimals)
        denominator = r["days_scheduled"] - r["days_covered"]
        exact = r["days_staffed"] / denominator if denominator else None
        assert _same(exact, r["in_post_rate"], FOUR_DECIMALS), r
        r["in_post_rate"] = exact
    out.append(check(
        "attendance window-month", "fct_window_month", wm,
        q(f"""select {_month('month')} as month, window_id, {', '.join(counts)}, in_post_rate
              from marts.fct_window_month where days_scheduled is not null"""),
        ["month", "window_id"], {**{c: None for c in counts}, "in_post_rate": EXACT}))

    staff = ("late_arrivals", "early_leaves", "absent_days")
    out.append(check(
        "attendance staff-month", "fct_staff_month",
        truth_rows(truth_dir, "hall_attendance_staff_month", ints=staff),
        q(f"""select {_month('month')} as month, staff_id, window_id, {', '.join(staff)}
              from marts.fct_staff_month where late_arrivals is not null"""),
        ["month", "staff_id"], {"window_id": None, **{c: None for c in staff}}))

    # 排队叫号: window adjustment proposals and the window-month waits
    out.append(check(
        "window adjustment proposal", "fct_window_adjustment",
        truth_rows(truth_dir, "hall_adjustment_proposals", ints=("proposal", "current_windows", "tickets"),
                   floats=("p90_wait_minutes", "served_per_window_hour")),
        q(f"""select {_month('month')} as month, business_type, proposal, current_windows, tickets,
                     p90_wait_minutes, served_per_window_hour
              from marts.fct_window_adjustment where proposal <> 0"""),
        ["month", "business_type"],
        {"proposal": None, "current_windows": None, "tickets": None, "p90_wait_minutes": FOUR_DECIMALS,
         "served_per_window_hour": FOUR_DECIMALS}))
    queue = truth_rows(truth_dir, "hall_queue_window_month", ints=("tickets", "served"),
                       floats=("no_show_rate", "avg_wait_minutes", "p90_wait_minutes", "avg_service_minutes"))
    out.append(check(
        "queue window-month", "fct_queue_month", queue,
        q(f"""select {_month('month')} as month, window_id, tickets, served, no_show_rate, avg_wait_minutes,
                     p90_wait_minutes, avg_service_minutes
              from marts.fct_queue_month where scope = 'window'"""),
        ["month", "window_id"],
        {"tickets": None, "served": None, "no_show_rate": FOUR_DECIMALS, "avg_wait_minutes": FOUR_DECIMALS,
         "p90_wait_minutes": FOUR_DECIMALS, "avg_service_minutes": FOUR_DECIMALS}))
    out.append(check(
        "queue waits in the scorecard", "fct_window_month", queue,
        q(f"""select {_month('month')} as month, window_id, avg_wait_minutes, p90_wait_minutes
              from marts.fct_window_month where avg_wait_minutes is not null or p90_wait_minutes is not null"""),
        ["month", "window_id"], {"avg_wait_minutes": FOUR_DECIMALS, "p90_wait_minutes": FOUR_DECIMALS}))

    # 工单: substantiated complaints at windows, orders closed late
    complaints = truth_rows(truth_dir, "hall_substantiated_complaints")
    out.append(check(
        "substantiated complaint", "fct_work_order", complaints,
        q(f"""select {_month('month')} as month, order_id, window_id, department_id
              from marts.fct_work_order where is_substantiated_complaint and window_id is not null"""),
        ["month", "order_id"], {"window_id": None, "department_id": None}))
    per_wm: dict[tuple, int] = {}
    for c in complaints:
        per_wm[(c["month"], c["window_id"])] = per_wm.get((c["month"], c["window_id"]), 0) + 1
    out.append(check(
        "substantiated complaints per window-month", "fct_window_month",
        [{"month": m, "window_id": w, "substantiated_complaints": n} for (m, w), n in per_wm.items()],
        q(f"""select {_month('month')} as month, window_id, substantiated_complaints
              from marts.fct_window_month where substantiated_complaints > 0"""),
        ["month", "window_id"], {"substantiated_complaints": None}))
    out.append(check(
        "work order closed late", "fct_work_order", truth_rows(truth_dir, "hall_work_orders_closed_late"),
        q(f"""select {_month('due_month')} as due_month, order_id, window_id
              from marts.fct_work_order where not is_closed_on_time"""),
        ["due_month", "order_id"], {"window_id": None}))

    # 明察暗访 / 一日三查
    out.append(check(
        "spot-check short day", "fct_spot_check_day",
        truth_rows(truth_dir, "hall_spot_check_short_days", ints=("done", "required")),
        q("""select center_id, cast(date as varchar) as date, done, required
             from marts.fct_spot_check_day where not met"""),
        ["center_id", "date"], {"done": None, "required": None}))
    inspections = truth_rows(truth_dir, "hall_inspection_window_month", ints=("inspections", "inspection_findings"),
                             floats=("deduction_points",))
    out.append(check(
        "inspection window-month", "fct_inspection", inspections,
        q(f"""select {_month('month')} as month, window_id, count(*) as inspections,
                     count(*) filter (where has_finding) as inspection_findings, sum(deduction) as deduction_points
              from marts.fct_inspection where window_id is not null group by all"""),
        ["month", "window_id"],
        {"inspections": None, "inspection_findings": None, "deduction_points": FOUR_DECIMALS}))
    out.append(check(
        "inspection findings in the scorecard", "fct_window_month", inspections,
        q(f"""select {_month('month')} as month, window_id, inspection_findings
              from marts.fct_window_month where inspection_findings is not null"""),
        ["month", "window_id"], {"inspection_findings": None}))
    return out


# ------------------------------------------------------------------------------------------ deductions

# "2026-08-17 工作人员 370100W018S2 迟到 9 分钟（…）" (int_scoring__deductions_attendance)
LATE_REASON = re.compile(r"^(\d{4}-\d{2}-\d{2}) 工作人员 (\S+) (迟到|早退) ")


def deduction_checks(warehouse: Path, truth_dir: Path, hall) -> list[RuleCheck]:
    """fct_window_deduction per source against the truth; `hall` is core.config.Hall (the points)."""
    q = lambda sql: query(warehouse, sql)  # noqa: E731
    rows = q(f"""select {_month('month')} as month, window_id, source, ref_id, points, reason
                 from marts.fct_window_deduction""")
    by_source: dict[str, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
    out = []
    absent = [dict(r, ref_id=r["work_date"], points=hall.deduct_absent_day)
              for r in truth_rows(truth_dir, "hall_absent_window_days")]
    out.append(check("deduction absent_day", "fct_window_deduction", absent, by_source.get("absent_day", []),
                     ["month", "window_id", "ref_id"], {"points": EXACT}))
    # event level (staff, date, kind): the reason names the day, the staff member and 迟到 / 早退
    late = [{"month": e["work_date"][:7], "window_id": e["window_id"], "ref_id": e["attendance_id"],
             "work_date": e["work_date"], "staff_id": e["staff_id"],
             "kind": {"late_arrival": "迟到", "early_leave": "早退"}[e["kind"]], "points": hall.deduct_late}
            for e in truth_rows(truth_dir, "hall_late_events")]
    found_late = []
    for r in by_source.get("late", []):
        m = LATE_REASON.search(r["reason"] or "")
        found_late.append(dict(r, work_date=m and m.group(1), staff_id=m and m.group(2),
                               kind=m.group(3) if m else r["reason"]))
    out.append(check("deduction late", "fct_window_deduction", late, found_late,
                     ["staff_id", "work_date", "kind"],
                     {"month": None, "window_id": None, "ref_id": None, "points": EXACT}))
    complaints = [dict(c, ref_id=c["order_id"], points=hall.deduct_substantiated_complaint)
                  for c in truth_rows(truth_dir, "hall_substantiated_complaints")]
    out.append(check("deduction complaint", "fct_window_deduction", complaints, by_source.get("complaint", []),
                     ["month", "window_id", "ref_id"], {"points": EXACT}))
    # inspection: the generator deducts exactly on a finding, so records with points > 0 per window-month
    # = its inspection_findings, their points = its deduction_points
    planted = [{"month": r["month"], "window_id": r["window_id"], "records": r["inspection_findings"],
                "points": r["deduction_points"]}
               for r in truth_rows(truth_dir, "hall_inspection_window_month", ints=("inspection_findings",),
                                   floats=("deduction_points",)) if r["inspection_findings"] > 0]
    per_wm: dict[tuple, dict] = {}
    for r in by_source.get("inspection", []):
        d = per_wm.setdefault((r["month"], r["window_id"]),
                              {"month": r["month"], "window_id": r["window_id"], "records": 0, "points": 0.0})
        d["records"] += 1
        d["points"] += r["points"]
    out.append(check("deduction inspection", "fct_window_deduction", planted, list(per_wm.values()),
                     ["month", "window_id"], {"records": None, "points": FOUR_DECIMALS}))
    # and record by record: the inspection's own deduction, window-level records with points > 0
    out.append(check(
        "deduction inspection (per record)", "fct_window_deduction vs fct_inspection",
        q(f"""select {_month('month')} as month, window_id, inspection_id as ref_id, deduction as points
              from marts.fct_inspection where window_id is not null and deduction > 0"""),
        by_source.get("inspection", []), ["month", "window_id", "ref_id"], {"points": EXACT}))
    return out


def deduction_sources(warehouse: Path) -> dict[str, int]:
    return {r["source"]: r["n"] for r in query(
        warehouse, "select source, count(*) as n from marts.fct_window_deduction group by source")}
