"""Shared fixtures: every test gets its own WINDOWWATCH_HOME."""

from __future__ import annotations

import pytest


@pytest.fixture()
def ww_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    return home
