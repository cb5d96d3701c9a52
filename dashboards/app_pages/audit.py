"""双随机抽查 double-random audit in five steps: 1 plan (a form) → 2 commit → 3 draw with public
entropy → 4 findings → 5 public list (一公开) and its publication deadline (docs/rules.md#audit).

One audit is one commit of the hash-chained log and the draw that used it. Every step's state is
read from the log on every run (windowwatch.audit.plan_flow / publication_statuses), never kept
in the session, so the steps cannot go stale; the actions (commit, draw, finding, publication) run
as widget callbacks, before the page is drawn. The plan is written by a form: the form's plan is
validated by windowwatch/audit/plan.py and shown as the YAML that is committed (no comments, its
plan_hash that of SPEC §4.7). The order is the point: the entropy field appears only once the plan
is committed. Writing is for auditors; an inspector reads, and records findings only on the cases
the draw assigned to the inspector_id their account is linked to. Errors are shown with st.error,
never as a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pandas as pd
import streamlit as st
import yaml

from core.localtime import LOCAL_TZ
from core.settings import settings
from dashboards import auth
from dashboards import common as c
from dashboards import queries as q
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("audit.title"))

if ctx.role not in ("inspector", "auditor"):  # viewers only ever see the published reports
    st.error(t("audit.forbidden"))
    st.stop()
can_write = ctx.role == "auditor"

try:
    import windowwatch.audit as audit
    from windowwatch.snapshot import NoSnapshot  # PoolError is a NoSnapshot
except ImportError:  # the audit feature is not installed in this build
    audit = None

if audit is None:
    st.info(t("audit.placeholder"))
    st.stop()

# the errors the audit API raises on purpose; their messages say what to do
EXPECTED = (audit.PlanError, audit.DrawError, audit.FindingError, audit.LogError, audit.ExportError, NoSnapshot, OSError)
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "html": "text/html", "json": "application/json", "yaml": "application/yaml"}
NEW = "__new__"  # the audit selector's entry for a plan not committed yet
MSG = "audit_msg"  # {step: (kind, text)} left by a callback for the run that follows it
STRATA = ("department_id", "window_id", "none")
STATUSES = ("completed", "open", "rejected", "withdrawn")


def error_text(exc: Exception) -> str:
    # markdown needs two trailing spaces for the line breaks of multi-line plan errors
    return "  \n".join(c.md(line) for line in str(exc).splitlines())  # plan text and names: shown as text


# a plan problem said in the page's language: the form field it concerns, then what is wrong
FIELD_KEYS = {"name": "audit.form.name", "population.month": "audit.form.month", "population.status": "audit.form.status",
              "population.department_ids": "audit.form.departments", "population.window_ids": "audit.form.windows",
              "population.item_codes": "audit.form.items", "strata": "audit.form.strata", "sample": "audit.form.rule",
              "sample.per_stratum": "audit.form.k", "sample.ratio": "audit.form.ratio", "sample.min": "audit.form.min",
              "risk_boost.bottom_windows": "audit.form.boost_bottom", "risk_boost.off_book_windows": "audit.form.boost_offbook",
              "inspectors_per_case": "audit.form.ipc", "max_cases_per_inspector": "audit.form.cap"}
PROBLEM_KEYS = {"missing": "audit.problem.missing", "extra_forbidden": "audit.problem.extra_forbidden",
                "string_too_short": "audit.problem.empty", "too_short": "audit.problem.empty",
                "string_too_long": "audit.problem.too_long", "greater_than_equal": "audit.problem.ge",
                "greater_than": "audit.problem.gt", "less_than_equal": "audit.problem.le",
                "string_pattern_mismatch": "audit.problem.month", "literal_error": "audit.problem.choice",
                "int_parsing": "audit.problem.number", "int_type": "audit.problem.number",
                "float_parsing": "audit.problem.number", "float_type": "audit.problem.number",
                "int_from_float": "audit.problem.number", "yaml_syntax": "audit.problem.yaml",
                "not_mapping": "audit.problem.not_mapping"}


def plan_problems(exc: Exception) -> str:
    problems = getattr(exc, "problems", None)
    if not problems:
        return error_text(exc)
    lines = []
    for loc, kind, values in problems:
        field = t(FIELD_KEYS[loc]) if loc in FIELD_KEYS else c.md(loc)  # an unknown key: the file's own text
        problem = t(PROBLEM_KEYS.get(kind, "audit.problem.invalid"), **values)
        lines.append(t("audit.problem.line", field=field, problem=problem) if loc else problem)
    return "  \n".join(lines)


def say(step: int, kind: str, text: str) -> None:
    st.session_state.setdefault(MSG, {})[step] = (kind, text)


def show_messages(step: int) -> None:
    kind, text = st.session_state.get(MSG, {}).pop(step, (None, None))
    if kind:
        getattr(st, kind)(text)


def acting(fn):
    """A callback runs before app.py's sign-in check: it acts only for a live auditor/inspector session."""

    def run(*args):
        user = st.session_state.get(auth.SESSION_KEY)
        if auth.is_active(user) and ctx.role in ("auditor", "inspector"):
            fn(*args)

    return run


# ---------------------------------------------------------------- the log: audits, publication, names

try:
    entries = audit.AuditLog(ctx.home).entries()
    statuses = audit.publication_statuses(ctx.home)
except Exception as exc:  # a damaged log is reported, not hidden
    st.error(t("audit.error", error=error_text(exc)))
    st.stop()
names = audit.inspector_names(ctx.home) if ctx.snapshot else {}


def who(inspector_id: str) -> str:
    return audit.inspector_label(inspector_id, names)


def stratum_name(stratum) -> str:
    """A draw's stratum (a department or window id, or "all": windowwatch/audit/pools.py) by its name."""
    if stratum == "all":
        return t("audit.strata.none")
    if ctx.snapshot:
        pairs = q.window_departments(ctx.snapshot)
        reference = q.windows(ctx.snapshot)
        named = {**dict(zip(pairs.department_id, pairs.department_name)),
                 **dict(zip(reference.window_id, reference.window_name))}
        if stratum in named:
            return named[stratum]
    return str(stratum)


DRILL = {**c.link_config("open_case"), **c.link_config("open_window")}


def drill_links(shown: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """`shown` (headers in words) after the links of its rows (`ids`: case_id or evaluation_id, window_id):
    the case — an evaluation's is the case it rates — and the window, each opened in one click."""
    if "case_id" not in ids and "evaluation_id" in ids:
        rated = q.evaluation_cases(ctx.snapshot, tuple(sorted(set(ids.evaluation_id) - {""}))) if ctx.snapshot else {}
        ids = ids.assign(case_id=ids.evaluation_id.map(rated))
    return pd.concat([c.rename(c.with_link(c.window_link(ids))[["open_case", "open_window"]]), shown], axis=1)


commits = [e for e in entries if e.get("kind") == "commit"]
draw_of = {e["commit_seq"]: e for e in entries if e.get("kind") in ("draw", "callback")}
audits = {}  # id -> (commit, draw or None), newest first; the id is the draw's once drawn
for cm in reversed(commits):
    d = draw_of.get(cm["seq"])
    if d is not None or can_write:  # an inspector has nothing to do with an undrawn plan
        audits[d["draw_id"] if d else cm["commit_id"]] = (cm, d)

# ---------------------------------------------------------------- the plan form (step 1 of a new audit)

FORM_DEFAULTS = {"audit_f_status": "completed", "audit_f_strata": "department_id", "audit_f_rule": "per_stratum",
                 "audit_f_k": 5, "audit_f_ratio": 5.0, "audit_f_min": 1, "audit_f_boost_bottom": 2.0,
                 "audit_f_boost_offbook": 2.0, "audit_f_ipc": 2, "audit_f_cap": 10}


def form_plan_data() -> dict:
    """The plan the form's widgets describe, as the mapping plan.py validates."""
    s = st.session_state
    population = {"month": s.get("audit_f_month"), "status": s.get("audit_f_status")}
    for key, field in (("audit_f_depts", "department_ids"), ("audit_f_windows", "window_ids"), ("audit_f_items", "item_codes")):
        if s.get(key):
            population[field] = list(s[key])
    if s.get("audit_f_rule") == "ratio":
        ratio = float(Decimal(str(s.get("audit_f_ratio"))) / 100)  # 5 % → 0.05 exactly, not 0.05000000000000001
        sample = {"ratio": ratio, "min": int(s.get("audit_f_min"))}
    else:
        sample = {"per_stratum": int(s.get("audit_f_k"))}
    data = {"name": (s.get("audit_f_name") or "").strip(), "population": population, "strata": s.get("audit_f_strata"),
            "sample": sample}
    boost = {"bottom_windows": float(s.get("audit_f_boost_bottom")), "off_book_windows": float(s.get("audit_f_boost_offbook"))}
    if boost != {"bottom_windows": 1.0, "off_book_windows": 1.0}:  # no boost: the key is left out
        data["risk_boost"] = boost
    data["inspectors_per_case"] = int(s.get("audit_f_ipc"))
    data["max_cases_per_inspector"] = int(s.get("audit_f_cap"))
    return data


def fill_form(plan) -> None:
    """The form's widgets set to a validated plan (an uploaded YAML)."""
    s = st.session_state
    pop = plan.population
    s.update({"audit_f_name": plan.name, "audit_f_month": pop.month, "audit_f_status": pop.status,
              "audit_f_depts": list(pop.department_ids or []), "audit_f_windows": list(pop.window_ids or []),
              "audit_f_items": list(pop.item_codes or []), "audit_f_strata": plan.strata,
              "audit_f_ipc": plan.inspectors_per_case, "audit_f_cap": plan.max_cases_per_inspector})
    if plan.sample.ratio is not None:
        s.update({"audit_f_rule": "ratio", "audit_f_ratio": float(Decimal(str(plan.sample.ratio)) * 100),
                  "audit_f_min": plan.sample.min or 0})
    else:
        s.update({"audit_f_rule": "per_stratum", "audit_f_k": plan.sample.per_stratum})
    boost = plan.risk_boost
    s.update({"audit_f_boost_bottom": boost.bottom_windows if boost else 1.0,
              "audit_f_boost_offbook": boost.off_book_windows if boost else 1.0})


@acting
def load_upload() -> None:
    up = st.session_state.get("audit_plan_upload")
    if up is None:
        return
    try:
        plan = audit.parse_plan_text(up.getvalue().decode("utf-8", errors="replace"), source=t("audit.plan_source"))
    except audit.PlanError as exc:
        say(1, "error", t("audit.upload_failed", error=plan_problems(exc)))
        return
    fill_form(plan)
    if plan.population.month not in st.session_state.get("_audit_months", []):
        st.session_state.setdefault("_audit_months", []).append(plan.population.month)
    say(1, "success", t("audit.upload_loaded"))


@acting
def commit_form_plan() -> None:
    try:
        plan = audit.parse_plan(form_plan_data(), source=t("audit.plan_source"))
        entry = audit.commit_plan(plan, ctx.home, user=ctx.user)
    except EXPECTED as exc:
        say(2, "error", t("audit.failed", error=plan_problems(exc)))
        return
    st.session_state["audit_pick"] = entry["commit_id"]
    say(2, "success", t("audit.committed_now", id=entry["commit_id"]))


@acting
def draw_commit(commit: dict) -> None:
    entropy = (st.session_state.get("audit_entropy") or "").strip()
    if not entropy:
        say(3, "error", t("audit.entropy_empty"))
        return
    try:
        result = audit.draw(audit.parse_plan(commit["plan"]), entropy, ctx.home, user=ctx.user)
    except audit.DrawError as exc:
        if getattr(exc, "may_draw_at", None):  # only the commit wait stands in the way (docs/operations.md)
            say(3, "error", t("audit.commit_wait", minutes=f"{exc.wait_minutes:g}", at=exc.may_draw_at[:16].replace("T", " ")))
        else:
            say(3, "error", t("audit.failed", error=error_text(exc)))
        return
    except EXPECTED as exc:
        say(3, "error", t("audit.failed", error=error_text(exc)))
        return
    st.session_state["audit_pick"] = result.draw_id  # the audit is now known by its draw
    say(3, "success", t("audit.drawn", id=result.draw_id, sampled=len(result.sample), seed=result.seed[:16]))


@acting
def record_finding(draw_id: str, case_id: str) -> None:
    s = st.session_state
    codes, inspectors = s.get(f"audit_codes_{draw_id}") or [], s.get(f"audit_insp_{draw_id}_{case_id}") or []
    try:
        # checked again at the moment of writing, against the logged draw, not the widget
        logged = audit.get_draw(draw_id, ctx.home) or {}
        row = next((x for x in logged.get("result", {}).get("sample", []) if x["case_id"] == case_id), None)
        if not can_write and not (ctx.role == "inspector" and ctx.inspector_id and row
                                  and ctx.inspector_id in row["inspectors"] and ctx.inspector_id in inspectors):
            raise audit.FindingError(t("audit.finding_not_yours", case=case_id, inspector=ctx.inspector_id))
        if not inspectors:
            raise audit.FindingError(t("audit.finding_who_missing"))
        f = audit.add_finding(draw_id, case_id, codes, s.get(f"audit_note_{draw_id}") or "", inspectors, ctx.home,
                              user=ctx.user)
    except EXPECTED as exc:
        say(4, "error", t("audit.failed", error=error_text(exc)))
        return
    say(4, "success", t("audit.finding_added", id=f["finding_id"], case=c.md(case_id)))


@acting
def publish(draw_id: str) -> None:
    if not can_write:
        return
    try:
        e = audit.publish_list(draw_id, ctx.home, user=ctx.user)
    except EXPECTED as exc:
        say(5, "error", t("audit.failed", error=error_text(exc)))
        return
    say(5, "success", t("audit.published_now", id=e["publication_id"], at=e["at"][:16].replace("T", " ")))


# ---------------------------------------------------------------- which audit

options = ([NEW] if can_write else []) + list(audits)
if not options:
    st.caption(t("audit.read_only"))
    st.info(t("audit.none"))
    st.stop()
if st.session_state.get("audit_pick") not in options:
    st.session_state["audit_pick"] = next(iter(audits), NEW)


def audit_label(key: str) -> str:
    if key == NEW:
        return t("audit.pick_new")
    cm, d = audits[key]
    name = (cm.get("plan") or {}).get("name") or ""
    if d is None:
        return t("audit.pick_commit", id=key, name=name)
    pub = statuses.get(key)
    state = t("audit.pub.overdue") if pub and pub.overdue else (t("audit.pub.published") if pub and pub.published else "")
    return t("audit.pick_draw", id=key, name=name, at=d["at"][:10]) + (f" · {state}" if state else "")


if not can_write:
    st.caption(t("audit.read_only"))
pick = st.selectbox(t("audit.pick"), options, key="audit_pick", format_func=audit_label)
commit, drawn = audits.get(pick, (None, None))

# the state of the five steps, from the log and (for a new plan) the form
plan_error: Exception | None = None
new_plan = None
if pick == NEW:
    snapshot = ctx.snapshot
    month_options = [m.strftime("%Y-%m") for m in q.months(snapshot)] if snapshot else []
    for extra in st.session_state.get("_audit_months", []):  # a month an uploaded plan named
        if extra not in month_options:
            month_options.append(extra)
    if not month_options:
        st.warning(t("common.no_snapshot"))
        st.stop()
    if st.session_state.get("audit_f_month") not in month_options:
        active = q.active_month(snapshot) if snapshot else None
        st.session_state["audit_f_month"] = active.strftime("%Y-%m") if active and active.strftime("%Y-%m") in month_options \
            else month_options[0]
    for key, value in FORM_DEFAULTS.items():
        st.session_state.setdefault(key, value)
    if "audit_f_name" not in st.session_state:
        y, m = st.session_state["audit_f_month"].split("-")
        st.session_state["audit_f_name"] = t("audit.form.default_name", year=y, month=int(m))
    try:
        new_plan = audit.parse_plan(form_plan_data(), source=t("audit.plan_source"))
    except audit.PlanError as exc:
        plan_error = exc

pub = statuses.get(drawn["draw_id"]) if drawn else None
is_case_draw = drawn is not None and drawn.get("kind") == "draw"
progress = audit.findings_progress(drawn, ctx.home) if is_case_draw else None

DONE, CURRENT, TODO, WARN = "done", "current", "todo", "warn"
# Streamlit's own icon font: emoji need a font the browser may lack (a kiosk or server chromium)
ICON = {DONE: ":green[:material/check_circle:]", CURRENT: ":blue[:material/radio_button_checked:]",
        TODO: ":gray[:material/radio_button_unchecked:]", WARN: ":orange[:material/warning:]"}


def step_states() -> list[tuple[str, str]]:
    """(state, detail) of steps 1–5 for the audit picked."""
    if pick == NEW:
        ok = new_plan is not None
        return [(DONE if ok else CURRENT, t("audit.step.plan_ok") if ok else t("audit.step.plan_fill")),
                (CURRENT if ok else TODO, t("audit.step.commit_todo")), (TODO, ""), (TODO, ""), (TODO, "")]
    out = [(DONE, t("audit.step.plan_fixed")), (DONE, t("audit.step.committed", id=commit["commit_id"]))]
    if drawn is None:
        return out + [(CURRENT, t("audit.step.draw_todo")), (TODO, ""), (TODO, "")]
    out.append((DONE, t("audit.step.drawn", id=drawn["draw_id"], n=len(drawn["result"]["sample"]))))
    if progress is None:
        out.append((DONE, t("audit.step.findings_na")))
    else:
        n, total = progress
        out.append((DONE if n >= total else CURRENT, t("audit.step.findings", n=n, total=total)))
    deadline = pub.deadline.isoformat() if pub and pub.deadline else t("audit.deadline_unknown")
    if pub and pub.published:
        out.append((DONE, t("audit.step.published", at=pub.published_at[:10])))
    elif pub and pub.overdue:
        out.append((WARN, t("audit.step.overdue", deadline=deadline)))
    else:
        out.append((CURRENT if out[-1][0] == DONE else TODO, t("audit.step.due", deadline=deadline)))
    return out


for i, (col, (state, detail)) in enumerate(zip(st.columns(5), step_states()), start=1):
    col.markdown(f"{ICON[state]} **{i}. {t(f'audit.step.{i}')}**  \n{t(f'audit.state.{state}')}")
    if detail:
        col.caption(detail)
st.divider()

# ---------------------------------------------------------------- 1. plan

st.subheader(t("audit.plan_header"))
show_messages(1)
if pick == NEW:
    st.caption(t("audit.plan_help"))
    reference = q.windows(ctx.snapshot)
    depts = dict(zip(reference["department_id"], reference["department_name"]))
    wins = dict(zip(reference["window_id"], reference["window_name"]))
    items = q.items(ctx.snapshot) if q.has_table(ctx.snapshot, "dim_item") else pd.DataFrame(columns=["item_code", "item_name"])
    item_names = dict(zip(items["item_code"], items["item_name"]))
    for key, known in (("audit_f_depts", depts), ("audit_f_windows", wins), ("audit_f_items", item_names)):
        kept = [v for v in st.session_state.get(key) or [] if v in known]  # an uploaded id this snapshot lacks
        st.session_state[key] = kept

    st.text_input(t("audit.form.name"), key="audit_f_name", max_chars=200)
    a, b, s_ = st.columns(3)
    a.selectbox(t("audit.form.month"), month_options, key="audit_f_month", help=t("audit.form.month_help"))
    b.selectbox(t("audit.form.status"), STATUSES, key="audit_f_status", format_func=lambda v: t(f"audit.status.{v}"))
    s_.selectbox(t("audit.form.strata"), STRATA, key="audit_f_strata", format_func=lambda v: t(f"audit.strata.{v}"))
    a, b, s_ = st.columns(3)
    a.multiselect(t("audit.form.departments"), list(depts), key="audit_f_depts",
                  format_func=lambda v: f"{depts[v]}（{v}）", placeholder=t("audit.form.all"))
    b.multiselect(t("audit.form.windows"), list(wins), key="audit_f_windows",
                  format_func=lambda v: f"{wins[v]}（{v}）", placeholder=t("audit.form.all"))
    s_.multiselect(t("audit.form.items"), list(item_names), key="audit_f_items",
                   format_func=lambda v: f"{item_names[v]}（{v}）", placeholder=t("audit.form.all"))
    st.radio(t("audit.form.rule"), ("per_stratum", "ratio"), key="audit_f_rule", horizontal=True,
             format_func=lambda v: t(f"audit.form.rule_{v}"))
    a, b, s_ = st.columns(3)
    if st.session_state["audit_f_rule"] == "per_stratum":
        a.number_input(t("audit.form.k"), min_value=1, max_value=10_000, step=1, key="audit_f_k", help=t("audit.form.k_help"))
    else:
        a.number_input(t("audit.form.ratio"), min_value=0.1, max_value=100.0, step=0.5, format="%.1f", key="audit_f_ratio")
        b.number_input(t("audit.form.min"), min_value=0, max_value=10_000, step=1, key="audit_f_min")
    a, b, s_ = st.columns(3)
    a.number_input(t("audit.form.boost_bottom"), min_value=1.0, max_value=100.0, step=0.5, format="%.1f",
                   key="audit_f_boost_bottom", help=t("audit.form.boost_help"))
    b.number_input(t("audit.form.boost_offbook"), min_value=1.0, max_value=100.0, step=0.5, format="%.1f",
                   key="audit_f_boost_offbook", help=t("audit.form.boost_help"))
    a, b, s_ = st.columns(3)
    a.number_input(t("audit.form.ipc"), min_value=2, max_value=20, step=1, key="audit_f_ipc", help=t("audit.form.ipc_help"))
    b.number_input(t("audit.form.cap"), min_value=1, max_value=10_000, step=1, key="audit_f_cap")
    with st.expander(t("audit.advanced")):
        st.caption(t("audit.upload_help"))
        st.file_uploader(t("audit.upload"), type=["yaml", "yml"], key="audit_plan_upload", on_change=load_upload)
    if plan_error is not None:
        st.error(t("audit.plan_invalid", error=plan_problems(plan_error)))
    plan_shown = new_plan
elif (commit.get("plan") or {}).get("kind") == "callback":
    plan_shown = None
    st.caption(t("audit.plan_callback"))
    st.code(yaml.safe_dump(commit["plan"], allow_unicode=True, sort_keys=False), language="yaml")
else:
    plan_shown = audit.parse_plan(commit["plan"])
    st.caption(t("audit.plan_fixed"))
if plan_shown is not None:
    text = audit.plan_yaml(plan_shown)
    st.markdown(t("audit.plan_yaml"))
    st.code(text, language="yaml")
    st.download_button(t("audit.download.yaml"), text.encode("utf-8"), file_name="audit-plan.yaml", mime=MIME["yaml"],
                       key="audit_dl_plan", on_click="ignore")

# ---------------------------------------------------------------- 2. commit

st.subheader(t("audit.commit_header"))
show_messages(2)
if pick == NEW:
    st.info(t("audit.commit_first"))
    st.button(t("audit.commit"), key="audit_commit_btn", type="primary", disabled=new_plan is None,
              on_click=commit_form_plan)
else:
    st.success(t("audit.committed", id=commit["commit_id"], at=commit["at"][:19].replace("T", " "), user=c.md(commit["user"])))
    st.code(commit["plan_hash"], language=None)

# ---------------------------------------------------------------- 3. entropy and draw

st.subheader(t("audit.draw_header"))
show_messages(3)
if pick == NEW:
    st.caption(t("audit.draw_after_commit"))
elif drawn is None and (commit.get("plan") or {}).get("kind") == "callback":
    st.caption(t("audit.plan_callback"))  # a callback sample is drawn on the command line
elif drawn is None:
    wait = settings().audit_commit_min_minutes
    may_draw = dt.datetime.fromisoformat(commit["at"]) + dt.timedelta(minutes=wait)
    if wait > 0 and dt.datetime.now(LOCAL_TZ) < may_draw:
        st.info(t("audit.draw_wait", at=may_draw.isoformat(timespec="minutes")[:16].replace("T", " "), minutes=f"{wait:g}"))
    if can_write:
        st.text_input(t("audit.entropy"), key="audit_entropy", help=t("audit.entropy_help"))
        st.button(t("audit.draw"), key="audit_draw_btn", type="primary", on_click=draw_commit, args=(commit,))
else:
    st.markdown(t("audit.meta", name=c.md(drawn["plan"].get("name")), at=c.md(drawn["at"][:19].replace("T", " ")),
                  seed=drawn["seed"][:16], entropy=c.md(drawn["entropy"])))
    st.caption(t("audit.hashes", plan_hash=drawn["plan_hash"], entry_hash=drawn["entry_hash"]))
    unstaffed = drawn["result"]["unstaffed"]
    if unstaffed:
        st.warning(t("audit.unstaffed", n=len(unstaffed), cases=c.md("、".join(unstaffed))))
    if st.button(t("audit.verify"), key="audit_verify"):
        try:
            report = audit.verify(drawn["draw_id"], ctx.home)
        except EXPECTED as exc:
            st.error(t("audit.failed", error=error_text(exc)))
        else:
            (st.success if report.ok else st.error)(
                t("audit.verified") if report.ok else t("audit.verify_failed", detail=c.md(str(report))))

# ---------------------------------------------------------------- 4. findings

st.subheader(t("audit.findings_header"))
show_messages(4)
if drawn is None:
    st.caption(t("audit.findings_after_draw"))
elif not is_case_draw:
    st.caption(t("audit.findings_callback"))
else:
    draw_id = drawn["draw_id"]
    sample = {x["case_id"]: x for x in drawn["result"]["sample"]}
    if not can_write:  # an inspector records findings only on the cases the draw assigned to them
        mine = ctx.inspector_id if ctx.role == "inspector" else None
        sample = {cid: x for cid, x in sample.items() if mine and mine in x["inspectors"]}
        if ctx.role == "inspector" and not mine:
            st.caption(t("audit.finding_no_inspector_id"))
        elif mine and not sample:
            st.caption(t("audit.finding_none_assigned", inspector=who(mine)))
    if sample:
        case_id = st.selectbox(t("audit.finding_case"), list(sample), key=f"audit_case_{draw_id}",
                               format_func=lambda cid: f"{cid} · {stratum_name(sample[cid]['stratum'])}")
        assigned = sample[case_id]["inspectors"]
        if not assigned:
            st.warning(t("audit.finding_unstaffed", case=c.md(case_id)))
        else:
            st.multiselect(t("audit.finding_codes"), list(audit.PROBLEM_CODES), key=f"audit_codes_{draw_id}",
                           help=t("audit.finding_codes_help"), placeholder=t("audit.no_problem"))
            st.multiselect(t("audit.finding_inspectors"), assigned, default=assigned if can_write else [ctx.inspector_id],
                           key=f"audit_insp_{draw_id}_{case_id}", format_func=who, placeholder=t("audit.finding_who_missing"))
            st.text_area(t("audit.finding_note"), key=f"audit_note_{draw_id}")
            st.button(t("audit.finding_add"), key="audit_finding_btn", type="primary", on_click=record_finding,
                      args=(draw_id, case_id))
    findings = audit.list_findings(draw_id, ctx.home)
    if findings:
        ft = pd.DataFrame(findings)[["finding_id", "case_id", "window_id", "problem_codes", "note", "inspectors",
                                     "recorded_at", "recorded_by"]]
        ft["note"] = ft["note"].map(c.mask_pii)
        ft["problem_codes"] = ft["problem_codes"].map(lambda v: "、".join(v.split(";")) if v else t("audit.no_problem"))
        ft["inspectors"] = ft["inspectors"].map(lambda v: "、".join(who(i) for i in v.split(";") if i))
        ft["recorded_at"] = ft["recorded_at"].str[:19].str.replace("T", " ")
        st.dataframe(drill_links(c.rename(ft, "audit.col"), ft), hide_index=True, key="audit_findings", column_config=DRILL)
    else:
        st.caption(t("audit.findings_none"))

# ---------------------------------------------------------------- 5. the public list (一公开) and its deadline

st.subheader(t("audit.export_header"))
show_messages(5)
if drawn is None:
    st.caption(t("audit.list_after_draw"))
else:
    draw_id = drawn["draw_id"]
    if pub is not None and pub.deadline is not None:
        line = t("audit.deadline", deadline=pub.deadline.isoformat(), period=pub.period_end.strftime("%Y-%m"),
                 n=audit.PUBLICATION_WORKDAYS)
        if pub.deadline_assumed:
            line += t("audit.deadline_assumed")
        st.markdown(line)
    else:
        st.caption(t("audit.deadline_unknown_help"))
    if pub is not None and pub.published:
        (st.warning if pub.late else st.success)(
            t("audit.published_late" if pub.late else "audit.published",
              id=pub.publication_id, at=pub.published_at[:16].replace("T", " "), user=c.md(pub.published_by or "")))
        if audit.changed_since_publication(draw_id, ctx.home):
            st.warning(t("audit.changed_since"))
    elif pub is not None and pub.overdue:
        st.warning(t("audit.overdue", deadline=pub.deadline.isoformat(), days=(pub.today - pub.deadline).days))
    try:
        public = audit.build_public_list(draw_id, ctx.home)
    except EXPECTED as exc:
        st.error(t("audit.error", error=error_text(exc)))
        st.stop()
    if public.rows:
        shown = pd.DataFrame(public.rows, columns=[t(f"audit.list.{k}") for k in public.keys])
        if public.kind == "draw":
            shown[t("audit.col_unstaffed")] = public.unstaffed
            note = t("audit.list.note")
            shown[note] = shown[note].map(c.mask_pii)  # defence in depth: notes are scrubbed when recorded
        st.container(key="audit_public_box").dataframe(drill_links(shown, pd.DataFrame(public.rows, columns=public.keys)),
                                                       hide_index=True, key="audit_public", column_config=DRILL)
    home = ctx.home
    makers = {fmt: (lambda fmt=fmt: audit.render(audit.build_public_list(draw_id, home), fmt)) for fmt in ("csv", "xlsx", "html")}
    # the draw's and its commit's log entries verbatim: enough to recompute the draw (VERIFY.md)
    makers["json"] = lambda: json.dumps(audit.verification_bundle(draw_id, home), ensure_ascii=False, indent=1).encode("utf-8")
    for col, (fmt, make) in zip(st.columns(len(makers)), makers.items()):
        col.download_button(t(f"audit.download.{fmt}"), auth.guarded(make), file_name=f"audit-{draw_id}.{fmt}",
                            mime=MIME[fmt], key=f"audit_dl_{fmt}", on_click="ignore")
    if can_write:
        st.button(t("audit.publish"), key="audit_publish_btn", on_click=publish, args=(draw_id,), help=t("audit.publish_help"))

# ---------------------------------------------------------------- every draw and its publication

st.divider()
st.subheader(t("audit.log_header"))
draws = audit.list_draws(ctx.home)
overdue = [d["draw_id"] for d in draws if statuses.get(d["draw_id"]) and statuses[d["draw_id"]].overdue]
if overdue:
    st.warning(t("audit.overdue_lists", n=len(overdue), ids=c.md("、".join(overdue))))
if draws:
    table = pd.DataFrame(draws)[["draw_id", "kind", "name", "at", "sampled", "unstaffed", "plan_hash", "entropy", "seed"]]
    table["kind"] = table["kind"].map(lambda k: t(f"audit.kind.{k}"))
    table["at"] = table["at"].str[:19].str.replace("T", " ")

    def pub_state(draw_id: str) -> str:
        p = statuses.get(draw_id)
        if p is None or p.deadline is None and not p.published:
            return t("audit.pub.pending")
        if p.published:
            return t("audit.pub.published_late") if p.late else t("audit.pub.published")
        return t("audit.pub.overdue") if p.overdue else t("audit.pub.pending")

    table.insert(6, "deadline", [statuses[i].deadline.isoformat() if statuses.get(i) and statuses[i].deadline else ""
                                 for i in table["draw_id"]])
    table.insert(7, "publication", [pub_state(i) for i in table["draw_id"]])
    st.dataframe(c.rename(table, "audit.log"), hide_index=True, key="audit_draws")
else:
    st.caption(t("audit.none"))
