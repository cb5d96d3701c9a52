"""`windowwatch pii rotate --reason TEXT`: the one way to change the applicant-data key
(docs/operations.md, "The applicant-data key").

Set the new key (WINDOWWATCH_PII_KEY or WINDOWWATCH_PII_KEY_FILE) and run it: the new key's
fingerprint becomes the landing's, recorded in `landing/_pii_key.json` with the date, the actor
and the reason, and appended to the hash-chained audit log. Hashes landed before and after a
rotation do not match: applicant matching does not cross it.
"""

from __future__ import annotations

import sys

from core.paths import Home
from ingest.privacy import PiiKeyError, rotate_key
from windowwatch.audit.log import AuditLog, LogError, current_user


def rotate(home: Home, reason: str, actor: str | None = None) -> tuple[str | None, str]:
    actor = actor or current_user()
    log = AuditLog(home)
    with log.locked():
        old, new = rotate_key(home, actor, reason)
        log.append_locked({"kind": "pii_rotate", "old_fingerprint": old, "new_fingerprint": new,
                           "reason": reason, "user": actor})
    return old, new


def rotate_main(args) -> int:
    h = Home.from_env()
    try:
        old, new = rotate(h, args.reason, args.actor)
    except (PiiKeyError, LogError) as exc:
        print(f"windowwatch pii rotate: {exc}", file=sys.stderr)
        return 2
    print(f"PII key rotated: fingerprint {old or '(none recorded)'} -> {new}, recorded in "
          f"{h.landing / '_pii_key.json'} and the audit log. Data landed before the rotation keeps its old "
          "hashes: applicant matching does not cross the rotation.")
    return 0
