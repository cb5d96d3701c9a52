"""回访抽样: the monthly phone-callback sample of evaluations, drawn with the audit machinery.

All bad reviews (不满意 / 非常不满意, rating ≤ 2) are called back, plus the first
ceil(share × N) of the month's N 基本满意 (rating 3) evaluations ordered by
H(seed + ":" + evaluation_id), seed = H(plan_hash + ":" + entropy). The callback plan
{kind, name, month, share} is committed before the entropy, like an audit plan, and the draw
is appended to the same hash-chained log, so `audit verify` recomputes it too.

SPEC §4.4 v2 (a snapshot whose fct_evaluation has needs_callback): the bad reviews called back are the
real-name ones that need a callback (not verified invalid, not overturned, not a system default; see
int_satisfaction__evaluations.sql) whose callback_deadline falls in the month, each shown with that
deadline, and the random 基本满意 are drawn from the applicant-given ones only (never a system default).
A draw logged from a pre-v2 pool (no needs_callback) is recomputed by the v1 rule above.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from core.paths import Home
from windowwatch.audit.draw import DrawError, DrawResult, _next_id, _open_commit, seed_of
from windowwatch.audit.hashing import H, canonical_json
from windowwatch.audit.log import AuditLog
from windowwatch.audit.pools import read_evaluation_pool

BAD_MAX_RATING = 2  # 不满意 = 2, 非常不满意 = 1 (internal scale, the feed contract, core/feeds.py)
NEUTRAL_RATING = 3  # 基本满意


def callback_plan(month: str, share: float) -> dict[str, Any]:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise DrawError(f"month {month!r}: expected YYYY-MM")
    if not 0 <= share <= 1:
        raise DrawError(f"share {share}: expected a number from 0 to 1 (e.g. 0.1 for 10 % of 基本满意)")
    return {"kind": "callback", "name": f"{month}回访抽样", "month": month, "share": share}


def compute_callback(plan: dict[str, Any], plan_hash: str, entropy: str, pool: list[dict[str, Any]]) -> dict[str, Any]:
    seed = seed_of(plan_hash, entropy)
    keyed = sorted(
        ({**e, "_key": H(seed + ":" + e["evaluation_id"])} for e in pool if e["rating"] is not None),
        key=lambda e: (e["_key"], e["evaluation_id"]),
    )
    if keyed and "needs_callback" in keyed[0]:
        return _compute_v2(plan, seed, keyed)
    neutral = [e for e in keyed if e["rating"] == NEUTRAL_RATING]
    k = math.ceil(Decimal(str(plan["share"])) * len(neutral))
    chosen = {e["evaluation_id"] for e in neutral[:k]}
    sample = [
        {
            "evaluation_id": e["evaluation_id"],
            "window_id": e["window_id"],
            "rating": e["rating"],
            "reason": "bad" if e["rating"] <= BAD_MAX_RATING else "random",
        }
        for e in keyed
        if e["rating"] <= BAD_MAX_RATING or e["evaluation_id"] in chosen
    ]
    return {"seed": seed, "sample": sample, "unstaffed": []}


def _compute_v2(plan: dict[str, Any], seed: str, keyed: list[dict[str, Any]]) -> dict[str, Any]:
    """SPEC §4.4 v2: every real-name bad review that needs a callback (needs_callback: not verified invalid,
    not overturned, not a system default, rectified) whose callback deadline falls in the month, with that
    deadline; plus ceil(share × N) of the month's N applicant-given 基本满意 (system defaults are nobody's
    opinion: never drawn)."""
    month = plan["month"]
    bad = {e["evaluation_id"] for e in keyed
           if e["needs_callback"] and str(e.get("callback_deadline") or "")[:7] == month}
    neutral = [e for e in keyed
               if e["rating"] == NEUTRAL_RATING and e.get("in_month") and not e.get("is_default")
               and e["evaluation_id"] not in bad]
    k = math.ceil(Decimal(str(plan["share"])) * len(neutral))
    chosen = {e["evaluation_id"] for e in neutral[:k]}
    sample = [
        {
            "evaluation_id": e["evaluation_id"],
            "window_id": e["window_id"],
            "rating": e["rating"],
            "reason": "bad" if e["evaluation_id"] in bad else "random",
            "callback_deadline": e.get("callback_deadline") if e["evaluation_id"] in bad else None,
        }
        for e in keyed
        if e["evaluation_id"] in bad or e["evaluation_id"] in chosen
    ]
    return {"seed": seed, "sample": sample, "unstaffed": []}


def draw_callbacks(month: str, share: float, entropy: str, h: Home | None = None) -> DrawResult:
    if not entropy or not entropy.strip():
        raise DrawError("the entropy is empty: enter the public random text")
    plan = callback_plan(month, share)
    plan_hash = H(canonical_json(plan))
    log = AuditLog(h)
    with log.locked():
        entries = log.entries()
        commit = _open_commit(entries, plan_hash)
        if commit is None:
            commit = log.append_locked(
                {"kind": "commit", "commit_id": _next_id(entries, "commit", "C"), "plan": plan, "plan_hash": plan_hash}
            )
            entries.append(commit)
        pool, snapshot = read_evaluation_pool(month, log.home)
        result = compute_callback(plan, plan_hash, entropy, pool)
        entry = log.append_locked(
            {
                "kind": "callback",
                "draw_id": _next_id(entries, "callback", "R"),
                "commit_seq": commit["seq"],
                "plan": plan,
                "plan_hash": plan_hash,
                "entropy": entropy,
                "seed": result["seed"],
                "pools": {"evaluations": pool},
                "result": {"sample": result["sample"], "unstaffed": []},
                "snapshot": snapshot,
            }
        )
    return DrawResult(entry["draw_id"], plan_hash, entropy, result["seed"], result["sample"], [], entry)
