"""Findings per sampled case, appended to the same hash-chained log as the draws.

After each append the whole findings list is rewritten atomically as
`$WINDOWWATCH_HOME/audit/findings.parquet` (temp file + rename) for the `fct_audit_finding`
mart. Notes are scrubbed of ID-card and phone numbers before they are stored (docs/architecture.md#privacy-and-access).
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

import polars as pl

from core import faults
from core.paths import FINDINGS_PARQUET, Home
from windowwatch.audit.draw import _next_id
from windowwatch.audit.log import AuditLog

PROBLEM_CODES = ("办事指南不规范", "申请材料不全", "超时未说明", "体外循环", "收费不规范", "其他")

# the shapes ingest scrubs (ingest/privacy.py), separators included: a note typed by a person
# writes a phone as "139 1234 5678" as often as "13912345678"
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{6}[\s-]?\d{8}[\s-]?\d{3}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)\(?0\d{2,3}\)?[\s-]?\d{7,8}(?!\d)")
REDACTED = "[已脱敏]"


class FindingError(ValueError):
    pass


def scrub(text: str) -> str:
    for rx in (_ID_CARD, _MOBILE, _LANDLINE):
        text = rx.sub(REDACTED, text)
    return text


def parse_codes(codes: str | list[str] | None) -> list[str]:
    if codes is None:
        return []
    items = [c.strip() for c in (codes.replace("，", ",").split(",") if isinstance(codes, str) else codes)]
    items = [c for c in items if c]
    bad = [c for c in items if c not in PROBLEM_CODES]
    if bad:
        raise FindingError(f"unknown problem code(s) {', '.join(bad)}: use {', '.join(PROBLEM_CODES)} (or none for 无问题)")
    return list(dict.fromkeys(items))


def add_finding(
    draw_id: str,
    case_id: str,
    codes: str | list[str] | None,
    note: str = "",
    inspectors: str | list[str] | None = None,
    h: Home | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """Record one finding; the inspectors must be among those the draw assigned to the case.
    `user` is who recorded it (the dashboard login); without one the log records the OS user."""
    problem_codes = parse_codes(codes)
    if isinstance(inspectors, str):
        inspectors = [i.strip() for i in inspectors.split(",") if i.strip()]
    inspectors = list(inspectors or [])
    log = AuditLog(h)
    with log.locked():
        entries = log.entries()
        d = next((e for e in entries if e.get("kind") == "draw" and e.get("draw_id") == draw_id), None)
        if d is None:
            raise FindingError(f"draw {draw_id} is not in {log.path}: list the draws with the dashboard or `audit findings list`")
        row = next((s for s in d["result"]["sample"] if s["case_id"] == case_id), None)
        if row is None:
            raise FindingError(f"case {case_id} is not in the sample of draw {draw_id}: a finding must be about a sampled case")
        if not inspectors:
            raise FindingError("name the inspectors who checked the case (--inspectors I1,I2)")
        strangers = [i for i in inspectors if i not in row["inspectors"]]
        if strangers:
            raise FindingError(
                f"inspector(s) {', '.join(strangers)} were not assigned to case {case_id} in draw {draw_id} "
                f"(assigned: {', '.join(row['inspectors']) or 'none — the case is unstaffed'})"
            )
        note = scrub(note or "")
        last = next((e for e in reversed(entries) if e.get("kind") == "finding" and e["draw_id"] == draw_id
                     and e["case_id"] == case_id), None)
        if last is not None and (last["codes"], last["note"], last["inspectors"]) == (problem_codes, note, inspectors):
            # the case's latest finding again (a re-run after a crash, a double submit) is recorded
            # once; rewriting the Parquet completes a run that died before it
            write_findings_parquet(entries, log)
            return last
        entry = log.append_locked(
            {
                "kind": "finding",
                "finding_id": _next_id(entries, "finding", "F"),
                "draw_id": draw_id,
                "case_id": case_id,
                "codes": problem_codes,
                "note": note,
                "inspectors": inspectors,
                **({"user": user} if user else {}),
            }
        )
        entries.append(entry)
        faults.checkpoint("audit.before_findings_parquet")
        write_findings_parquet(entries, log)
    return entry


def findings_rows(entries: list[dict[str, Any]], draw_id: str | None = None) -> list[dict[str, Any]]:
    cases: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entries:
        if e.get("kind") == "draw":
            for c in e["pools"]["cases"]:
                cases[(e["draw_id"], c["case_id"])] = c
    out = []
    for e in entries:
        if e.get("kind") != "finding" or (draw_id and e["draw_id"] != draw_id):
            continue
        c = cases.get((e["draw_id"], e["case_id"]), {})
        out.append(
            {
                "finding_id": e["finding_id"],
                "draw_id": e["draw_id"],
                "case_id": e["case_id"],
                "window_id": c.get("window_id"),
                "department_id": c.get("department_id"),
                "problem_codes": ";".join(e["codes"]),
                "has_problem": bool(e["codes"]),
                "note": e["note"],
                "inspectors": ";".join(e["inspectors"]),
                "recorded_at": e["at"],
                "recorded_by": e["user"],
                "entry_hash": e["entry_hash"],
            }
        )
    return out


FINDING_SCHEMA = {
    "finding_id": pl.String,
    "draw_id": pl.String,
    "case_id": pl.String,
    "window_id": pl.String,
    "department_id": pl.String,
    "problem_codes": pl.String,
    "has_problem": pl.Boolean,
    "note": pl.String,
    "inspectors": pl.String,
    "recorded_at": pl.String,
    "recorded_by": pl.String,
    "entry_hash": pl.String,
}


def write_findings_parquet(entries: list[dict[str, Any]], log: AuditLog) -> None:
    df = pl.DataFrame(findings_rows(entries), schema=FINDING_SCHEMA)
    # recorded_at stays ISO 8601 text with its UTC offset; the mart casts it
    fd, tmp = tempfile.mkstemp(prefix=".findings.", suffix=".parquet", dir=log.dir)
    os.close(fd)
    try:
        df.write_parquet(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, log.dir / FINDINGS_PARQUET)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def list_findings(draw_id: str | None = None, h: Home | None = None) -> list[dict[str, Any]]:
    return findings_rows(AuditLog(h).entries(), draw_id)
