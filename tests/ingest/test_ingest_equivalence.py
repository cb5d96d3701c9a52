"""What lands must not depend on how fast ingest is (issue 23): the same landing and quarantine,
content for content, whatever path stages a delivery.

Content of a home = per feed, every landing (resp. quarantine) row read with polars, with the
file it sits in (`part_date=…/<content id>.parquet`), sorted on every column; only the run's
own timestamps (`_ingested_at`, `quarantined_at`) are left out. The hostile corpus is also
pinned to a digest taken with the code before the issue-23 work (`tests/data/ingest_equivalence/`):
a change of what lands there is a contract change and must update that file on purpose
(`python -m tests.ingest.test_ingest_equivalence DIGEST_FILE HOME`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from core.paths import Home
from ingest.run import ingest_all
from tests.support.hostile_corpus import copy_corpus
from tests.support.inbox import sources

RUN_TIMESTAMPS = ("_ingested_at", "quarantined_at")
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "ingest_equivalence" / "hostile_corpus.json"


def home_content(home: Path) -> dict[str, pl.DataFrame]:
    """`landing/<feed>` and `quarantine/<feed>` -> their rows, sorted on every column."""
    out: dict[str, pl.DataFrame] = {}
    for kind in ("landing", "quarantine"):
        base = home / kind
        for feed in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("_")):
            files = sorted(f for f in feed.rglob("*.parquet") if f.name != "_empty.parquet")
            if not files:
                continue
            frames = [pl.read_parquet(f, hive_partitioning=False).with_columns(pl.lit(f.relative_to(feed).as_posix()).alias("__file"))
                      for f in files]
            df = pl.concat(frames, how="vertical")
            df = df.drop([c for c in RUN_TIMESTAMPS if c in df.columns])
            out[f"{kind}/{feed.name}"] = df.sort(df.columns, nulls_last=True)
    return out


def digests(content: dict[str, pl.DataFrame]) -> dict[str, dict]:
    return {name: {"rows": df.height, "schema": {c: str(t) for c, t in df.schema.items()},
                   "sha256": hashlib.sha256(df.write_csv().encode("utf-8")).hexdigest()}
            for name, df in content.items()}


def assert_same_content(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].schema == b[name].schema, name
        assert a[name].equals(b[name]), f"{name}: {a[name].height} vs {b[name].height} rows, content differs"


def _ingest(home: Path, inbox: Path, workers: str, monkeypatch) -> None:
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKERS", workers)
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    home.mkdir()
    ingest_all(Home(home), sources(), inbox)


@pytest.fixture(scope="module")
def small_inbox(tmp_path_factory) -> Path:
    from windowwatch.generate import generate

    out = tmp_path_factory.mktemp("equiv") / "feeds"
    generate(out, scale="small", seed=7, progress=False)
    return out


def test_a_generated_inbox_lands_the_same_in_process_and_in_workers(small_inbox, tmp_path, monkeypatch):
    _ingest(tmp_path / "in_process", small_inbox, "0", monkeypatch)
    _ingest(tmp_path / "workers", small_inbox, "2", monkeypatch)
    a, b = home_content(tmp_path / "in_process"), home_content(tmp_path / "workers")
    assert {"landing/transactions", "landing/evaluations", "quarantine/transactions"} <= set(a)
    assert sum(df.height for name, df in a.items() if name.startswith("landing/")) > 50_000
    assert_same_content(a, b)


def test_the_hostile_corpus_lands_what_the_previous_code_landed(tmp_path, monkeypatch):
    inbox = copy_corpus(tmp_path)
    _ingest(tmp_path / "home", inbox, "0", monkeypatch)
    got = digests(home_content(tmp_path / "home"))
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got.keys() == want.keys()
    for name in want:
        assert got[name] == want[name], name


if __name__ == "__main__":  # write the digest file of a home (an intended contract change only)
    Path(sys.argv[1]).write_text(json.dumps(digests(home_content(Path(sys.argv[2]))), indent=1, sort_keys=True) + "\n", encoding="utf-8")
