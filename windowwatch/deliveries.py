"""The raw gate's state per delivery, and `windowwatch quarantine delivery ID` (SPEC §3).

A delivery lands once (ingest's ledger, `landing/_ledger/<id>.json`) but is gated until its gate
passes: every run's raw gate checks every landed delivery without a passed verdict, not only the
ones that run landed, so data a critical gate rejected never reaches dbt because a later run did
not look at it. The verdicts live beside the ledger, one file per delivery, written atomically
(core/atomic.py):

    landing/_gate/<id>.json            {"status": "passed" | "failed" | "taken_back", run_id, at, …}
    landing/_taken_back/<id>/<feed>/part_date=…/<id>.parquet   the landing files of a delivery taken back

A delivery whose gate failed stays in landing, failing every run (nothing is built or published)
until a corrected delivery supersedes it and the gate passes, or it is taken back: its landing
files move out of the folders dbt and the gates read, its verdict becomes `taken_back` with who,
when and why, and the action is appended to the hash-chained audit log (kind
`delivery_taken_back`). Its ledger entry stays, so the same bytes delivered again are
"already landed" and never land again; a correction is a new delivery. A delivery that passed
the gate may already be merged into the warehouse (the incremental models take landing as
append-only) and is not taken back: deliver a correction instead.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from core import atomic
from core.atomic import fsync_dir
from core.feeds import FEEDS
from core.paths import Home

PASSED = "passed"
FAILED = "failed"
TAKEN_BACK = "taken_back"
AUDIT_KIND = "delivery_taken_back"


class DeliveryError(ValueError):
    """`quarantine delivery` refused (unknown, ambiguous or already passed id)."""


def gate_dir(home: Home) -> Path:
    return home.landing / "_gate"


def taken_back_dir(home: Home) -> Path:
    return home.landing / "_taken_back"


def verdict_path(home: Home, content_id: str) -> Path:
    return gate_dir(home) / f"{content_id}.json"


def verdict(home: Home, content_id: str) -> dict | None:
    try:
        return json.loads(verdict_path(home, content_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_verdict(home: Home, content_id: str, data: dict) -> None:
    atomic.write_text(
        verdict_path(home, content_id), json.dumps({"content_id": content_id, **data}, ensure_ascii=False, indent=1)
    )


def landed_files(home: Home) -> dict[str, list[Path]]:
    """content id -> its landing files (every feed; `_empty.parquet` and temp files skipped)."""
    out: dict[str, list[Path]] = {}
    for feed in FEEDS:
        for p in sorted((home.landing / feed).glob("part_date=*/*.parquet")):
            if p.name.startswith((".", "_")):
                continue
            out.setdefault(p.stem, []).append(p)
    return out


def ungated(home: Home) -> dict[str, list[Path]]:
    """The landed deliveries whose gate has not passed (never gated, or failed): what the raw
    gate checks."""
    return {
        cid: files for cid, files in landed_files(home).items() if (verdict(home, cid) or {}).get("status") != PASSED
    }


def feed_of(home: Home, files: list[Path]) -> str:
    return files[0].resolve().relative_to(home.landing.resolve()).parts[0]


def record_gate(home: Home, run_id: str, gated: dict[str, list[Path]], failed_feeds: set[str], at: str) -> None:
    """After a raw gate: the deliveries of a feed without a critical failure passed; the others
    failed (and are gated again next run)."""
    for cid, files in gated.items():
        feed = feed_of(home, files)
        status = FAILED if feed in failed_feeds else PASSED
        prev = verdict(home, cid) or {}
        _write_verdict(
            home,
            cid,
            {
                "status": status,
                "feed": feed,
                "run_id": run_id,
                "at": at,
                "failed_runs": prev.get("failed_runs", 0) + (status == FAILED),
            },
        )


@dataclass(frozen=True)
class Pending:
    content_id: str
    feed: str
    source: str | None
    status: str  # never gated | failed


def describe(home: Home, gated: dict[str, list[Path]], feeds: set[str] | None = None) -> list[Pending]:
    """The gated deliveries (of `feeds`), with their source file from the ledger, for messages."""
    out = []
    for cid, files in sorted(gated.items()):
        feed = feed_of(home, files)
        if feeds is not None and feed not in feeds:
            continue
        try:
            source = json.loads((home.ledger / f"{cid}.json").read_text(encoding="utf-8")).get("source")
        except (OSError, ValueError):
            source = None
        out.append(Pending(cid, feed, source, (verdict(home, cid) or {}).get("status") or "never gated"))
    return out


def _resolve(home: Home, ident: str) -> str:
    """A full content id or a unique prefix of one (8 characters or more)."""
    ident = ident.strip()
    known = {p.stem for p in home.ledger.glob("*.json")} | set(landed_files(home))
    known |= {p.stem for p in gate_dir(home).glob("*.json")}
    if ident in known:
        return ident
    if len(ident) >= 8:
        hits = sorted(k for k in known if k.startswith(ident))
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise DeliveryError(
                f"delivery {ident}: ambiguous, it starts {len(hits)} delivery ids ({', '.join(hits[:5])}): give more of it"
            )
    raise DeliveryError(
        f"delivery {ident}: no landed delivery has this id — the raw gate's failure in the run record "
        f"(runs/latest.json) names the ids not passed; the ledger is {home.ledger}"
    )


def take_back(home: Home, ident: str, user: str, reason: str) -> tuple[str, bool]:
    """Take a landed delivery back. Returns (content id, False if it already was).

    Re-runnable: a take-back interrupted after moving some files finishes on the next call."""
    from windowwatch.audit.log import AuditLog, now_local

    if not reason.strip():
        raise DeliveryError("a reason is required (--reason): it is recorded with the delivery and in the audit log")
    cid = _resolve(home, ident)
    prev = verdict(home, cid) or {}
    if prev.get("status") == TAKEN_BACK:
        return cid, False
    if prev.get("status") == PASSED:
        raise DeliveryError(
            f"delivery {cid} passed the raw gate (run {prev.get('run_id')}) and may already be in the warehouse "
            "and the published data: it is not taken back — deliver a correction instead"
        )
    files = landed_files(home).get(cid, [])
    dest_root = taken_back_dir(home) / cid
    feed = feed_of(home, files) if files else prev.get("feed")
    for f in files:
        rel = f.resolve().relative_to(home.landing.resolve())
        dst = dest_root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(f, dst)  # one file system: a rename; dbt and the gates read landing/<feed>/ only
        fsync_dir(f.parent)
    if feed is None:  # nothing moved now or before: never landed rows (all quarantined?)
        feed = next((p.parts[-3] for p in dest_root.glob("*/part_date=*/*.parquet")), None)
    for idx in home.landing.glob(f"_index/**/{cid}.parquet"):  # ingest's key index of its rows (any scheme)
        idx.unlink(missing_ok=True)
    at = now_local()
    log = AuditLog(home)
    log.dir.mkdir(parents=True, exist_ok=True)
    with log.locked():
        # a take-back interrupted after its log entry: that entry stands, no second one
        entry = next((e for e in log.entries() if e.get("kind") == AUDIT_KIND and e.get("content_id") == cid), None)
        if entry is None:
            entry = log.append_locked(
                {
                    "kind": AUDIT_KIND,
                    "content_id": cid,
                    "feed": feed,
                    "reason": reason,
                    "user": user,
                    "at": at,
                    "previous_status": prev.get("status") or "never gated",
                }
            )
    _write_verdict(
        home,
        cid,
        {
            "status": TAKEN_BACK,
            "feed": feed,
            "user": user,
            "at": at,
            "reason": reason,
            "moved_to": str(dest_root),
            "previous": prev or None,
            "audit_seq": entry["seq"],
        },
    )
    return cid, True


def quarantine_main(args) -> int:
    """`windowwatch quarantine delivery ID --user NAME --reason TEXT`."""
    from windowwatch.audit.log import LogError
    from windowwatch.run_lock import HomeBusy, hold

    home = Home.from_env().ensure()
    try:
        with hold(home, what="windowwatch quarantine delivery"):
            cid, done = take_back(home, args.id, args.user, args.reason)
    except (DeliveryError, HomeBusy, LogError) as exc:
        print(f"windowwatch quarantine delivery: {exc}", file=sys.stderr)
        return 2
    if not done:
        print(f"delivery {cid} was already taken back: nothing to do")
        return 0
    print(
        f"delivery {cid} taken back by {args.user}: its landing files are in {taken_back_dir(home) / cid}, "
        "out of the gates and the build; recorded in the audit log. The next run no longer gates it."
    )
    return 0
