"""The service's editable description (TAMS POST /service), shared by all replicas."""

from __future__ import annotations

from sqlalchemy import select

from tams_server.store import schema
from tams_server.store.dialect import upsert
from tams_server.store.engine import Database
from tams_server.store.settings import SERVICE_DESCRIPTION, SERVICE_NAME


class ServiceInfoStore:
    """Reads and writes the service's name and description."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self) -> tuple[str | None, str | None]:
        """(name, description), None where never set."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(schema.settings.c.key, schema.settings.c.value).where(
                    schema.settings.c.key.in_((SERVICE_NAME, SERVICE_DESCRIPTION))
                )
            )
            values: dict[str, str] = dict(rows.all())
        return values.get(SERVICE_NAME), values.get(SERVICE_DESCRIPTION)

    async def update(self, *, name: str | None, description: str | None) -> None:
        """Set whichever of name and description is given."""
        changes = {SERVICE_NAME: name, SERVICE_DESCRIPTION: description}
        async with self._db.write() as conn:
            for key, value in changes.items():
                if value is not None:
                    await conn.execute(
                        upsert(conn, schema.settings, ["key"], {"value": value}).values(
                            key=key, value=value
                        )
                    )
