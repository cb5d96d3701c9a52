"""`audit verify`: check the hash chain, then recompute every draw from what the log holds.

For each draw: the plan re-validates and re-hashes to plan_hash; a commit of that plan hash
precedes it (recorded before the entropy); seed and result are recomputed from the plan, the
entropy and the pools' snapshot. Findings must name an earlier draw and one of its cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.paths import Home
from windowwatch.audit.callback import compute_callback
from windowwatch.audit.draw import compute_draw
from windowwatch.audit.hashing import GENESIS, H, canonical_json, file_sha256
from windowwatch.audit.log import AuditLog, check_chain
from windowwatch.audit.plan import PlanError, parse_plan
from windowwatch.audit.pools import read_pools, snapshot_has_inspectors


@dataclass
class VerifyReport:
    entries: int = 0
    draws_checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # draws whose pools were re-derived from their (still present) snapshot file
    pools_rederived: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.entries} entries, chain intact; recomputed {', '.join(self.draws_checked) or 'no draws'}"
        return "\n".join(self.problems)


def _recompute(entry: dict[str, Any]) -> dict[str, Any]:
    if entry["kind"] == "callback":
        return compute_callback(entry["plan"], entry["plan_hash"], entry["entropy"], entry["pools"]["evaluations"])
    plan = parse_plan(entry["plan"], f"plan of {entry.get('draw_id')}")
    return compute_draw(plan, entry["plan_hash"], entry["entropy"], entry["pools"])


def check_anchor(path: Path, lines: list[tuple[int, dict[str, Any] | None, str]], anchor: str) -> list[str]:
    """The chain must still pass through the entry whose hash a report or public list printed."""
    anchor = anchor.strip().lower()
    if anchor == GENESIS:
        return []
    for _, e, _ in lines:
        if e is not None and e.get("entry_hash") == anchor:
            return []
    return [f"{path}: rule anchor_missing — no entry of the log has entry_hash {anchor} (the chain head printed in a "
            "published report or public list): the log was rewritten or truncated since that copy was posted; "
            "restore the log from a backup and compare it with the posted copies"]


def verify(draw_id: str | None = None, h: Home | None = None, anchors: tuple[str, ...] = ()) -> VerifyReport:
    log = AuditLog(h)
    lines, torn = log.read_raw()
    report = VerifyReport(entries=len(lines))
    report.problems.extend(check_chain(log.path, lines, torn, log.read_head()))
    for anchor in anchors:
        report.problems.extend(check_anchor(log.path, lines, anchor))
    if any(e is None for _, e, _ in lines):
        return report
    by_seq: dict[int, dict[str, Any]] = {}
    draws: dict[str, dict[str, Any]] = {}
    found = draw_id is None
    sha_cache: dict[Path, str] = {}
    for line, e, _ in lines:
        where = f"{log.path}:{line}"
        kind = e.get("kind")
        by_seq[e.get("seq")] = e
        if kind in ("draw", "callback"):
            draws[e["draw_id"]] = e
            if draw_id is not None and e["draw_id"] != draw_id:
                continue
            found = True
            report.problems.extend(_check_draw(where, e, by_seq))
            report.draws_checked.append(e["draw_id"])
            if e["kind"] == "draw":
                report.problems.extend(_check_pools(where, e, log.home, report, sha_cache))
        elif kind == "finding" and draw_id in (None, e.get("draw_id")):
            d = draws.get(e.get("draw_id"))
            if d is None:
                report.problems.append(f"{where}: rule finding_without_draw — finding {e.get('finding_id')} names draw {e.get('draw_id')}, which is not before it")
            elif e.get("case_id") not in {s.get("case_id") for s in d["result"]["sample"]}:
                report.problems.append(f"{where}: rule finding_case_not_sampled — finding {e.get('finding_id')}: case {e.get('case_id')} is not in draw {d['draw_id']}")
    if not found:
        report.problems.append(f"{log.path}: draw {draw_id} is not in the log (see `windowwatch audit findings list` / the dashboard for ids)")
    return report


def _check_pools(where: str, e: dict[str, Any], h: Home, report: VerifyReport, sha_cache: dict[Path, str]) -> list[str]:
    """Re-derive the object pool (and the inspector pool when the snapshot holds it) from the
    snapshot file the draw names, when that immutable file is still there with the same hash."""
    path = h.published / e["snapshot"]["file"]
    if not path.is_file():
        return []
    if path not in sha_cache:
        sha_cache[path] = file_sha256(path)
    if sha_cache[path] != e["snapshot"]["sha256"]:
        return [f"{where}: rule snapshot_changed — draw {e['draw_id']}: {path.name} no longer has the logged sha256"]
    try:
        plan = parse_plan(e["plan"])
        again = read_pools(plan, h, snapshot=path)
    except Exception as exc:
        return [f"{where}: rule recompute_failed — draw {e['draw_id']}: cannot read {path.name}: {exc}"]
    report.pools_rederived.append(e["draw_id"])
    logged = e["pools"]
    problems = []
    if again.cases != logged["cases"] or again.boosted_windows != logged["boosted_windows"]:
        problems.append(f"{where}: rule pools_mismatch — draw {e['draw_id']}: the logged case pool differs from {path.name}")
    if snapshot_has_inspectors(path) and again.inspectors != logged["inspectors"]:
        problems.append(f"{where}: rule pools_mismatch — draw {e['draw_id']}: the logged inspector pool differs from {path.name}")
    return problems


def _check_draw(where: str, e: dict[str, Any], by_seq: dict[int, dict[str, Any]]) -> list[str]:
    name = f"{e['kind']} {e['draw_id']}"
    problems: list[str] = []
    if e["kind"] == "draw":
        try:
            plan = parse_plan(e["plan"], f"plan of {e['draw_id']}")
        except PlanError as exc:
            return [f"{where}: rule plan_invalid — {name}: {exc}"]
        # a draw logged before plans were hashed as validated hashed the plan as written
        if e["plan_hash"] not in (plan.plan_hash(), H(canonical_json(e["plan"]))):
            problems.append(f"{where}: rule plan_hash_mismatch — {name}: the logged plan does not hash to plan_hash")
    elif H(canonical_json(e["plan"])) != e["plan_hash"]:
        problems.append(f"{where}: rule plan_hash_mismatch — {name}: the logged plan does not hash to plan_hash")
    commit = by_seq.get(e.get("commit_seq"))
    if commit is None or commit.get("kind") != "commit" or commit.get("plan_hash") != e["plan_hash"]:
        problems.append(f"{where}: rule not_committed — {name}: no earlier commit of plan_hash {e['plan_hash'][:12]}…")
    try:
        again = _recompute(e)
    except Exception as exc:  # a damaged pool must be reported, not crash verify
        return problems + [f"{where}: rule recompute_failed — {name}: {type(exc).__name__}: {exc}"]
    if again["seed"] != e["seed"]:
        problems.append(f"{where}: rule seed_mismatch — {name}: seed ≠ H(plan_hash + ':' + entropy)")
    if again["sample"] != e["result"]["sample"] or again["unstaffed"] != e["result"]["unstaffed"]:
        problems.append(f"{where}: rule result_mismatch — {name}: recomputing from plan, entropy and pools gives another sample")
    return problems
