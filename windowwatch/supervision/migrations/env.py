"""Alembic environment of the supervision store: run programmatically by store.migrate() with the
connection in `config.attributes["connection"]` (no alembic.ini)."""

from alembic import context

from windowwatch.supervision.store import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
