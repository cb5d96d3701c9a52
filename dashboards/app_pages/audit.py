"""双随机抽查 audit draws: the hash-chained draws and their public sample lists (一公开).

Draws are made with `windowwatch audit draw` (the audit feature); this page lists them and
shows each draw's public list. It reads the audit log through `windowwatch.audit`.
"""

import pandas as pd
import streamlit as st

from dashboards import common as c
from dashboards.i18n import t

ctx = c.ctx()
st.title(t("audit.title"))

try:
    import windowwatch.audit as audit
except ImportError:  # the audit feature is not installed in this build
    audit = None

if audit is None:
    st.info(t("audit.placeholder"))
    st.stop()

try:
    draws = audit.list_draws(ctx.home)
except Exception as exc:  # a damaged log is reported, not hidden
    st.error(t("audit.error", error=str(exc)))
    st.stop()

if not draws:
    st.info(t("audit.none"))
    st.code('uv run windowwatch audit draw --plan plan.yaml --entropy "…"', language="bash")
    st.stop()

table = pd.DataFrame(draws)[["draw_id", "kind", "name", "at", "sampled", "unstaffed", "plan_hash", "entropy", "seed"]]
st.dataframe(c.rename(table), hide_index=True, key="audit_draws")

draw_id = st.selectbox(t("audit.pick"), [d["draw_id"] for d in reversed(draws)], key="audit_pick")
try:
    meta, rows, columns = audit.public_rows(draw_id, ctx.home)
except Exception as exc:
    st.error(t("audit.error", error=str(exc)))
    st.stop()
st.markdown(t("audit.meta", name=meta.get("name") or "—", at=meta.get("drawn_at"), seed=meta.get("seed", "")[:16],
              entropy=meta.get("entropy")))
public = pd.DataFrame(rows)
if len(public):
    keep = [k for k, _ in columns if k in public.columns]
    public = public[keep].rename(columns=dict(columns))
    st.dataframe(public, hide_index=True, key="audit_public")
if st.button(t("audit.verify"), key="audit_verify"):
    report = audit.verify(draw_id, ctx.home)
    ok = getattr(report, "ok", None)
    (st.success if ok else st.error)(t("audit.verified") if ok else t("audit.verify_failed", detail=str(report)))
