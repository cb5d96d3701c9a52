"""The key index (ingest/key_index.py, issue 7): a cache of landing that decides duplicate_conflict
exactly as reading every earlier landing file did, and converges when missing or stale."""

from __future__ import annotations

import os
import shutil

import polars as pl

from ingest import stage_pool
from ingest.key_index import INDEX_SCHEME, index_dir, index_root
from tests.support.inbox import TX_HEADER, landed, make_inbox, quarantined, result_for, run, write_csv
from core.feeds import FEEDS
from core.paths import Home

HEADER = TX_HEADER + ["recorded_at", "staff_id"]
FIRST = [HEADER,
         ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "2025-01-06 09:00:00", "S1"],
         ["E2", "C1", "complete", "2025-01-06 10:00:00", "W01", "I1", "2025-01-06 10:00:00", "S1"],
         ["E3", "C2", "accept", "2025-02-03 09:00:00", "W01", "I1", "2025-02-03 09:00:00", "S1"]]
SECOND = [HEADER,
          ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "2025-01-07 08:00:00", "S2"],  # update: lands
          ["E2", "C1", "complete", "2025-01-06 10:00:00", "W01", "I1", "2025-01-06 10:00:00", "S9"],  # conflict
          ["E3", "C2", "accept", "2025-02-03 09:00:00", "W01", "I1", "2025-02-03 09:00:00", "S1"],  # identical re-send
          ["E4", "C3", "accept", "2025-02-04 09:00:00", "W01", "I1", "", "S1"]]
THIRD = [HEADER,
         ["E1", "C1", "accept", "2025-01-06 09:00:00", "W01", "I1", "2025-01-07 08:00:00", "S3"],  # conflicts with the update
         ["E4", "C3", "accept", "2025-02-04 09:00:00", "W01", "I1", "", "S1"]]


def _deliver(home, tmp_path, name, rows):
    inbox = make_inbox(tmp_path / name)
    write_csv(inbox / "transactions" / f"{name}.csv", rows)
    return result_for(run(home, inbox), f"{name}.csv")


def _outcome(home) -> tuple:
    q = quarantined(home, "transactions").select("source_file", "line", "rule").rows()
    rows = landed(home, "transactions").drop("_ingested_at").sort("_source", "_line").rows()
    return q, rows


def test_index_written_per_event_delivery_and_matches_landing(ww_home, tmp_path):
    res = _deliver(ww_home, tmp_path, "a", FIRST)
    idx = index_dir(Home(ww_home), FEEDS["transactions"]) / f"{res.content_id}.parquet"
    df = pl.read_parquet(idx)
    assert idx.parent.parent.name == INDEX_SCHEME  # the hash's scheme names the folder
    assert df.columns == ["event_id", "recorded_at", "_rh"] and df.schema["_rh"] == pl.UInt64
    assert df["event_id"].to_list() == ["E1", "E2", "E3"] and df["_rh"].n_unique() == 3
    assert not (index_dir(Home(ww_home), FEEDS["windows"])).exists()  # reference feeds are snapshots: no index


def test_conflicts_across_deliveries_use_the_index(ww_home, tmp_path):
    _deliver(ww_home, tmp_path, "a", FIRST)
    second = _deliver(ww_home, tmp_path, "b", SECOND)
    assert (second.rows_in, second.landed, second.quarantined) == (4, 3, 1)
    third = _deliver(ww_home, tmp_path, "c", THIRD)
    assert (third.landed, third.quarantined, third.by_rule) == (1, 1, {"duplicate_conflict": 1})
    assert quarantined(ww_home, "transactions").select("line", "rule").rows() == [(3, "duplicate_conflict"), (2, "duplicate_conflict")]


def _run_all(home, tmp_path, tamper=None) -> tuple:
    _deliver(home, tmp_path, "a", FIRST)
    _deliver(home, tmp_path, "b", SECOND)
    if tamper:
        tamper(home)
    _deliver(home, tmp_path, "c", THIRD)
    return _outcome(home)


def test_missing_or_stale_index_is_rebuilt_and_decides_the_same(ww_home, tmp_path):
    reference = _run_all(ww_home, tmp_path / "ref")
    ref_index = {p.name: pl.read_parquet(p).rows() for p in index_dir(Home(ww_home), FEEDS["transactions"]).glob("*.parquet")}
    assert len(ref_index) == 3

    def drop_index(home):  # a home from before the index, or a kill before it was written
        shutil.rmtree(index_dir(Home(home), FEEDS["transactions"]))

    def stale_index(home):  # a landing file newer than its index (re-landed): the index must not be trusted
        d = index_dir(Home(home), FEEDS["transactions"])
        for p in d.glob("*.parquet"):
            pl.DataFrame(schema={"event_id": pl.String, "recorded_at": pl.Datetime("us"), "_rh": pl.String}).write_parquet(p)
            os.utime(p, ns=(1, 1))

    def other_scheme(home):
        """An older release's index (md5 text hashes, feed folders right under _index: fresh by its
        times, so trusted if read) and an index of another DuckDB version's hash(): comparing their
        hashes with today's would make every identical re-send a conflict."""
        d = index_dir(Home(home), FEEDS["transactions"])
        legacy = index_root(Home(home)) / "transactions"
        legacy.mkdir()
        for p in d.glob("*.parquet"):
            old = pl.read_parquet(p)
            old.with_columns(pl.format("md5-{}", pl.col("_rh")).alias("_rh")).write_parquet(legacy / p.name)
        shutil.move(d.parent, index_root(Home(home)) / "hash64-duckdb0.9.0")

    for name, tamper in (("missing", drop_index), ("stale", stale_index), ("other_scheme", other_scheme)):
        home = tmp_path / name / "home"
        home.mkdir(parents=True)
        assert _run_all(home, tmp_path / name, tamper) == reference, name
        rebuilt = {p.name: pl.read_parquet(p).rows() for p in index_dir(Home(home), FEEDS["transactions"]).glob("*.parquet")}
        assert rebuilt == ref_index, name  # rebuilt from landing row for row, in the same order
        assert [p.name for p in index_root(Home(home)).iterdir()] == [INDEX_SCHEME], name  # others removed


def test_index_of_a_delivery_without_landing_files_is_ignored(ww_home, tmp_path):
    _deliver(ww_home, tmp_path, "a", FIRST)
    d = index_dir(Home(ww_home), FEEDS["transactions"])
    # an index left by a delivery whose landing files are gone must not quarantine anything
    pl.DataFrame({"event_id": ["E4"], "recorded_at": [None], "_rh": ["x"]},
                 schema={"event_id": pl.String, "recorded_at": pl.Datetime("us"), "_rh": pl.String}).write_parquet(d / ("f" * 64 + ".parquet"))
    second = _deliver(ww_home, tmp_path, "b", SECOND)
    assert second.by_rule == {"duplicate_conflict": 1}


def test_one_run_with_prestaging_decides_like_one_run_per_delivery(ww_home, tmp_path, monkeypatch):
    """Issue 7: the next deliveries are validated and staged in worker processes while the
    current one is finished. Deliveries whose keys collide must still be decided in delivery
    order: three colliding deliveries in ONE run (each staged while its predecessor lands) end
    exactly as three separate runs."""
    monkeypatch.setenv(stage_pool.ENV, "2")  # small files: `auto` would stage in-process
    inbox = make_inbox(tmp_path / "one")
    for name, rows in (("a", FIRST), ("b", SECOND), ("c", THIRD)):
        write_csv(inbox / "transactions" / f"{name}.csv", rows)
    write_csv(inbox / "transactions" / "d_same_as_a.csv", FIRST)  # same content id as a.csv: never staged twice
    report = run(ww_home, inbox)
    assert report.stage_workers == 2  # really staged in worker processes
    by_file = {d.source.rsplit("/", 1)[-1]: d for d in report.deliveries if d.feed == "transactions"}
    assert [by_file[f].status for f in ("a.csv", "b.csv", "c.csv", "d_same_as_a.csv")] == ["landed", "landed", "landed", "already landed"]
    assert (by_file["b.csv"].landed, by_file["b.csv"].quarantined) == (3, 1)
    assert (by_file["c.csv"].landed, by_file["c.csv"].by_rule) == (1, {"duplicate_conflict": 1})

    separate = tmp_path / "separate_home"
    separate.mkdir()
    for name, rows in (("a", FIRST), ("b", SECOND), ("c", THIRD)):
        _deliver(separate, tmp_path / "sep", name, rows)
    def outcome(home):
        q = quarantined(home, "transactions")
        q = sorted((f.rsplit("/", 1)[-1], line, rule, detail) for f, line, rule, detail in q.select("source_file", "line", "rule", "detail").rows())
        rows = landed(home, "transactions").drop("_ingested_at", "_source").sort("_delivery_id", "_line")
        return q, rows

    q_one, rows_one = outcome(ww_home)
    q_sep, rows_sep = outcome(separate)
    assert q_one == q_sep
    assert rows_one.equals(rows_sep) and rows_one.height == 3 + 3 + 1
    assert not list((Home(ww_home).root / "tmp" / "ingest").glob("*/*"))  # no staging left behind
