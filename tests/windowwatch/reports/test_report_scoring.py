"""`report publish` records the scoring file the snapshot was computed with and refuses another
one — issue 21, finding 6 (SPEC §4.8). A real build (ingest → dbt → publish) of the tiny inbox."""

from __future__ import annotations

import json

import pytest
import yaml

from core.config import DEFAULT_SCORING, load_scoring
from core.paths import Home
from tests.support.tiny_inbox import write_tiny_inbox
from windowwatch.cli import main as cli_main
from windowwatch.snapshot import current_snapshot, scoring_copy, snapshot_scoring_hash


@pytest.fixture()
def built(ww_home, tmp_path, monkeypatch) -> Home:
    from core.config import load_sources
    from ingest.run import ingest_all
    from windowwatch.snapshot_publish import publish
    from windowwatch.transform import build

    monkeypatch.delenv("WINDOWWATCH_SCORING", raising=False)
    monkeypatch.delenv("WINDOWWATCH_WAREHOUSE", raising=False)
    h = Home(ww_home)
    ingest_all(h, load_sources(), inbox=write_tiny_inbox(tmp_path / "inbox"))
    result = build(h, as_of="2025-10-31")
    assert result.success, result.summary()
    publish("run-1", h)
    return h


def test_publish_refuses_a_scoring_file_other_than_the_snapshots(built, tmp_path, monkeypatch, capsys):
    h = built
    snap = current_snapshot(h)
    computed_with = load_scoring(DEFAULT_SCORING).content_hash()
    assert snapshot_scoring_hash(snap) == computed_with
    assert load_scoring(scoring_copy(snap)).content_hash() == computed_with  # kept beside the snapshot

    changed = yaml.safe_load(DEFAULT_SCORING.read_text(encoding="utf-8"))
    changed["score"]["min_completed_cases"] = 500  # 20 -> 500 after the build
    edited = tmp_path / "scoring.yaml"
    edited.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("WINDOWWATCH_SCORING", str(edited))
    in_force = load_scoring(edited).content_hash()

    assert cli_main(["report", "publish", "--month", "2025-10"]) != 0
    err = capsys.readouterr().err
    assert computed_with in err and in_force in err and "refuses" in err, err
    assert not list(h.reports.glob("2025-10/v*")), "a report was published with a different scoring file"

    monkeypatch.delenv("WINDOWWATCH_SCORING")  # the file restored
    assert cli_main(["report", "publish", "--month", "2025-10"]) == 0
    v1 = h.reports / "2025-10" / "v1"
    manifest = json.loads((v1 / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scoring_hash"] == computed_with
    assert load_scoring(v1 / "scoring.yaml").content_hash() == computed_with
    data = json.loads((v1 / "data.json").read_text(encoding="utf-8"))
    assert data["scoring"]["score"]["min_completed_cases"] == 20
