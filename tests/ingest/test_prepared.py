"""The prepared finish (issue 7): where a delivery is staged, its final files (landing per date,
quarantine, key index) are made too; the main process renames them into place unless the
delivery's keys meet an earlier delivery's, and then decides exactly as before (`_finish`).

Every path must give the same landing (rows, their order in each file), quarantine and index."""

from __future__ import annotations

import polars as pl
import pytest

from ingest import landing, stage_pool
from ingest.key_index import index_dir
from core.feeds import FEEDS
from core.paths import Home
from ingest.sources import files
from tests.support.inbox import TX_HEADER, make_inbox, result_for, run, write_csv

HEADER = TX_HEADER + ["recorded_at", "staff_id"]


def _rows() -> list[list[str]]:
    """Days interleaved across batches (batches of 7 rows below), a within-delivery conflict,
    an identical repeat, a bad row and an unknown window."""
    rows = [HEADER]
    for r in range(60):
        day = 1 + (r * 7) % 5  # dates jump back and forth: a date's rows lie in many batches
        when = f"2025-03-{day:02d} 09:{r % 60:02d}:00"
        rows.append([f"E{r}", f"C{r // 3}", "accept", when, "W01" if r % 17 else "W99", "I1", when, f"S{r % 4}"])
    rows.append(["E5", "C1", "accept", "2025-03-01 09:05:00", "W01", "I1", "2025-03-01 09:05:00", "S9"])  # conflicts within
    rows.append(rows[3])  # identical repeat of E2: harmless
    rows.append(["E99", "C99", "accept", "not a time", "W01", "I1", "", "S1"])  # bad_timestamp
    return rows


def _outcome(home) -> dict:
    """Every landing/index file's rows in file order (minus the ingest time), the quarantine."""
    out = {}
    for p in sorted((home / "landing").rglob("*.parquet")):
        df = pl.read_parquet(p, hive_partitioning=False)
        out[str(p.relative_to(home))] = df.drop("_ingested_at", strict=False).rows()
    for p in sorted((home / "quarantine").rglob("*.parquet")):
        out[str(p.relative_to(home))] = pl.read_parquet(p).drop("quarantined_at").rows()
    return out


def _land(tmp_path, name, monkeypatch, inbox=None):
    monkeypatch.setattr(files, "BATCH_ROWS", 7)
    if inbox is None:
        inbox = make_inbox(tmp_path / f"in_{name}")
        write_csv(inbox / "transactions" / "t.csv", _rows())
    home = tmp_path / name
    home.mkdir()
    report = run(home, inbox)
    assert not list(home.rglob("*.tmp")) and not list((home / "tmp" / "ingest").glob("*/*"))  # no temp files left
    return home, report


def test_every_path_lands_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv(stage_pool.ENV, "0")
    calls = {"finish": 0, "sorted": 0}
    home, report = _land(tmp_path, "pieces", monkeypatch)
    d = result_for(report, "t.csv")
    assert (d.rows_in, d.landed, d.quarantined) == (63, 57, 6)
    assert d.by_rule == {"bad_timestamp": 1, "unknown_reference": 4, "duplicate_conflict": 1}
    assert len(d.partitions) == 5
    expected = _outcome(home)
    # each landing file holds its date's rows in line order
    for name, rows in expected.items():
        if name.startswith("landing/transactions/part_date="):
            lines = [r[-1] for r in rows]  # _line is the last column once _ingested_at is dropped
            assert lines == sorted(lines) and len(rows) > 5, name

    real_finish, real_sorted = landing.Lander._finish, landing.Lander._write_landing

    def finish(self, *a, **k):
        calls["finish"] += 1
        return real_finish(self, *a, **k)

    def write_sorted(self, *a, **k):
        calls["sorted"] += 1
        return real_sorted(self, *a, **k)

    monkeypatch.setattr(landing.Lander, "_write_landing", write_sorted)
    # lines out of order in a staged piece: the worker sorts the delivery in DuckDB instead
    monkeypatch.setattr(landing, "ascending_lines", lambda lines: False)
    home2, _ = _land(tmp_path, "sorted", monkeypatch)
    assert calls["sorted"] >= 1 and _outcome(home2) == expected
    monkeypatch.undo()
    monkeypatch.setenv(stage_pool.ENV, "0")
    # the main-process finish (what colliding keys fall back to)
    monkeypatch.setattr(landing.Lander, "_finish", finish)
    monkeypatch.setattr(landing.Lander, "_commit_prepared", lambda self, *a, **k: None)
    home3, _ = _land(tmp_path, "finish", monkeypatch)
    assert calls["finish"] == 3 and _outcome(home3) == expected  # windows, items and t.csv


@pytest.mark.parametrize("workers", ["0", "2"])
def test_only_deliveries_whose_keys_meet_earlier_ones_take_the_in_order_finish(tmp_path, monkeypatch, workers):
    monkeypatch.setenv(stage_pool.ENV, workers)
    inbox = make_inbox(tmp_path / "in")
    first = [HEADER, ["A1", "C1", "accept", "2025-03-01 09:00:00", "W01", "I1", "2025-03-01 09:00:00", "S1"],
             ["A2", "C1", "complete", "2025-03-01 10:00:00", "W01", "I1", "2025-03-01 10:00:00", "S1"]]
    write_csv(inbox / "transactions" / "a.csv", first)
    write_csv(inbox / "transactions" / "b.csv", [HEADER, ["B1", "C2", "accept", "2025-03-02 09:00:00", "W01", "I1", "2025-03-02 09:00:00", "S1"]])
    # c: A2 again with other content (conflict) and A1 identical (a harmless re-send)
    write_csv(inbox / "transactions" / "c.csv", [HEADER, first[1],
                                                 ["A2", "C1", "complete", "2025-03-01 10:00:00", "W01", "I1", "2025-03-01 10:00:00", "S7"],
                                                 ["C3", "C3", "accept", "2025-03-03 09:00:00", "W01", "I1", "2025-03-03 09:00:00", "S1"]])
    calls = []
    real_finish = landing.Lander._finish

    def finish(self, delivery, *a, **k):
        calls.append(delivery.source.rsplit("/", 1)[-1])
        return real_finish(self, delivery, *a, **k)

    monkeypatch.setattr(landing.Lander, "_finish", finish)
    home = tmp_path / "home"
    home.mkdir()
    report = run(home, inbox)
    assert report.stage_workers == int(workers)
    assert calls == ["c.csv"]  # a and b land by renaming what was prepared
    c = result_for(report, "c.csv")
    assert (c.landed, c.quarantined, c.by_rule) == (2, 1, {"duplicate_conflict": 1})
    tx = pl.concat([pl.read_parquet(p, hive_partitioning=False) for p in (home / "landing" / "transactions").glob("part_date=*/*.parquet")])
    assert sorted(tx["event_id"].to_list()) == ["A1", "A1", "A2", "B1", "C3"]
    # the index of each delivery is in place and no newer than needed (rebuild not triggered)
    idx = sorted(p.stem for p in index_dir(Home(home), FEEDS["transactions"]).glob("*.parquet"))
    assert idx == sorted(d.content_id for d in report.deliveries if d.feed == "transactions")
    assert not list(home.rglob("*.tmp")) and not list((home / "tmp" / "ingest").glob("*/*"))
    # a re-run is a no-op
    again = run(home, inbox)
    assert {d.status for d in again.deliveries} == {"already landed"}


def test_an_unreadable_file_among_staged_ones_is_reported_and_the_rest_lands(tmp_path, monkeypatch):
    """With workers, an unreadable delivery is never sent to a worker: it is recorded as unreadable
    in the main process and the readable files beside it still land."""
    monkeypatch.setenv(stage_pool.ENV, "2")
    inbox = make_inbox(tmp_path / "in")
    write_csv(inbox / "transactions" / "a.csv", _rows())
    write_csv(inbox / "transactions" / "b.csv", [HEADER, ["B1", "C2", "accept", "2025-03-02 09:00:00", "W01", "I1", "2025-03-02 09:00:00", "S1"]])
    (inbox / "transactions" / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip file")
    home = tmp_path / "home"
    home.mkdir()
    report = run(home, inbox)
    assert report.stage_workers == 2
    assert result_for(report, "broken.xlsx").status == "unreadable"
    assert result_for(report, "a.csv").status == result_for(report, "b.csv").status == "landed"
