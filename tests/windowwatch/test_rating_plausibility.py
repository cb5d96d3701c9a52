"""A rating direction declared the wrong way round stops the run before publication (issue 21,
finding 8; SPEC §3 ratings, §4.4; expectations/marts.py rating plausibility).

Before the fix, the small generated centre ingested with `rating_direction: one_is_best` (its
numeric ratings are 5 = 非常满意) published satisfaction 0.998 -> 0.001 for the last month with
every gate green. The run here goes through the functions the daily DAG calls, without Airflow.
"""

from __future__ import annotations

import re
import shutil

import pytest

from core.paths import Home
from windowwatch.pipeline import (
    GateFailed,
    step_build,
    step_ingest,
    step_list_sources,
    step_marts_gate,
    step_raw_gate,
    step_summary,
)

INVERTED_SOURCES = """sources:
  - name: hall_inbox
    kind: files
    options:
      rating_direction: one_is_best   # wrong: the feed's numeric ratings are 5 = 非常满意
"""


def test_an_inverted_rating_direction_fails_the_marts_gate_and_nothing_is_published(
    small_pipeline, tmp_path, monkeypatch
):
    home = Home(tmp_path / "home")
    sources = tmp_path / "sources.yaml"
    sources.write_text(INVERTED_SOURCES, encoding="utf-8")
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home.root))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    monkeypatch.setenv("WINDOWWATCH_SOURCES", str(sources))
    as_of = small_pipeline.truth["as_of"]
    run_id = "manual__inverted"
    step_list_sources(home, run_id, {"feeds": str(small_pipeline.feeds), "as_of": as_of})
    step_ingest(home, run_id, "hall_inbox", str(small_pipeline.feeds))
    step_raw_gate(home, run_id)  # every row is well-formed: only their meaning is wrong
    step_build(home, run_id, as_of)
    with pytest.raises(GateFailed, match="nothing is published") as failed:
        step_marts_gate(home, run_id)
    message = str(failed.value)
    assert "marts.fct_window_month_satisfaction_swing.critical" in message
    assert re.search(
        r"centre C\d+: satisfaction 0\.99\d -> 0\.0\d\d \(\d+ ratings\) in one month, beyond max_satisfaction_swing 0\.3",
        message,
    ), message
    assert "ratings of 非常满意 carry a bad-review reason" in message
    assert "is the rating direction declared the wrong way round" in message and "rating_direction" in message
    record = step_summary(home, run_id)
    assert record["status"] == "failed" and record["failure"]["task"] == "marts_gate"
    assert not (home.published / "CURRENT").exists()
    assert not list(home.root.glob("published/warehouse-*.duckdb"))


def test_the_same_feeds_with_the_declared_direction_pass_the_rating_plausibility_suites(
    small_pipeline, tmp_path, monkeypatch
):
    root = tmp_path / "home"
    shutil.copytree(small_pipeline.home.root, root, symlinks=True)
    monkeypatch.setenv("WINDOWWATCH_HOME", str(root))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    counts = step_marts_gate(Home(root), "manual__as_declared")
    assert counts["critical_failures"] == 0
