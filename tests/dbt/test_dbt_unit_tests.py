"""Every dbt unit test of the project runs in CI (issue 7).

windowwatch.transform.build leaves the dbt unit tests out of the daily build (they test the SQL's
rules on fixed rows, not the data: the pipeline gains nothing from re-running them every day).
This file is where `make test` runs all of them, and proves the production build skips them.
"""

from __future__ import annotations

import yaml

from core.paths import Home
from windowwatch.transform import DBT_PROJECT_DIR, build


def _declared_unit_tests() -> set[str]:
    names = set()
    for path in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names |= {u["name"] for u in doc.get("unit_tests") or []}
    return names


def test_every_unit_test_runs_and_passes(tmp_path):
    declared = _declared_unit_tests()
    assert len(declared) >= 15, declared  # the calendar, time-limit, off-book and scoring rules
    home = Home(tmp_path.resolve())
    result = build(home, as_of="2025-10-31", unit_tests=True, exclude="resource_type:test")
    assert result.success, result.summary()
    ran = {n.name: n.status for n in result.nodes if n.resource_type == "unit_test"}
    assert set(ran) == declared
    assert set(ran.values()) == {"pass"}, {k: v for k, v in ran.items() if v != "pass"}


def test_the_daily_build_skips_unit_tests(tmp_path):
    home = Home(tmp_path.resolve())
    result = build(home, as_of="2025-10-31", select="+int_off_book__handover", exclude="resource_type:test")
    assert result.success, result.summary()
    assert any(n.name == "int_off_book__handover" and n.status == "success" for n in result.nodes)
    assert not [n for n in result.nodes if n.resource_type == "unit_test"]
