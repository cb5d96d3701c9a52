"""Helpers of the supervision tests (tests/windowwatch/supervision/): accounts per role and edits
to a published fixture snapshot (a trigger appearing or going away)."""

from __future__ import annotations

from pathlib import Path

import duckdb

# name -> (role, department_id, email)
USERS = {
    "insp": ("inspector", None, "insp@centre.example"),
    "insp2": ("inspector", None, None),
    "mgr": ("manager", None, None),
    "aud": ("auditor", None, None),
    "d01": ("department", "D01", "liaison@d01.example"),
    "d02": ("department", "D02", None),
}
PASSWORD = "correct horse battery"


def add_users(users: dict = USERS) -> None:
    """The accounts, hashed with cheap argon2 parameters (as tests/support/dashboard_snapshot.add_test_user)."""
    from argon2 import PasswordHasher

    from windowwatch import accounts

    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        for name, (role, dept, mail) in users.items():
            accounts.add_user(name, role, PASSWORD, department_id=dept, email=mail)
    finally:
        accounts._hasher = saved


def edit_snapshot(path: Path, sql: str, params: list | None = None) -> None:
    """Change the published fixture in place (tests only: a published snapshot is immutable)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(sql, params or [])
        con.execute("checkpoint")
    finally:
        con.close()


def query(path: Path, sql: str) -> list[tuple]:
    """The rows of `sql` over a DuckDB file (a snapshot or warehouse), opened read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def red_case(path: Path) -> tuple[str, str]:
    """(case_id, department_id) of an open red-card case that is not legal overdue."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select case_id, department_id from marts.fct_case where status = 'open' and card = 'red' "
                           "and not coalesce(is_legal_overdue, false) order by case_id limit 1").fetchall()[0]
    finally:
        con.close()


def liaison(department_id: str) -> str:
    """The department account of USERS answering for the department."""
    return next(n for n, (role, dept, _) in USERS.items() if role == "department" and dept == department_id)
