"""A log rewritten whole (docs/operations.md, "Verifying what was published"): every published
report and public list prints the audit log's chain head, and `audit verify --anchor` checks
that the chain still passes through it."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess

import openpyxl
import pytest
from tests.support.audit_snapshot import build_snapshot, write_plan

from core.paths import Home
from windowwatch.audit import AuditLog, draw, load_plan, verify
from windowwatch.audit.draw import compute_draw
from windowwatch.audit.hashing import GENESIS
from windowwatch.audit.log import entry_hash
from windowwatch.audit.plan import parse_plan
from windowwatch.cli import main as cli_main
from windowwatch.reports import publish_month

HEX = re.compile(r"[0-9a-f]{64}")


def rechain_with_new_entropy(log: AuditLog, draw_id: str, entropy: str) -> None:
    """What an insider with write access does: change a draw's entropy, recompute its seed and
    sample so that it recomputes, re-chain every entry after it, rewrite HEAD."""
    entries = [json.loads(line) for line in log.path.read_text(encoding="utf-8").splitlines()]
    prev = GENESIS
    for e in entries:
        if e.get("draw_id") == draw_id:
            again = compute_draw(parse_plan(e["plan"]), e["plan_hash"], entropy, e["pools"])
            e["entropy"], e["seed"] = entropy, again["seed"]
            e["result"] = {"sample": again["sample"], "unstaffed": again["unstaffed"]}
        e["prev_hash"] = prev
        e["entry_hash"] = entry_hash(e)
        prev = e["entry_hash"]
    log.path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    log.head_path.write_text(json.dumps({"seq": entries[-1]["seq"], "entry_hash": prev}), encoding="utf-8")


def _printed_head(text: str, label: str) -> str:
    m = re.search(label + r"[^\n]*?(" + HEX.pattern + ")", text)
    assert m, f"no chain head after {label!r}"
    return m.group(1)


@pytest.fixture()
def published(ww_home, tmp_path):
    build_snapshot(ww_home)
    r = draw(load_plan(write_plan(tmp_path / "p.yaml")), "2026-10-31 双色球 03 11 17 22 28 31 + 09")
    head = AuditLog().chain_head()
    rep = publish_month("2026-10", Home(ww_home))
    return {"draw": r, "head": head, "report": rep}


def test_a_rechained_log_passes_verify_but_not_the_printed_head(published, tmp_path, capsys):
    rep, head = published["report"], published["head"]
    html = (rep.path / "ranking.html").read_text(encoding="utf-8")
    pdf = subprocess.run(["pdftotext", str(rep.path / "ranking.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    about = {row[0]: row[1] for row in openpyxl.load_workbook(rep.path / "ranking.xlsx")["数据说明"].iter_rows(values_only=True)}
    printed = _printed_head(html, "审计日志链头")
    assert printed == head == json.loads((rep.path / "manifest.json").read_text())["audit_chain_head"]
    assert _printed_head(pdf, "审计日志链头") == printed
    assert about["审计日志链头"] == printed

    out = tmp_path / "public"
    for fmt in ("csv", "xlsx", "html"):
        assert cli_main(["audit", "export", "--draw", published["draw"].draw_id, "--format", fmt, "--out", str(out)]) == 0
    list_head = AuditLog().chain_head()  # the report's anchor entry came after the report's head
    with open(out / f"audit-{published['draw'].draw_id}.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "审计日志链头 chain_head" and {r[-1] for r in rows[1:]} == {list_head}
    assert _printed_head((out / f"audit-{published['draw'].draw_id}.html").read_text(encoding="utf-8"), "审计日志链头") == list_head
    wb_meta = dict(openpyxl.load_workbook(out / f"audit-{published['draw'].draw_id}.xlsx")["draw"].iter_rows(min_row=2, values_only=True))
    assert wb_meta["chain_head"] == list_head
    capsys.readouterr()

    assert cli_main(["audit", "verify", "--anchor", printed, "--anchor", list_head]) == 0
    rechain_with_new_entropy(AuditLog(), published["draw"].draw_id, "a friendlier lottery number")
    assert verify().ok, "the rewritten log is self-consistent: the chain alone cannot tell"
    assert cli_main(["report", "verify"]) == 0
    capsys.readouterr()
    assert cli_main(["audit", "verify", "--anchor", printed]) == 1
    err = capsys.readouterr().err
    assert "anchor_missing" in err and printed in err
    assert cli_main(["audit", "verify", "--anchor", list_head]) == 1


def test_report_verify_fails_when_an_anchored_version_is_missing(published, capsys):
    rep = published["report"]
    assert cli_main(["report", "verify"]) == 0
    shutil.rmtree(rep.path.parent)  # the whole month, as one removes an embarrassing report
    capsys.readouterr()
    assert cli_main(["report", "verify"]) == 1
    err = capsys.readouterr().err
    assert "version_missing" in err and "2026-10" in err and "v1" in err
