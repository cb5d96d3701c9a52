"""Hostile input (issue 8): every corpus file gets a clear error or a quarantine, the other
files still land, rows in = landed + quarantined, and memory stays bounded.

One ingest of the whole corpus (committed small files + big/dangerous ones made in tmp) runs
in a child process so its peak RSS can be measured; the tests below read its results.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from tests.support.hostile_corpus import (
    EXPECTED,
    GENERATED,
    LOOSE_FILES,
    PEAK_RSS_LIMIT_MB,
    UNKNOWN_FOLDERS,
    add_generated_cases,
    copy_corpus,
    pii_hits,
    rel_source,
    run_ingest_subprocess,
    sources_file,
)

ALL_EXPECTED = EXPECTED | GENERATED


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    inbox = copy_corpus(root)
    add_generated_cases(inbox, root / "outside")
    home = root / "home"
    home.mkdir()
    run = run_ingest_subprocess(home, inbox, sources_file(root))
    run.inbox = inbox
    run.root = root
    return run


def _deliveries(run) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for d in run.report["deliveries"]:
        key = rel_source(d["source"])
        assert key not in out, f"{key} delivered twice"
        out[key] = d
    return out


def test_corpus_has_at_least_40_files():
    from tests.support.hostile_corpus import CORPUS

    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert len(files) >= 40, len(files)
    assert len(ALL_EXPECTED) >= 60


def test_every_delivery_has_an_expectation_and_nothing_is_missing(corpus_run):
    got = set(_deliveries(corpus_run))
    # a newline in a file name must come out escaped; match the escaped form
    assert got == set(ALL_EXPECTED), {"unexpected": sorted(got - set(ALL_EXPECTED)), "missing": sorted(set(ALL_EXPECTED) - got)}


@pytest.mark.parametrize("source", sorted(ALL_EXPECTED))
def test_each_hostile_file_gets_a_clear_error_or_quarantine(corpus_run, source):
    d = _deliveries(corpus_run).get(source)
    assert d is not None, f"{source}: not reported at all"
    exp = ALL_EXPECTED[source]
    assert d["status"] == exp.status, (source, d["status"], d.get("reason"), d.get("by_rule"))
    if exp.status in ("unreadable", "still being written"):
        reason = d["reason"] or ""
        assert len(reason) > 10, f"{source}: the error must say what is wrong: {reason!r}"
        if exp.reason:
            assert re.search(exp.reason, reason), f"{source}: reason {reason!r} does not match {exp.reason!r}"
        return
    got = (d["rows_in"], d["landed"], d["quarantined"], d["by_rule"])
    assert got == (exp.rows_in, exp.landed, exp.quarantined, exp.by_rule), source


def test_rows_in_equals_landed_plus_quarantined_on_disk(corpus_run):
    """The reconciliation holds against what is actually on disk, not only in the report."""
    home = corpus_run.home
    landed = pl.concat([pl.scan_parquet(p, hive_partitioning=False).select("_delivery_id").collect()
                        for p in home.glob("landing/*/part_date=*/*.parquet")])
    landed_by = dict(landed.group_by("_delivery_id").len().iter_rows())
    quarantine_files = [p for p in home.glob("quarantine/*/*.parquet") if p.name != "_empty.parquet" and not p.name.startswith("unreadable-")]
    q_by = {p.stem: pl.read_parquet(p).height for p in quarantine_files}
    total_in = total_landed = total_q = 0
    for d in corpus_run.report["deliveries"]:
        if d["status"] != "landed":
            continue
        cid = d["content_id"]
        assert landed_by.get(cid, 0) == d["landed"], d["source"]
        assert q_by.get(cid, 0) == d["quarantined"], d["source"]
        assert d["rows_in"] == d["landed"] + d["quarantined"]
        total_in += d["rows_in"]
        total_landed += landed_by.get(cid, 0)
        total_q += q_by.get(cid, 0)
    assert total_in == total_landed + total_q
    for feed, row in corpus_run.report["by_feed"].items():
        assert row["rows_in"] == row["landed"] + row["quarantined"], feed


def test_unreadable_files_are_listed_in_quarantine_too(corpus_run):
    rows = pl.concat([pl.read_parquet(p) for p in corpus_run.home.glob("quarantine/*/unreadable-*.parquet")])
    unreadable = {d["source"] for d in corpus_run.report["deliveries"] if d["status"] == "unreadable"}
    assert set(rows["source_file"]) == unreadable
    assert set(rows["rule"]) == {"unreadable_file"}


def test_the_control_files_still_land(corpus_run):
    d = _deliveries(corpus_run)
    for source in ("windows/windows.csv", "items/items.csv", "transactions/control_good.csv", "evaluations/control_good.csv",
                   "video_flags/control_good.jsonl"):
        assert d[source]["status"] == "landed" and d[source]["quarantined"] == 0, source
    tx = pl.read_parquet(corpus_run.home / "landing" / "transactions" / "part_date=2025-03-03" / f"{d['transactions/control_good.csv']['content_id']}.parquet")
    assert tx["event_id"].to_list() == [f"G{i}" for i in range(5)]


def test_unknown_folders_and_loose_files_are_reported_and_the_run_fails(corpus_run):
    problems = corpus_run.report["problems"]
    unknown = {Path(p["detail"].split(":")[0]).name for p in problems if p["problem"] == "unknown feed folder"}
    assert unknown == UNKNOWN_FOLDERS
    loose = {Path(p["detail"].split(":")[0]).name for p in problems if p["problem"] == "not in a feed folder"}
    assert loose == LOOSE_FILES
    assert corpus_run.exit_code == 1
    assert "unknown feed folder" in corpus_run.stdout


def test_nothing_outside_the_inbox_was_read_through_a_symlink(corpus_run):
    landed = pl.concat([pl.read_parquet(p, hive_partitioning=False).select(pl.col(c) for c in ("_source",)).with_columns(
        pl.lit(p.read_bytes().count(b"SECRET")).alias("n")) for p in corpus_run.home.glob("landing/*/part_date=*/*.parquet")])
    assert landed["n"].sum() == 0
    for p in corpus_run.home.rglob("*.parquet"):
        df = pl.read_parquet(p, hive_partitioning=False)
        for col in df.columns:
            if df[col].dtype == pl.String:
                assert not df[col].drop_nulls().str.contains("SECRET").any(), (p, col)
    sources = {rel_source(d["source"]) for d in corpus_run.report["deliveries"]}
    assert not any(s.startswith(("transactions/escape/", "staff/")) for s in sources), sources


def test_no_control_characters_or_bom_land(corpus_run):
    for p in corpus_run.home.glob("landing/*/part_date=*/*.parquet"):
        df = pl.read_parquet(p, hive_partitioning=False)
        for col in df.columns:
            if df[col].dtype == pl.String:
                bad = df.filter(pl.col(col).str.contains(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufeff]"))
                assert bad.height == 0, (p, col, bad[col].to_list()[:3])
    ids = set(pl.concat([pl.read_parquet(p, hive_partitioning=False).select("event_id")
                         for p in corpus_run.home.glob("landing/transactions/part_date=*/*.parquet")])["event_id"])
    assert "BV9" in ids  # the BOM before a value was stripped, the row kept


def test_landed_times_are_plausible(corpus_run):
    parts = sorted(p.name.removeprefix("part_date=") for p in corpus_run.home.glob("landing/*/part_date=*"))
    assert parts and parts[0] >= "2000-01-01" and parts[-1] <= "2030-12-31", parts


def test_injection_strings_land_as_plain_text(corpus_run):
    tx = pl.concat([pl.read_parquet(p, hive_partitioning=False) for p in corpus_run.home.glob("landing/transactions/part_date=*/*.parquet")])
    assert "SQ1'; DROP TABLE s; --" in tx["event_id"].to_list()
    assert not Path("/tmp/pwned.csv").exists()
    ev = pl.concat([pl.read_parquet(p, hive_partitioning=False) for p in corpus_run.home.glob("landing/evaluations/part_date=*/*.parquet")])
    comments = ev["comment"].drop_nulls().to_list()
    assert any(c.startswith("=HYPERLINK(") for c in comments)  # kept verbatim: exports neutralise it
    assert "𠀀𪚥 rare chars" in comments  # GB18030 four-byte characters survive


def test_no_raw_pii_in_home_after_the_corpus(corpus_run):
    raw = {"110101199003078515", "13812345678", "138-1234-5678", "010-62345678", "张三"}
    hits = pii_hits(corpus_run.home, raw)
    assert hits == [], hits[:10]
    assert not any(v in corpus_run.stdout + corpus_run.stderr for v in raw)


def test_report_lines_are_short_and_escaped(corpus_run):
    """A 100,000-column header or a NUL header must not flood the log; a newline in a name
    must not forge a report line."""
    assert len(corpus_run.stdout) < 200_000, len(corpus_run.stdout)
    assert "\x00" not in corpus_run.stdout
    for line in corpus_run.stdout.splitlines():
        assert len(line) < 2_000, line[:200]
    assert not any(line.startswith("line.csv") for line in corpus_run.stdout.splitlines())


def test_memory_stays_bounded(corpus_run):
    """Peak RSS of the child that ingested the corpus (10 MB field, 100k columns, zip bomb of
    300 MB expanded) stays under the bound."""
    print(f"corpus ingest: {corpus_run.seconds:.1f} s, peak RSS {corpus_run.peak_rss_mb:.0f} MB")
    assert corpus_run.peak_rss_mb < PEAK_RSS_LIMIT_MB


def test_rerun_of_the_corpus_lands_nothing_new(corpus_run, tmp_path):
    """Idempotent even on hostile input: the second run only reports `already landed`."""
    before = sorted(str(p.relative_to(corpus_run.home)) for p in corpus_run.home.glob("landing/*/part_date=*/*.parquet"))
    again = run_ingest_subprocess(corpus_run.home, corpus_run.inbox, sources_file(corpus_run.root))
    after = sorted(str(p.relative_to(corpus_run.home)) for p in corpus_run.home.glob("landing/*/part_date=*/*.parquet"))
    assert before == after
    statuses = {d["status"] for d in again.report["deliveries"]}
    assert statuses <= {"already landed", "unreadable", "still being written"}, statuses
    assert json.dumps(again.report["by_feed"]).count('"landed": 0') >= 1
