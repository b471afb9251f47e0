"""Pages read packed (``store.raw.fetch_packed``): on SQLite the database returns a
page as one JSON array, which must give back exactly the rows, in exactly the order,
that reading them one by one gives; on PostgreSQL it is the plain read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, Text, bindparam, select

from conftest import ENGINES, postgresql_url
from tams_server.store.engine import Database
from tams_server.store.raw import fetch_all, fetch_packed, insert_rows

_metadata = MetaData()
_rows = Table(
    "packed_rows",
    _metadata,
    Column("n", BigInteger, primary_key=True),
    Column("label", Text),
    Column("note", Text),
)
_PAGE = (
    select(_rows.c.n, _rows.c.label, _rows.c.note)
    .where(_rows.c.n < bindparam("below", type_=BigInteger))
    .order_by(_rows.c.n.desc())
    .limit(bindparam("limit"))
)
_STORED = [
    (2**62 + 7, 'ünïcode "quoted" \\ and\nnewline', None),
    (-(2**63), None, '[{"url": "http://x/a?b=1&c=2", "label": "l"}]'),
    (0, "", "\t"),
    *((n, f"label {n}", None) for n in range(1, 200)),
]


@pytest.fixture(params=ENGINES)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'packed.db'}"
    if request.param == "postgresql":
        url = postgresql_url()
    database = Database.connect(url)
    async with database.engine.begin() as conn:
        await conn.run_sync(_metadata.drop_all)
        await conn.run_sync(_metadata.create_all)
    async with database.write() as conn:
        await insert_rows(conn, _rows, ("n", "label", "note"), _STORED)
    try:
        yield database
    finally:
        async with database.engine.begin() as conn:
            await conn.run_sync(_metadata.drop_all)
        await database.dispose()


@pytest.mark.parametrize(("below", "limit"), [(2**63 - 1, 1000), (150, 25), (-(2**63), 10)])
async def test_a_packed_page_is_the_page_read_row_by_row(
    database: Database, below: int, limit: int
) -> None:
    params = {"below": below, "limit": limit}
    async with database.read() as conn:
        packed = await fetch_packed(conn, _PAGE, params)
        plain = await fetch_all(conn, _PAGE, params)
    assert [tuple(row) for row in packed] == [tuple(row) for row in plain]
    expected = sorted((row for row in _STORED if row[0] < below), reverse=True)[:limit]
    assert [tuple(row) for row in packed] == expected
