"""A real, throwaway PostgreSQL 15 server for tests (no mocks, no shared server).

tests/conftest.py starts one per test session as the `postgres_url` fixture; a test requests
it and makes an empty database of its own:

    from tests.support.pg_server import new_database

    def test_something(postgres_url):
        url = new_database(postgres_url)   # an empty database of its own
        ...

`running_postgres()` runs `initdb` into a fresh temp dir, starts the server with `pg_ctl` on a
free 127.0.0.1 port (its unix socket in the same temp dir, so it never touches the system's
/var/run/postgresql), yields a SQLAlchemy URL
(`postgresql+psycopg://postgres:<password>@127.0.0.1:<port>/postgres`) and stops the server and
removes the directory afterwards, also when tests fail.

TCP connections need the password (scram-sha-256), so tests can check that a wrong or leaked
password is handled; the unix socket trusts the OS user (only used to stop the server).

initdb refuses to run as root: as root the server commands run as the `postgres` OS user
(`runuser -u postgres -- ...`) in a temp dir chowned to it. Missing binaries fail the test
run with the Debian package to install (`make test` installs it) — never a skip.
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("WINDOWWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_OS_USER = "postgres"  # who runs the server when the tests run as root
PG_SUPERUSER = "postgres"  # the database superuser initdb creates


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the server would not start."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_OS_USER, "--", *cmd]
    return cmd


def _run(cmd: list[str], what: str, timeout: float = 60) -> None:
    proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise PostgresUnavailable(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")


def _check_binaries() -> None:
    missing = [b for b in ("initdb", "pg_ctl") if not (PG_BIN / b).exists()]
    if missing:
        raise PostgresUnavailable(
            f"PostgreSQL 15 server binaries not found in {PG_BIN} ({', '.join(missing)} missing). "
            "Install the Debian package: apt-get install postgresql (or postgresql-15) — `make test` does it "
            "when run as root. Set WINDOWWATCH_PG_BIN to use binaries elsewhere."
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root, but there is no '{PG_OS_USER}' OS user to run PostgreSQL as "
                "(initdb refuses root). Install the Debian package postgresql, which creates it."
            ) from None
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root, but `runuser` (util-linux) is missing to drop to the postgres user")


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throwaway server; yield its SQLAlchemy URL; always stop and delete it."""
    _check_binaries()
    # /tmp directly (not pytest's 0700 tmp dirs): the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="ww-pg-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    password = secrets.token_hex(16)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        pg = pwd.getpwnam(PG_OS_USER)
        for p in (root, sock, pwfile):
            os.chown(p, pg.pw_uid, pg.pw_gid)
    started = False

    def stop() -> None:
        nonlocal started
        if started:
            subprocess.run(
                _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
            )
            started = False
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)  # a session interrupted before the finalizer still cleans up
    try:
        _run(
            [
                str(PG_BIN / "initdb"),
                "-D", str(data),
                "-U", PG_SUPERUSER,
                "--pwfile", str(pwfile),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            "initdb",
        )
        pwfile.unlink()
        last_error: Exception | None = None
        for _attempt in range(3):  # the free port may be taken between probing and binding
            port = _free_port()
            opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            try:
                _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"], "pg_ctl start", timeout=90)
                started = True
                break
            except PostgresUnavailable as exc:
                last_error = exc
                time.sleep(0.2)
        if not started:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{last_error}\nserver log:\n{tail}")
        yield f"postgresql+psycopg://{PG_SUPERUSER}:{password}@127.0.0.1:{port}/postgres"
    finally:
        stop()
        atexit.unregister(stop)


def new_database(server_url: str, name: str | None = None) -> str:
    """Create an empty database on the test server; return its SQLAlchemy URL."""
    import sqlalchemy as sa

    name = name or f"t_{secrets.token_hex(6)}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
