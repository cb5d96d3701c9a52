"""docs/rules.md#supervision names, for every trigger and transition, tests that exist."""

from __future__ import annotations

import re

from core.paths import REPO_ROOT

HERE = REPO_ROOT / "tests" / "windowwatch" / "supervision"


def test_every_test_the_supervision_rules_name_exists():
    text = (REPO_ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    section = text.split('<a id="supervision"></a>', 1)[1].split("<a id=", 1)[0]
    files = set(re.findall(r"tests/windowwatch/supervision/(test_\w+\.py)", section))
    assert files and all((HERE / f).is_file() for f in files), files
    defined = {m for f in HERE.glob("test_*.py") for m in re.findall(r"^def (test_\w+)", f.read_text(encoding="utf-8"), re.M)}
    named = set(re.findall(r"::(test_\w+)", section))
    assert named and named <= defined, named - defined
