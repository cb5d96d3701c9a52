"""The supervision store: SQLite `$WINDOWWATCH_HOME/supervision.sqlite` (WAL) by default, the
PostgreSQL that WINDOWWATCH_SUPERVISION_URL names otherwise. Migrations run on open.

Opening a store brings its schema up to this code's newest Alembic revision (migrations/, run in
code: no alembic.ini). A store whose schema is newer than the code — written by a later
WindowWatch — is refused with the revision named, never touched.

On SQLite every transaction starts with `BEGIN IMMEDIATE` (pysqlite otherwise begins only at the
first write, so a read-then-update could interleave with another process and DDL would run
outside the transaction): writers queue on the busy timeout instead of failing half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from core.paths import Home
from core.paths import home as default_home
from core.settings import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "ww_supervision_version"
SQLITE_NAME = "supervision.sqlite"
BUSY_TIMEOUT_S = 30


class StoreError(RuntimeError):
    """The store cannot be used (newer schema, unreachable); the message says what to do."""


@dataclass
class Store:
    engine: sa.Engine
    home: Home
    url: str  # for messages: the password hidden

    def dispose(self) -> None:
        self.engine.dispose()


def store_url(h: Home | None = None) -> str:
    url = settings().supervision_url
    if url:
        return url
    h = h or default_home()
    return f"sqlite:///{(h.root / SQLITE_NAME).resolve()}"


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(conn: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(engine: sa.Engine, shown_url: str) -> str:
    """Upgrade the schema to head; refuse a schema newer than this code. Returns the revision."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    with engine.begin() as conn:
        rev = current_revision(conn)
        if rev is not None:
            try:
                script.get_revision(rev)
            except (CommandError, KeyError):
                raise StoreError(
                    f"supervision store {shown_url}: its schema is at revision {rev!r}, newer than this WindowWatch "
                    f"knows (newest here: {head!r}) — it was written by a later version. Upgrade WindowWatch; the store "
                    "was not touched"
                ) from None
        if rev != head:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    return head


def open_store(h: Home | None = None, url: str | None = None) -> Store:
    """The store, migrated to this code's schema."""
    h = h or default_home()
    url = url or store_url(h)
    shown = sa.make_url(url).render_as_string(hide_password=True)
    if url.startswith("sqlite"):
        path = sa.make_url(url).database
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(url)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        migrate(engine, shown)
    except StoreError:
        engine.dispose()
        raise
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise StoreError(f"supervision store {shown}: cannot open it ({str(exc.orig).strip()}); check "
                         "WINDOWWATCH_SUPERVISION_URL") from None
    return Store(engine=engine, home=h, url=shown)
