"""A file that cannot be read within bounded memory is refused by name; every other delivery lands
(docs/architecture.md#failures-and-hostile-input, issue 21 finding 10).

Before the fix, a 2 GB sparse CSV (a header, then NUL bytes: one gigantic "line") drove a
staging worker to 24 GB and an OOM kill: nothing landed for any feed, the error named no file,
and every re-run did the same. The files are built sparse (they cost no disk); the tests set the
per-worker memory limit themselves.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.inbox import TX_HEADER, landed, make_inbox, result_for, run, write_csv

MIB = 1 << 20
FLAGS_HEADER = b"flag_id,window_id,flagged_at,flag_type,review_status\n"


def sparse_csv(path: Path, header: bytes, size: int, line_every: int | None = None) -> Path:
    """`header`, then NUL bytes up to `size` (a hole: no disk used), ending with a line break;
    with `line_every`, a line break every that many bytes (lines short enough to pass the line
    check, but together more than a worker may hold)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(header)
        fh.truncate(size)
        for at in range(len(header) + line_every, size, line_every) if line_every else ():
            fh.seek(at)
            fh.write(b"\n")
        fh.seek(size - 1)
        fh.write(b"\n")
    return path


def _good_transactions(inbox: Path) -> None:
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ["E1", "C1", "accept", "2025-03-03 09:00:00", "W01", "I1"]])


def test_a_2gb_sparse_csv_is_refused_by_name_and_every_other_feed_lands(ww_home, tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKER_MEMORY_MB", "2560")
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKERS", "2")
    inbox = make_inbox(tmp_path)
    _good_transactions(inbox)
    sparse_csv(inbox / "video_flags" / "sparse.csv", FLAGS_HEADER, 2 << 30)
    report = run(ww_home, inbox, max_delivery_bytes=4 << 30)  # past the size bound: memory is what must hold
    refused = result_for(report, "sparse.csv")
    assert refused.status == "unreadable", refused
    assert "line 2 is 2,048 MiB long" in refused.reason and "bounded memory" in refused.reason, refused.reason
    assert result_for(report, "t.csv").status == "landed"
    assert landed(ww_home, "transactions")["event_id"].to_list() == ["E1"]
    assert {d.feed for d in report.deliveries if d.status == "landed"} == {"windows", "items", "transactions"}
    assert report.exit_code == 1  # said, by name, not silently skipped


def test_a_file_that_exhausts_its_workers_memory_is_refused_by_name_and_the_rest_lands(ww_home, tmp_path, monkeypatch):
    """Lines short enough for the line check, 1 GiB together: the worker staging it reaches its
    memory limit and dies or fails; that file is refused naming the limit, a fresh worker stages
    the next delivery, and the rest lands."""
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKER_MEMORY_MB", "2560")
    monkeypatch.setenv("WINDOWWATCH_INGEST_WORKERS", "1")
    inbox = make_inbox(tmp_path)
    sparse_csv(
        inbox / "transactions" / "a_sparse.csv", ",".join(TX_HEADER).encode() + b"\n", 1 << 30, line_every=4 * MIB
    )
    _good_transactions(inbox)  # transactions/t.csv: staged after a_sparse.csv, by the worker started after it
    write_csv(
        inbox / "video_flags" / "v.csv",
        [FLAGS_HEADER.decode().strip().split(","), ["F1", "W01", "2025-03-03 10:00:00", "phone", "confirmed"]],
    )
    report = run(ww_home, inbox, max_delivery_bytes=4 << 30)
    refused = result_for(report, "a_sparse.csv")
    assert refused.status == "unreadable", refused
    assert "memory" in refused.reason and "2,560 MiB" in refused.reason, refused.reason
    assert result_for(report, "t.csv").status == "landed" and result_for(report, "v.csv").status == "landed"
    assert landed(ww_home, "transactions")["event_id"].to_list() == ["E1"]
    assert landed(ww_home, "video_flags")["flag_id"].to_list() == ["F1"]
