"""Dashboard sessions (SPEC §8 v2, windowwatch/sessions.py): a signed token resumes its session until
it is signed out or idle past the timeout; nothing forged, revoked or stale gets in, and the store
holds no token and no password."""

from __future__ import annotations

import datetime as dt
import stat

from core.paths import Home
from windowwatch import sessions

USER = {"name": "insp", "role": "inspector", "via": "local", "inspector_id": "I01"}


def test_a_token_resumes_its_session_and_nothing_else_does(ww_home):
    h = Home(ww_home)
    token = sessions.create(h, USER)
    assert sessions.resume(h, token) == USER
    sid, sig = token.split(".")
    assert sessions.resume(h, f"{sid}.{sig[:-1]}A" if not sig.endswith("A") else f"{sid}.{sig[:-1]}B") is None
    assert sessions.resume(h, f"{sid}x.{sig}") is None
    assert sessions.resume(h, "not-a-token") is None and sessions.resume(h, None) is None
    # a second session of the same user is independent
    other = sessions.create(h, USER)
    assert sessions.revoke(h, token) is True
    assert sessions.resume(h, token) is None
    assert sessions.resume(h, other) == USER


def test_an_idle_session_expires_server_side(ww_home, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_SESSION_MINUTES", "30")
    h = Home(ww_home)
    token = sessions.create(h, USER)
    later = dt.datetime.now().astimezone() + dt.timedelta(minutes=29)
    assert sessions.resume(h, token, now=later) == USER  # used: the idle clock restarts
    assert sessions.resume(h, token, now=later + dt.timedelta(minutes=29)) == USER
    assert sessions.resume(h, token, now=later + dt.timedelta(minutes=29 + 31)) is None
    assert sessions.resume(h, token) is None  # and stays refused


def test_the_store_holds_neither_token_nor_password_and_its_key_is_private(ww_home):
    h = Home(ww_home)
    token = sessions.create(h, USER)
    stored = (h.state / "sessions.json").read_text(encoding="utf-8")
    sid, sig = token.split(".")
    assert sid not in stored and sig not in stored and "password" not in stored
    for name in ("sessions.json", "session.key"):
        assert stat.S_IMODE((h.state / name).stat().st_mode) == 0o600, name
