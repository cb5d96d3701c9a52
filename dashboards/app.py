"""WindowWatch dashboards (docs/architecture.md): `streamlit run dashboards/app.py` (or `windowwatch serve`).

This script runs on every interaction: it picks the language, checks the login, resolves
the published snapshot, draws the sidebar filters and then runs the page chosen in
`st.navigation`. Pages live in `app_pages/` (never `pages/`, which would switch Streamlit
back to its old auto-discovered navigation).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboards/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core.paths import home  # noqa: E402
from dashboards import auth, common, kiosk  # noqa: E402
from dashboards.i18n import LANGS, t  # noqa: E402

HERE = Path(__file__).resolve().parent

# page key, file, icon, roles that may open it
PAGES = [
    ("overview", "overview.py", ":material/dashboard:", ("inspector", "auditor", "manager")),
    ("rankings", "rankings.py", ":material/military_tech:", ("inspector", "auditor", "manager")),
    ("timeliness", "timeliness.py", ":material/timer:", ("inspector", "auditor")),
    ("offbook", "offbook.py", ":material/sync_problem:", ("inspector", "auditor")),
    ("satisfaction", "satisfaction.py", ":material/sentiment_satisfied:", ("inspector", "auditor")),
    ("video", "video.py", ":material/videocam:", ("inspector", "auditor")),
    ("audit", "audit.py", ":material/casino:", ("inspector", "auditor")),
    ("reports", "reports.py", ":material/description:", ("inspector", "auditor", "viewer", "manager", "department")),
    ("supervision", "supervision.py", ":material/assignment_late:", ("inspector", "auditor", "manager", "department")),
    ("window", "window_detail.py", ":material/storefront:", ("inspector", "auditor")),
    ("case", "case_detail.py", ":material/timeline:", ("inspector", "auditor")),
    ("hall", "hall.py", ":material/tv:", ("inspector", "auditor", "manager")),
    ("hall_ops", "hall_ops.py", ":material/groups:", ("inspector", "auditor", "manager")),
    # personnel data (SPEC v2 §4.12): inspectors and auditors only
    ("staff", "staff.py", ":material/badge:", ("inspector", "auditor")),
]


def allowed_pages(role: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [p for p in PAGES if role in p[3]]


def _language() -> None:
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang")
        locale = (st.context.locale or "").lower()
        st.session_state["lang"] = wanted if wanted in LANGS else ("en" if locale.startswith("en") else "zh")
    st.sidebar.radio(
        "语言 / Language", list(LANGS), key="lang", horizontal=True,
        format_func=lambda v: {"zh": "中文", "en": "English"}[v],
    )
    if st.query_params.get("lang") != st.session_state["lang"]:
        st.query_params["lang"] = st.session_state["lang"]


def _requested_page() -> str:
    """The page named in the URL the browser opened (e.g. /rankings), to return to after login."""
    try:
        return urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    except Exception:
        return ""


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon=":material/visibility:", layout="wide")
    if kiosk.requested():  # a hall screen's token URL: the hall page only, never the sign-in (dashboards/kiosk.py)
        kiosk.run(home(), HERE / "app_pages" / "hall.py", [key for key, *_ in PAGES])
        return
    _language()
    h = home()
    user = auth.current_user(h)
    if user is None:
        # a shared link (page + filters) must survive the detour through the login page
        st.session_state.setdefault("_wanted", {"page": _requested_page(), "query": st.query_params.to_dict()})
        # every page's URL answers with the login form (instead of a "page not found" dialog)
        login = [st.Page(lambda: auth.login_page(h), title=t("nav.login"), url_path="login", default=True)]
        login += [st.Page(lambda: auth.login_page(h), title=t("nav.login"), url_path=key) for key, *_ in PAGES]
        st.navigation(login, position="hidden").run()
        return

    wanted = st.session_state.pop("_wanted", None)
    if wanted:
        for k, v in wanted["query"].items():
            st.query_params.setdefault(k, v)
    snapshot, error = common.resolve_snapshot(h)
    pages = [
        st.Page(str(HERE / "app_pages" / file), title=t(f"nav.{key}"), icon=icon, url_path=key,
                default=(i == 0))
        for i, (key, file, icon, _roles) in enumerate(allowed_pages(user["role"]))
    ]
    nav = st.navigation(pages, expanded=True)
    keys = [p[0] for p in allowed_pages(user["role"])]
    if wanted and wanted["page"] in keys[1:]:
        st.switch_page(pages[keys.index(wanted["page"])], query_params=st.query_params.to_dict())

    with st.sidebar:
        st.caption(t("app.signed_in", user=user["name"], role=t(f"role.{user['role']}")))
        auth.sync_cookie()
        if st.button(t("app.logout"), key="logout"):
            auth.logout(h)
            st.rerun()
    filters = common.sidebar_filters(snapshot) if user["role"] not in ("viewer", "department") else common.q.Filters()
    st.sidebar.caption(t("app.snapshot", name=common.snapshot_label(snapshot)))
    st.session_state["_ctx"] = common.Ctx(
        home=h, snapshot=snapshot, snapshot_error=error, filters=filters, user=user["name"], role=user["role"],
        inspector_id=user.get("inspector_id"),
    )
    nav.run()


main()
