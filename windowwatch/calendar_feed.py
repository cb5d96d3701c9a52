"""Working-day calendar coverage and next year's arrangement (docs/rules.md#working-days).

`windowwatch calendar status` counts, per year, where each day's working/non-working status
comes from — the official calendar (the dbt seed generated from chinesecalendar), the
`calendar` feed (landed, or delivered to an inbox and not landed yet), or assumed (Monday–Friday)
— for the years the landed data touches and the next year. `windowwatch doctor` runs the same
count for the coming year.

`windowwatch calendar add-year FILE` turns the State Council's notice, written as a short YAML,
into a `calendar` feed file (columns of core/feeds.py CALENDAR, one row per date of the year) in
the files source's inbox. The whole file is checked before anything is written; each problem
names the line and the rule:

    year: 2027
    holidays:                       # each holiday as a date range with its name
      - {name: 元旦, from: 2027-01-01, to: 2027-01-01}
      - {name: 春节, from: 2027-02-05, to: 2027-02-12}
    makeup_workdays:                # 调休: weekend days that are working days
      - 2027-02-14
      - {date: 2027-02-20, note: 春节调休}
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core import atomic
from core.feeds import CALENDAR
from core.localtime import today_local
from core.paths import REPO_ROOT, Home

OFFICIAL_SEED = REPO_ROOT / "dbt_project" / "seeds" / "official_calendar.csv"
SOURCES = ("official", "feed", "assumed")
MAKEUP_NOTE = "调休上班"

# rule id -> what it means (printed with every refusal)
RULES = {
    "yaml": "the file must be valid YAML: a mapping with year, holidays and makeup_workdays",
    "unknown_key": "only year, holidays (name, name_en, from, to) and makeup_workdays (date, note) are known",
    "year": "year must be a four-digit year",
    "bad_date": "a date must be written YYYY-MM-DD",
    "outside_year": "every date must fall in the notice's year",
    "range_reversed": "a holiday's `to` must not be before its `from`",
    "no_name": "every holiday needs its name",
    "date_twice": "every date of the year appears at most once (in one holiday range or as one make-up day)",
    "makeup_on_weekday": "a make-up working day (调休) is a Saturday or Sunday",
    "holiday_on_makeup": "a holiday must not fall on a make-up working day",
    "year_official": "the year is already in the official calendar (chinesecalendar): pass --force to override it",
}


class NoticeError(ValueError):
    """The notice file was refused; the message lists every problem with its line and rule."""


# ---------------------------------------------------------------------------- coverage


def official_days() -> dict[dt.date, bool]:
    """date -> is_workday of the official calendar the dbt build uses (its seed)."""
    with OFFICIAL_SEED.open(encoding="utf-8") as fh:
        return {dt.date.fromisoformat(r["date"]): r["is_workday"] == "true" for r in csv.DictReader(fh)}


def _dates_of(frame) -> set[dt.date]:
    import polars as pl

    col = next((c for c in frame.columns if c in ("date", "日期")), None)
    if col is None:
        return set()
    out = set()
    for v in frame.get_column(col).cast(pl.String).drop_nulls().to_list():
        try:
            out.add(dt.date.fromisoformat(v.strip()[:10]))
        except ValueError:
            continue
    return out


def landed_feed_days(home: Home) -> set[dt.date]:
    """Dates the landed `calendar` feed gives (what the next dbt build reads)."""
    import polars as pl

    files = sorted((home.landing / CALENDAR.name).glob("part_date=*/*.parquet"))
    return _dates_of(pl.read_parquet(files, columns=["date"])) if files else set()


def pending_feed_days(inboxes: list[Path]) -> set[dt.date]:
    """Dates of `calendar` CSV files delivered to an inbox and not landed yet (they land with the
    next run). A file that cannot be read as CSV is left to the ingest, which reports it."""
    import polars as pl

    days: set[dt.date] = set()
    for inbox in inboxes:
        for f in sorted((inbox / CALENDAR.name).glob("*.csv")):
            try:
                days |= _dates_of(pl.read_csv(f, infer_schema=False))
            except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError):
                continue
    return days


def data_years(home: Home) -> set[int]:
    """Years the landed data touches (from the landing partitions, part_date=YYYY-MM-DD)."""
    years = set()
    for p in home.landing.glob("*/part_date=*"):
        try:
            years.add(int(p.name.split("=", 1)[1][:4]))
        except ValueError:
            continue
    return years


@dataclass
class YearCoverage:
    year: int
    counts: dict[str, int]  # official / feed / assumed -> days

    @property
    def days(self) -> int:
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        return self.counts["assumed"] == 0


def coverage(years: list[int], official: dict[dt.date, bool], feed: set[dt.date]) -> list[YearCoverage]:
    """Per year, how many days come from the feed (it wins), the official calendar, or are assumed."""
    out = []
    for year in sorted(set(years)):
        counts = Counter({s: 0 for s in SOURCES})
        d = dt.date(year, 1, 1)
        while d.year == year:
            counts["feed" if d in feed else "official" if d in official else "assumed"] += 1
            d += dt.timedelta(days=1)
        out.append(YearCoverage(year, dict(counts)))
    return out


def files_inboxes() -> list[Path]:
    """The inboxes (`path:`) of the files sources in the sources file in use."""
    from core.config import load_sources

    return [Path(s.path) for s in load_sources().sources if s.kind == "files" and s.path]


def home_coverage(home: Home, years: list[int], inboxes: list[Path] | None = None) -> list[YearCoverage]:
    feed = landed_feed_days(home) | pending_feed_days(files_inboxes() if inboxes is None else inboxes)
    return coverage(years, official_days(), feed)


def status_main(args) -> int:
    home = Home.from_env()
    this_year = today_local().year
    years = sorted(data_years(home) | {this_year, this_year + 1})
    rows = home_coverage(home, years)
    print(f"{'year':<6}{'days':>5}{'official':>10}{'feed':>6}{'assumed':>9}  status")
    for r in rows:
        state = "covered" if r.complete else f"{r.counts['assumed']} days assumed Monday–Friday"
        print(f"{r.year:<6}{r.days:>5}{r.counts['official']:>10}{r.counts['feed']:>6}{r.counts['assumed']:>9}  {state}")
    missing = [r.year for r in rows if not r.complete]
    if missing:
        print(f"\nnot covered: {', '.join(map(str, missing))}. When the State Council publishes a year's arrangement, "
              "write it as YAML and run `windowwatch calendar add-year FILE` (docs/operations.md#working-day-calendar).")
    return 0


# ---------------------------------------------------------------------------- add-year


@dataclass
class Notice:
    year: int
    holidays: dict[dt.date, str] = field(default_factory=dict)  # date -> holiday name
    makeup: dict[dt.date, str] = field(default_factory=dict)  # date -> note

    def rows(self) -> list[tuple[str, str, str]]:
        """(date, is_workday, note) for every date of the year, in order."""
        out = []
        d = dt.date(self.year, 1, 1)
        while d.year == self.year:
            if d in self.makeup:
                out.append((d.isoformat(), "true", self.makeup[d]))
            elif d in self.holidays:
                out.append((d.isoformat(), "false", self.holidays[d]))
            else:
                out.append((d.isoformat(), "true" if d.weekday() < 5 else "false", ""))
            d += dt.timedelta(days=1)
        return out

    def csv_text(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c.name for c in CALENDAR.columns])
        w.writerows(self.rows())
        return buf.getvalue()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {str(k.value): (k, v) for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def parse_notice(path: Path, official: dict[dt.date, bool], force: bool = False) -> Notice:
    """Read and check a notice file; raise NoticeError listing every problem (FILE:LINE: rule)."""
    problems: list[tuple[int, str, str]] = []

    def bad(line: int, rule: str, detail: str) -> None:
        problems.append((line, rule, detail))

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NoticeError(f"{path}: cannot read the notice ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise NoticeError(f"{path}:{mark.line + 1 if mark else 1}: [yaml] {getattr(exc, 'problem', exc)} — {RULES['yaml']}") from None
    if not isinstance(root, yaml.MappingNode):
        raise NoticeError(f"{path}:1: [yaml] {RULES['yaml']}")
    top = _mapping(root)
    for key, (k, _v) in top.items():
        if key not in ("year", "holidays", "makeup_workdays"):
            bad(_line(k), "unknown_key", f"unknown key {key!r}")
    year_node = top.get("year", (None, None))[1]
    try:
        year = int(year_node.value) if isinstance(year_node, yaml.ScalarNode) else None
    except ValueError:
        year = None
    if year is None or not 1900 <= year <= 2999:
        raise NoticeError(f"{path}:{_line(year_node) if year_node else 1}: [year] {RULES['year']}")
    if year in {d.year for d in official} and not force:
        bad(_line(year_node), "year_official", f"{year} is covered by the official calendar (2004–"
            f"{max(official).year}); pass --force to override it with the notice")

    def date_of(node: yaml.Node | None, what: str) -> dt.date | None:
        if not isinstance(node, yaml.ScalarNode):
            bad(_line(node) if node else _line(root), "bad_date", f"{what}: missing")
            return None
        try:
            d = dt.date.fromisoformat(str(node.value).strip())
        except ValueError:
            bad(_line(node), "bad_date", f"{what}: {node.value!r} is not a date")
            return None
        if d.year != year:
            bad(_line(node), "outside_year", f"{what}: {d} is not in {year}")
            return None
        return d

    notice = Notice(year)
    seen: dict[dt.date, int] = {}  # date -> line where it first appeared

    def claim(d: dt.date, line: int, what: str) -> bool:
        if d in seen:
            bad(line, "date_twice", f"{what}: {d} already appears on line {seen[d]}")
            return False
        seen[d] = line
        return True

    hol_node = top.get("holidays", (None, None))[1]
    for item in hol_node.value if isinstance(hol_node, yaml.SequenceNode) else []:
        fields = _mapping(item)
        for key, (k, _v) in fields.items():
            if key not in ("name", "name_en", "from", "to"):
                bad(_line(k), "unknown_key", f"holiday: unknown key {key!r}")
        name_node = fields.get("name", (None, None))[1]
        name = str(name_node.value).strip() if isinstance(name_node, yaml.ScalarNode) else ""
        if not name:
            bad(_line(item), "no_name", "a holiday without its name")
        start = date_of(fields.get("from", (None, item))[1], f"holiday {name or '?'} from")
        end = date_of(fields.get("to", (None, item))[1], f"holiday {name or '?'} to")
        if start is None or end is None:
            continue
        if end < start:
            bad(_line(item), "range_reversed", f"holiday {name}: {start} .. {end}")
            continue
        d = start
        while d <= end:
            if claim(d, _line(item), f"holiday {name}"):
                notice.holidays[d] = name
            d += dt.timedelta(days=1)
    mk_node = top.get("makeup_workdays", (None, None))[1]
    for item in mk_node.value if isinstance(mk_node, yaml.SequenceNode) else []:
        fields = _mapping(item)
        for key, (k, _v) in fields.items():
            if key not in ("date", "note"):
                bad(_line(k), "unknown_key", f"make-up day: unknown key {key!r}")
        date_node = fields.get("date", (None, item))[1] if isinstance(item, yaml.MappingNode) else item
        note_node = fields.get("note", (None, None))[1]
        d = date_of(date_node, "make-up working day")
        if d is None:
            continue
        if d.weekday() < 5:
            bad(_line(item), "makeup_on_weekday", f"{d} is a {d:%A}, already a working day")
            continue
        if d in notice.holidays:
            bad(_line(item), "holiday_on_makeup", f"{d} is both a holiday ({notice.holidays[d]}, line {seen[d]}) "
                "and a make-up working day")
            continue
        if claim(d, _line(item), "make-up working day"):
            notice.makeup[d] = str(note_node.value) if isinstance(note_node, yaml.ScalarNode) else MAKEUP_NOTE
    if problems:
        lines = [f"{path}:{line}: [{rule}] {detail} — {RULES[rule]}" for line, rule, detail in sorted(problems)]
        raise NoticeError(f"{path}: refused, nothing written ({len(problems)} problem(s)):\n" + "\n".join(lines))
    return notice


def delivery_path(inbox: Path, year: int) -> Path:
    return inbox / CALENDAR.name / f"calendar-{year}.csv"


def add_year_main(args) -> int:
    path = Path(args.file)
    try:
        notice = parse_notice(path, official_days(), force=args.force)
    except NoticeError as exc:
        print(f"windowwatch calendar add-year: {exc}", file=sys.stderr)
        return 2
    if args.out:
        inbox = Path(args.out)
    else:
        inboxes = files_inboxes()
        if not inboxes:
            print("windowwatch calendar add-year: no files source has an inbox (`path:`) in the sources file: "
                  "set one, or pass --out DIR (the inbox the next run reads)", file=sys.stderr)
            return 2
        inbox = inboxes[0]
    target = delivery_path(inbox, notice.year)
    text = notice.csv_text()
    if target.exists() and target.read_text(encoding="utf-8") != text and not args.force:
        print(f"windowwatch calendar add-year: {target} already holds a different {notice.year} arrangement: "
              "pass --force to replace it", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(target, text)
    holidays = len(notice.holidays)
    print(f"{notice.year}: {holidays} holiday days, {len(notice.makeup)} make-up working days, "
          f"{len(notice.rows())} dates delivered to {target} (lands with the next run)")
    return 0
