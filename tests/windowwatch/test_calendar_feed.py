"""`windowwatch calendar add-year` / `calendar status` (docs/rules.md#working-days)."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys

from core.paths import REPO_ROOT
from tests.support.calendar_notice import notice_days, notice_yaml, write_notice
from tests.support.doctor_home import write_sources


def _cli(*args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "windowwatch.cli", "calendar", *args], cwd=REPO_ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120)


def test_add_year_delivers_every_date_and_status_counts_it(tmp_path, ww_home):
    inbox = tmp_path / "inbox"
    sources = write_sources(tmp_path / "sources.yaml", inbox)
    notice = write_notice(tmp_path / "2027.yaml", 2027)
    env = {"WINDOWWATCH_SOURCES": str(sources)}
    proc = _cli("add-year", str(notice), env=env)
    assert proc.returncode == 0, proc.stderr
    delivered = inbox / "calendar" / "calendar-2027.csv"
    with delivered.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["date", "is_workday", "note"]
    days = [dt.date.fromisoformat(r["date"]) for r in rows]
    assert days == [dt.date(2027, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    holidays, makeup = notice_days(2027)
    by_day = {dt.date.fromisoformat(r["date"]): r for r in rows}
    for d, name in holidays.items():
        assert by_day[d]["is_workday"] == "false" and by_day[d]["note"] == name
    for d in makeup:
        assert d.weekday() >= 5 and by_day[d]["is_workday"] == "true"
    assert by_day[dt.date(2027, 3, 3)]["is_workday"] == "true"  # an ordinary Wednesday
    assert by_day[dt.date(2027, 3, 6)]["is_workday"] == "false"  # an ordinary Saturday

    status = _cli("status", env=env)
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if x.startswith("2027"))
    assert line.split()[:5] == ["2027", "365", "0", "365", "0"] and "covered" in line
    line = next(x for x in status.stdout.splitlines() if x.startswith("2026"))
    assert line.split()[:5] == ["2026", "365", "365", "0", "0"]
    # a second delivery of the same notice changes nothing; another one needs --force
    assert _cli("add-year", str(notice), env=env).returncode == 0
    notice.write_text(notice_yaml(2027).replace("to: 2027-05-05", "to: 2027-05-04"), encoding="utf-8")
    again = _cli("add-year", str(notice), env=env)
    assert again.returncode == 2 and "pass --force" in again.stderr


def test_status_says_a_year_is_assumed(ww_home):
    proc = _cli("status")
    assert proc.returncode == 0
    nxt = dt.date.today().year + 1
    if nxt > 2026:
        assert f"{nxt}    " in proc.stdout and "assumed Monday–Friday" in proc.stdout
        assert "calendar add-year FILE" in proc.stdout


BAD = {
    # rule: (notice text, line of the problem)
    "date_twice": ("year: 2027\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
                   "  - {name: 又一个, from: 2027-01-03, to: 2027-01-04}\n", 4),
    "makeup_on_weekday": ("year: 2027\nholidays: []\nmakeup_workdays:\n  - 2027-03-03\n", 4),
    "holiday_on_makeup": ("year: 2027\nholidays:\n  - {name: 国庆节, from: 2027-10-01, to: 2027-10-07}\n"
                          "makeup_workdays:\n  - 2027-10-02\n", 5),
    "outside_year": ("year: 2027\nholidays:\n  - {name: 元旦, from: 2028-01-01, to: 2028-01-01}\n", 3),
    "range_reversed": ("year: 2027\nholidays:\n  - {name: 劳动节, from: 2027-05-05, to: 2027-05-01}\n", 3),
    "bad_date": ("year: 2027\nmakeup_workdays:\n  - 2027-02-30\n", 3),
    "year_official": ("year: 2025\nholidays:\n  - {name: 元旦, from: 2025-01-01, to: 2025-01-01}\n", 1),
    "unknown_key": ("year: 2027\nholiday:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-01}\n", 2),
}


def test_bad_notices_are_refused_with_line_and_rule(tmp_path):
    for rule, (text, line) in BAD.items():
        notice = tmp_path / f"{rule}.yaml"
        notice.write_text(text, encoding="utf-8")
        out = tmp_path / f"out-{rule}"
        proc = _cli("add-year", str(notice), "--out", str(out))
        assert proc.returncode == 2, rule
        assert f"{notice}:{line}: [{rule}]" in proc.stderr, (rule, proc.stderr)
        assert not out.exists(), f"{rule}: nothing may be written"


def test_force_overrides_an_official_year(tmp_path):
    notice = tmp_path / "2025.yaml"
    notice.write_text(BAD["year_official"][0], encoding="utf-8")
    proc = _cli("add-year", str(notice), "--out", str(tmp_path / "inbox"), "--force")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "inbox" / "calendar" / "calendar-2025.csv").is_file()
