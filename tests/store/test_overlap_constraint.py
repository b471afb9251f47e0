"""On PostgreSQL the database itself refuses overlapping Segments of one Flow, even
from a writer that skips the application's check (design decision 3)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from conftest import postgresql_url
from helpers.factories import new_id
from tams_server.store.engine import Database
from tams_server.store.migrate import migrate
from tams_server.store.schema import flows, segments, sources


async def test_exclusion_constraint_refuses_overlaps() -> None:
    database = Database.connect(postgresql_url())
    try:
        await migrate(database)
        flow_id, source_id = new_id(), new_id()
        async with database.write() as conn:
            await conn.execute(
                insert(sources).values(
                    id=source_id, format="urn:x-nmos:format:data", tags={}, created_ns=0,
                    updated_ns=0,
                )
            )  # fmt: skip
            await conn.execute(
                insert(flows).values(
                    id=flow_id, source_id=source_id, format="urn:x-nmos:format:data", tags={},
                    metadata_version="1", created_ns=0, metadata_updated_ns=0,
                )
            )  # fmt: skip

        def row(start: int, end: int) -> dict[str, object]:
            return {"flow_id": flow_id, "start_ns": start, "end_ns": end, "timerange": "x",
                    "object_id": "o", "created_ns": 0}  # fmt: skip

        async with database.engine.begin() as conn:
            await conn.execute(insert(segments), [row(0, 10), row(10, 20)])  # touching is fine
        with pytest.raises(IntegrityError, match="ex_segments_no_overlap"):
            async with database.engine.begin() as conn:
                await conn.execute(insert(segments), [row(15, 25)])
        async with database.engine.begin() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM segments WHERE flow_id = :f"), {"f": flow_id}
            )
        assert count == 2
    finally:
        await database.dispose()
