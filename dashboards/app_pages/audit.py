"""双随机抽查 double-random audit: plan → commit → public entropy → draw → verify → findings →
public list (一公开, docs/rules.md).

The order is the point of the page: the plan hash is committed to the hash-chained log BEFORE
the entropy field even appears, so nobody can pick a plan after seeing the entropy. Writing
(commit, draw, findings) is for auditors; an inspector reads, and records findings only on the
sampled cases the draw assigned to the inspector_id their account is linked to. Everything goes through
`windowwatch.audit`; errors are shown with st.error, never as a traceback.
"""

import json
import tempfile

import pandas as pd
import streamlit as st

from dashboards import auth
from dashboards import common as c
from dashboards.i18n import t
from windowwatch.spreadsheets import csv_bytes, xlsx_bytes

ctx = c.ctx()
st.title(t("audit.title"))

if ctx.role not in ("inspector", "auditor"):  # viewers only ever see the published reports
    st.error(t("audit.forbidden"))
    st.stop()
can_write = ctx.role == "auditor"

try:
    import windowwatch.audit as audit
    from windowwatch.audit.public_list import ExportError
    from windowwatch.snapshot import NoSnapshot  # PoolError is a NoSnapshot
except ImportError:  # the audit feature is not installed in this build
    audit = None

if audit is None:
    st.info(t("audit.placeholder"))
    st.stop()

# the errors the audit API raises on purpose; their messages say what to do
EXPECTED = (audit.PlanError, audit.DrawError, audit.FindingError, audit.LogError, ExportError, NoSnapshot, OSError)
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "html": "text/html", "json": "application/json"}


def show_error(exc: Exception, reading: bool = False) -> None:
    # markdown needs two trailing spaces for the line breaks of multi-line plan errors
    text = "  \n".join(c.md(line) for line in str(exc).splitlines())  # plan text and names: shown as text
    st.error(t("audit.error", error=text) if reading else t("audit.failed", error=text))


# ---------------------------------------------------------------- 1. plan and commit (auditor)

if can_write:
    st.subheader(t("audit.plan_header"))
    st.caption(t("audit.plan_help"))
    if "audit_plan_text" not in st.session_state:
        st.session_state["audit_plan_text"] = audit.EXAMPLE_PLAN.read_text(encoding="utf-8")
    plan_text = st.text_area(t("audit.plan_label"), key="audit_plan_text", height=300)
    if st.button(t("audit.commit"), key="audit_commit_btn", type="primary"):
        try:
            plan = audit.parse_plan_text(plan_text, source=t("audit.plan_source"))
            entry = audit.commit_plan(plan, ctx.home, user=ctx.user)
            st.session_state["audit_commit"] = {"plan_hash": entry["plan_hash"], "at": entry["at"],
                                                "commit_id": entry["commit_id"], "text": plan_text}
        except EXPECTED as exc:
            show_error(exc)

    committed = st.session_state.get("audit_commit")
    if committed is None:
        st.info(t("audit.commit_first"))
    else:
        st.success(t("audit.committed", id=committed["commit_id"], at=committed["at"]))
        st.code(committed["plan_hash"], language=None)
        if plan_text != committed["text"]:
            st.warning(t("audit.plan_changed"))

        # ------------------------------------------------------------ 2. entropy and draw
        st.subheader(t("audit.draw_header"))
        entropy = st.text_input(t("audit.entropy"), key="audit_entropy", help=t("audit.entropy_help"))
        if st.button(t("audit.draw"), key="audit_draw_btn", type="primary"):
            try:
                plan = audit.parse_plan_text(committed["text"], source=t("audit.plan_source"))
                result = audit.draw(plan, entropy, ctx.home, user=ctx.user)
            except audit.DrawError as exc:
                if getattr(exc, "may_draw_at", None):  # only the commit wait stands in the way (docs/operations.md)
                    st.error(t("audit.commit_wait", minutes=f"{exc.wait_minutes:g}",
                               at=exc.may_draw_at[:16].replace("T", " ")))
                else:
                    show_error(exc)
            except EXPECTED as exc:
                show_error(exc)
            else:
                st.session_state.pop("audit_commit")  # a commit is used by exactly one draw
                st.session_state["audit_pick"] = result.draw_id  # show the new draw below
                st.session_state["audit_just_drawn"] = {"draw_id": result.draw_id, "seed": result.seed,
                                                        "sampled": len(result.sample)}
                st.rerun()
else:
    st.caption(t("audit.read_only"))

drawn = st.session_state.pop("audit_just_drawn", None)
if drawn:
    # the unstaffed cases are listed with the public list below
    st.success(t("audit.drawn", id=drawn["draw_id"], sampled=drawn["sampled"], seed=drawn["seed"][:16]))

# ---------------------------------------------------------------- 3. the log and one draw's public list

st.subheader(t("audit.log_header"))
try:
    draws = audit.list_draws(ctx.home)
except Exception as exc:  # a damaged log is reported, not hidden
    show_error(exc, reading=True)
    st.stop()

if not draws:
    st.info(t("audit.none"))
    st.code('uv run windowwatch audit draw --plan plan.yaml --entropy "…"', language="bash")
    st.stop()

table = pd.DataFrame(draws)[["draw_id", "kind", "name", "at", "sampled", "unstaffed", "plan_hash", "entropy", "seed"]]
st.dataframe(c.rename(table), hide_index=True, key="audit_draws")

ids = [d["draw_id"] for d in reversed(draws)]
if st.session_state.get("audit_pick") not in ids:
    st.session_state["audit_pick"] = ids[0]
draw_id = st.selectbox(t("audit.pick"), ids, key="audit_pick")
try:
    meta, rows, columns = audit.public_rows(draw_id, ctx.home)
    entry = audit.get_draw(draw_id, ctx.home)
except EXPECTED as exc:
    show_error(exc, reading=True)
    st.stop()
st.markdown(t("audit.meta", name=c.md(meta.get("name")), at=c.md(meta.get("drawn_at")), seed=meta.get("seed", "")[:16],
              entropy=c.md(meta.get("entropy"))))
st.caption(t("audit.hashes", plan_hash=meta.get("plan_hash"), entry_hash=meta.get("entry_hash")))
public = pd.DataFrame(rows)
if len(public):
    keep = [k for k, _ in columns if k in public.columns]
    shown = public[keep].rename(columns=dict(columns))
    if "_unstaffed" in public.columns:
        shown[t("audit.col_unstaffed")] = public["_unstaffed"].astype(bool)
    if "note" in public.columns:  # defence in depth: notes are scrubbed when recorded
        shown[dict(columns)["note"]] = public["note"].map(c.mask_pii)
    st.dataframe(shown, hide_index=True, key="audit_public")
unstaffed = (entry or {}).get("result", {}).get("unstaffed", [])
if unstaffed:
    st.warning(t("audit.unstaffed", n=len(unstaffed), cases=c.md("、".join(unstaffed))))

if st.button(t("audit.verify"), key="audit_verify"):
    try:
        report = audit.verify(draw_id, ctx.home)
    except EXPECTED as exc:
        show_error(exc)
    else:
        (st.success if report.ok else st.error)(
            t("audit.verified") if report.ok else t("audit.verify_failed", detail=str(report)))

# ---------------------------------------------------------------- 4. findings

st.subheader(t("audit.findings_header"))
is_case_draw = entry is not None and entry.get("kind") == "draw"  # callback draws (R…) sample evaluations
if not is_case_draw:
    st.caption(t("audit.findings_callback"))
else:
    sample = {s["case_id"]: s for s in entry["result"]["sample"]}
    if not can_write:  # an inspector records findings only on the cases the draw assigned to them
        mine = ctx.inspector_id if ctx.role == "inspector" else None
        sample = {cid: s for cid, s in sample.items() if mine and mine in s["inspectors"]}
        if ctx.role == "inspector" and not mine:
            st.caption(t("audit.finding_no_inspector_id"))
        elif mine and not sample:
            st.caption(t("audit.finding_none_assigned", inspector=mine))
    if sample:
        case_id = st.selectbox(t("audit.finding_case"), list(sample), key=f"audit_case_{draw_id}",
                               format_func=lambda cid: f"{cid} · {sample[cid]['stratum']}")
        assigned = sample[case_id]["inspectors"]
        if not assigned:
            st.warning(t("audit.finding_unstaffed", case=c.md(case_id)))
        else:
            codes = st.multiselect(t("audit.finding_codes"), list(audit.PROBLEM_CODES),
                                   key=f"audit_codes_{draw_id}", help=t("audit.finding_codes_help"))
            who = st.multiselect(t("audit.finding_inspectors"), assigned,
                                 default=assigned if can_write else [ctx.inspector_id],
                                 key=f"audit_insp_{draw_id}_{case_id}")
            note = st.text_area(t("audit.finding_note"), key=f"audit_note_{draw_id}")
            if st.button(t("audit.finding_add"), key="audit_finding_btn", type="primary"):
                try:
                    # checked again at the moment of writing, against the logged draw, not the widget
                    logged = audit.get_draw(draw_id, ctx.home) or {}
                    row = next((s for s in logged.get("result", {}).get("sample", []) if s["case_id"] == case_id), None)
                    if not can_write and not (ctx.role == "inspector" and ctx.inspector_id and row
                                              and ctx.inspector_id in row["inspectors"] and ctx.inspector_id in who):
                        raise audit.FindingError(t("audit.finding_not_yours", case=case_id, inspector=ctx.inspector_id))
                    f = audit.add_finding(draw_id, case_id, codes, note, who, ctx.home, user=ctx.user)
                except EXPECTED as exc:
                    show_error(exc)
                else:
                    st.success(t("audit.finding_added", id=f["finding_id"], case=c.md(case_id)))
    try:
        findings = audit.list_findings(draw_id, ctx.home)
    except EXPECTED as exc:
        show_error(exc, reading=True)
        findings = []
    if findings:
        ft = pd.DataFrame(findings)[["finding_id", "case_id", "window_id", "problem_codes", "note", "inspectors",
                                     "recorded_at", "recorded_by"]]
        ft["note"] = ft["note"].map(c.mask_pii)
        st.dataframe(c.rename(ft, "audit.col"), hide_index=True, key="audit_findings")
    else:
        st.caption(t("audit.findings_none"))

# ---------------------------------------------------------------- 5. the public list (一公开)

st.subheader(t("audit.export_header"))
keys, headers = [k for k, _ in columns], [h for _, h in columns]
matrix = [[r.get(k) for k in keys] for r in rows]


def html_bytes(did: str = draw_id) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return audit.export_draw(did, "html", tmp, ctx.home).read_bytes()


makers = {
    "csv": lambda: csv_bytes(matrix, headers),  # both neutralise =,+,-,@ (formula injection)
    "xlsx": lambda: xlsx_bytes({"抽查名单": matrix, "draw": [[k, v] for k, v in meta.items()]},
                               columns={"抽查名单": headers, "draw": ["field", "value"]}),
    "html": html_bytes,
    # the draw's and its commit's log entries verbatim: enough to recompute the draw (VERIFY.md)
    "json": lambda: json.dumps(audit.verification_bundle(draw_id, ctx.home), ensure_ascii=False, indent=1).encode("utf-8"),
}
labels = {fmt: t(f"audit.download.{fmt}") for fmt in makers}
for col, (fmt, make) in zip(st.columns(len(makers)), makers.items()):
    col.download_button(labels[fmt], auth.guarded(make), file_name=f"audit-{draw_id}.{fmt}", mime=MIME[fmt],
                        key=f"audit_dl_{fmt}", on_click="ignore")
