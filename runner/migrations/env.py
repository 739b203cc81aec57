"""Alembic environment: the URL comes from the config Goldwatch builds (runner.db.upgrade)."""

from alembic import context
from sqlmodel import SQLModel

import runner.models  # noqa: F401  (registers the tables)
from runner.db import WRITE_OPTION, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url is not set"
# A write transaction (BEGIN IMMEDIATE on SQLite): two processes starting at once migrate in turn.
engine = make_engine(url).execution_options(**{WRITE_OPTION: True})
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
finally:
    engine.dispose()
