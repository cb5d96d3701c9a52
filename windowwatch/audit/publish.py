"""一公开 on time: a draw's public list is due 20 working days after its check period, and its
publication is recorded in the hash-chained audit log; plus the state of one plan's steps
(commit → draw → findings → publication), read from the log every time, never remembered.

- check period: the plan's population month (a callback draw: its month); the list is due at
  the end of the 20th working day after the period's last day (the practice since 2018 for
  双随机 results). Working days are the project's one definition, the published snapshot's
  `marts.dim_date` (windowwatch/supervision/calendar.py); days beyond it are assumed
  Monday–Friday and the deadline says so.
- publication: `publish_list` appends a `public_list_published` entry (the draw, the hash of the
  list's rows, the chain head the list printed). A list is *overdue* while unpublished after its
  deadline; a list whose rows changed since its last publication (a later finding) is
  *changed* and should be published again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.localtime import today_local
from core.paths import Home
from windowwatch.audit.draw import _next_id
from windowwatch.audit.hashing import H, canonical_json
from windowwatch.audit.log import AuditLog
from windowwatch.audit.pools import month_bounds
from windowwatch.audit.public_list import ExportError, PublicList, build_public_list
from windowwatch.snapshot import NoSnapshot, current_snapshot
from windowwatch.supervision.calendar import nth_workday_after

PUBLICATION_WORKDAYS = 20
PUBLISHED_KIND = "public_list_published"


def check_period_end(entry: dict[str, Any]) -> dt.date | None:
    """The last day of the draw's check period: its population month (callback: its month)."""
    plan = entry.get("plan") or {}
    month = (plan.get("population") or {}).get("month") or plan.get("month")
    if not isinstance(month, str):
        return None
    try:
        _, end = month_bounds(month)
    except ValueError:
        return None
    return end - dt.timedelta(days=1)


def publication_deadline(period_end: dt.date, h: Home | None = None) -> tuple[dt.date, bool] | None:
    """(deadline, assumed) — the 20th working day after the period; None without a published
    snapshot calendar to count on."""
    try:
        snapshot = current_snapshot(AuditLog(h).home)
    except NoSnapshot:
        return None
    try:
        d = nth_workday_after(snapshot, period_end, PUBLICATION_WORKDAYS)
    except Exception as exc:  # a snapshot without marts.dim_date (older than the calendar mart)
        if "dim_date" in str(exc):
            return None
        raise
    return d.at.date(), d.assumed


def rows_hash(pl: PublicList) -> str:
    return H(canonical_json({"headers": pl.headers, "rows": pl.rows}))


@dataclass(frozen=True)
class Publication:
    draw_id: str
    period_end: dt.date | None
    deadline: dt.date | None
    deadline_assumed: bool
    published_at: str | None  # the latest publication's log time
    publication_id: str | None
    published_by: str | None
    today: dt.date

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def late(self) -> bool:
        """Published, but after the deadline."""
        return bool(self.published and self.deadline and self.first_published_on > self.deadline)

    @property
    def overdue(self) -> bool:
        """Not published and the deadline has passed."""
        return not self.published and self.deadline is not None and self.today > self.deadline

    @property
    def first_published_on(self) -> dt.date:
        return dt.date.fromisoformat(self._first[:10])

    _first: str = ""


def _publications(entries: list[dict[str, Any]], draw_id: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("kind") == PUBLISHED_KIND and e.get("draw_id") == draw_id]


def publication_statuses(h: Home | None = None, today: dt.date | None = None) -> dict[str, Publication]:
    """draw_id -> its publication state, for every draw of the log (one calendar look-up per period)."""
    log = AuditLog(h)
    h, entries = log.home, log.entries()
    today = today or today_local()
    deadlines: dict[dt.date, tuple[dt.date, bool] | None] = {}
    out: dict[str, Publication] = {}
    for e in entries:
        if e.get("kind") not in ("draw", "callback"):
            continue
        end = check_period_end(e)
        if end is not None and end not in deadlines:
            deadlines[end] = publication_deadline(end, h)
        deadline = deadlines.get(end) if end else None
        pubs = _publications(entries, e["draw_id"])
        last = pubs[-1] if pubs else None
        out[e["draw_id"]] = Publication(
            draw_id=e["draw_id"], period_end=end,
            deadline=deadline[0] if deadline else None, deadline_assumed=bool(deadline and deadline[1]),
            published_at=last["at"] if last else None, publication_id=last["publication_id"] if last else None,
            published_by=last.get("user") if last else None, today=today,
            _first=pubs[0]["at"] if pubs else "",
        )
    return out


def changed_since_publication(draw_id: str, h: Home | None = None) -> bool:
    """The list's rows differ from the ones its latest publication recorded (e.g. a later finding)."""
    pubs = _publications(AuditLog(h).entries(), draw_id)
    return bool(pubs) and pubs[-1]["rows_hash"] != rows_hash(build_public_list(draw_id, h))


def publish_list(draw_id: str, h: Home | None = None, user: str | None = None) -> dict[str, Any]:
    """Record that the draw's public list, as it is now, was published (posted on the portal or
    the notice board). Publishing an unchanged list again records nothing new."""
    log = AuditLog(h)
    with log.locked():
        entries = log.entries()
        if not any(e.get("kind") in ("draw", "callback") and e.get("draw_id") == draw_id for e in entries):
            raise ExportError(f"draw {draw_id} is not in {log.path}")
        pl = build_public_list(draw_id, log.home)
        digest = rows_hash(pl)
        pubs = _publications(entries, draw_id)
        if pubs and pubs[-1]["rows_hash"] == digest:
            return pubs[-1]
        return log.append_locked(
            {
                "kind": PUBLISHED_KIND,
                "publication_id": _next_id(entries, PUBLISHED_KIND, "P"),
                "draw_id": draw_id,
                "rows_hash": digest,
                "rows": len(pl.rows),
                "chain_head": pl.meta["chain_head"],
                **({"user": user} if user else {}),
            }
        )


@dataclass(frozen=True)
class PlanFlow:
    """Where one plan (by plan_hash) stands, from the log: its latest commit, and the draw that
    used that commit (None while the commit is open)."""

    plan_hash: str
    commit: dict[str, Any] | None
    draw: dict[str, Any] | None

    @property
    def committed(self) -> bool:
        return self.commit is not None

    @property
    def drawn(self) -> bool:
        return self.draw is not None


def plan_flow(plan_hash: str, h: Home | None = None) -> PlanFlow:
    entries = AuditLog(h).entries()
    commit = next((e for e in reversed(entries) if e.get("kind") == "commit" and e.get("plan_hash") == plan_hash), None)
    draw = None
    if commit is not None:
        draw = next((e for e in entries if e.get("kind") in ("draw", "callback") and e.get("commit_seq") == commit["seq"]),
                    None)
    return PlanFlow(plan_hash=plan_hash, commit=commit, draw=draw)


def findings_progress(draw: dict[str, Any], h: Home | None = None) -> tuple[int, int]:
    """(staffed sampled cases with a finding, staffed sampled cases) of a case draw."""
    staffed = {s["case_id"] for s in draw["result"]["sample"] if s.get("inspectors")}
    done = {e["case_id"] for e in AuditLog(h).entries()
            if e.get("kind") == "finding" and e.get("draw_id") == draw["draw_id"]}
    return len(staffed & done), len(staffed)
