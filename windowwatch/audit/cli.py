"""`windowwatch audit …` subcommands (wired in windowwatch/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

from core.settings import settings
from windowwatch.audit.callback import draw_callbacks
from windowwatch.audit.draw import DrawError, commit_plan, draw
from windowwatch.audit.findings import PROBLEM_CODES, FindingError, add_finding, list_findings
from windowwatch.audit.log import AuditLog, LogError
from windowwatch.audit.plan import PlanError, load_plan
from windowwatch.audit.public_list import ExportError, export_draw
from windowwatch.audit.verify_draws import verify
from windowwatch.snapshot import NoSnapshot

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNSTAFFED = 3  # drawn and logged, but some sampled cases got no (or too few) inspectors: a script must be able to tell


def _fail(msg: str, code: int = EXIT_FAILED) -> int:
    print(f"windowwatch audit: {msg}", file=sys.stderr)
    return code


def _guard(fn):
    """Known failures become one clear message and a non-zero exit, never a traceback."""

    def run(args) -> int:
        try:
            return fn(args)
        except (PlanError, FindingError, ExportError, DrawError) as exc:
            return _fail(str(exc), EXIT_USAGE)
        except (LogError, NoSnapshot) as exc:
            return _fail(str(exc))
        except duckdb.Error as exc:  # a snapshot without the marts we read: name it, don't trace
            return _fail(f"reading the published snapshot failed: {type(exc).__name__}: {exc} — "
                         "is the pipeline's last run complete (`windowwatch run`)?")

    run.__name__ = fn.__name__
    return run


@_guard
def draw_main(args) -> int:
    plan = load_plan(args.plan)
    r = draw(plan, args.entropy)
    if not r.entry["pools"]["cases"]:
        print(f"windowwatch audit: warning: the population of {args.plan} is empty (no {plan.population.status} "
              f"cases in {plan.population.month}); the empty draw {r.draw_id} is logged", file=sys.stderr)
    code = EXIT_UNSTAFFED if r.unstaffed else 0
    if r.unstaffed:
        print(f"windowwatch audit: {len(r.unstaffed)} of {len(r.sample)} sampled cases could not be staffed (回避 and the "
              f"per-inspector cap leave too few eligible inspectors); draw {r.draw_id} is logged with them listed — widen the "
              "inspector pool or raise max_cases_per_inspector in a new plan (exit 3)", file=sys.stderr)
    if args.json:
        print(json.dumps(r.public_json(), ensure_ascii=False))
        return code
    print(f"draw {r.draw_id}: plan {plan.name} plan_hash={r.plan_hash} (committed as log entry {r.entry['commit_seq']})")
    print(f"entropy={r.entropy!r} seed={r.seed}")
    for s in r.sample:
        print(f"  {s['case_id']}  [{s['stratum']}]  {', '.join(s['inspectors']) or '— unstaffed'}")
    print(f"{len(r.sample)} cases sampled, {len(r.unstaffed)} unstaffed")
    if r.unstaffed:
        print("unstaffed (not enough eligible inspectors): " + ", ".join(r.unstaffed))
    return code


@_guard
def commit_main(args) -> int:
    plan = load_plan(args.plan)
    e = commit_plan(plan)
    print(f"committed {e['commit_id']}: plan_hash={e['plan_hash']} at {e['at']} by {e['user']}")
    wait = settings().audit_commit_min_minutes
    if wait > 0:
        print(f"draw it with `windowwatch audit draw --plan {args.plan} --entropy TEXT` no earlier than {wait:g} minutes "
              "from now, with entropy that is not known before then")
    return 0


@_guard
def callback_main(args) -> int:
    r = draw_callbacks(args.month, args.share, args.entropy)
    if args.json:
        print(json.dumps(r.public_json(), ensure_ascii=False))
        return 0
    bad = sum(1 for s in r.sample if s["reason"] == "bad")
    print(f"callback draw {r.draw_id}: {len(r.sample)} evaluations ({bad} bad reviews, {len(r.sample) - bad} random 基本满意)")
    for s in r.sample:
        deadline = f"  回访期限 {s['callback_deadline']}" if s.get("callback_deadline") else ""
        print(f"  {s['evaluation_id']}  {s['window_id']}  rating={s['rating']}  {s['reason']}{deadline}")
    return 0


@_guard
def verify_main(args) -> int:
    if getattr(args, "repair_torn_tail", False):
        aside = AuditLog().repair_torn_tail()
        print(f"torn last line moved to {aside}" if aside else "no torn last line")
    anchors = tuple(getattr(args, "anchor", None) or ())
    rep = verify(args.draw_id, anchors=anchors)
    if rep.ok:
        what = ", ".join(rep.draws_checked) or "no draws"
        print(f"OK: {rep.entries} entries, chain intact; recomputed {what}")
        for a in anchors:
            print(f"the chain passes through the anchor {a}")
        if rep.pools_rederived:
            print(f"pools re-derived from their snapshot files for {', '.join(rep.pools_rederived)}")
        return 0
    for p in rep.problems:
        print(p, file=sys.stderr)
    return _fail(f"verification FAILED ({len(rep.problems)} problem(s))")


def _findings_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="windowwatch audit findings")
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="record a finding for a sampled case")
    add.add_argument("--draw", required=True)
    add.add_argument("--case", required=True)
    add.add_argument("--codes", default="", help=f"comma list of: {', '.join(PROBLEM_CODES)} (empty = 无问题)")
    add.add_argument("--note", default="")
    add.add_argument("--inspectors", required=True, help="comma list of the inspectors who checked")
    ls = sub.add_parser("list", help="list findings")
    ls.add_argument("--draw")
    ls.add_argument("--json", action="store_true")
    return p


@_guard
def findings_main(args) -> int:
    try:
        sub = _findings_parser().parse_args(args.args)
    except SystemExit as exc:
        return int(exc.code or 0)
    if sub.action == "add":
        e = add_finding(sub.draw, sub.case, sub.codes, sub.note, sub.inspectors)
        print(f"recorded {e['finding_id']} for case {e['case_id']} of {e['draw_id']}: {';'.join(e['codes']) or '无问题'}")
        return 0
    rows = list_findings(sub.draw)
    if sub.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['finding_id']}  {r['draw_id']}  {r['case_id']}  {r['problem_codes'] or '无问题'}  {r['inspectors']}  {r['note']}")
        print(f"{len(rows)} finding(s)")
    return 0


@_guard
def export_main(args) -> int:
    path = export_draw(args.draw, args.format, args.out)
    print(path)
    return 0
