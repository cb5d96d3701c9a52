"""Rows that break the feed contract, one per quarantine rule, at known physical lines.

Each bad row is a stand-alone record (its own case/evaluation/flag id) with exactly one
defect, so whether it lands or not changes no rule's outcome for the real cases.
"""

from __future__ import annotations

from pathlib import Path

from core.feeds import FEEDS


def _line_count(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def _row(feed: str, values: dict[str, str]) -> list[str]:
    return [values.get(c.name, "") for c in FEEDS[feed].columns]


def transactions_bad_rows(path: Path, header: list[str], code: str, window_id: str, staff_id: str, item_code: str,
                          day_text: str, ts: str) -> list[tuple[int, str]]:
    """Append bad transaction rows to a month CSV; returns (line, rule)."""
    base = {"event_type": "submit", "event_time": ts, "recorded_at": ts, "window_id": window_id, "staff_id": staff_id,
            "item_code": item_code, "channel": "window"}
    variants = [
        ("missing_required", {"case_id": ""}),
        ("unknown_enum", {"event_type": "审核中"}),
        ("bad_timestamp", {"event_time": "昨天下午三点"}),
        ("bad_value", {"fee_amount": "二十元"}),
        ("bad_value", {"fee_paid_at_center": "也许"}),
        ("unknown_reference", {"window_id": f"{code}W999"}),
        ("unknown_reference", {"item_code": f"{code}99999"}),
    ]
    start = _line_count(path)
    rows, out = [], []
    for k, (rule, change) in enumerate(variants):
        v = dict(base, event_id=f"Q{code}{day_text}{k + 1:02d}-01", case_id=f"Q{code}{day_text}{k + 1:02d}")
        v.update(change)
        rows.append([v.get(c, "") for c in header])
        out.append((start + k + 1, rule))
    _append(path, rows)
    return out


def evaluations_bad_rows(path: Path, header: list[str], code: str, window_id: str, ts: str) -> list[tuple[int, str]]:
    variants = [
        ("rating_out_of_range", {"rating": "6"}),
        ("rating_out_of_range", {"rating": "0"}),
        ("unknown_enum", {"channel": "微信小程序"}),
        ("bad_timestamp", {"evaluated_at": "2026-02-30 10:00:00"}),
        ("missing_required", {"window_id": ""}),
    ]
    start = _line_count(path)
    rows, out = [], []
    for k, (rule, change) in enumerate(variants):
        v = {"evaluation_id": f"QE{code}{k + 1:03d}", "window_id": window_id, "rating": "5", "channel": "pad",
             "evaluated_at": ts, "round": "1"}
        v.update(change)
        rows.append([v.get(c, "") for c in header])
        out.append((start + k + 1, rule))
    _append(path, rows)
    return out


def flags_bad_rows(path: Path, header: list[str], code: str, window_id: str, ts: str) -> list[tuple[int, str]]:
    variants = [
        ("unknown_enum", {"flag_type": "打瞌睡"}),
        ("missing_required", {"review_status": ""}),
        ("unknown_enum", {"review_status": "处理中"}),
        ("bad_value", {"confidence": "高"}),
    ]
    start = _line_count(path)
    rows, out = [], []
    for k, (rule, change) in enumerate(variants):
        v = {"flag_id": f"QV{code}{k + 1:03d}", "window_id": window_id, "camera_id": f"CAM-{window_id}",
             "flagged_at": ts, "flag_type": "phone", "source": "ai", "confidence": "0.80", "review_status": "pending"}
        v.update(change)
        rows.append([v.get(c, "") for c in header])
        out.append((start + k + 1, rule))
    _append(path, rows)
    return out


# hall-operation feeds (v2): one valid stand-alone row per feed, spoilt once by an unknown enum value and once by
# an unknown window (stand-alone ids: landing or not changes no hall rule for the generated rows)
HALL_ROWS = {
    "attendance": ({"attendance_id": "QA{code}{k:03d}", "staff_id": "{staff_id}", "window_id": "{window_id}",
                    "work_date": "{day}", "sign_in_at": "{day} 08:20:00", "sign_out_at": "{day} 18:10:00",
                    "absence_type": "none"}, ("absence_type", "迟到早退")),
    "queue_tickets": ({"ticket_id": "QT{code}{k:03d}", "center_id": "C{code}", "business_type": "{item_code}",
                       "window_id": "{window_id}", "issued_at": "{day} 10:00:00", "called_at": "{day} 10:12:00",
                       "served_at": "{day} 10:13:00", "finished_at": "{day} 10:20:00", "status": "served"},
                      ("status", "等待中")),
    "work_orders": ({"order_id": "QG{code}{k:03d}", "channel": "hotline_12345", "category": "complaint",
                     "received_at": "{day} 10:00:00", "window_id": "{window_id}", "content": "反映窗口排队时间长"},
                    ("category", "举报")),
    "inspections": ({"inspection_id": "QJ{code}{k:03d}", "center_id": "C{code}", "window_id": "{window_id}",
                     "inspected_at": "{day} 10:00:00", "method": "on_site", "finding": "none", "deduction": "0"},
                    ("method", "飞行检查")),
}


def hall_bad_rows(path: Path, header: list[str], feed: str, code: str, window_id: str, staff_id: str, item_code: str,
                  day: str) -> list[tuple[int, str]]:
    """Append an unknown_enum and an unknown_reference row of a hall-operation feed to its month CSV."""
    template, (enum_col, enum_value) = HALL_ROWS[feed]
    variants = [("unknown_enum", {enum_col: enum_value}), ("unknown_reference", {"window_id": f"{code}W999"})]
    start = _line_count(path)
    rows, out = [], []
    for k, (rule, change) in enumerate(variants):
        v = {c: t.format(code=code, k=k + 1, window_id=window_id, staff_id=staff_id, item_code=item_code, day=day)
             for c, t in template.items()}
        v.update(change)
        rows.append([v.get(c, "") for c in header])
        out.append((start + k + 1, rule))
    _append(path, rows)
    return out


def _append(path: Path, rows: list[list[str]]) -> None:
    for r in rows:
        for f in r:
            if any(ch in f for ch in ',"\n\r'):
                raise ValueError(f"bad-row field needs quoting: {f!r}")
    with path.open("ab") as f:
        for r in rows:
            f.write((",".join(r) + "\n").encode("utf-8"))
