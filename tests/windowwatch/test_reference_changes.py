"""SPEC §3 v2: a reference delivery without valid_from that changes a value published months used makes
the run say how many cases of which published months it changes (docs/rules.md#reference-versions).
"""

from __future__ import annotations

import json

from core.paths import Home
from tests.dbt.test_dbt_reference_versions import AS_OF, MOVE, R20, REFORM, TRANSACTIONS
from tests.support.landing import ITEMS, WINDOWS, write_landing, write_reference
from windowwatch.pipeline import step_build
from windowwatch.runs import RunRecord, format_summary
from windowwatch.snapshot_publish import publish


def _published(home: Home, month: str) -> None:
    """A published report version of `month` (what publication leaves: reports/<month>/v1/manifest.json)."""
    version = home.reports / month / "v1"
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(json.dumps({"month": month, "version": 1}), encoding="utf-8")


def _warnings(home: Home, run_id: str) -> list[str]:
    return RunRecord(home, run_id).read_step("dbt_build")["warnings"]


def test_an_undated_reference_change_that_reaches_a_published_month_is_said(ww_home):
    home = Home(ww_home)
    write_reference(home, WINDOWS, [*ITEMS, R20])
    write_landing(home, "transactions", TRANSACTIONS)
    step_build(home, "run-1", AS_OF)
    publish("run-1", home)
    _published(home, "2025-09")
    # September is published; run-1's build was before it, against no snapshot: nothing to say
    assert _warnings(home, "run-1") == []

    # the reform and the move delivered with valid_from after September: September keeps its numbers
    write_landing(home, "items", [{**R20, "promised_limit": 5, "valid_from": REFORM}])
    write_landing(home, "windows", [{**WINDOWS[0], "department_id": "D02", "valid_from": MOVE}])
    step_build(home, "run-2", AS_OF)
    assert _warnings(home, "run-2") == []
    publish("run-2", home)

    # the same values without valid_from apply for all time: September's two cases (E1, E2) change
    write_landing(home, "items", [{**R20, "promised_limit": 5}])
    write_landing(home, "windows", [{**WINDOWS[0], "department_id": "D02"}])
    step_build(home, "run-3", AS_OF)
    warnings = _warnings(home, "run-3")
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(
        "reference data changes 2 case(s) of published month 2025-09 (items R20; windows W01)"
    )
    summary = format_summary(RunRecord(home, "run-3").assemble())
    assert "warning: dbt_build: reference data changes 2 case(s) of published month 2025-09" in summary
