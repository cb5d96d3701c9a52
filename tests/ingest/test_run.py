"""The ingest command: CLI, per-source runs, missing connectors, the generator's inbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


from ingest.run import ingest_all, ingest_source
from tests.support.inbox import TX_HEADER, landed, make_inbox, write_csv
from core.config import Source, SourceOptions, SourcesFile
from core.paths import REPO_ROOT, Home


def test_cli_prints_reconciliation_and_stores_it(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "transactions" / "t.csv", [TX_HEADER, ["E1", "C1", "受理", "2025-01-06 09:00:00", "W01", "I1"],
                                                 ["E2", "C1", "bogus", "2025-01-06 09:00:00", "W01", "I1"]])
    cfg = tmp_path / "sources.yaml"
    cfg.write_text("sources:\n  - name: hall\n    kind: files\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "windowwatch.cli", "ingest", "--feeds", str(inbox), "--config", str(cfg)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "files:transactions/t.csv: 2 in = 1 landed + 1 quarantined  [unknown_enum 1]" in proc.stdout
    latest = json.loads((ww_home / "runs" / "ingest-latest.json").read_text(encoding="utf-8"))
    assert latest["by_feed"]["transactions"]["quarantined"] == 1
    assert len(list((ww_home / "runs").glob("ingest-2*.json"))) == 1


def test_invalid_source_name_fails_with_the_key(ww_home, tmp_path):
    cfg = tmp_path / "sources.yaml"
    cfg.write_text("sources:\n  - name: hall\n    kind: files\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "windowwatch.cli", "ingest", "--feeds", str(tmp_path), "--config", str(cfg),
                           "--source", "nope"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--source: no source named nope" in proc.stderr


def test_ingest_source_lands_one_source_from_its_own_path(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    source = Source(name="hall", kind="files", path=str(inbox))
    report = ingest_source(Home(ww_home), source)
    assert report.exit_code == 0 and {d.feed for d in report.deliveries} == {"windows", "items"}
    assert Path(report.saved_to).exists()


def test_a_failing_connector_is_reported_and_fails_the_run(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    # nothing listens on port 9 (discard): the http connector fails at once without retries
    cfg = SourcesFile(sources=[Source(name="hall", kind="files"),
                               Source(name="api", kind="http", feed="evaluations", url="http://127.0.0.1:9/",
                                      options=SourceOptions(max_retries=0))])
    report = ingest_all(Home(ww_home), cfg, inbox)
    assert [(p.source, p.problem) for p in report.problems] == [("api", "source failed")]
    assert report.exit_code == 1
    assert landed(ww_home, "windows").height == 2  # the files source still landed

