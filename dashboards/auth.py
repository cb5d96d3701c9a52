"""Login for the dashboards (docs/architecture.md#privacy-and-access).

Offline default: the argon2 accounts file managed by `windowwatch users add`, with a
persisted lock-out after repeated failures. When `.streamlit/secrets.toml` has an `[auth]`
section, `st.login` (OIDC) is offered and the signed-in e-mail is looked up in the accounts
file for its role (unknown e-mails get the viewer role). A session expires after
WINDOWWATCH_SESSION_MINUTES (default 30) without activity.

A sign-in survives a reload and a new tab (SPEC §8 v2): windowwatch/sessions.py keeps the session
server-side and the browser a signed token in the `ww_session` cookie (SameSite=Strict). Streamlit
cannot set a cookie from the server, so the page sets it with a line of script in a one-pixel
component; HttpOnly is therefore not possible here (a reverse proxy in front may add it). Signing
out or the timeout revokes the session server-side, so the cookie is then worth nothing.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core.paths import Home
from core.settings import settings
from dashboards.i18n import t
from windowwatch import accounts, sessions

SESSION_KEY = "_auth"


def session_minutes() -> float:
    return settings().session_minutes


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


class SessionExpired(PermissionError):
    pass


def is_active(user: dict | None, now: dt.datetime | None = None) -> bool:
    """True while the session record is neither signed out nor idle past the timeout."""
    return bool(user) and not user.get("revoked") and (
        (now or _now()) - user["last_seen"] <= dt.timedelta(minutes=session_minutes()))


def guarded(make):
    """Wrap a download's deferred data callable so that it refuses once its session expired or
    signed out. Streamlit runs such a callable in the download request, outside any script run
    (so app.py's login check never sees it), possibly long after the page was drawn; the check
    therefore uses the session's own user record, the dict current_user() keeps up to date."""
    user = st.session_state.get(SESSION_KEY)

    def make_if_signed_in():
        if not is_active(user):
            raise SessionExpired("the session expired or was signed out: reload the page and sign in again")
        return make()

    return make_if_signed_in


def _cookie_token() -> str | None:
    try:
        return st.context.cookies.get(sessions.COOKIE)
    except Exception:  # no browser connection (AppTest)
        return None


def current_user(h: Home) -> dict | None:
    """The signed-in user {name, role, via} or None; enforces the inactivity timeout, and resumes a
    session from its cookie after a reload or in a new tab."""
    user = st.session_state.get(SESSION_KEY)
    now = _now()
    if user:
        token = user.get("token")
        if not is_active(user, now) or (token and not _still_valid(h, user, token)):
            user["revoked"] = True  # downloads offered before the timeout refuse too (see guarded)
            sessions.revoke(h, token)
            st.session_state.pop(SESSION_KEY, None)
            st.session_state["_auth_expired"] = True
            st.session_state["_cookie"] = "clear"
            return None
        user["last_seen"] = now
        return user
    token = _cookie_token()
    resumed = sessions.resume(h, token) if token else None
    if resumed:
        user = {**resumed, "last_seen": now, "token": token, "touched": now}
        st.session_state[SESSION_KEY] = user
        return user
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        email = str(st.user.get("email") or "")
        entry = accounts.load_accounts(h).get(email)
        user = {"name": email, "role": entry["role"] if entry else "viewer", "via": "oidc", "last_seen": now,
                "inspector_id": entry.get("inspector_id") if entry else None}
        st.session_state[SESSION_KEY] = user
        return user
    return None


def _still_valid(h: Home, user: dict, token: str) -> bool:
    """The session record is still live (not signed out in another tab, not timed out): checked
    against the store at most every sessions.TOUCH_EVERY_S, which also marks it used."""
    touched = sessions.touch(h, token, user.get("touched"))
    user["touched"] = touched
    return touched is not None


def logout(h: Home | None = None) -> None:
    user = st.session_state.pop(SESSION_KEY, None)
    if user:
        user["revoked"] = True
        if h is not None and user.get("token"):
            sessions.revoke(h, user["token"])
    st.session_state["_cookie"] = "clear"
    if user and user.get("via") == "oidc":
        st.logout()


def try_login(h: Home, name: str, password: str) -> str | None:
    """Sign in; returns None on success or the message to show."""
    name = name.strip()
    if not name or not password:
        return t("login.missing")
    until = accounts.locked_until(name, h)
    if until:
        minutes = max(1, int((until - _now()).total_seconds() // 60) + 1)
        return t("login.locked", minutes=minutes)
    account = accounts.verify(name, password, h)
    if account is None:
        if accounts.locked_until(name, h):
            return t("login.locked", minutes=int(settings().login_lock_minutes))
        return t("login.failed")
    user = {"name": account.name, "role": account.role, "via": "local", "inspector_id": account.inspector_id}
    token = sessions.create(h, user)
    st.session_state[SESSION_KEY] = {**user, "last_seen": _now(), "token": token, "touched": _now()}
    st.session_state["_cookie"] = token
    st.session_state.pop("_auth_expired", None)
    return None


def sync_cookie() -> None:
    """Give the browser the session's cookie after a sign-in, or take it back after signing out
    (a one-pixel st.iframe: Streamlit has no server-side Set-Cookie)."""
    pending = st.session_state.pop("_cookie", None)
    if not pending:
        return
    import json

    value, age = ("", 0) if pending == "clear" else (pending, sessions.COOKIE_MAX_AGE_S)
    cookie = f"{sessions.COOKIE}={value}; Path=/; Max-Age={age}; SameSite=Strict"
    # st.iframe embeds an HTML string same-origin (st.components.v1.html is deprecated); the
    # script is ours, the token random text of our own making
    st.iframe(f"<script>try {{ window.parent.document.cookie = {json.dumps(cookie)}; }} "
              f"catch (e) {{ document.cookie = {json.dumps(cookie)}; }}</script>", height=1)


def login_page(h: Home) -> None:
    sync_cookie()
    st.title(t("app.title"))
    st.subheader(t("login.title"))
    if st.session_state.get("_auth_expired"):
        st.info(t("login.expired"))
    if oidc_configured():
        if st.button(t("login.sso"), key="login_sso"):
            st.login()
        st.divider()
    try:
        has_accounts = bool(accounts.load_accounts(h))
    except accounts.AccountError as exc:
        st.error(str(exc))
        return
    if not has_accounts:
        st.warning(t("login.no_accounts"))
        st.code("uv run windowwatch users add NAME --role inspector", language="bash")
    with st.form("login", clear_on_submit=False):
        name = st.text_input(t("login.user"), key="login_user")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit"))
    if submitted:
        error = try_login(h, name, password)
        if error:
            st.error(error)
        else:
            st.rerun()
