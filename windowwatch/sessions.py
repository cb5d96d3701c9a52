"""Dashboard sessions that survive a reload (SPEC §8 v2): a signed, expiring token in a cookie.

A sign-in creates a session record here and hands the browser a token `<id>.<signature>`: a random
id and its HMAC-SHA256 under a key kept in the home (`state/session.key`, 0600, made on first
use). The cookie never holds the password or the role; the record does, server-side, keyed by a
hash of the id, so the sessions file holds no bearer token either. A token is accepted only while
its signature checks, its record exists, it is not signed out and it has been used within
WINDOWWATCH_SESSION_MINUTES; signing out (or the timeout) revokes the record, so a copied cookie
stops working at once.

The file is small (one row per live session; expired rows are dropped whenever it is written)
and guarded by an flock, as the accounts file is (windowwatch/accounts.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core import atomic
from core.paths import Home
from core.settings import settings

COOKIE = "ww_session"
# the cookie may outlive an idle timeout (the record decides); a day at most
COOKIE_MAX_AGE_S = 24 * 3600
TOUCH_EVERY_S = 60  # last_seen is written at most this often per session


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _key(h: Home) -> bytes:
    path = h.state / "session.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        h.state.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made by another process meanwhile
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        return path.read_bytes()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(h: Home, sid: str) -> str:
    return _b64(hmac.new(_key(h), sid.encode(), hashlib.sha256).digest())


def _record_key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _path(h: Home) -> Path:
    return h.state / "sessions.json"


@contextmanager
def _locked(h: Home) -> Iterator[dict[str, dict]]:
    """The sessions, read under an exclusive lock and written back when the block ends."""
    h.state.mkdir(parents=True, exist_ok=True)
    with open(h.state / "sessions.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                data = json.loads(_path(h).read_text(encoding="utf-8"))
            except (FileNotFoundError, json.JSONDecodeError):
                data = {}
            before = json.dumps(data, sort_keys=True)
            yield data
            limit = dt.timedelta(minutes=settings().session_minutes)
            now = _now()
            for k in [k for k, v in data.items()
                      if v.get("revoked_at") or now - dt.datetime.fromisoformat(v["last_seen"]) > limit]:
                del data[k]
            if json.dumps(data, sort_keys=True) != before:
                atomic.write_text(_path(h), json.dumps(data, ensure_ascii=False, sort_keys=True), mode=0o600)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create(h: Home, user: dict) -> str:
    """A new session for `user` ({name, role, via, inspector_id}); returns the cookie's token."""
    sid = _b64(secrets.token_bytes(24))
    now = _now().isoformat()
    with _locked(h) as data:
        data[_record_key(sid)] = {k: user.get(k) for k in ("name", "role", "via", "inspector_id")} | {
            "created_at": now, "last_seen": now}
    return f"{sid}.{_sign(h, sid)}"


def _sid(h: Home, token: str | None) -> str | None:
    if not token or token.count(".") != 1:
        return None
    sid, sig = token.split(".")
    return sid if hmac.compare_digest(sig, _sign(h, sid)) else None


def resume(h: Home, token: str | None, now: dt.datetime | None = None) -> dict | None:
    """The session's user {name, role, via, inspector_id} when the token is genuine, not signed out
    and used within the timeout; marks it used. None otherwise (an expired record is removed)."""
    sid = _sid(h, token)
    if sid is None:
        return None
    now = now or _now()
    key = _record_key(sid)
    with _locked(h) as data:
        rec = data.get(key)
        if rec is None or rec.get("revoked_at"):
            return None
        if now - dt.datetime.fromisoformat(rec["last_seen"]) > dt.timedelta(minutes=settings().session_minutes):
            rec["revoked_at"] = now.isoformat()
            return None
        rec["last_seen"] = now.isoformat()
        return {k: rec.get(k) for k in ("name", "role", "via", "inspector_id")}


def touch(h: Home, token: str | None, last_touch: dt.datetime | None) -> dt.datetime | None:
    """Mark the session used (at most every TOUCH_EVERY_S); returns when it was last written."""
    now = _now()
    if last_touch is not None and (now - last_touch).total_seconds() < TOUCH_EVERY_S:
        return last_touch
    return now if resume(h, token, now) is not None else None


def revoke(h: Home, token: str | None) -> bool:
    """Sign the session out server-side; True when there was one to revoke."""
    sid = _sid(h, token)
    if sid is None:
        return False
    with _locked(h) as data:
        rec = data.get(_record_key(sid))
        if rec is None:
            return False
        rec["revoked_at"] = _now().isoformat()
        return True
