"""The hashes of docs/rules.md: lowercase SHA-256 hex of UTF-8 text, canonical JSON."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64  # prev_hash of the first log entry


def canonical_json(value: Any) -> str:
    """Keys sorted, separators `,` and `:`, non-ASCII kept (docs/rules.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def H(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
