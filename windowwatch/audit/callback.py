"""回访抽样: the monthly phone-callback sample of evaluations, drawn with the audit machinery.

All bad reviews (不满意 / 非常不满意, rating ≤ 2) are called back, plus the first
ceil(share × N) of the month's N 基本满意 (rating 3) evaluations ordered by
H(seed + ":" + evaluation_id), seed = H(plan_hash + ":" + entropy). The callback plan
{kind, name, month, share} is committed before the entropy, like an audit plan, and the draw
is appended to the same hash-chained log, so `audit verify` recomputes it too.
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
