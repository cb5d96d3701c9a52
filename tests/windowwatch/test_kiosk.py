"""Hall-screen kiosk tokens (windowwatch/kiosk.py): stored as hashes, revocable, refused when malformed."""

from __future__ import annotations

import stat

import pytest
import yaml

from core.paths import Home
from windowwatch import kiosk
from windowwatch.cli import main as cli


@pytest.fixture
def h(tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_HOME", str(tmp_path))
    return Home(tmp_path)


def test_a_token_opens_its_screen_and_only_its_hash_is_kept(h):
    token = kiosk.add("hall-tv-1", h, center="C01")
    assert kiosk.verify(token, h) == kiosk.Kiosk(name="hall-tv-1", center="C01")
    text = kiosk.path(h).read_text(encoding="utf-8")
    assert token not in text and kiosk.token_hash(token) in text
    assert stat.S_IMODE(kiosk.path(h).stat().st_mode) == 0o600
    assert len(token) >= 32


@pytest.mark.parametrize("bad", ["", None, "x", "a" * 10_000])
def test_wrong_tokens_open_nothing(h, bad):
    kiosk.add("hall-tv-1", h)
    assert kiosk.verify(bad, h) is None


def test_revoking_or_deleting_refuses_at_once(h):
    a, b = kiosk.add("tv-a", h), kiosk.add("tv-b", h)
    kiosk.revoke("tv-a", h)
    assert kiosk.verify(a, h) is None and kiosk.verify(b, h).name == "tv-b"
    data = yaml.safe_load(kiosk.path(h).read_text(encoding="utf-8"))
    assert data["kiosks"]["tv-a"]["revoked"] is True
    del data["kiosks"]["tv-b"]
    kiosk.path(h).write_text(yaml.safe_dump(data), encoding="utf-8")
    assert kiosk.verify(b, h) is None
    # adding a screen again replaces its token: the old one stops working
    c = kiosk.add("tv-a", h)
    assert kiosk.verify(c, h).name == "tv-a" and kiosk.verify(a, h) is None


def test_an_invalid_file_is_named_and_opens_nothing(h):
    token = kiosk.add("tv", h)
    kiosk.path(h).write_text("kiosks:\n  tv: {token_sha256: not-a-hash}\n", encoding="utf-8")
    with pytest.raises(kiosk.KioskError, match=r"kiosk\.yaml: kiosk 'tv' needs token_sha256"):
        kiosk.load(h)
    assert kiosk.verify(token, h) is None
    with pytest.raises(kiosk.KioskError, match="kiosk name"):
        kiosk.add("no spaces please", h)


def test_the_command_line(h, capsys):
    assert cli(["kiosk", "add", "hall-tv-1"]) == 0
    out = capsys.readouterr().out
    token = out.split("/?kiosk=")[1].split()[0]
    assert kiosk.verify(token, h).name == "hall-tv-1"
    assert cli(["kiosk", "list"]) == 0
    assert "hall-tv-1\tactive" in capsys.readouterr().out
    assert cli(["kiosk", "revoke", "hall-tv-1"]) == 0
    assert kiosk.verify(token, h) is None
    assert cli(["kiosk", "list"]) == 0
    assert "hall-tv-1\trevoked" in capsys.readouterr().out
    assert cli(["kiosk", "revoke", "nobody"]) == 2
    assert "no kiosk named 'nobody'" in capsys.readouterr().err
