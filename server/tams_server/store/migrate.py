"""Apply the Alembic migrations: by ``tams-server migrate`` and at every start-up.

Several replicas may start at once on one PostgreSQL: an advisory lock makes them
migrate one after the other (the later ones find nothing to do).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tams_server.store.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x54414D53  # "TAMS"


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(database: Database) -> None:
    """Bring the schema to the newest revision."""
    async with database.engine.connect() as conn:
        if not database.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            await conn.commit()
        try:
            await conn.run_sync(_upgrade)
            await conn.commit()
        finally:
            if not database.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
                await conn.commit()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
