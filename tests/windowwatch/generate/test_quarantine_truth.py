"""The generator's quarantine truth against the real ingest: every listed line, nothing else.

Uses the session's generated small centre (tests/support/small_pipeline.py), ingested with the repo's
windowwatch.yaml.
"""

from __future__ import annotations

import polars as pl

from ingest.landing_schema import landing_schema
from core.feeds import FEEDS


def test_ingest_quarantines_exactly_the_listed_lines(small_pipeline):
    home, report = small_pipeline.home, small_pipeline.ingest_report
    files = [p for p in home.quarantine.glob("*/*.parquet") if p.name != "_empty.parquet"]
    quarantined = pl.concat([pl.read_parquet(p) for p in files])
    got = {(f.removeprefix("files:"), int(n), r)
           for f, n, r in quarantined.select("source_file", "line", "rule").iter_rows() if r != "unreadable_file"}
    truth = pl.read_csv(small_pipeline.truth_dir / "quarantine.csv", infer_schema=False)
    expected = {(f, int(n), r) for _, f, n, r in truth.iter_rows() if r != "unreadable_file"}
    assert expected, "the generator injected no bad rows: the test would prove nothing"
    assert got == expected
    unreadable = {d.source.removeprefix("files:") for d in report.deliveries if d.status == "unreadable"}
    assert unreadable == set(truth.filter(pl.col("rule") == "unreadable_file")["file"])
    # rows in = landed + quarantined for every delivery, and nothing else went missing
    for d in report.deliveries:
        if d.status not in ("unreadable", "already landed"):
            assert d.rows_in == d.landed + d.quarantined, d.source


def test_landed_files_have_the_contract_schema(small_pipeline):
    for feed in FEEDS.values():
        for p in sorted((small_pipeline.home.landing / feed.name).glob("part_date=*/*.parquet"))[:3]:
            assert dict(pl.read_parquet(p, hive_partitioning=False).schema) == landing_schema(feed), p
