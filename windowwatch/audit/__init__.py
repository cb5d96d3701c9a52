"""Double-random audit (双随机、一公开, docs/rules.md): plans, draws, hash-chained log, findings.

The functions below are the API for the dashboard page 双随机抽查 and for the DAGs.
"""

from pathlib import Path as _Path

from windowwatch.audit.callback import draw_callbacks
from windowwatch.audit.draw import DrawError, DrawResult, commit_plan, compute_draw, draw
from windowwatch.audit.findings import PROBLEM_CODES, FindingError, add_finding, list_findings
from windowwatch.audit.log import AuditLog, LogError
from windowwatch.audit.plan import Plan, PlanError, load_plan, parse_plan, parse_plan_text, plan_yaml
from windowwatch.audit.public_list import (ExportError, PublicList, build_public_list, export_draw, inspector_label,
                                           inspector_names, public_rows, render, verification_bundle)
from windowwatch.audit.publish import (PUBLICATION_WORKDAYS, Publication, changed_since_publication, findings_progress,
                                       plan_flow, publication_statuses, publish_list)
from windowwatch.audit.verify_draws import VerifyReport, verify

EXAMPLE_PLAN = _Path(__file__).resolve().parent / "example_plan.yaml"  # a starting point for the plan editor


def list_draws(h=None) -> list[dict]:
    """One summary per draw (audit and callback), oldest first."""
    out = []
    for e in AuditLog(h).entries():
        if e.get("kind") in ("draw", "callback"):
            out.append(
                {
                    "draw_id": e["draw_id"],
                    "kind": e["kind"],
                    "name": e["plan"].get("name"),
                    "at": e["at"],
                    "user": e["user"],
                    "plan_hash": e["plan_hash"],
                    "entropy": e["entropy"],
                    "seed": e["seed"],
                    "sampled": len(e["result"]["sample"]),
                    "unstaffed": len(e["result"]["unstaffed"]),
                    "snapshot": e["snapshot"]["file"],
                    "entry_hash": e["entry_hash"],
                }
            )
    return out


def get_draw(draw_id: str, h=None) -> dict | None:
    """The full log entry of a draw (plan, pools, result), or None."""
    return next(
        (e for e in AuditLog(h).entries() if e.get("kind") in ("draw", "callback") and e.get("draw_id") == draw_id),
        None,
    )


__all__ = [
    "EXAMPLE_PLAN", "PROBLEM_CODES", "AuditLog", "DrawError", "DrawResult", "FindingError", "LogError", "Plan", "PlanError",
    "VerifyReport", "add_finding", "commit_plan", "compute_draw", "draw", "draw_callbacks", "export_draw",
    "get_draw", "list_draws", "list_findings", "load_plan", "parse_plan", "parse_plan_text", "public_rows", "verification_bundle", "verify",
    "ExportError", "PUBLICATION_WORKDAYS", "Publication", "PublicList", "build_public_list", "changed_since_publication",
    "findings_progress", "inspector_label", "inspector_names", "plan_flow", "plan_yaml", "publication_statuses",
    "publish_list", "render",
]
