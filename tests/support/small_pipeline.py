"""One generated small centre, ingested and built once per test session.

Several tests check the same chain against the generator's ground truth (quarantine lines,
overdue cases, off-book detection); building it once keeps `make test` fast enough to run them
all in CI. tests/conftest.py builds it as the session fixture `small_pipeline`; request that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

SEED = 1


@dataclass(frozen=True)
class SmallPipeline:
    feeds: Path
    truth_dir: Path
    truth: dict
    home: object  # core.paths.Home
    ingest_report: object  # ingest.run.RunReport
    build: object  # windowwatch.transform.BuildResult


def build_small_pipeline(root: Path) -> SmallPipeline:
    """generate small -> ingest -> dbt build under `root` (the environment is restored after)."""
    from ingest.run import ingest_all
    from core.config import load_sources
    from windowwatch.generate.dataset import generate
    from core.paths import Home
    from windowwatch.transform import build

    mp = pytest.MonkeyPatch()
    mp.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    try:
        feeds = root / "feeds"
        truth = generate(feeds, scale="small", seed=SEED, progress=False)
        home = Home(root / "home")
        mp.setenv("WINDOWWATCH_HOME", str(home.root))
        report = ingest_all(home, load_sources(), inbox=feeds)
        assert report.by_feed()["transactions"]["landed"] > 0
        # dbt unit tests don't read the data (test_dbt_* builds run them); data tests do
        result = build(home, as_of=truth["as_of"], exclude="resource_type:unit_test")
        assert result.success, result.summary()
    finally:
        mp.undo()
    return SmallPipeline(feeds, feeds / "_truth", truth, home, report, result)
