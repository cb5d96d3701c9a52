"""The supervision outbox and its e-mail delivery.

Each transition that waits on someone writes one outbox row (recipient role and department,
subject, body in Chinese, the item's link) in the transition's own transaction. Sending is a
separate step (`send_pending`, run by `supervise sync` and `supervise send`): a failed send is
counted (`attempts`, `last_error`) and retried by the next step, up to MAX_ATTEMPTS, and never
blocks or undoes a transition. Without WINDOWWATCH_SMTP_URL messages stay in the outbox (the 督办
page's inbox).

Addresses: the accounts (windowwatch/accounts.py, `users add --email`) of the recipient role —
for the department role, the accounts bound to the message's department.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage

import sqlalchemy as sa

from core.localtime import now_local
from core.paths import Home
from core.settings import settings
from windowwatch.supervision.model import outbox

MAX_ATTEMPTS = 10
SMTP_TIMEOUT_S = 20
DEFAULT_FROM = "windowwatch@localhost"


def item_link(item_id: int) -> str:
    """The item on the 督办 page (a shareable URL relative to the dashboards' address)."""
    return f"/supervision?item={item_id}"


def enqueue(conn: sa.Connection, *, item_id: int | None, recipient_role: str, department_id: str | None,
            subject: str, body: str, now: dt.datetime, link: str | None = None) -> None:
    conn.execute(sa.insert(outbox).values(
        item_id=item_id, recipient_role=recipient_role, department_id=department_id, subject=subject, body=body,
        link=link or (item_link(item_id) if item_id is not None else "/supervision"), created_at=now, attempts=0))


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    no_address: int = 0
    errors: list[str] = field(default_factory=list)


def _smtp_target(url: str) -> tuple[str, str, int, str | None, str | None, str]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"WINDOWWATCH_SMTP_URL: {parts.scheme}://… is not smtp://host:port or smtps://host:port")
    query = urllib.parse.parse_qs(parts.query)
    sender = (query.get("from") or [DEFAULT_FROM])[0]
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    user = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    return parts.scheme, parts.hostname, port, user, password, sender


def recipients(h: Home, role: str, department_id: str | None) -> list[str]:
    from windowwatch.accounts import load_accounts

    out = []
    for entry in load_accounts(h).values():
        if entry.get("role") != role or not entry.get("email"):
            continue
        if role == "department" and entry.get("department_id") != department_id:
            continue
        out.append(entry["email"])
    return sorted(set(out))


def send_pending(engine: sa.Engine, h: Home, now: dt.datetime | None = None) -> SendResult:
    """E-mail every unsent message (fewer than MAX_ATTEMPTS tries) when WINDOWWATCH_SMTP_URL is set."""
    result = SendResult()
    url = settings().smtp_url
    if not url:
        return result
    scheme, host, port, user, password, sender = _smtp_target(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.sent_at.is_(None), outbox.c.attempts < MAX_ATTEMPTS)
                            .order_by(outbox.c.message_id)).mappings().all()
    for row in rows:
        to = recipients(h, row["recipient_role"], row["department_id"])
        if not to:
            result.no_address += 1
            with engine.begin() as conn:
                conn.execute(sa.update(outbox).where(outbox.c.message_id == row["message_id"]).values(
                    last_error=f"no {row['recipient_role']} account"
                    + (f" of department {row['department_id']}" if row["recipient_role"] == "department" else "")
                    + " has an e-mail address (windowwatch users add … --email)"))
            continue
        msg = EmailMessage()
        msg["Subject"] = row["subject"]
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg.set_content(f"{row['body']}\n\n{row['link']}\n")
        error = None
        try:
            cls = smtplib.SMTP_SSL if scheme == "smtps" else smtplib.SMTP
            with cls(host, port, timeout=SMTP_TIMEOUT_S) as smtp:
                if user:
                    smtp.login(user, password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
        with engine.begin() as conn:
            values = {"attempts": outbox.c.attempts + 1, "last_error": error}
            if error is None:
                values["sent_at"] = now or now_local()
            conn.execute(sa.update(outbox).where(outbox.c.message_id == row["message_id"]).values(**values))
        if error is None:
            result.sent += 1
        else:
            result.failed += 1
            result.errors.append(f"message {row['message_id']}: {error}")
    return result
