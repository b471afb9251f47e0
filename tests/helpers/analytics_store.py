"""A store of known content, for analytics figures checked to the exact value: a
server on an empty database, with Flows, Objects of known sizes stored in known months
and Segments at known hours, and callers of two groups (``auth_classes``).

==========  ======  =====  ======  ================================================
Flow        format  class  Source  Segments (Objects)
==========  ======  =====  ======  ================================================
A           video   news   S1      2024-12-20 10:14:00-10:15:30 (o1), 10:15:45-10:15:55
                                   (o2), 10:59:00-11:04:30 (x1, external)
B           video   sport  S1      none
C           audio   news   S2      10:14:00-10:15:30 (o1, shared with A),
                                   10:15:30-10:16:00 (o3)
D           video   news   S1      none; soft-deleted
E           video   -      S3      2024-12-20 22:30:00 to 2024-12-23 01:15:00 (x2)
F           video   -      S4      TAI -3600:0 to -1800:0, before 1970 (x3)
==========  ======  =====  ======  ================================================

o1 holds 5000 bytes (seen 2024-11-15), o2 3000 (2024-12-01T00:00:00Z), o3 2000
(2024-12-31T23:59:59Z); x1-x3 are external (no size)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from helpers.auth import AUDIENCE, ISSUER, SECRET, bearer, hs256
from helpers.databases import empty_database
from helpers.factories import audio_flow, new_id, video_flow
from helpers.objects import external_post, upload_objects
from helpers.servers import Stubs, own_server
from tams.v1 import flows_pb2, segments_pb2
from tams_server.store.engine import Database
from tams_server.store.schema import objects

CLASSES = "news news write\nsport sport write\n"
SCOPES = "tams-api/read tams-api/write tams-api/delete"
ADMIN = bearer(hs256(sub="admin", scope=SCOPES))
NEWS = bearer(hs256(sub="nina", scope=SCOPES, groups=["news"]))
SPORT = bearer(hs256(sub="sam", scope=SCOPES, groups=["sport"]))
VIDEO, AUDIO = "urn:x-nmos:format:video", "urn:x-nmos:format:audio"


def day(text: str) -> str:
    """An ISO 8601 time of 2024-12-20 (``10:14:00``) as an instant."""
    return f"2024-12-20T{text}Z"


@dataclass
class KnownStore:
    """The server and the ids of what it holds."""

    server: Stubs
    database_url: str
    flows: dict[str, str]
    sources: dict[str, str]
    objects: dict[str, str]


async def _flow(server: Stubs, flow: flows_pb2.Flow) -> str:
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=ADMIN)
    return flow.id


async def _register(server: Stubs, flow_id: str, *posts: segments_pb2.SegmentPost) -> None:
    response = await server.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=posts), metadata=ADMIN
    )
    assert not response.failed_segments, response


def _unix_ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


@asynccontextmanager
async def known_store(
    folder: Path, database_url: str, **settings: Any
) -> AsyncIterator[KnownStore]:
    """The store of the module docstring, on an empty database of ``database_url``'s
    engine, served with the Config ``settings`` given."""
    (folder / "classes").write_text(CLASSES)
    async with (
        empty_database(database_url, folder) as url,
        own_server(
            folder / "data", url, jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
            auth_classes_file=folder / "classes", run_workers=False, **settings,
        ) as server,
    ):  # fmt: skip
        sources = {name: new_id() for name in ("S1", "S2", "S3", "S4")}
        news, sport = {"auth_classes": "news"}, {"auth_classes": "sport"}
        flows = {
            "A": await _flow(server, video_flow(source_id=sources["S1"], tags=news)),
            "B": await _flow(server, video_flow(source_id=sources["S1"], tags=sport)),
            "C": await _flow(server, audio_flow(source_id=sources["S2"], tags=news)),
            "D": await _flow(server, video_flow(source_id=sources["S1"], tags=news)),
            "E": await _flow(server, video_flow(source_id=sources["S3"])),
            "F": await _flow(server, video_flow(source_id=sources["S4"])),
        }
        await server.flows.DeleteFlow(
            flows_pb2.DeleteFlowRequest(flow_id=flows["D"], soft_delete=True), metadata=ADMIN
        )
        [o1] = await upload_objects(server.channel, flows["A"], body=b"1" * 5000, metadata=ADMIN)
        [o2] = await upload_objects(server.channel, flows["A"], body=b"2" * 3000, metadata=ADMIN)
        [o3] = await upload_objects(server.channel, flows["C"], body=b"3" * 2000, metadata=ADMIN)
        ids = {"o1": o1, "o2": o2, "o3": o3, "x1": new_id(), "x2": new_id(), "x3": new_id()}
        post = segments_pb2.SegmentPost
        first = f"[{day('10:14:00')}_{day('10:15:30')})"
        await _register(
            server, flows["A"],
            post(object_id=o1, timerange=first),
            post(object_id=o2, timerange=f"[{day('10:15:45')}_{day('10:15:55')})"),
            external_post(ids["x1"], f"[{day('10:59:00')}_{day('11:04:30')})"),
        )  # fmt: skip
        await _register(
            server, flows["C"],
            post(object_id=o1, timerange=first),
            post(object_id=o3, timerange=f"[{day('10:15:30')}_{day('10:16:00')})"),
        )  # fmt: skip
        await _register(
            server, flows["E"],
            external_post(ids["x2"], "[2024-12-20T22:30:00Z_2024-12-23T01:15:00Z)"),
        )  # fmt: skip
        await _register(server, flows["F"], external_post(ids["x3"], "[-3600:0_-1800:0)"))
        seen = {o1: "2024-11-15T12:00:00", o2: "2024-12-01T00:00:00", o3: "2024-12-31T23:59:59"}
        database = Database.connect(url)
        try:
            async with database.write() as conn:
                for object_id, when in seen.items():
                    await conn.execute(
                        update(objects)
                        .where(objects.c.id == object_id)
                        .values(uploaded_ns=_unix_ns(when))
                    )
        finally:
            await database.dispose()
        yield KnownStore(server, url, flows, sources, ids)
