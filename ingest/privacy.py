"""Privacy (docs/architecture.md#privacy-and-access): applicant ids and phones become keyed hashes, names never land,
free text is scrubbed of ID-card and phone numbers.

The key comes from WINDOWWATCH_PII_KEY, else from a key file created on first use with mode
0600 at ~/.config/windowwatch/pii.key (WINDOWWATCH_PII_KEY_FILE overrides the path). It is
never inside the repository, never printed, and the same key always gives the same hash,
so the same applicant can be followed across deliveries without being identified.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from pathlib import Path

import polars as pl

from core.feeds import Feed
from core.paths import REPO_ROOT
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
