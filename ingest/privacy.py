"""Privacy (docs/architecture.md#privacy-and-access): applicant ids and phones become keyed hashes, names never land,
free text is scrubbed of ID-card and phone numbers.

The key comes from WINDOWWATCH_PII_KEY, else from a key file created on first use with mode
0600 at ~/.config/windowwatch/pii.key (WINDOWWATCH_PII_KEY_FILE overrides the path). It is
never inside the repository, never printed, and the same key always gives the same hash,
so the same applicant can be followed across deliveries without being identified.

The key's fingerprint (a short HMAC of a fixed label, never the key) is recorded with the
landing in `landing/_pii_key.json`, with its history: an ingest with another key refuses
before landing anything, and `windowwatch pii rotate` is the one way to change it
(docs/operations.md, "The applicant-data key").
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from core import atomic
from core.feeds import Feed
from core.localtime import LOCAL_TZ
from core.paths import REPO_ROOT, Home
from core.settings import settings

SCRUBBED = "[已脱敏]"

# Mainland ID cards (18 digits, last may be X; old 15-digit ones), mobiles with optional
# +86 and separators, landlines 0xx(x)-xxxxxxx(x). Rust regex has no look-around, so
# numbers are not anchored: a longer digit run is scrubbed too (over-scrubbing is safe).
ID_CARD_18 = r"\d{17}[\dXx]"
ID_CARD_15 = r"\d{15}"
MOBILE = r"(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"
LANDLINE = r"\(?0\d{2,3}\)?[\s-]?\d{7,8}"
SCRUB_PATTERNS = (ID_CARD_18, ID_CARD_15, MOBILE, LANDLINE)


class PiiKeyError(RuntimeError):
    pass


def key_file_path() -> Path:
    override = settings().pii_key_file
    return override.expanduser() if override else Path.home() / ".config" / "windowwatch" / "pii.key"


def pii_key() -> bytes:
    env = settings().pii_key
    if env is not None and env.get_secret_value():
        return env.get_secret_value().encode("utf-8")
    path = key_file_path().resolve()
    if path.is_relative_to(REPO_ROOT):
        raise PiiKeyError(f"{path}: the PII key file must not be inside the repository; set WINDOWWATCH_PII_KEY_FILE elsewhere")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes creating the key at once must not end up with two keys
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise PiiKeyError(f"{path}: the PII key file is empty; delete it to create a new key (old hashes will not match)")
    return key.encode("utf-8")


FINGERPRINT_LABEL = b"windowwatch pii-key fingerprint v1"
FINGERPRINT_FILE = "_pii_key.json"


def key_fingerprint(key: bytes | None = None) -> str:
    """A short HMAC of a fixed label with the key (the key in use by default): tells keys apart
    without revealing them."""
    return hmac.new(key if key is not None else pii_key(), FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def _fingerprint_path(home: Home) -> Path:
    return home.landing / FINGERPRINT_FILE


def fingerprint_record(home: Home) -> dict[str, Any] | None:
    """{fingerprint, history: [{fingerprint, at, actor, reason}, …]} or None before the first ingest."""
    try:
        return json.loads(_fingerprint_path(home).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as exc:
        raise PiiKeyError(f"{_fingerprint_path(home)}: line {exc.lineno}: not valid JSON ({exc.msg}); restore it from a "
                          "backup (it records which PII key the landed data was hashed with)") from None


def recorded_fingerprint(home: Home) -> str | None:
    """The fingerprint of the key the landed data was hashed with (None before the first ingest)."""
    rec = fingerprint_record(home)
    return rec.get("fingerprint") if rec else None


@contextmanager
def _record_locked(home: Home) -> Iterator[dict[str, Any] | None]:
    home.landing.mkdir(parents=True, exist_ok=True)
    with open(home.landing / ".pii_key.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield fingerprint_record(home)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _event(fingerprint: str, actor: str, reason: str) -> dict[str, str]:
    return {"fingerprint": fingerprint, "at": dt.datetime.now(LOCAL_TZ).isoformat(timespec="seconds"),
            "actor": actor, "reason": reason}


def _write_record(home: Home, fingerprint: str, history: list[dict[str, str]]) -> None:
    atomic.write_text(_fingerprint_path(home), json.dumps({"fingerprint": fingerprint, "history": history},
                                                          ensure_ascii=False, indent=1) + "\n")


def check_key(home: Home, key: bytes, actor: str = "ingest") -> str:
    """Refuse a key other than the recorded one; record the first. Returns the fingerprint."""
    now = key_fingerprint(key)
    with _record_locked(home) as rec:
        if rec is None:
            _write_record(home, now, [_event(now, actor, "first ingest into this home")])
            return now
        if rec.get("fingerprint") != now:
            raise PiiKeyError(
                f"{_fingerprint_path(home)}: rule pii_key_changed — the PII key in use (fingerprint {now}) is not the "
                f"key the landed data was hashed with ({rec.get('fingerprint')}): the same applicant would hash "
                "differently. Nothing was landed. Set the original key (WINDOWWATCH_PII_KEY or WINDOWWATCH_PII_KEY_FILE), "
                "or, to change the key on purpose, run `windowwatch pii rotate --reason TEXT` with the new key set"
            )
    return now


def rotate_key(home: Home, actor: str, reason: str) -> tuple[str | None, str]:
    """Record the key in use as the landing's key from now on: (old fingerprint, new one)."""
    if not reason.strip():
        raise PiiKeyError("a rotation needs a reason (--reason TEXT): it is recorded with the date and who rotated")
    new = key_fingerprint()
    with _record_locked(home) as rec:
        old = rec.get("fingerprint") if rec else None
        if old == new:
            raise PiiKeyError(f"{_fingerprint_path(home)}: the key in use (fingerprint {new}) is already the recorded "
                              "key: set the new key (WINDOWWATCH_PII_KEY or WINDOWWATCH_PII_KEY_FILE) first")
        _write_record(home, new, [*(rec or {}).get("history", []), _event(new, actor, reason)])
    return old, new


def normalize_pii(expr: pl.Expr, column: str) -> pl.Expr:
    """The same person must hash the same however the value was typed."""
    s = expr.cast(pl.String).str.replace_all(r"[\s\-()（）]", "").str.to_uppercase()
    if "phone" in column:
        s = s.str.replace(r"^(?:\+86|0086|86)(1[3-9]\d{9})$", "$1")
    return pl.when(s.str.len_chars() > 0).then(s).otherwise(None)


_IPAD = bytes(b ^ 0x36 for b in range(256))  # translate tables: key XOR ipad / opad (RFC 2104)
_OPAD = bytes(b ^ 0x5C for b in range(256))


@functools.lru_cache(maxsize=4)
def _hmac_pads(key: bytes) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    """SHA-256 states after absorbing (K ^ ipad) and (K ^ opad): every HMAC then costs two
    `copy()`s and two short updates instead of a fresh OpenSSL HMAC context per value
    (hmac.digest spends most of its time setting that up)."""
    if len(key) > 64:  # the SHA-256 block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def hmac_series(values: pl.Series, key: bytes, column: str | None = None) -> pl.Series:
    """HMAC-SHA256 hex of every non-null value (null stays null), equal to hmac.digest.
    column: hash `normalize_pii(value, column)` instead of the value itself.

    HMAC is not a polars expression: each distinct value is hashed once, and the digests
    are mapped back with a join (replace_strict with a dict of 10^5..10^6 entries was slower
    than the hashing itself). The normalisation also runs on the distinct delivered values
    only (~10 % of the rows of a transactions batch, the performance work (docs/scaling.md))."""
    values = values.cast(pl.String)
    if column is not None:
        raw = values.drop_nulls().unique().to_frame("v")
        raw = raw.with_columns(normalize_pii(pl.col("v"), column).alias("n"))
        digests = _hmac_table(raw.get_column("n").drop_nulls().unique(), key).rename({"v": "n"})
        table = raw.join(digests, on="n", how="inner").select("v", "h")
    else:
        table = _hmac_table(values.drop_nulls().unique(), key)
    out = values.to_frame("v").join(table, on="v", how="left", maintain_order="left")
    return out.get_column("h").alias(values.name)


def _hmac_table(uniq: pl.Series, key: bytes) -> pl.DataFrame:
    """(v, h): the HMAC-SHA256 hex digest of each of the distinct non-null values `uniq`."""
    inner, outer = _hmac_pads(key)
    icopy, ocopy = inner.copy, outer.copy
    digests = []
    for v in uniq.to_list():
        i = icopy()
        i.update(v.encode("utf-8"))
        o = ocopy()
        o.update(i.digest())
        digests.append(o.hexdigest())
    return pl.DataFrame({"v": uniq.cast(pl.String), "h": pl.Series(digests, dtype=pl.String)})


def scrub(expr: pl.Expr) -> pl.Expr:
    out = expr.cast(pl.String)
    for pattern in SCRUB_PATTERNS:
        out = out.str.replace_all(pattern, SCRUBBED)
    return out


def apply_privacy(frame: pl.DataFrame, feed: Feed, key: bytes | None = None) -> pl.DataFrame:
    """Hash, drop and scrub the feed's PII columns of a frame holding contract column names.

    Columns the feed does not know are left to the caller (they never land)."""
    hashed: dict[str, pl.Series] = {}
    drops: list[str] = []
    scrubs: list[pl.Expr] = []
    for col in feed.columns:
        if col.pii is None or col.name not in frame.columns:
            continue
        if col.pii == "hash":
            key = key or pii_key()
            hashed[f"{col.name}_hmac"] = hmac_series(frame.get_column(col.name), key, col.name).alias(f"{col.name}_hmac")
            drops.append(col.name)
        elif col.pii == "drop":
            drops.append(col.name)
        elif col.pii == "scrub":
            scrubs.append(scrub(pl.col(col.name)).alias(col.name))
    if scrubs:
        frame = frame.with_columns(scrubs)
    if hashed:
        frame = frame.with_columns(list(hashed.values()))
    return frame.drop(drops)
