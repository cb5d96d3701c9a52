"""The double-random draw of docs/rules.md: commit the plan, then draw with public entropy.

`compute_draw` is the whole rule as a pure function of (plan, plan_hash, entropy, pools): the
same function recomputes every draw from the log in `verify`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.paths import Home
from core.settings import settings
from windowwatch.audit.hashing import H
from windowwatch.audit.log import AuditLog
from windowwatch.audit.plan import Plan, boosted_k, parse_plan
from windowwatch.audit.pools import read_pools


class DrawError(RuntimeError):
    """A draw refused; `may_draw_at` is set when only the commit wait stands in the way."""

    def __init__(self, message: str, may_draw_at: str | None = None, wait_minutes: float | None = None):
        super().__init__(message)
        self.may_draw_at = may_draw_at
        self.wait_minutes = wait_minutes


@dataclass
class DrawResult:
    draw_id: str
    plan_hash: str
    entropy: str
    seed: str
    sample: list[dict[str, Any]]  # {case_id, stratum, inspectors}
    unstaffed: list[str]
    entry: dict[str, Any]

    def public_json(self) -> dict[str, Any]:
        """The object `audit draw --json` prints (docs/architecture.md#command-line)."""
        return {
            "draw_id": self.draw_id,
            "plan_hash": self.plan_hash,
            "entropy": self.entropy,
            "seed": self.seed,
            "sample": self.sample,
            "unstaffed": self.unstaffed,
        }


def seed_of(plan_hash: str, entropy: str) -> str:
    return H(plan_hash + ":" + entropy)


def _stratum_take(plan: Plan, ordered: list[dict[str, Any]], boosted: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The sampled cases of one stratum (already ordered by key ascending)."""
    k = plan.sample.k_for(len(ordered))
    if plan.strata == "window_id":
        m = boosted.get(ordered[0]["window_id"], {}).get("multiplier", 1.0) if ordered else 1.0
        return ordered[: boosted_k(k, m)]
    taken = ordered[:k]
    ms = [boosted[c["window_id"]]["multiplier"] for c in ordered if c["window_id"] in boosted]
    if not ms:
        return taken
    extra = boosted_k(k, max(ms)) - k
    for c in ordered[k:]:
        if extra <= 0:
            break
        if c["window_id"] in boosted:
            taken.append(c)
            extra -= 1
    return taken


def compute_draw(plan: Plan, plan_hash: str, entropy: str, pools: dict[str, Any]) -> dict[str, Any]:
    """{seed, sample, unstaffed} from the plan, its hash, the entropy and the pools' snapshot."""
    seed = seed_of(plan_hash, entropy)
    keyed = [{**c, "_key": H(seed + ":" + c["case_id"])} for c in pools["cases"]]
    strata: dict[str, list[dict[str, Any]]] = {}
    for c in keyed:
        strata.setdefault(c["stratum"], []).append(c)
    sampled: list[dict[str, Any]] = []
    for members in strata.values():
        members.sort(key=lambda c: (c["_key"], c["case_id"]))
        sampled.extend(_stratum_take(plan, members, pools.get("boosted_windows") or {}))
    sampled.sort(key=lambda c: (c["_key"], c["case_id"]))

    load: dict[str, int] = {i["inspector_id"]: 0 for i in pools["inspectors"]}
    sample: list[dict[str, Any]] = []
    unstaffed: list[str] = []
    for c in sampled:
        eligible = [
            i
            for i in pools["inspectors"]
            if i["active"]
            and i["department_id"] != c["department_id"]  # 回避
            and load[i["inspector_id"]] < plan.max_cases_per_inspector
        ]
        eligible.sort(key=lambda i: (H(seed + ":" + c["case_id"] + ":" + i["inspector_id"]), i["inspector_id"]))
        chosen = [i["inspector_id"] for i in eligible[: plan.inspectors_per_case]]
        if len(chosen) < plan.inspectors_per_case:
            # a half-staffed check breaks the two-inspector rule: assign none, report it
            chosen = []
            unstaffed.append(c["case_id"])
        for i in chosen:
            load[i] += 1
        sample.append({"case_id": c["case_id"], "stratum": c["stratum"], "inspectors": chosen})
    return {"seed": seed, "sample": sample, "unstaffed": unstaffed}


def _next_id(entries: list[dict[str, Any]], kind: str, prefix: str) -> str:
    n = sum(1 for e in entries if e.get("kind") == kind) + 1
    return f"{prefix}{n:05d}"


def _by(user: str | None) -> dict[str, str]:
    """The acting user for a log entry; without one the log records the OS user."""
    return {"user": user} if user else {}


def commit_plan(plan: Plan, h: Home | None = None, log: AuditLog | None = None, user: str | None = None) -> dict[str, Any]:
    """Record the plan hash (with time and user) before any entropy is known."""
    log = log or AuditLog(h)
    with log.locked():
        entries = log.entries()
        return log.append_locked(
            {
                "kind": "commit",
                "commit_id": _next_id(entries, "commit", "C"),
                "plan": plan.canonical(),
                "plan_hash": plan.plan_hash(),
                **_by(user),
            }
        )


def _open_commit(entries: list[dict[str, Any]], plan_hash: str) -> dict[str, Any] | None:
    """The latest commit of this plan that no draw has used yet."""
    used = {e.get("commit_seq") for e in entries if e.get("kind") in ("draw", "callback")}
    for e in reversed(entries):
        if e.get("kind") == "commit" and e["plan_hash"] == plan_hash and e["seq"] not in used:
            return e
    return None


def _commit_gate(entries: list[dict[str, Any]], plan: Plan, plan_hash: str, wait_minutes: float) -> dict[str, Any] | None:
    """The commit this draw may use, or None (wait 0: the draw commits the plan itself).

    Refuses a plan never committed, committed too recently, or edited since its commit
    (docs/rules.md, "Double-random audit"): the plan must be fixed before the entropy is known.
    """
    commit = _open_commit(entries, plan_hash)
    if wait_minutes <= 0:
        return commit
    how = (f"commit it with `windowwatch audit commit --plan FILE`, then draw at least {wait_minutes:g} minutes "
           "later (WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES), with entropy that is not known before then")
    if commit is None:
        name = plan.canonical().get("name")
        earlier = [e for e in entries if e.get("kind") == "commit" and (e.get("plan") or {}).get("name") == name]
        if earlier and earlier[-1]["plan_hash"] != plan_hash:
            last = earlier[-1]
            raise DrawError(
                f"plan {name!r} was edited since its commit {last['commit_id']} at {last['at']} "
                f"(plan_hash {last['plan_hash'][:12]}… then, {plan_hash[:12]}… now): refused; {how}"
            )
        used = any(e.get("kind") == "commit" and e["plan_hash"] == plan_hash for e in entries)
        state = "every commit of it is used by an earlier draw" if used else "it was never committed"
        raise DrawError(f"plan {name!r} (plan_hash {plan_hash[:12]}…): {state}: refused; {how}")
    committed_at = dt.datetime.fromisoformat(commit["at"])
    may_draw = committed_at + dt.timedelta(minutes=wait_minutes)
    now = dt.datetime.now(committed_at.tzinfo)
    if now < may_draw:
        raise DrawError(
            f"plan {commit['plan'].get('name')!r} was committed ({commit['commit_id']}) at {commit['at']}, less than "
            f"{wait_minutes:g} minutes ago (WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES): refused; it may be drawn from "
            f"{may_draw.isoformat(timespec='seconds')}, with entropy that is not known before then",
            may_draw_at=may_draw.isoformat(timespec="seconds"), wait_minutes=wait_minutes,
        )
    return commit


def draw(plan: Plan | dict[str, Any], entropy: str, h: Home | None = None, user: str | None = None) -> DrawResult:
    """Draw from the plan's unused commit, made at least `audit_commit_min_minutes` before.

    With that setting 0 (the demo, tests) a plan without an unused commit is committed here.
    """
    if isinstance(plan, dict):
        plan = parse_plan(plan)
    if not entropy or not entropy.strip():
        raise DrawError("the entropy is empty: enter the public random text (e.g. the witnessed lottery number)")
    log = AuditLog(h)
    plan_hash = plan.plan_hash()
    wait_minutes = settings().audit_commit_min_minutes
    with log.locked():
        entries = log.entries()
        commit = _commit_gate(entries, plan, plan_hash, wait_minutes)
        if commit is None:
            commit = log.append_locked(
                {
                    "kind": "commit",
                    "commit_id": _next_id(entries, "commit", "C"),
                    "plan": plan.canonical(),
                    "plan_hash": plan_hash,
                    **_by(user),
                }
            )
            entries.append(commit)
        pools = read_pools(plan, log.home)
        result = compute_draw(plan, plan_hash, entropy, pools.as_log())
        entry = log.append_locked(
            {
                "kind": "draw",
                "draw_id": _next_id(entries, "draw", "D"),
                "commit_seq": commit["seq"],
                "plan": plan.canonical(),
                "plan_hash": plan_hash,
                "entropy": entropy,
                "seed": result["seed"],
                "pools": pools.as_log(),
                "result": {"sample": result["sample"], "unstaffed": result["unstaffed"]},
                "snapshot": pools.snapshot,
                **_by(user),
            }
        )
    return DrawResult(
        draw_id=entry["draw_id"],
        plan_hash=plan_hash,
        entropy=entropy,
        seed=result["seed"],
        sample=result["sample"],
        unstaffed=result["unstaffed"],
        entry=entry,
    )
