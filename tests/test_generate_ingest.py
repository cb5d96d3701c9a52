"""The generator's quarantine truth against the real ingest: every listed line, nothing else.

Slow (~40 s on a loaded 2-core machine): run with `make test-slow` or `pytest -m slow`.
"""

from __future__ import annotations

import polars as pl
import pytest

from windowwatch.config import load_sources
from windowwatch.generate import generate


@pytest.mark.slow
def test_ingest_quarantines_exactly_the_listed_lines(ww_home, tmp_path):
    from ingest.run import ingest_all

    inbox = tmp_path / "inbox"
    generate(inbox, scale="small", seed=11, progress=False)
    report = ingest_all(ww_home, load_sources(), inbox)
    landed = pl.read_parquet(ww_home / "quarantine" / "**" / "*.parquet").filter(pl.col("rule").is_not_null())
    rows = landed.select("source_file", "line", "rule").iter_rows()
    got = {(f.removeprefix("files:"), int(n), r) for f, n, r in rows if r != "unreadable_file"}
    truth = pl.read_csv(inbox / "_truth" / "quarantine.csv", infer_schema=False)
    expected = {(f, int(n), r) for _, f, n, r in truth.iter_rows() if r != "unreadable_file"}
    assert got == expected
    unreadable = {d.source.removeprefix("files:") for d in report.deliveries if d.status == "unreadable"}
    assert unreadable == set(truth.filter(pl.col("rule") == "unreadable_file")["file"])
    # rows in = landed + quarantined for every delivery, and nothing else went missing
    for d in report.deliveries:
        if d.status not in ("unreadable", "already landed"):
            assert d.rows_in == d.landed + d.quarantined, d.source
