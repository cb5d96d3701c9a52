"""Reference changes that reach published months (SPEC §3 v2; docs/rules.md#reference-versions).

A reference row with valid_from (生效日期) is a new version from that date: the cases accepted before
it keep the version they had. A row without valid_from keeps v1's meaning — the latest delivery wins,
for all time — so a re-delivered limit or department re-scores history. The run says so, so nobody
re-scores a published month by accident: after the build and before publishing, `check` compares the
reference versions the new warehouse gives every case of a published month (accepted or completed in
it) with the versions the live snapshot gave it, and names the months, the number of cases and the
items and windows whose change reaches them. It only reads; nothing stops the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.paths import Home
from windowwatch.snapshot import NoSnapshot, current_snapshot

# What a rule reads from a version (int_reference__item_versions / __window_versions).
ITEM_COLUMNS = (
    "item_kind",
    "limit_unit",
    "promised_limit",
    "legal_limit",
    "max_extension_days",
    "deliver_limit",
    "approval_mode",
)
WINDOW_COLUMNS = ("department_id", "center_id")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_VERSION = re.compile(r"v\d+")


@dataclass(frozen=True)
class PublishedChange:
    month: str
    cases: int
    items: tuple[str, ...]
    windows: tuple[str, ...]

    def line(self) -> str:
        what = "; ".join(
            part
            for part in (
                f"items {', '.join(self.items)}" if self.items else "",
                f"windows {', '.join(self.windows)}" if self.windows else "",
            )
            if part
        )
        return (
            f"reference data changes {self.cases} case(s) of published month {self.month} ({what}): a row without "
            "valid_from (生效日期) applies for all time, a valid_from inside a published month changes it from "
            "that date — deliver the change with a later valid_from to keep the published months, or "
            "re-publish them knowingly (docs/rules.md#reference-versions)"
        )


def published_months(home: Home) -> list[str]:
    """The months with at least one published report version (reports/YYYY-MM/vN/manifest.json)."""
    if not home.reports.is_dir():
        return []
    return sorted(
        p.name
        for p in home.reports.iterdir()
        if p.is_dir()
        and _MONTH.fullmatch(p.name)
        and any(_VERSION.fullmatch(v.name) and (v / "manifest.json").is_file() for v in p.iterdir())
    )


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = ? and table_schema = 'intermediate' and table_name = ?",
        [catalog, table],
    ).fetchall()
    return [r[0] for r in rows]


def _versions(con: duckdb.DuckDBPyConnection, catalog: str, kind: str) -> tuple[str, list[str]]:
    """(SQL of the versions with valid_from/valid_to, its columns) in `catalog`: the versions model, or
    for a snapshot built before versions existed its current table, valid for all time."""
    cols = _columns(con, catalog, f"int_reference__{kind}_versions")
    if cols:
        return f'"{catalog}".intermediate.int_reference__{kind}_versions', cols
    cols = _columns(con, catalog, f"int_reference__{kind}s")
    sql = (
        f"(select *, date '1900-01-01' as valid_from, date '9999-12-31' as valid_to "
        f'from "{catalog}".intermediate.int_reference__{kind}s)'
    )
    return sql, [*cols, "valid_from", "valid_to"]


def published_case_changes(warehouse: Path, snapshot: Path, months: list[str]) -> list[PublishedChange]:
    """Per published month: the cases whose item version (on the acceptance date) or window version
    (on the acceptance date, and on the month's first day) differs between `snapshot` and `warehouse`."""
    if not months:
        return []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(f"ATTACH '{str(snapshot).replace(chr(39), chr(39) * 2)}' AS prev (READ_ONLY)")
        new_cat = con.sql("select current_database()").fetchall()[0][0]
        new_items, new_item_cols = _versions(con, new_cat, "item")
        old_items, old_item_cols = _versions(con, "prev", "item")
        new_windows, new_window_cols = _versions(con, new_cat, "window")
        old_windows, old_window_cols = _versions(con, "prev", "window")
        item_cols = [c for c in ITEM_COLUMNS if c in new_item_cols and c in old_item_cols]
        window_cols = [c for c in WINDOW_COLUMNS if c in new_window_cols and c in old_window_cols]

        def differs(a: str, b: str, cols: list[str]) -> str:
            return " or ".join(f"{a}.{c} is distinct from {b}.{c}" for c in cols) or "false"

        def in_force(alias: str, day: str) -> str:
            return f"{alias}.valid_from <= {day} and {day} < {alias}.valid_to"

        month_list = ", ".join(f"'{m}'" for m in months if _MONTH.fullmatch(m))
        rows = con.sql(f"""
            with cases as (
                select case_id, item_code, window_id, accepted_date,
                    strftime(accepted_date, '%Y-%m') as accepted_month,
                    strftime(completed_date, '%Y-%m') as completed_month
                from "{new_cat}".intermediate.int_cases__case_facts
            ),
            case_months as (
                select case_id, item_code, window_id, accepted_date, accepted_month as month
                from cases where accepted_month in ({month_list})
                union
                select case_id, item_code, window_id, accepted_date, completed_month as month
                from cases where completed_month in ({month_list})
            ),
            compared as (
                select
                    c.case_id, c.month, c.item_code, c.window_id,
                    ({differs("ni", "oi", item_cols)}) as item_changed,
                    ({differs("nw", "ow", window_cols)}) or ({differs("nm", "om", window_cols)}) as window_changed
                from case_months as c
                left join {new_items} as ni on ni.item_code = c.item_code and {in_force("ni", "c.accepted_date")}
                left join {old_items} as oi on oi.item_code = c.item_code and {in_force("oi", "c.accepted_date")}
                left join {new_windows} as nw on nw.window_id = c.window_id and {in_force("nw", "c.accepted_date")}
                left join {old_windows} as ow on ow.window_id = c.window_id and {in_force("ow", "c.accepted_date")}
                left join {new_windows} as nm on nm.window_id = c.window_id
                    and {in_force("nm", "cast(c.month || '-01' as date)")}
                left join {old_windows} as om on om.window_id = c.window_id
                    and {in_force("om", "cast(c.month || '-01' as date)")}
            )
            select month, count(distinct case_id),
                list(distinct item_code order by item_code) filter (where item_changed),
                list(distinct window_id order by window_id) filter (where window_changed)
            from compared
            where item_changed or window_changed
            group by month
            order by month
        """).fetchall()
    finally:
        con.close()
    return [PublishedChange(m, int(n), tuple(i or ()), tuple(w or ())) for m, n, i, w in rows]


def check(home: Home, warehouse: Path) -> list[str]:
    """The run's warnings about reference changes that reach published months (none when nothing is
    published yet). Never raises: a check that cannot run says so in its one warning."""
    months = published_months(home)
    if not months:
        return []
    try:
        snapshot = current_snapshot(home)
    except NoSnapshot:
        return []
    try:
        return [c.line() for c in published_case_changes(warehouse, snapshot, months)]
    except duckdb.Error as exc:
        return [f"could not compare the reference data of published months with {snapshot.name}: {exc}"]
