"""The daily DAG's `supervise_sync` task (windowwatch.pipeline.step_supervise_sync): recorded in
the run record with its counts; idempotent across runs."""

from __future__ import annotations

from windowwatch.pipeline import step_supervise_sync
from windowwatch.runs import RunRecord
from windowwatch.supervision.cli import list_items


def test_the_step_opens_items_and_records_its_counts(sup):
    counts = step_supervise_sync(sup.home, "manual__run-1")
    assert counts["opened"] == counts["triggers"] > 0
    step = RunRecord(sup.home, "manual__run-1").read_step("supervise_sync")
    assert step["status"] == "succeeded" and step["counts"] == counts
    assert step["snapshot"] == sup.snapshot.name
    n = len(list_items(sup.store))
    again = step_supervise_sync(sup.home, "manual__run-2")
    assert again["opened"] == 0 and len(list_items(sup.store)) == n
