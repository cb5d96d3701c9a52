"""月度报告 published reports: the frozen, versioned monthly rankings (the only page viewers see).

Versions come from `windowwatch.reports.list_versions` (the publication feature); this page
only lists and serves the published files, it never reads raw data.
"""

import streamlit as st

from dashboards import auth
from dashboards import common as c
from dashboards.i18n import current_lang, t

ctx = c.ctx()
st.title(t("reports.title"))

try:
    from windowwatch.reports import list_versions
except ImportError:  # the publication feature is not installed in this build
    list_versions = None

if list_versions is None:
    st.info(t("reports.placeholder"))
    st.stop()

try:
    versions = list_versions(home=ctx.home)
except Exception as exc:  # a damaged manifest must not take the page down
    st.error(t("reports.error", error=str(exc)))
    st.stop()

if not versions:
    st.info(t("reports.none"))  # the command is the administrator's (docs/operations.md), not the reader's
    st.stop()

MIME = {
    "ranking.pdf": "application/pdf",
    "ranking.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ranking.html": "text/html",
    "ranking.en.html": "text/html",  # the 通报 in English (SPEC §4.8 v2)
}
months = list(dict.fromkeys(v["month"] for v in versions))
month = st.selectbox(t("reports.month"), months, key="rep_month")
try:  # hashing a month's files takes milliseconds: check on every view (docs/architecture.md#failures-and-hostile-input, tamper detection)
    from windowwatch.reports.verify_reports import verify_reports

    rep = verify_reports(month, ctx.home)
    checked = {k: [*rep.log_problems, *ps] for k, ps in rep.by_version.items()}
except Exception as exc:  # a damaged audit log must not take the page down
    checked = {f"{month}/v{v['version']}": [str(exc)] for v in versions if v["month"] == month}
for v in [v for v in versions if v["month"] == month]:
    with st.container(border=True):
        latest = v["version"] == max(x["version"] for x in versions if x["month"] == month)
        st.markdown(t("reports.version", month=v["month"], version=v["version"],
                      latest=t("reports.latest") if latest else ""))
        st.caption(t("reports.meta", created=v["created_at"], hash=v["content_hash"][:16],
                     watermark=v.get("watermark") or "—"))
        problems = checked.get(f"{v['month']}/v{v['version']}")
        if problems:
            st.error(t("reports.tampered", problems="; ".join(problems)))
        elif problems is not None:
            st.caption(t("reports.verified"))
        cols = st.columns(len(MIME))
        for col, (name, mime) in zip(cols, MIME.items()):
            info = v["files"].get(name)
            if not info:
                continue
            col.download_button(
                t("reports.download.en" if name.endswith(".en.html") else f"reports.download.{name.split('.')[-1]}"),
                auth.guarded(info["path"].read_bytes),
                file_name=f"{v['month']}-v{v['version']}-{name}", mime=mime,
                key=f"rep_{v['month']}_{v['version']}_{name}", on_click="ignore",
            )
        changes = v["path"] / "changes.md"
        if current_lang() == "en" and (v["path"] / "changes.en.md").exists():  # its English rendering
            changes = v["path"] / "changes.en.md"
        if v.get("has_changes") and changes.exists():
            with st.expander(t("reports.changes")):
                # names from the feeds are inside: shown as text (docs/architecture.md#privacy-and-access)
                st.code(changes.read_text(encoding="utf-8"), language=None, wrap_lines=True)
