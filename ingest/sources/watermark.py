"""Incremental state of the sql and http sources: where the last landed batch ended.

One JSON file per source, `$WINDOWWATCH_HOME/state/sources/<source name>.json`, written
atomically (temp file in the same directory, fsync, os.replace) so a crash leaves either the
old or the new state, never half a file. Sources save it only from `Delivery.on_landed`,
i.e. after landing recorded the delivery in its ledger: a crash before that re-fetches the
same batch, which has the same content_id and so lands exactly once.

Deleting a state file loses nothing: the source fetches everything again; batches cut as
before have the same content_id and are skipped, but rows that fall into differently cut
batches land a second time as identical copies (landing does not flag an identical row as a
conflict; staging keeps one). So delete it only to start over, e.g. after changing the
watermark column.

SQL watermarks are bound back into the query as parameters, so they keep their Python type
(`{"type": "datetime", "value": "2025-03-01T09:30:00"}`): a timestamp column is compared
with a timestamp, not with text.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.paths import Home
from ingest.sources.batch import SourceError


def _root(home: Home | str | os.PathLike) -> Path:
    return Path(home.root if isinstance(home, Home) else home)


def state_file(home: Home | str | os.PathLike, source_name: str) -> Path:
    return _root(home) / "state" / "sources" / f"{source_name}.json"


def load_state(home: Home | str | os.PathLike, source_name: str) -> dict[str, Any] | None:
    """The saved state of a source, or None before its first landed batch."""
    path = state_file(home, source_name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        state = json.loads(text)
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise SourceError(
            f"{path}: watermark state is not valid JSON ({exc}); restore it, or delete it to fetch the "
            "source again from the start (nothing is lost; already landed rows may be delivered again)"
        ) from None
    return state


def save_state(home: Home | str | os.PathLike, source_name: str, state: dict[str, Any]) -> None:
    """Write the state atomically: temp file + fsync + os.replace."""
    path = state_file(home, source_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(state, ensure_ascii=False, sort_keys=True, indent=1)
    fd, tmp = tempfile.mkstemp(prefix=f".{source_name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- typed values (sql)

_ENCODERS: list[tuple[type, str]] = [
    (bool, "bool"),  # before int: bool is an int subclass
    (int, "int"),
    (Decimal, "decimal"),
    (float, "float"),
    (dt.datetime, "datetime"),  # before date: datetime is a date subclass
    (dt.date, "date"),
    (dt.time, "time"),
    (str, "str"),
]


def encode_value(value: Any) -> dict[str, str]:
    """A JSON-safe, type-preserving form of a watermark or key value."""
    for typ, name in _ENCODERS:
        if isinstance(value, typ):
            text = value.isoformat() if isinstance(value, (dt.date, dt.time)) else str(value)
            return {"type": name, "value": text}
    raise SourceError(
        f"a watermark/key value of type {type(value).__name__} cannot be stored; "
        "use a timestamp, date, number or text column"
    )


def decode_value(encoded: dict[str, str]) -> Any:
    kind, text = encoded["type"], encoded["value"]
    return {
        "bool": lambda t: t == "True",
        "int": int,
        "decimal": Decimal,
        "float": float,
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "str": str,
    }[kind](text)
