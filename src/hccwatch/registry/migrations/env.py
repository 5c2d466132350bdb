"""Alembic environment: migrations run programmatically on a connection the registry hands over."""

from __future__ import annotations

from alembic import context

from hccwatch.registry.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the registry always passes its connection
    raise RuntimeError("hccwatch migrations run through hccwatch.registry.db.migrate, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
