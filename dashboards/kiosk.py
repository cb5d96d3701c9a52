"""The hall screen's kiosk mode (docs/operations.md#the-hall-screen-kiosk): `/?kiosk=TOKEN`.

A URL that carries `kiosk` never reaches the sign-in, the accounts or the session cookie: app.py
hands it here first. A valid, unrevoked token (windowwatch/kiosk.py) opens the hall page and
nothing else — the navigation holds that one page file, every other page's URL answers with a
refusal, the sidebar (filters, language) is not drawn and no query parameter but `kiosk` and
`lang` is read (a screen's centre comes from its configuration, not from the URL). A wrong or
revoked token gets a refusal with no data and no sign-in form. The hall page re-checks the token
on every refresh, so revoking a screen blanks it within one refresh, without a reload.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.paths import Home
from dashboards import common
from dashboards import queries as q
from dashboards.i18n import LANGS, t
from windowwatch import kiosk

PARAM = "kiosk"
ROLE = "kiosk"  # the Ctx role of a kiosk session: no page but the hall accepts it


def requested() -> bool:
    return PARAM in st.query_params


def _token() -> str:
    return st.query_params.get(PARAM) or ""


def _language() -> None:
    """`?lang=en` or the browser's locale; a screen has no sidebar to switch it."""
    wanted = st.query_params.get("lang")
    locale = (st.context.locale or "").lower()
    st.session_state["lang"] = wanted if wanted in LANGS else ("en" if locale.startswith("en") else "zh")


def _refusal(key: str):
    def page() -> None:
        st.html("<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] {display: none;}</style>")
        st.title(t("kiosk.title"))
        st.error(t(key))
    return page


def still_valid(ctx: common.Ctx) -> bool:
    """For the hall page's refresh: a kiosk session whose token was revoked meanwhile is over."""
    return ctx.role != ROLE or kiosk.verify(_token(), ctx.home) is not None


def run(h: Home, hall_file: Path, page_keys: list[str]) -> None:
    _language()
    screen = kiosk.verify(_token(), h)
    refused = _refusal("kiosk.refused" if screen is None else "kiosk.page_refused")
    # every URL a person may type answers (with the refusal) rather than with "page not found"
    others = [st.Page(refused, title=t("kiosk.title"), url_path=key) for key in [*page_keys, "login"] if key != "hall"]
    if screen is None:
        st.session_state.pop("_ctx", None)
        pages = [st.Page(refused, title=t("kiosk.title"), url_path="hall", default=True), *others]
        st.navigation(pages, position="hidden").run()
        return
    hall = st.Page(str(hall_file), title=t("nav.hall"), url_path="hall", default=True)
    nav = st.navigation([hall, *others], position="hidden")
    snapshot, error = common.resolve_snapshot(h)
    st.session_state["_ctx"] = common.Ctx(home=h, snapshot=snapshot, snapshot_error=error,
                                          filters=q.Filters(center=screen.center), user=screen.name, role=ROLE)
    nav.run()
