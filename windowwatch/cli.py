"""The `windowwatch` command line (docs/architecture.md#command-line).

Each subcommand names the function that implements it as "module:function"; the function
takes the parsed arguments and returns the exit code. A subcommand whose module does not
exist yet says so and exits non-zero: no fake success.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _month(value: str) -> str:
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month YYYY-MM")
    return value


def _date(value: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="windowwatch",
        description="WindowWatch 窗口效能电子监察: electronic supervision and scoring of service windows.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="make demo feeds if absent, run the pipeline, publish, serve")
    demo.add_argument("--port", type=int, default=8501)
    demo.add_argument("--no-serve", action="store_true", help="stop after publishing")

    gen = sub.add_parser("generate", help="synthetic feeds with injected anomalies and a ground-truth file",
                         description="Write every feed of the contract (transactions, evaluations, video_flags, the "
                                     "reference feeds, and the hall-operation feeds attendance, queue_tickets, "
                                     "work_orders, inspections), one sub-folder per feed, and _truth/ "
                                     "(ground_truth.json and one CSV per planted pattern).")
    gen.add_argument("--scale", choices=["small", "city", "province"], default="small")
    gen.add_argument("--out", required=True, help="output folder (one sub-folder per feed)")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--as-of", type=_date, default=None, help="last day of generated activity")

    ing = sub.add_parser("ingest", help="land the configured sources (normally run by `windowwatch run`)")
    ing.add_argument("--feeds", help="the inbox folder for files sources")
    ing.add_argument("--config", help="sources file (default windowwatch.yaml)")
    ing.add_argument("--source", action="append", help="only this source (repeatable)")

    run = sub.add_parser("run", help="the daily pipeline, through Airflow")
    run.add_argument("--feeds", help="the inbox folder for files sources")
    run.add_argument("--as-of", type=_date, default=None)
    run.add_argument("--allow-older", action="store_true",
                     help="publish even when the as-of date is older than the live snapshot's (else the run builds and "
                     "gates, and the live snapshot stays)")

    serve = sub.add_parser("serve", help="the dashboards")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", help="the address to listen on (default WINDOWWATCH_SERVE_ADDRESS, 127.0.0.1; "
                       "behind a TLS reverse proxy, docs/operations.md)")

    users = sub.add_parser("users", help="local dashboard accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    ua = users_sub.add_parser("add", help="add or reset an account")
    ua.add_argument("name")
    ua.add_argument("--role", choices=["inspector", "auditor", "viewer", "manager", "department"], required=True)
    ua.add_argument("--password-stdin", action="store_true")
    ua.add_argument("--inspector-id", help="inspectors only: the account's id in the inspectors feed (may record "
                    "findings on the audit cases assigned to it)")
    ua.add_argument("--department-id", help="department (部门联络员) only, and required: the department the account "
                    "answers for")
    ua.add_argument("--email", help="where the supervision outbox mails this account (WINDOWWATCH_SMTP_URL)")

    kio = sub.add_parser("kiosk", help="hall-screen (大屏) kiosk tokens: the hall page without an account")
    kio_sub = kio.add_subparsers(dest="kiosk_command", required=True, metavar="ACTION")
    ka = kio_sub.add_parser("add", help="create or replace a screen's token (printed once, only its hash kept)")
    ka.add_argument("name")
    ka.add_argument("--center", help="show only this centre on that screen")
    kr = kio_sub.add_parser("revoke", help="refuse a screen's token from its next refresh")
    kr.add_argument("name")
    kio_sub.add_parser("list", help="the screens, active or revoked")

    rep = sub.add_parser("report", help="monthly ranking publication")
    rep_sub = rep.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    rp = rep_sub.add_parser("publish", help="freeze and render the month's ranking")
    rp.add_argument("--month", type=_month, required=True)
    rv = rep_sub.add_parser("verify", help="detect edits to published reports (files and manifest)")
    rv.add_argument("--month", type=_month, help="only this month (default: every month)")

    aud = sub.add_parser("audit", help="double-random audit draws (双随机、一公开)")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    ad = aud_sub.add_parser("draw", help="draw with public entropy from a plan committed earlier (`audit commit`)")
    ad.add_argument("--plan", required=True)
    ad.add_argument("--entropy", required=True)
    ad.add_argument("--json", action="store_true")
    av = aud_sub.add_parser("verify", help="recompute draws from the log and check the hash chain")
    av.add_argument("draw_id", nargs="?")
    av.add_argument("--repair-torn-tail", action="store_true", help="move an incomplete last line (crash mid-write) aside")
    av.add_argument("--anchor", action="append", metavar="HASH",
                    help="a chain head printed in a published report or public list: the log must still hold it (repeatable)")
    af = aud_sub.add_parser("findings", help="record or list findings of sampled cases")
    af.add_argument("args", nargs=argparse.REMAINDER)
    ae = aud_sub.add_parser("export", help="public export of draws and findings (一公开)")
    # explicit options: a REMAINDER positional does not capture arguments that start with "--"
    ae.add_argument("--draw", required=True)
    ae.add_argument("--format", choices=["csv", "xlsx", "html", "json"], required=True,
                    help="json: the verification bundle (plan, entropy, pools, result, hashes)")
    ae.add_argument("--out", required=True)
    ac = aud_sub.add_parser("commit", help="record a plan's hash before the entropy is known")
    ac.add_argument("--plan", required=True)
    acb = aud_sub.add_parser("callback", help="回访抽样: all bad reviews plus a random share of 基本满意")
    acb.add_argument("--month", type=_month, required=True)
    acb.add_argument("--share", type=float, default=0.1)
    acb.add_argument("--entropy", required=True)
    acb.add_argument("--json", action="store_true")

    sub.add_parser("doctor", help="check a deployment before its first scheduled run (one line per check)")

    cal = sub.add_parser("calendar", help="the working-day calendar (official / feed / assumed)")
    cal_sub = cal.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    cal_sub.add_parser("status", help="per year: days from the official calendar, the calendar feed, or assumed Mon–Fri")
    cy = cal_sub.add_parser("add-year", help="deliver a year's State Council arrangement (a YAML notice) as a calendar feed file")
    cy.add_argument("file", help="the notice as YAML: year, holidays (name, from, to), makeup_workdays")
    cy.add_argument("--out", help="the inbox to deliver to (default: the files source's `path:`)")
    cy.add_argument("--force", action="store_true", help="override a year of the official calendar, or replace a delivered file")

    sup = sub.add_parser("supervise", help="supervision workflow 督办: items opened from the snapshot's triggers")
    sup_sub = sup.add_subparsers(dest="supervise_command", required=True, metavar="ACTION")
    sup_sub.add_parser("sync", help="open items for the published snapshot's triggers, mark cleared ones, escalate "
                       "overdue ones, send the outbox")
    sup_sub.add_parser("send", help="e-mail the outbox now (WINDOWWATCH_SMTP_URL)")
    sl = sup_sub.add_parser("list", help="list supervision items")
    sl.add_argument("--state", help="open, notified, acknowledged, rectified, closed or escalated")
    sl.add_argument("--department", help="only this department_id")
    sl.add_argument("--json", action="store_true", help="a JSON array of {item_id, kind, subject_id, rule, state, "
                    "department_id, window_id, opened_at, reply_by, version}")
    sa_ = sup_sub.add_parser("act", help="take an action on an item (the role checks of the dashboards)")
    sa_.add_argument("item", type=int)
    sa_.add_argument("--action", required=True, choices=["notify", "acknowledge", "rectify", "close", "escalate", "reopen"])
    sa_.add_argument("--user", required=True, help="the account acting (its role and department are checked)")
    sa_.add_argument("--note", required=True)
    sa_.add_argument("--reason", help="close: rectified (整改到位) | handled (已处理) | false_alarm (误报)")
    sa_.add_argument("--expect-version", type=int, help="refuse when the item is no longer at this version (someone "
                     "acted on it since you looked)")

    so_ = sup_sub.add_parser("open", help="open an item by hand (inspector): a window, optionally one of its cases, "
                             "and the reason")
    so_.add_argument("--window", required=True, help="the window_id the item is about")
    so_.add_argument("--case", help="one of the window's cases (case_id), when the item is about a case")
    so_.add_argument("--reason", required=True, help="what was found and why it is supervised (the item's evidence)")
    so_.add_argument("--user", required=True, help="the inspector opening it")
    sb_ = sup_sub.add_parser("bench", help="time sync and the 督办 page's queries on N synthetic items (own home)")
    sb_.add_argument("--items", type=int, default=10_000, help="how many items (triggers) to build (default 10000)")
    sb_.add_argument("--url", help="an empty PostgreSQL database to use as the store (default: SQLite in a temp home)")

    qua = sub.add_parser("quarantine", help="take back what landed")
    qua_sub = qua.add_subparsers(dest="quarantine_command", required=True, metavar="ACTION")
    qd = qua_sub.add_parser("delivery", help="take a landed delivery back: out of the gates, the build and the "
                            "published data, recorded with who, when and why (the audit log)")
    qd.add_argument("id", help="the delivery's content id (or a unique prefix of 8+ characters), as the raw gate's "
                    "failure names it")
    qd.add_argument("--user", required=True, help="who takes it back")
    qd.add_argument("--reason", required=True, help="why (recorded with the delivery and in the audit log)")

    pii = sub.add_parser("pii", help="the applicant-data (PII) key")
    pii_sub = pii.add_subparsers(dest="pii_command", required=True, metavar="ACTION")
    pr = pii_sub.add_parser("rotate", help="make the key now set (WINDOWWATCH_PII_KEY[_FILE]) the landing's key, recorded")
    pr.add_argument("--reason", required=True, help="why the key changes (recorded with the date and the actor)")
    pr.add_argument("--actor", help="who rotates (default: the OS user)")

    bench = sub.add_parser("bench", help="the benchmark")
    bench.add_argument("--scale", choices=["small", "city", "province"], default="small")
    bench.add_argument("--no-end-to-end", dest="end_to_end", action="store_false",
                       help="skip timing `windowwatch run` through Airflow after the stages (full and incremental)")
    return p


# One function per command. Each imports its implementation when called: `windowwatch --help`
# and the light commands must not pay for Airflow, dbt, polars or Streamlit at start-up.

def _demo(args):
    from windowwatch.demo import main
    return main(args)


def _generate(args):
    from windowwatch.generate.cli import main
    return main(args)


def _ingest(args):
    from ingest.run import main
    return main(args)


def _run(args):
    from windowwatch.pipeline import run_main
    return run_main(args)


def _serve(args):
    from windowwatch.serve import main
    return main(args)


def _users_add(args):
    from windowwatch.accounts import add_main
    return add_main(args)


def _kiosk(args):
    from windowwatch.kiosk import main
    return main(args)


def _report_publish(args):
    from windowwatch.reports.publication import main
    return main(args)


def _report_verify(args):
    from windowwatch.reports.verify_reports import main
    return main(args)


def _audit(args):
    from windowwatch.audit import cli
    return {"draw": cli.draw_main, "verify": cli.verify_main, "findings": cli.findings_main,
            "export": cli.export_main, "commit": cli.commit_main, "callback": cli.callback_main}[args.audit_command](args)


def _doctor(args):
    from windowwatch.doctor import main
    return main(args)


def _calendar(args):
    from windowwatch import calendar_feed
    return {"status": calendar_feed.status_main, "add-year": calendar_feed.add_year_main}[args.calendar_command](args)


def _pii_rotate(args):
    from windowwatch.pii import rotate_main
    return rotate_main(args)


def _quarantine_delivery(args):
    from windowwatch.deliveries import quarantine_main
    return quarantine_main(args)


def _supervise(args):
    from windowwatch.supervision import cli
    return {"sync": cli.sync_main, "send": cli.send_main, "list": cli.list_main,
            "act": cli.act_main, "open": cli.open_main, "bench": cli.bench_main}[args.supervise_command](args)


def _bench(args):
    from windowwatch.bench import main
    return main(args)


# command path -> implementing function
HANDLERS = {
    "demo": _demo,
    "generate": _generate,
    "ingest": _ingest,
    "run": _run,
    "serve": _serve,
    "users add": _users_add,
    **{f"kiosk {action}": _kiosk for action in ("add", "revoke", "list")},
    "report publish": _report_publish,
    "report verify": _report_verify,
    **{f"audit {action}": _audit for action in ("draw", "verify", "findings", "export", "commit", "callback")},
    "doctor": _doctor,
    **{f"calendar {action}": _calendar for action in ("status", "add-year")},
    "bench": _bench,
    "pii rotate": _pii_rotate,
    "quarantine delivery": _quarantine_delivery,
    **{f"supervise {action}": _supervise for action in ("sync", "send", "list", "act", "open", "bench")},
}


def _command_key(args: argparse.Namespace) -> str:
    for attr in ("users_command", "kiosk_command", "report_command", "audit_command", "calendar_command", "pii_command",
                 "quarantine_command", "supervise_command"):
        action = getattr(args, attr, None)
        if action:
            return f"{args.command} {action}"
    return args.command


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = HANDLERS[_command_key(args)]
    from core.config import ConfigError

    try:
        return int(handler(args) or 0)
    except ConfigError as exc:
        print(f"windowwatch: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
