"""Hall-screen (大屏) kiosk tokens (docs/operations.md#the-hall-screen-kiosk): `$WINDOWWATCH_HOME/kiosk.yaml`.

A TV in the hall cannot sign in: after every restart it would sit on the sign-in form. It opens
`/?kiosk=TOKEN` instead. A token is a random bearer secret that opens the hall page and nothing
else (dashboards/kiosk.py): no account, no other page, no filter from the URL, no case or
applicant data. The file lists each screen by name with the SHA-256 of its token, never the token
itself (a token is 192 random bits, so a plain hash cannot be reversed by guessing):

    kiosks:
      hall-tv-1: {token_sha256: "9f2c…", created_at: "2026-12-06T21:00:00+08:00"}
      lobby-east: {token_sha256: "1b7e…", center: C01, revoked: true}

`center` (optional) limits a screen to one centre. Revoking a screen — deleting its entry or
`revoked: true` (`windowwatch kiosk revoke NAME`) — refuses its token at the screen's next
refresh, without restarting the dashboards: the file is read on every check.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from core import atomic
from core.localtime import LOCAL_TZ
from core.paths import Home
from core.paths import home as default_home

FILE_NAME = "kiosk.yaml"
NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TOKEN_LENGTH = 128  # anything longer is refused before it is hashed


class KioskError(ValueError):
    """The kiosk file is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class Kiosk:
    name: str
    center: str | None = None


def path(h: Home | None = None) -> Path:
    return (h or default_home()).root / FILE_NAME


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load(h: Home | None = None) -> dict[str, dict]:
    """The screens of the kiosk file ({} when there is none), validated."""
    p = path(h)
    if not p.exists():
        return {}
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise KioskError(f"{p}: not valid YAML ({exc})") from exc
    kiosks = data.get("kiosks") or {} if isinstance(data, dict) else None
    if not isinstance(kiosks, dict):
        raise KioskError(f"{p}: 'kiosks' must be a mapping of name -> {{token_sha256, …}}")
    for name, entry in kiosks.items():
        if not isinstance(entry, dict) or not HASH_RE.match(str(entry.get("token_sha256", ""))):
            raise KioskError(f"{p}: kiosk {name!r} needs token_sha256 (64 lowercase hex digits)")
        if not isinstance(entry.get("revoked", False), bool):
            raise KioskError(f"{p}: kiosk {name!r}: revoked must be true or false")
        if entry.get("center") is not None and not isinstance(entry["center"], str):
            raise KioskError(f"{p}: kiosk {name!r}: center must be a centre id")
    return kiosks


def verify(token: str | None, h: Home | None = None) -> Kiosk | None:
    """The screen this token opens, or None (unknown, revoked, malformed, or no valid file)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        kiosks = load(h)
    except KioskError:
        return None  # a broken file opens nothing; `windowwatch doctor`-style tools report it
    digest = token_hash(token)
    found = None
    for name, entry in kiosks.items():  # compare every entry in constant time
        if hmac.compare_digest(digest, entry["token_sha256"]) and not entry.get("revoked", False):
            found = Kiosk(name=str(name), center=entry.get("center"))
    return found


def _save(kiosks: dict[str, dict], h: Home | None) -> None:
    text = ("# Hall-screen kiosk tokens (windowwatch/kiosk.py): only their SHA-256 is stored.\n"
            + yaml.safe_dump({"kiosks": kiosks}, allow_unicode=True, sort_keys=True))
    atomic.write_text(path(h), text, mode=0o600)


def add(name: str, h: Home | None = None, center: str | None = None) -> str:
    """Create (or replace) the screen `name`; returns its token, which is stored nowhere."""
    import datetime as dt

    if not NAME_RE.match(name):
        raise KioskError(f"kiosk name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
    kiosks = load(h)
    token = secrets.token_urlsafe(24)
    entry = {"token_sha256": token_hash(token), "created_at": dt.datetime.now(LOCAL_TZ).isoformat(timespec="seconds")}
    if center:
        entry["center"] = center
    kiosks[name] = entry
    _save(kiosks, h)
    return token


def revoke(name: str, h: Home | None = None) -> None:
    kiosks = load(h)
    if name not in kiosks:
        raise KioskError(f"{path(h)}: no kiosk named {name!r}")
    kiosks[name]["revoked"] = True
    _save(kiosks, h)


def main(args: argparse.Namespace) -> int:
    """`windowwatch kiosk add|revoke|list`."""
    try:
        if args.kiosk_command == "add":
            token = add(args.name, center=args.center)
            print(f"kiosk {args.name}: open  /?kiosk={token}  on the hall screen "
                  "(the token is shown only now; only its hash is kept)")
        elif args.kiosk_command == "revoke":
            revoke(args.name)
            print(f"kiosk {args.name}: revoked (its screen is refused at its next refresh)")
        else:
            for name, entry in sorted(load().items()):
                state = "revoked" if entry.get("revoked") else "active"
                print(f"{name}\t{state}\t{entry.get('center') or '-'}\t{entry.get('created_at', '-')}")
    except KioskError as exc:
        print(f"windowwatch kiosk: {exc}", file=sys.stderr)
        return 2
    return 0
