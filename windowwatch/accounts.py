"""Local dashboard accounts (docs/architecture.md#privacy-and-access): `$WINDOWWATCH_HOME/accounts.yaml` with argon2 hashes.

The offline default when no OIDC provider is configured. The file maps a user name to its
role and argon2id hash; it never holds a password. An inspector account may name the
inspector_id it is in the 名录库 (inspectors feed): on the audit page it may then record
findings on the sampled cases the draw assigned to that inspector, and on no other. Failed logins are counted per name in
`state/login_failures.json` so that a lock-out survives a restart of the dashboards.

v2 roles (SPEC §8): manager 管理办公室 (statistics, read-only on supervision) and department
部门联络员, bound to one department_id (acts only on its department's supervision items). Any
account may carry an e-mail address: the supervision outbox mails it (windowwatch/supervision/notify.py).

    users:
      wang.inspector: {role: inspector, inspector_id: K01, password_hash: "$argon2id$...", created_at: "..."}
      li.gaj: {role: department, department_id: D01, email: li@gaj.example, password_hash: "$argon2id$...", ...}
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import atomic
from core.paths import Home
from core.paths import home as default_home
from core.settings import settings

ROLES = ("inspector", "auditor", "viewer", "manager", "department")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
NAME_RE = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    inspector_id: str | None = None  # the account's entry in the inspectors feed (inspectors only)
    department_id: str | None = None  # the department a department liaison is bound to (department only)


def load_accounts(h: Home | None = None) -> dict[str, dict]:
    path = (h or default_home()).accounts
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AccountError(f"{path}: not valid YAML ({exc}); fix or delete it and re-add the users") from exc
    users = data.get("users") or {}
    if not isinstance(users, dict):
        raise AccountError(f"{path}: 'users' must be a mapping of name -> {{role, password_hash}}")
    for name, entry in users.items():
        if not isinstance(entry, dict) or entry.get("role") not in ROLES or not entry.get("password_hash"):
            raise AccountError(f"{path}: user {name!r} needs a role ({'/'.join(ROLES)}) and a password_hash")
        if entry.get("inspector_id") is not None and entry["role"] != "inspector":
            raise AccountError(f"{path}: user {name!r}: only an inspector account may carry an inspector_id; "
                               "remove it or re-add the user with --role inspector")
        if (entry["role"] == "department") != bool(entry.get("department_id")):
            raise AccountError(f"{path}: user {name!r}: a department account needs its department_id, and only a "
                               "department account may carry one; re-add the user with --role department --department-id D")
    return users


def add_user(name: str, role: str, password: str, h: Home | None = None, inspector_id: str | None = None,
             department_id: str | None = None, email: str | None = None) -> bool:
    """Add or reset an account; returns True when it already existed."""
    h = h or default_home()
    if not NAME_RE.match(name):
        raise AccountError(f"user name {name!r}: use 1–64 letters, digits, '_', '.', '@' or '-'")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if inspector_id is not None and (role != "inspector" or not NAME_RE.match(inspector_id)):
        raise AccountError(f"--inspector-id {inspector_id!r}: only for --role inspector, an id of the inspectors feed")
    if role == "department" and not (department_id and NAME_RE.match(department_id)):
        raise AccountError("--role department needs --department-id D: the department the liaison answers for")
    if department_id is not None and role != "department":
        raise AccountError(f"--department-id {department_id!r}: only for --role department")
    if email is not None and not EMAIL_RE.match(email):
        raise AccountError(f"--email {email!r}: not an e-mail address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    users = load_accounts(h)
    existed = name in users
    users[name] = {
        "role": role,
        "password_hash": _hasher.hash(password),
        "created_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        **({"inspector_id": inspector_id} if inspector_id else {}),
        **({"department_id": department_id} if department_id else {}),
        **({"email": email} if email else {}),
    }
    # hashes are still secrets worth guarding: 0600
    atomic.write_text(h.accounts, yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=True), mode=0o600)
    clear_failures(name, h)
    return existed


# ---------------------------------------------------------------- failed logins


def _failures_path(h: Home) -> Path:
    return h.state / "login_failures.json"


def _load_failures(h: Home) -> dict[str, dict]:
    try:
        return json.loads(_failures_path(h).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def locked_until(name: str, h: Home | None = None, now: dt.datetime | None = None) -> dt.datetime | None:
    h = h or default_home()
    entry = _load_failures(h).get(name)
    if not entry or not entry.get("locked_until"):
        return None
    until = dt.datetime.fromisoformat(entry["locked_until"])
    return until if until > (now or dt.datetime.now().astimezone()) else None


@contextmanager
def _failures_locked(h: Home) -> Iterator[dict[str, dict]]:
    """The failures file, read and rewritten under an exclusive lock: sign-ins that arrive at
    once (threads or processes) are each counted (docs/rules.md, "Sign-in and lock-out")."""
    h.state.mkdir(parents=True, exist_ok=True)
    with open(h.state / "login_failures.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = _load_failures(h)
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                atomic.write_text(_failures_path(h), json.dumps(data, ensure_ascii=False, indent=1), mode=0o600)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _is_locked(entry: dict | None, now: dt.datetime) -> bool:
    return bool(entry and entry.get("locked_until") and dt.datetime.fromisoformat(entry["locked_until"]) > now)


def record_failure(name: str, h: Home | None = None, now: dt.datetime | None = None) -> int:
    """Count a failed login; lock the name after `login_max_failures` (core/settings.py). Returns the failures so far.

    A failure while locked is counted too, without extending the lock."""
    h = h or default_home()
    now = now or dt.datetime.now().astimezone()
    with _failures_locked(h) as data:
        entry = data.get(name) or {"count": 0}
        if entry.get("locked_until") and not _is_locked(entry, now):
            entry = {"count": 0}  # the lock expired: start counting again
        entry["count"] = int(entry.get("count", 0)) + 1
        entry["last_failure"] = now.isoformat(timespec="seconds")
        if entry["count"] >= settings().login_max_failures and not entry.get("locked_until"):
            entry["locked_until"] = (now + dt.timedelta(minutes=settings().login_lock_minutes)).isoformat(timespec="seconds")
        data[name] = entry
        return entry["count"]


def failures(name: str, h: Home | None = None) -> int:
    """Failed sign-ins counted for the name (since its last success or lock expiry)."""
    return int((_load_failures(h or default_home()).get(name) or {}).get("count", 0))


def clear_failures(name: str, h: Home | None = None) -> None:
    h = h or default_home()
    with _failures_locked(h) as data:
        data.pop(name, None)


def _accept_success(name: str, h: Home) -> bool:
    """A right password: clear the failures unless the name is locked (checked under the lock,
    so a right password racing wrong ones past the limit is refused)."""
    with _failures_locked(h) as data:
        if _is_locked(data.get(name), dt.datetime.now().astimezone()):
            return False
        data.pop(name, None)
        return True


# A hash to verify against when the name is unknown, so that both cases take the same time.
_DUMMY_HASH = _hasher.hash("windowwatch-no-such-user")


def verify(name: str, password: str, h: Home | None = None) -> Account | None:
    """The account when name and password match and the name is not locked, else None.

    Callers check `locked_until` first to tell the user why; a locked name never verifies.
    """
    h = h or default_home()
    entry = load_accounts(h).get(name)
    try:  # checked even when locked: a wrong password then still counts, and timing says nothing
        _hasher.verify(entry["password_hash"] if entry else _DUMMY_HASH, password)
        ok = entry is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        record_failure(name, h)
        return None
    if not _accept_success(name, h):
        return None
    return Account(name=name, role=entry["role"], inspector_id=entry.get("inspector_id"),
                   department_id=entry.get("department_id"))


def ensure_demo_user(h: Home | None = None) -> tuple[str, str] | None:
    """For `windowwatch demo`: when no account exists yet, create inspector `demo` with a random
    password and return (name, password) so the demo can print it once; else None."""
    import secrets

    h = h or default_home()
    if load_accounts(h):
        return None
    password = secrets.token_urlsafe(12)
    add_user("demo", "inspector", password, h)
    return "demo", password


# ---------------------------------------------------------------- CLI


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("密码 / password: ")
    second = getpass.getpass("再次输入 / repeat: ")
    if first != second:
        raise AccountError("the two passwords differ")
    return first


def add_main(args) -> int:
    """`windowwatch users add NAME --role … [--password-stdin]`."""
    h = default_home()
    try:
        password = _read_password(args.password_stdin)
        existed = add_user(args.name, args.role, password, h, inspector_id=getattr(args, "inspector_id", None),
                           department_id=getattr(args, "department_id", None), email=getattr(args, "email", None))
    except AccountError as exc:
        print(f"windowwatch users add: {exc}", file=sys.stderr)
        return 2
    verb = "reset" if existed else "added"
    print(f"{verb} {args.name} ({args.role}) in {h.accounts}")
    return 0
