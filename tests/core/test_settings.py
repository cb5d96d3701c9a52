"""One settings object for every WINDOWWATCH_* knob, documented in one table (docs/configuration.md)."""

from __future__ import annotations

import re

import pytest

from core.paths import REPO_ROOT
from core.settings import Settings, SettingsError, env_name, settings

PRODUCT_DIRS = ("core", "ingest", "expectations", "windowwatch", "dashboards", "dags", "dbt_project")
PRODUCT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".toml"}
NAME = re.compile(r"WINDOWWATCH_[A-Z][A-Z0-9_]*[A-Z0-9]")
AD_HOC_READ = re.compile(r"""(environ\.get\(|getenv\(|environ\[)\s*["']WINDOWWATCH_""")


def _product_files():
    for top in PRODUCT_DIRS:
        for path in (REPO_ROOT / top).rglob("*"):
            if path.suffix in PRODUCT_SUFFIXES and path.is_file() and "target" not in path.parts:
                yield path
    yield REPO_ROOT / "README.md"
    yield REPO_ROOT / "Makefile"


def _documented() -> dict[str, str]:
    table = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\| `(WINDOWWATCH_[A-Z0-9_]+)` \| ([^|]*) \|", table, re.M)}


def test_every_variable_the_code_names_is_a_setting():
    fields = {env_name(f) for f in Settings.model_fields}
    named: dict[str, str] = {}
    for path in _product_files():
        for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            named.setdefault(name, str(path.relative_to(REPO_ROOT)))
    unknown = {n: where for n, where in named.items() if n not in fields}
    assert not unknown, f"WINDOWWATCH_* names that core/settings.py does not declare: {unknown}"


def test_nothing_reads_the_environment_around_the_settings_object():
    offenders = []
    for path in _product_files():
        if path.suffix != ".py" or path == REPO_ROOT / "core" / "settings.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if AD_HOC_READ.search(line):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}")
    assert not offenders, "read WINDOWWATCH_* through core.settings.settings():\n" + "\n".join(offenders)


def test_the_configuration_table_lists_every_setting_with_its_default():
    documented = _documented()
    assert set(documented) == {env_name(f) for f in Settings.model_fields}
    for field, info in Settings.model_fields.items():
        default = info.default
        shown = "—" if default is None else f"`{default}`"
        assert documented[env_name(field)] == shown, env_name(field)


def test_a_wrong_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_KEEP_SNAPSHOTS", "many")
    with pytest.raises(SettingsError, match="WINDOWWATCH_KEEP_SNAPSHOTS"):
        settings()


def test_settings_follow_the_environment_without_a_reload(monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_LOGIN_MAX_FAILURES", "7")
    assert settings().login_max_failures == 7
    monkeypatch.delenv("WINDOWWATCH_LOGIN_MAX_FAILURES")
    assert settings().login_max_failures == 5
