"""The PII key's fingerprint is recorded with the landing (docs/operations.md, "The
applicant-data key"): another key refuses before landing anything; `windowwatch pii rotate`
is the one way to change it, recorded with date, actor and reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.tiny_inbox import write_tiny_inbox

from core.paths import REPO_ROOT, Home
from ingest import privacy
from windowwatch.audit import AuditLog


def _cli(args: list[str], home, key: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "WINDOWWATCH_HOME": str(home), "WINDOWWATCH_PII_KEY": key}
    return subprocess.run([sys.executable, "-m", "windowwatch.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _landed(home) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in (home / "landing").rglob("*.parquet"))


def test_a_key_change_is_refused_and_a_rotation_is_recorded(ww_home, tmp_path):
    inbox = write_tiny_inbox(tmp_path / "inbox")
    cfg = tmp_path / "sources.yaml"
    cfg.write_text("sources:\n  - name: hall\n    kind: files\n", encoding="utf-8")
    ingest = ["ingest", "--feeds", str(inbox), "--config", str(cfg)]
    h = Home(ww_home)

    first = _cli(ingest, ww_home, "key-one")
    assert first.returncode == 0, first.stderr
    record = json.loads((ww_home / "landing" / "_pii_key.json").read_text(encoding="utf-8"))
    fp_one = privacy.key_fingerprint(b"key-one")
    assert record["fingerprint"] == fp_one == privacy.recorded_fingerprint(h)
    assert [e["fingerprint"] for e in record["history"]] == [fp_one]
    assert "key-one" not in json.dumps(record)
    landed = _landed(ww_home)
    assert landed

    # another machine, another key (or a key file created on first use there): refused, nothing landed
    (inbox / "transactions" / "2025-11.csv").write_text(
        "event_id,case_id,event_type,event_time,window_id,item_code\nE9a,C9,accept,2025-11-03 09:30:00,W01,WD5\n",
        encoding="utf-8")
    refused = _cli(ingest, ww_home, "key-two")
    assert refused.returncode != 0
    assert "windowwatch pii rotate" in refused.stderr and fp_one in refused.stderr and "_pii_key.json" in refused.stderr
    assert "key-two" not in refused.stderr + refused.stdout
    assert _landed(ww_home) == landed

    assert _cli(["pii", "rotate", "--reason", ""], ww_home, "key-two").returncode != 0  # a reason is required
    rotated = _cli(["pii", "rotate", "--reason", "密钥泄露后轮换", "--actor", "zhang.admin"], ww_home, "key-two")
    assert rotated.returncode == 0, rotated.stderr
    record = json.loads((ww_home / "landing" / "_pii_key.json").read_text(encoding="utf-8"))
    fp_two = privacy.key_fingerprint(b"key-two")
    assert record["fingerprint"] == fp_two
    last = record["history"][-1]
    assert (last["fingerprint"], last["actor"], last["reason"]) == (fp_two, "zhang.admin", "密钥泄露后轮换") and last["at"]
    rot = [e for e in AuditLog(h).entries() if e["kind"] == "pii_rotate"]
    assert [(e["old_fingerprint"], e["new_fingerprint"], e["user"]) for e in rot] == [(fp_one, fp_two, "zhang.admin")]
    assert _cli(["pii", "rotate", "--reason", "again"], ww_home, "key-two").returncode != 0  # nothing to rotate

    accepted = _cli(ingest, ww_home, "key-two")
    assert accepted.returncode == 0, accepted.stderr
    assert len(_landed(ww_home)) > len(landed)
    assert _cli(ingest, ww_home, "key-one").returncode != 0, "the old key is refused after the rotation"
