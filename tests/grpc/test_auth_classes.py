"""Fine-grained access by ``auth_classes`` on a real server run with --jwt-secret and
an auth classes file, called with real tokens whose ``groups`` claim picks the rights:

- ``news`` writes news and reads sport; ``sport`` writes sport; ``viewer`` reads news;
- ``nobody`` holds a groups claim naming no group of the file: it sees only what has no
  class; a token without the claim (``ADMIN``) sees everything.

Listings are filtered in the query (full pages, keyset paging intact); no right is
NOT_FOUND, read without write PERMISSION_DENIED AUTH_CLASS_DENIED; Segments, storage
and multipart uploads follow their Flow; reusing an Object needs read access to a Flow
that uses it; an Object shows only the Flows using it that the caller may read, and its
instances change with write access to one of them; Flow delete requests exist for
those who may read their Flow (and, once it is gone, for their maker). No error names
a hidden resource or tells its state: an Object allocated for a hidden Flow, a Flow
created on a Source the caller may not write, a hidden soft-deleted Flow's id, the Flows
rendering a Source."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from helpers.auth import AUDIENCE, ISSUER, SECRET, bearer, hs256
from helpers.factories import new_id, source, tag, unique_tag, video_flow
from helpers.objects import external_post, upload_objects
from helpers.servers import Stubs, own_server
from helpers.status import failure
from tams.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    flows_pb2,
    objects_pb2,
    objects_pb2_grpc,
    segments_pb2,
    sources_pb2,
    storage_pb2,
)
from tams.v1 import flow_delete_requests_pb2 as fdr
from tams_server.auth.keys import AuthSetupError
from tams_server.cli import main

CLASSES = """\
# group  class  right
news    news   write
news    sport  read
sport   sport  write
viewer  news   read
viewer  news   read
"""
SCOPES = "tams-api/read tams-api/write tams-api/delete"
ADMIN = bearer(hs256(sub="admin", scope=SCOPES))
NEWS = bearer(hs256(sub="nina", scope=SCOPES, groups=["news"]))
SPORT = bearer(hs256(sub="sam", scope=SCOPES, groups=["sport"]))
VIEWER = bearer(hs256(sub="vic", scope=SCOPES, groups=["viewer"]))
NOBODY = bearer(hs256(sub="nat", scope=SCOPES, groups=["unmapped"]))

Metadata = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
async def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> AsyncIterator[Stubs]:
    folder = tmp_path_factory.mktemp("auth-classes")
    (folder / "classes").write_text(CLASSES)
    async with own_server(
        folder / "data", database_url, jwt_secret=SECRET, jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE, auth_classes_file=folder / "classes",
    ) as stubs:  # fmt: skip
        yield stubs


def _classes(index: int) -> dict[str, Any]:
    """Every third resource news, every third sport, every third without a class."""
    return [{"auth_classes": "news"}, {"auth_classes": ["sport", "archive"]}, {}][index % 3]


async def new_flow(server: Stubs, classes: str | list[str] | None, **fields: Any) -> str:
    tags = dict(fields.pop("tags", {}))
    if classes is not None:
        tags["auth_classes"] = classes
    flow = video_flow(tags=tags, **fields)
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=ADMIN)
    return flow.id


async def listed_flows(server: Stubs, who: Metadata, marker: str, size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token = ""
    while True:
        request = flows_pb2.ListFlowsRequest(page_size=size, page_token=token)
        request.filter.tags.add(name="t", values=[marker])
        response = await server.flows.ListFlows(request, metadata=who)
        pages.append([flow.id for flow in response.flows])
        token = response.next_page_token
        if not token:
            return pages


async def test_flow_listings_are_filtered_in_the_query_with_full_pages(server: Stubs) -> None:
    marker = unique_tag()
    ids = [await new_flow(server, None, tags={"t": marker, **_classes(i)}) for i in range(25)]
    (everything,) = await listed_flows(server, ADMIN, marker, 100)
    assert sorted(everything) == sorted(ids)
    visible = {
        NEWS: range(25),
        SPORT: [i for i in range(25) if i % 3 != 0],
        VIEWER: [i for i in range(25) if i % 3 != 1],
        NOBODY: [i for i in range(25) if i % 3 == 2],
    }
    for who, indexes in visible.items():
        expected = [flow_id for flow_id in everything if ids.index(flow_id) in indexes]
        pages = await listed_flows(server, who, marker, 4)
        assert all(len(page) == 4 for page in pages[:-1])
        assert [flow_id for page in pages for flow_id in page] == expected


async def test_source_listings_are_filtered_too(server: Stubs) -> None:
    marker = unique_tag()
    ids = []
    for index in range(10):
        message = source(tags={"t": marker, **_classes(index)})
        await server.sources.CreateSource(
            sources_pb2.CreateSourceRequest(source=message), metadata=ADMIN
        )
        ids.append(message.id)
    seen: list[str] = []
    token = ""
    while True:
        request = sources_pb2.ListSourcesRequest(page_size=3, page_token=token)
        request.filter.tags.add(name="t", values=[marker])
        response = await server.sources.ListSources(request, metadata=SPORT)
        seen += [item.id for item in response.sources]
        token = response.next_page_token
        if not token:
            break
        assert len(response.sources) == 3
    assert sorted(seen) == sorted(ids[i] for i in range(10) if i % 3 != 0)


async def test_no_right_is_not_found_read_only_is_denied_on_flows(server: Stubs) -> None:
    flow_id = await new_flow(server, "news")
    flows = server.flows
    label = flows_pb2.UpdateFlowRequest(
        flow=flows_pb2.Flow(id=flow_id, label="x"), update_mask=FieldMask(paths=["label"])
    )
    calls = [
        lambda who: flows.UpdateFlow(label, metadata=who),
        lambda who: flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(flow_id=flow_id, name="a", value=tag("b")), metadata=who
        ),
        lambda who: flows.DeleteFlowTag(
            flows_pb2.DeleteFlowTagRequest(flow_id=flow_id, name="auth_classes"), metadata=who
        ),
        lambda who: flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow_id), metadata=who),
    ]
    get = flows_pb2.GetFlowRequest(flow_id=flow_id)
    for who in (SPORT, NOBODY):
        missing = await failure(flows.GetFlow(get, metadata=who))
        assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")
        for call in calls:
            assert (await failure(call(who))).code == grpc.StatusCode.NOT_FOUND
    assert (await flows.GetFlow(get, metadata=VIEWER)).flow.id == flow_id
    for call in calls:
        denied = await failure(call(VIEWER))
        assert (denied.code, denied.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "AUTH_CLASS_DENIED",
        )
        assert denied.metadata == {"flowId": flow_id}
    updated = await flows.UpdateFlow(label, metadata=NEWS)
    assert updated.flow.label == "x"
    await flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow_id), metadata=NEWS)


async def test_classes_a_caller_cannot_write_are_refused(server: Stubs) -> None:
    refused = video_flow(tags={"auth_classes": "sport"})
    denied = await failure(
        server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=refused), metadata=NEWS)
    )
    assert (denied.code, denied.reason) == (grpc.StatusCode.PERMISSION_DENIED, "AUTH_CLASS_DENIED")
    flow_id = await new_flow(server, "news")
    denied = await failure(
        server.flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(flow_id=flow_id, name="auth_classes", value=tag("sport")),
            metadata=NEWS,
        )
    )
    assert denied.reason == "AUTH_CLASS_DENIED"
    moved = await server.flows.SetFlowTag(
        flows_pb2.SetFlowTagRequest(
            flow_id=flow_id, name="auth_classes", value=tag(["news", "sport"])
        ),
        metadata=NEWS,
    )
    assert list(moved.flow.tags["auth_classes"].list_value.values) == ["news", "sport"]
    mine = video_flow(tags={"auth_classes": "news"})
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=mine), metadata=NEWS)


async def test_no_right_is_not_found_read_only_is_denied_on_sources(server: Stubs) -> None:
    message = source(tags={"auth_classes": "news"})
    await server.sources.CreateSource(
        sources_pb2.CreateSourceRequest(source=message), metadata=ADMIN
    )
    sources = server.sources
    label = sources_pb2.UpdateSourceRequest(
        source=sources_pb2.Source(id=message.id, label="x"), update_mask=FieldMask(paths=["label"])
    )
    calls = [
        lambda who: sources.UpdateSource(label, metadata=who),
        lambda who: sources.SetSourceTag(
            sources_pb2.SetSourceTagRequest(source_id=message.id, name="a", value=tag("b")),
            metadata=who,
        ),
        lambda who: sources.DeleteSourceTag(
            sources_pb2.DeleteSourceTagRequest(source_id=message.id, name="auth_classes"),
            metadata=who,
        ),
        lambda who: sources.DeleteSource(
            sources_pb2.DeleteSourceRequest(source_id=message.id), metadata=who
        ),
    ]
    get = sources_pb2.GetSourceRequest(source_id=message.id)
    missing = await failure(sources.GetSource(get, metadata=SPORT))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "SOURCE_NOT_FOUND")
    for call in calls:
        assert (await failure(call(SPORT))).code == grpc.StatusCode.NOT_FOUND
        denied = await failure(call(VIEWER))
        assert (denied.code, denied.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "AUTH_CLASS_DENIED",
        )
    assert (await sources.GetSource(get, metadata=VIEWER)).source.id == message.id
    assert (await sources.UpdateSource(label, metadata=NEWS)).source.label == "x"


async def test_segments_and_storage_follow_their_flow(server: Stubs) -> None:
    flow_id = await new_flow(server, "news")
    post = external_post(new_id(), "[0:0_1:0)")
    register = segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[post])
    done = await server.segments.RegisterSegments(register, metadata=NEWS)
    assert done.registered_count == 1
    listing = segments_pb2.ListSegmentsRequest(flow_id=flow_id)
    allocation = storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=1)
    deletion = segments_pb2.DeleteSegmentsRequest(flow_id=flow_id)
    for who, code in (
        (SPORT, grpc.StatusCode.NOT_FOUND),
        (VIEWER, grpc.StatusCode.PERMISSION_DENIED),
    ):
        assert (
            await failure(server.segments.RegisterSegments(register, metadata=who))
        ).code == code
        assert (await failure(server.segments.DeleteSegments(deletion, metadata=who))).code == code
        allocated = server.storage.AllocateStorage(allocation, metadata=who)
        assert (await failure(_drain(allocated))).code == code
    # Hidden is as unknown, and the spec says a listing of the Segments of a Flow that
    # does not exist is empty, not a 404: both are empty, on gRPC and REST.
    for listed_id in (flow_id, new_id()):
        hidden = await server.segments.ListSegments(
            segments_pb2.ListSegmentsRequest(flow_id=listed_id), metadata=SPORT
        )
        assert (list(hidden.segments), hidden.next_page_token) == ([], "")
        streamed = server.segments.StreamSegments(
            segments_pb2.StreamSegmentsRequest(flow_id=listed_id), metadata=SPORT
        )
        assert [message async for message in streamed] == []
        async with httpx.AsyncClient(base_url=server.running.http_url) as http:
            headers = {"Authorization": SPORT[0][1]}
            rest = await http.get(f"/flows/{listed_id}/segments", headers=headers)
            assert (rest.status_code, rest.json()) == (200, [])
            assert "link" not in rest.headers
            head = await http.head(f"/flows/{listed_id}/segments", headers=headers)
            assert head.status_code == 200
    seen = await server.segments.ListSegments(listing, metadata=VIEWER)
    assert [segment.object_id for segment in seen.segments] == [post.object_id]


async def _drain(call: Any) -> None:
    async for _ in call:
        pass


async def test_reusing_an_object_needs_read_access_to_a_flow_using_it(server: Stubs) -> None:
    news_flow = await new_flow(server, "news")
    sport_flow = await new_flow(server, "sport")
    news_object, sport_object = new_id(), new_id()
    for flow_id, object_id, who in (
        (news_flow, news_object, NEWS),
        (sport_flow, sport_object, SPORT),
    ):
        post = external_post(object_id, "[0:0_1:0)")
        response = await server.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[post]), metadata=who
        )
        assert response.registered_count == 1
    # sport may not read news: the news Object is refused, its own is fine.
    response = await server.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=sport_flow,
            segments=[
                external_post(news_object, "[1:0_2:0)", ts_offset="1:0"),
                external_post(sport_object, "[2:0_3:0)", ts_offset="2:0"),
            ],
        ),
        metadata=SPORT,
    )
    assert response.registered_count == 1
    (refused,) = response.failed_segments
    assert (refused.object_id, refused.error.reason) == (news_object, "AUTH_CLASS_DENIED")
    # news reads sport: it may reuse the sport Object in a news Flow.
    response = await server.segments.RegisterSegments(
        segments_pb2.RegisterSegmentsRequest(
            flow_id=news_flow,
            segments=[external_post(sport_object, "[1:0_2:0)", ts_offset="1:0")],
        ),
        metadata=NEWS,
    )
    assert (response.registered_count, list(response.failed_segments)) == (1, [])


async def _register(
    server: Stubs, flow_id: str, post: segments_pb2.SegmentPost, who: Metadata, *, stream: bool
) -> segments_pb2.RegisterSegmentsResponse:
    """Register one post by RegisterSegments or by StreamRegisterSegments."""
    if not stream:
        return await server.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[post]), metadata=who
        )

    async def batches() -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
        yield segments_pb2.StreamRegisterSegmentsRequest(flow_id=flow_id, segments=[post])

    return await server.segments.StreamRegisterSegments(batches(), metadata=who)  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
async def test_reusing_an_init_object_needs_read_access_to_a_flow_using_it(
    server: Stubs, stream: bool
) -> None:
    """Uploaded Objects: an init Object first used by a sport Flow may be named as the
    init Object of a news Segment (news reads sport), not of an open Flow's Segment by
    a caller who reads no sport Flow, by either registration RPC."""
    sport_flow = await new_flow(server, "sport")
    [media, init] = await upload_objects(server.channel, sport_flow, 2, metadata=SPORT)
    first = segments_pb2.SegmentPost(object_id=media, timerange="[0:0_1:0)", init_object_id=init)
    assert (await _register(server, sport_flow, first, SPORT, stream=stream)).registered_count == 1
    for who, flow_id, allowed in ((NOBODY, await new_flow(server, None), False),
                                  (NEWS, await new_flow(server, "news"), True)):  # fmt: skip
        [own] = await upload_objects(server.channel, flow_id, metadata=who)
        post = segments_pb2.SegmentPost(object_id=own, timerange="[0:0_1:0)", init_object_id=init)
        response = await _register(server, flow_id, post, who, stream=stream)
        if allowed:
            assert (response.registered_count, list(response.failed_segments)) == (1, [])
            continue
        assert response.registered_count == 0
        (refused,) = response.failed_segments
        assert (refused.object_id, refused.error.reason) == (own, "AUTH_CLASS_DENIED")
        assert refused.error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
        assert dict(refused.error.metadata) == {"objectId": init, "field": "init_object_id"}
        # The same refusal as for a hidden media Object, and nothing was stored.
        reused = segments_pb2.SegmentPost(object_id=media, timerange="[5:0_6:0)", ts_offset="5:0")
        response = await _register(server, flow_id, reused, who, stream=stream)
        (refused,) = response.failed_segments
        assert refused.error.reason == "AUTH_CLASS_DENIED"
        assert dict(refused.error.metadata) == {"objectId": media, "field": "object_id"}
        listed = await server.segments.ListSegments(
            segments_pb2.ListSegmentsRequest(flow_id=flow_id), metadata=who
        )
        assert list(listed.segments) == []


async def _new_source(server: Stubs, classes: str | None) -> str:
    message = source(tags={"auth_classes": classes} if classes else {})
    await server.sources.CreateSource(
        sources_pb2.CreateSourceRequest(source=message), metadata=ADMIN
    )
    return message.id


async def test_collections_name_only_what_the_caller_may_read(server: Stubs) -> None:
    """An open Flow ``member`` (on Source ``s_member``) is collected by an open Flow
    ``c_open`` (on ``s_open``) and by a news Flow ``c_news`` (on the open Source
    ``s_via``); ``c_open`` also collects a news Flow ``m_news`` (on the news Source
    ``s_news``). Sport reads no news: the news Flows and Source are left out of
    ``collected_by``, ``flow_collection``, ``source_collection`` and the
    ``collected_by_ids`` filters, and so is the link through the hidden ``c_news``
    between the open Sources ``s_via`` and ``s_member``; on gRPC and REST alike."""
    s_member, s_open, s_via = [await _new_source(server, None) for _ in range(3)]
    s_news = await _new_source(server, "news")
    member = await new_flow(server, None, source_id=s_member)
    m_news = await new_flow(server, "news", source_id=s_news)
    c_open = video_flow(source_id=s_open)
    c_open.flow_collection.add(id=member, role="video")
    c_open.flow_collection.add(id=m_news, role="news")
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=c_open), metadata=ADMIN)
    c_news = video_flow(source_id=s_via, tags={"auth_classes": "news"})
    c_news.flow_collection.add(id=member, role="video")
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=c_news), metadata=ADMIN)
    seen = {
        NEWS: {
            "member_by": {c_open.id, c_news.id}, "collection": [member, m_news],
            "member_sources_by": {s_open, s_via}, "source_collection": [s_member, s_news],
        },
        SPORT: {
            "member_by": {c_open.id}, "collection": [member],
            "member_sources_by": {s_open}, "source_collection": [s_member],
        },
    }  # fmt: skip
    for who, expected in seen.items():
        flows, sources = await _collections_seen(server, who, member, c_open.id, s_member, s_open)
        assert flows == [expected["member_by"], expected["collection"]] * 2
        assert sources == [expected["member_sources_by"], expected["source_collection"]] * 2
        # The filters see what the fields show.
        by_news = await _flows_collected_by(server, who, [c_news.id])
        assert by_news == ([member] if who is NEWS else [])
        by_via = await _sources_collected_by(server, who, [s_via])
        assert by_via == ([s_member] if who is NEWS else [])
    # A Flow whose only collector the caller may not read is, to it, collected by none.
    lonely = flows_pb2.ListFlowsRequest(page_size=1000)
    lonely.filter.source_id = s_member
    lonely.filter.not_collected = True
    assert [f.id for f in (await server.flows.ListFlows(lonely, metadata=NOBODY)).flows] == []
    c_open_gone = flows_pb2.UpdateFlowRequest(
        flow=flows_pb2.Flow(id=c_open.id), update_mask=FieldMask(paths=["flow_collection"])
    )
    await server.flows.UpdateFlow(c_open_gone, metadata=ADMIN)
    listed = await server.flows.ListFlows(lonely, metadata=NOBODY)
    assert [flow.id for flow in listed.flows] == [member]
    listed = await server.flows.ListFlows(lonely, metadata=ADMIN)
    assert [flow.id for flow in listed.flows] == []


async def test_a_restricted_caller_neither_names_nor_drops_members_it_may_not_read(
    server: Stubs,
) -> None:
    """Naming a Flow the caller may not read as a collection member is refused as
    naming an unknown one; members it may not read stay when it sets the collection
    (by UpdateFlow or a whole-Flow PUT), after its own."""
    hidden = await new_flow(server, "news")
    first, second = await new_flow(server, None), await new_flow(server, None)
    collector = video_flow()
    collector.flow_collection.add(id=first, role="a")
    collector.flow_collection.add(id=hidden, role="news")
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=collector), metadata=ADMIN)

    def members(flow: flows_pb2.Flow) -> list[tuple[str, str]]:
        return [(item.id, item.role) for item in flow.flow_collection]

    def update(*items: tuple[str, str]) -> flows_pb2.UpdateFlowRequest:
        flow = flows_pb2.Flow(id=collector.id)
        for member_id, role in items:
            flow.flow_collection.add(id=member_id, role=role)
        return flows_pb2.UpdateFlowRequest(
            flow=flow, update_mask=FieldMask(paths=["flow_collection"])
        )

    for named in (hidden, new_id()):
        refused = await failure(
            server.flows.UpdateFlow(update((second, "b"), (named, "x")), metadata=SPORT)
        )
        assert (refused.code, refused.reason, refused.metadata) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "COLLECTION_MEMBER_NOT_FOUND",
            {"flowId": collector.id, "memberId": named},
        )
    updated = await server.flows.UpdateFlow(update((second, "b")), metadata=SPORT)
    assert members(updated.flow) == [(second, "b")]
    get = flows_pb2.GetFlowRequest(flow_id=collector.id)
    admin_view = (await server.flows.GetFlow(get, metadata=ADMIN)).flow
    assert members(admin_view) == [(second, "b"), (hidden, "news")]
    # A whole-Flow PUT of what sport sees keeps the hidden member too.
    seen = (await server.flows.GetFlow(get, metadata=SPORT)).flow
    del seen.flow_collection[:]
    seen.flow_collection.add(id=first, role="a")
    put = await server.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=seen), metadata=SPORT)
    assert members(put.flow) == [(first, "a")]
    admin_view = (await server.flows.GetFlow(get, metadata=ADMIN)).flow
    assert members(admin_view) == [(first, "a"), (hidden, "news")]


async def _collections_seen(
    server: Stubs, who: Metadata, member: str, collector: str, s_member: str, s_collector: str
) -> tuple[list[Any], list[Any]]:
    """What ``who`` sees of the member Flow's ``collected_by`` and the collector's
    ``flow_collection`` ids, then the same of the Sources, each by gRPC Get then REST
    GET (lists are in order; ``collected_by`` compared as sets)."""
    flows: list[Any] = []
    sources: list[Any] = []
    get_flow = server.flows.GetFlow
    got = (await get_flow(flows_pb2.GetFlowRequest(flow_id=member), metadata=who)).flow
    flows.append(set(got.collected_by))
    got = (await get_flow(flows_pb2.GetFlowRequest(flow_id=collector), metadata=who)).flow
    flows.append([item.id for item in got.flow_collection])
    get_source = server.sources.GetSource
    src = (await get_source(sources_pb2.GetSourceRequest(source_id=s_member), metadata=who)).source
    sources.append(set(src.collected_by))
    src = (
        await get_source(sources_pb2.GetSourceRequest(source_id=s_collector), metadata=who)
    ).source
    sources.append([item.id for item in src.source_collection])
    headers = {"Authorization": who[0][1]}
    async with httpx.AsyncClient(base_url=server.running.http_url, headers=headers) as http:
        body = (await http.get(f"/flows/{member}")).json()
        flows.append(set(body.get("collected_by", [])))
        body = (await http.get(f"/flows/{collector}")).json()
        flows.append([item["id"] for item in body.get("flow_collection", [])])
        body = (await http.get(f"/sources/{s_member}")).json()
        sources.append(set(body.get("collected_by", [])))
        body = (await http.get(f"/sources/{s_collector}")).json()
        sources.append([item["id"] for item in body.get("source_collection", [])])
    return flows, sources


async def _flows_collected_by(server: Stubs, who: Metadata, collectors: list[str]) -> list[str]:
    """Ids of the Flows the listing (gRPC, then checked equal over REST) finds
    collected by ``collectors``."""
    request = flows_pb2.ListFlowsRequest(page_size=1000)
    request.filter.collected_by_ids.extend(collectors)
    listed = [flow.id for flow in (await server.flows.ListFlows(request, metadata=who)).flows]
    params = {"collected_by_ids": ",".join(collectors)}
    async with httpx.AsyncClient(base_url=server.running.http_url) as http:
        rest = await http.get("/flows", params=params, headers={"Authorization": who[0][1]})
    assert [flow["id"] for flow in _items(rest.json())] == listed
    return listed


async def _sources_collected_by(server: Stubs, who: Metadata, collectors: list[str]) -> list[str]:
    """As ``_flows_collected_by``, of Sources."""
    request = sources_pb2.ListSourcesRequest(page_size=1000)
    request.filter.collected_by_ids.extend(collectors)
    response = await server.sources.ListSources(request, metadata=who)
    listed = [item.id for item in response.sources]
    params = {"collected_by_ids": ",".join(collectors)}
    async with httpx.AsyncClient(base_url=server.running.http_url) as http:
        rest = await http.get("/sources", params=params, headers={"Authorization": who[0][1]})
    assert [item["id"] for item in _items(rest.json())] == listed
    return listed


async def test_analytics_count_only_what_the_caller_may_read(server: Stubs) -> None:
    analytics = analytics_pb2_grpc.AnalyticsServiceStub(server.channel)

    async def totals(who: Metadata) -> tuple[int, int]:
        flows = await analytics.GetFlowUsage(analytics_pb2.GetFlowUsageRequest(), metadata=who)
        storage = await analytics.GetStorageUsage(
            analytics_pb2.GetStorageUsageRequest(), metadata=who
        )
        return flows.total_flows, storage.total_objects

    before = {who: await totals(who) for who in (ADMIN, SPORT)}
    news_flow = await new_flow(server, "news")
    [object_id] = await upload_objects(server.channel, news_flow, metadata=NEWS)
    await _register(
        server, news_flow, segments_pb2.SegmentPost(object_id=object_id, timerange="[0:0_1:0)"),
        NEWS, stream=False,
    )  # fmt: skip
    assert await totals(ADMIN) == (before[ADMIN][0] + 1, before[ADMIN][1] + 1)
    assert await totals(SPORT) == before[SPORT]
    top = analytics_pb2.GetStorageUsageRequest(top_flows=1000)
    assert news_flow in (await analytics.GetStorageUsage(top, metadata=ADMIN)).storage_by_flow
    assert news_flow not in (await analytics.GetStorageUsage(top, metadata=SPORT)).storage_by_flow
    everywhere = analytics_pb2.AnalyzeTimeRangeRequest(timerange="[0:0_1:0)")
    counted = {
        who: (await analytics.AnalyzeTimeRange(everywhere, metadata=who)).total_segments
        for who in (ADMIN, SPORT)
    }
    for flow_id in (news_flow, new_id()):
        missing = await failure(
            analytics.AnalyzeTimeRange(
                analytics_pb2.AnalyzeTimeRangeRequest(flow_id=flow_id), metadata=SPORT
            )
        )
        assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")
    one = analytics_pb2.AnalyzeTimeRangeRequest(flow_id=news_flow)
    assert (await analytics.AnalyzeTimeRange(one, metadata=VIEWER)).coverage == 1.0
    # The news Segment is in the admin's count of all Segments there, not in sport's.
    hidden_removed = flows_pb2.DeleteFlowRequest(flow_id=news_flow)
    await server.flows.DeleteFlow(hidden_removed, metadata=NEWS)
    after = {
        who: (await analytics.AnalyzeTimeRange(everywhere, metadata=who)).total_segments
        for who in (ADMIN, SPORT)
    }
    assert after == {ADMIN: counted[ADMIN] - 1, SPORT: counted[SPORT]}


async def test_rest_routes_follow_the_same_rules(server: Stubs) -> None:
    flow_id = await new_flow(server, "news")
    marker = unique_tag()
    await new_flow(server, "news", tags={"t": marker})
    open_id = await new_flow(server, None, tags={"t": marker})

    def auth(who: Metadata) -> dict[str, str]:
        return {"Authorization": who[0][1]}

    async with httpx.AsyncClient(base_url=server.running.http_url) as http:
        assert (await http.get(f"/flows/{flow_id}", headers=auth(SPORT))).status_code == 404
        assert (await http.get(f"/flows/{flow_id}", headers=auth(VIEWER))).status_code == 200
        label = await http.put(f"/flows/{flow_id}/label", json="x", headers=auth(VIEWER))
        assert label.status_code == 403
        assert label.json()["type"] == "AUTH_CLASS_DENIED"
        tag_put = await http.put(f"/flows/{flow_id}/tags/a", json="b", headers=auth(SPORT))
        assert tag_put.status_code == 404
        assert (await http.delete(f"/flows/{flow_id}", headers=auth(VIEWER))).status_code == 403
        listed = await http.get("/flows", params={"tag.t": marker}, headers=auth(SPORT))
        assert [flow["id"] for flow in _items(listed.json())] == [open_id]
        segments = await http.post(
            f"/flows/{flow_id}/segments",
            json={"object_id": new_id(), "timerange": "[0:0_1:0)",
                  "get_urls": [{"url": "https://media.example/x", "label": "origin"}]},
            headers=auth(SPORT),
        )  # fmt: skip
        assert segments.status_code == 404


def _items(body: Any) -> list[dict[str, Any]]:
    return body if isinstance(body, list) else body["data"]


async def test_a_bad_auth_classes_file_refuses_to_start(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "classes"
    path.write_text("# ok\nnews news write\nnews sport admin\n")
    with pytest.raises(AuthSetupError, match="line 3: the right must be read or write"):
        async with own_server(
            tmp_path / "data", database_url, jwt_secret=SECRET, auth_classes_file=path
        ):
            pass


def test_the_cli_exits_2_naming_the_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "classes"
    path.write_text("news news\n")
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--data-dir", str(tmp_path), "--jwt-secret", SECRET,
              "--auth-classes-file", str(path)])  # fmt: skip
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"tams-server: error: {path}, line 1: expected '<group> <class> read|write'\n"
    )


async def test_multipart_uploads_follow_their_flow(server: Stubs) -> None:
    flow_id = await new_flow(server, "news")
    call = server.storage.AllocateStorage(
        storage_pb2.AllocateStorageRequest(flow_id=flow_id, limit=1), metadata=NEWS
    )
    [object_id] = [item.object_id async for message in call for item in message.media_objects]
    named = {"flow_id": flow_id, "object_id": object_id}
    start = storage_pb2.StartMultipartUploadRequest(**named)
    upload_id = (await server.storage.StartMultipartUpload(start, metadata=NEWS)).upload_id
    part = storage_pb2.PartToUpload(
        part_number=1, content_md5=base64.b64encode(hashlib.md5(b"part").digest()).decode()
    )
    storage = server.storage
    calls = [
        lambda who: storage.StartMultipartUpload(start, metadata=who),
        lambda who: storage.GetMultipartPartUrls(
            storage_pb2.GetMultipartPartUrlsRequest(upload_id=upload_id, parts=[part], **named),
            metadata=who,
        ),
        lambda who: storage.CompleteMultipartUpload(
            storage_pb2.CompleteMultipartUploadRequest(
                upload_id=upload_id,
                parts=[storage_pb2.CompletedPart(part_number=1, etag="e")],
                **named,
            ),
            metadata=who,
        ),
        lambda who: storage.AbortMultipartUpload(
            storage_pb2.AbortMultipartUploadRequest(upload_id=upload_id, **named), metadata=who
        ),
    ]
    for call in calls:
        missing = await failure(call(SPORT))
        assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")
        denied = await failure(call(VIEWER))
        assert (denied.code, denied.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "AUTH_CLASS_DENIED",
        )
    urls = await storage.GetMultipartPartUrls(
        storage_pb2.GetMultipartPartUrlsRequest(upload_id=upload_id, parts=[part], **named),
        metadata=NEWS,
    )
    assert len(urls.parts) == 1
    await storage.AbortMultipartUpload(
        storage_pb2.AbortMultipartUploadRequest(upload_id=upload_id, **named), metadata=NEWS
    )


async def _used_by(server: Stubs, object_id: str, flow_ids: list[str], second: int = 0) -> None:
    """A Segment of the external Object ``object_id`` at ``second`` in each Flow, in
    that order."""
    post = external_post(object_id, f"[{second}:0_{second + 1}:0)", ts_offset=f"{second}:0")
    for flow_id in flow_ids:
        response = await server.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=[post]), metadata=ADMIN
        )
        assert response.registered_count == 1


async def test_objects_show_only_the_flows_a_caller_may_read(server: Stubs) -> None:
    objects = objects_pb2_grpc.ObjectServiceStub(server.channel)
    news_flow, sport_flow = await new_flow(server, "news"), await new_flow(server, "sport")
    open_flows = [await new_flow(server, None) for _ in range(2)]
    shared, news_only = new_id(), new_id()
    await _used_by(server, shared, [news_flow, sport_flow, *open_flows])
    await _used_by(server, news_only, [news_flow], second=1)

    async def seen(who: Metadata, object_id: str) -> tuple[list[list[str]], str | None]:
        pages: list[list[str]] = []
        token = ""
        while True:
            response = await objects.GetObject(
                objects_pb2.GetObjectRequest(object_id=object_id, page_size=2, page_token=token),
                metadata=who,
            )
            pages.append(list(response.object.referenced_by_flows))
            token = response.next_page_token
            if not token:
                first = response.object
                return pages, (
                    first.first_referenced_by_flow
                    if first.HasField("first_referenced_by_flow")
                    else None
                )

    def ordered(*flow_ids: str) -> list[str]:
        return sorted(flow_ids)

    everyone, first = await seen(ADMIN, shared)
    assert ([i for page in everyone for i in page], first) == (
        ordered(news_flow, sport_flow, *open_flows),
        news_flow,
    )
    for who, readable, first_seen in (
        (NEWS, ordered(news_flow, sport_flow, *open_flows), news_flow),
        (SPORT, ordered(sport_flow, *open_flows), None),
        (VIEWER, ordered(news_flow, *open_flows), news_flow),
        (NOBODY, ordered(*open_flows), None),
    ):
        pages, first = await seen(who, shared)
        assert all(len(page) == 2 for page in pages[:-1])
        assert ([i for page in pages for i in page], first) == (readable, first_seen)
    assert (await seen(VIEWER, news_only)) == ([[news_flow]], news_flow)
    for who in (SPORT, NOBODY):
        missing = await failure(
            objects.GetObject(objects_pb2.GetObjectRequest(object_id=news_only), metadata=who)
        )
        assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "OBJECT_NOT_FOUND")


async def test_instances_change_with_write_access_to_a_flow_using_the_object(
    server: Stubs,
) -> None:
    objects = objects_pb2_grpc.ObjectServiceStub(server.channel)
    news_flow, sport_flow = await new_flow(server, "news"), await new_flow(server, "sport")
    news_only, shared = new_id(), new_id()
    await _used_by(server, news_only, [news_flow], second=1)
    await _used_by(server, shared, [news_flow, sport_flow])
    backends = await server.storage.ListStorageBackends(
        storage_pb2.ListStorageBackendsRequest(), metadata=ADMIN
    )
    storage_id = backends.storage_backends[0].id

    def calls(object_id: str) -> list[Any]:
        uncontrolled = objects_pb2.UncontrolledInstance(url="https://cdn.example/x", label="cdn")
        return [
            lambda who: objects.AddObjectInstance(
                objects_pb2.AddObjectInstanceRequest(
                    object_id=object_id, uncontrolled=uncontrolled
                ),
                metadata=who,
            ),
            lambda who: objects.AddObjectInstance(
                objects_pb2.AddObjectInstanceRequest(object_id=object_id, storage_id=storage_id),
                metadata=who,
            ),
            lambda who: objects.DeleteObjectInstance(
                objects_pb2.DeleteObjectInstanceRequest(object_id=object_id, label="cdn"),
                metadata=who,
            ),
            lambda who: objects.DeleteObjectInstance(
                objects_pb2.DeleteObjectInstanceRequest(object_id=object_id, storage_id=storage_id),
                metadata=who,
            ),
        ]

    for call in calls(news_only):
        missing = await failure(call(SPORT))
        assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "OBJECT_NOT_FOUND")
        denied = await failure(call(VIEWER))
        assert (denied.code, denied.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "AUTH_CLASS_DENIED",
        )
        assert denied.metadata == {"objectId": news_only}
    # sport writes one Flow using the shared Object: it may add an instance; the answer
    # lists only the Flows it may read.
    add, _, delete, _ = calls(shared)
    added = await add(SPORT)
    assert list(added.object.referenced_by_flows) == [sport_flow]
    assert not added.object.HasField("first_referenced_by_flow")
    await delete(NEWS)


def _as_admin(who: Metadata) -> Metadata:
    """The caller of ``who`` (one of the tokens above) with the tams-api/admin scope too."""
    subject, groups = {
        ADMIN: ("admin", None), NEWS: ("nina", ["news"]), SPORT: ("sam", ["sport"]),
        VIEWER: ("vic", ["viewer"]), NOBODY: ("nat", ["unmapped"]),
    }[who]  # fmt: skip
    claims: dict[str, Any] = {"groups": groups} if groups is not None else {}
    return bearer(hs256(sub=subject, scope=f"{SCOPES} tams-api/admin", **claims))


async def test_flow_delete_requests_follow_their_flow(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "classes").write_text(CLASSES)
    async with own_server(
        tmp_path / "data", database_url, jwt_secret=SECRET, jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE, auth_classes_file=tmp_path / "classes", inline_delete_limit=1,
    ) as server:  # fmt: skip
        requests = server.delete_requests
        made: dict[str | None, str] = {}
        for classes, who in (("news", NEWS), ("sport", SPORT), (None, ADMIN)):
            flow_id = await new_flow(server, classes)
            await _used_by(server, new_id(), [flow_id])
            await _used_by(server, new_id(), [flow_id], second=1)
            response = await server.segments.DeleteSegments(
                segments_pb2.DeleteSegmentsRequest(flow_id=flow_id), metadata=who
            )
            made[classes] = response.delete_request.id

        async def listed(who: Metadata) -> set[str]:
            """The requests listed to the caller of ``who``, with the admin scope a
            listing needs (which does not lift its auth classes)."""
            response = await requests.ListFlowDeleteRequests(
                fdr.ListFlowDeleteRequestsRequest(page_size=100), metadata=_as_admin(who)
            )
            return {request.id for request in response.delete_requests}

        for who, seen in (
            (ADMIN, ["news", "sport", None]),
            (NEWS, ["news", "sport", None]),
            (SPORT, ["sport", None]),
            (VIEWER, ["news", None]),
            (NOBODY, [None]),
        ):
            assert await listed(who) == {made[classes] for classes in seen}
        get = fdr.GetFlowDeleteRequestRequest(request_id=made["news"])
        for who in (SPORT, NOBODY):
            missing = await failure(requests.GetFlowDeleteRequest(get, metadata=who))
            assert (missing.code, missing.reason) == (
                grpc.StatusCode.NOT_FOUND,
                "FLOW_DELETE_REQUEST_NOT_FOUND",
            )
        assert (await requests.GetFlowDeleteRequest(get, metadata=VIEWER)).delete_request.id

        # A Flow deleted for good takes its classes along: only the request's maker (and
        # unrestricted callers) still see the request, to poll it to the end.
        flow_id = await new_flow(server, "news")
        await _used_by(server, new_id(), [flow_id])
        await _used_by(server, new_id(), [flow_id], second=1)
        response = await server.flows.DeleteFlow(
            flows_pb2.DeleteFlowRequest(flow_id=flow_id), metadata=NEWS
        )
        get = fdr.GetFlowDeleteRequestRequest(request_id=response.delete_request.id)
        async with asyncio.timeout(30):
            while True:
                got = await requests.GetFlowDeleteRequest(get, metadata=NEWS)
                if got.delete_request.status == fdr.FLOW_DELETE_REQUEST_STATUS_DONE:
                    break
                await asyncio.sleep(0.05)
        assert (await failure(server.flows.GetFlow(
            flows_pb2.GetFlowRequest(flow_id=flow_id), metadata=ADMIN
        ))).code == grpc.StatusCode.NOT_FOUND  # fmt: skip
        assert (await requests.GetFlowDeleteRequest(get, metadata=ADMIN)).delete_request.id
        missing = await failure(requests.GetFlowDeleteRequest(get, metadata=VIEWER))
        assert missing.code == grpc.StatusCode.NOT_FOUND
        assert get.request_id in await listed(NEWS)
        assert get.request_id not in await listed(VIEWER)


@pytest.mark.parametrize("stream", [False, True], ids=["unary", "stream"])
async def test_an_object_allocated_for_a_hidden_flow_is_refused_without_naming_it(
    server: Stubs, stream: bool
) -> None:
    """An Object allocated (and uploaded) for a news Flow, never registered: its first
    use elsewhere is OBJECT_OF_ANOTHER_FLOW, which names the news Flow (message and
    metadata) only to a caller who may read it, as media or as init Object, by either
    registration RPC and over REST."""
    news_flow = await new_flow(server, "news")
    [allocated] = await upload_objects(server.channel, news_flow, metadata=NEWS)
    sport_flow = await new_flow(server, "sport")
    [own] = await upload_objects(server.channel, sport_flow, metadata=SPORT)
    posts = {
        "object_id": segments_pb2.SegmentPost(object_id=allocated, timerange="[0:0_1:0)"),
        "init_object_id": segments_pb2.SegmentPost(
            object_id=own, timerange="[0:0_1:0)", init_object_id=allocated
        ),
    }
    for post in posts.values():
        response = await _register(server, sport_flow, post, SPORT, stream=stream)
        assert response.registered_count == 0
        (refused,) = response.failed_segments
        assert refused.error.reason == "OBJECT_OF_ANOTHER_FLOW"
        assert dict(refused.error.metadata) == {"objectId": allocated}
        assert news_flow not in refused.error.message
    async with httpx.AsyncClient(base_url=server.running.http_url) as http:
        rest = await http.post(
            f"/flows/{sport_flow}/segments",
            json={"object_id": allocated, "timerange": "[0:0_1:0)"},
            headers={"Authorization": SPORT[0][1]},
        )
        assert rest.status_code == 200, rest.text
        assert "OBJECT_OF_ANOTHER_FLOW" in rest.text
        assert news_flow not in rest.text
    # A caller who may read the allocating Flow is told which it is.
    other_news = await new_flow(server, "news")
    response = await _register(server, other_news, posts["object_id"], NEWS, stream=stream)
    (refused,) = response.failed_segments
    assert refused.error.reason == "OBJECT_OF_ANOTHER_FLOW"
    assert dict(refused.error.metadata) == {"objectId": allocated, "flowId": news_flow}
    assert news_flow in refused.error.message
    # Nothing was spoilt: the allocating Flow still takes its Object.
    response = await _register(server, news_flow, posts["object_id"], NEWS, stream=stream)
    assert (response.registered_count, list(response.failed_segments)) == (1, [])


def _rest_flow(flow: flows_pb2.Flow) -> dict[str, Any]:
    """The video Flow of ``video_flow`` as the REST API takes it."""
    body: dict[str, Any] = {
        "id": flow.id, "source_id": flow.source_id, "format": flow.format,
        "codec": flow.codec, "container": flow.container,
        "essence_parameters": {
            "frame_width": 1920, "frame_height": 1080,
            "frame_rate": {"numerator": 25, "denominator": 1},
        },
    }  # fmt: skip
    if "auth_classes" in flow.tags:
        body["tags"] = {"auth_classes": flow.tags["auth_classes"].string_value}
    return body


async def _create_flow_ways(
    server: Stubs, flow: flows_pb2.Flow, who: Metadata
) -> list[tuple[int, str, dict[str, str], str]]:
    """Try to create ``flow`` as ``who`` by CreateFlow, by BatchCreateFlows (after a
    Flow on a new Source, so all or none shows) and by the REST PUT; each refusal as
    (HTTP status, reason, metadata, message), gRPC codes as HTTP statuses."""
    statuses = {grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.PERMISSION_DENIED: 403,
                grpc.StatusCode.FAILED_PRECONDITION: 400}  # fmt: skip
    refusals = []
    refused = await failure(
        server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=who)
    )
    refusals.append((statuses[refused.code], refused.reason, refused.metadata, refused.message))
    first = video_flow()
    refused = await failure(
        server.flows.BatchCreateFlows(
            flows_pb2.BatchCreateFlowsRequest(flows=[first, flow]), metadata=who
        )
    )
    refusals.append((statuses[refused.code], refused.reason, refused.metadata, refused.message))
    missing = await failure(
        server.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=first.id), metadata=ADMIN)
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND
    async with httpx.AsyncClient(base_url=server.running.http_url) as http:
        put = await http.put(
            f"/flows/{flow.id}", json=_rest_flow(flow), headers={"Authorization": who[0][1]}
        )
        body = put.json()
        refusals.append((put.status_code, body["type"], {}, body["summary"]))
    return refusals


async def test_a_flow_joins_an_existing_source_only_with_write_access_to_it(
    server: Stubs,
) -> None:
    """AppNote 0016: a new Flow on an existing Source needs write access to it. With
    no right on the Source the refusal is the NOT_FOUND that GetSource answers for it
    (never its format, its soft deletion, nor an attached Flow); with read access only,
    AUTH_CLASS_DENIED; by CreateFlow, BatchCreateFlows and the REST PUT alike. A new
    Source id still makes a new Source."""
    s_news = await _new_source(server, "news")
    audio = source(format="urn:x-nmos:format:audio", tags={"auth_classes": "news"})
    await server.sources.CreateSource(sources_pb2.CreateSourceRequest(source=audio), metadata=ADMIN)
    gone = await _new_source(server, "news")
    await server.sources.DeleteSource(
        sources_pb2.DeleteSourceRequest(source_id=gone), metadata=ADMIN
    )
    for source_id in (s_news, audio.id, gone):
        unseen = await failure(
            server.sources.GetSource(
                sources_pb2.GetSourceRequest(source_id=source_id), metadata=SPORT
            )
        )
        assert (unseen.code, unseen.reason) == (grpc.StatusCode.NOT_FOUND, "SOURCE_NOT_FOUND")
        flow = video_flow(source_id=source_id, tags={"auth_classes": "sport"})
        for status, reason, metadata, message in await _create_flow_ways(server, flow, SPORT):
            assert (status, reason) == (404, "SOURCE_NOT_FOUND")
            assert metadata in ({"sourceId": source_id}, {})
            assert message == unseen.message
    # Read but not write: denied, naming the Source the caller may read.
    flow = video_flow(source_id=s_news)
    for status, reason, metadata, _ in await _create_flow_ways(server, flow, VIEWER):
        assert (status, reason) == (403, "AUTH_CLASS_DENIED")
        assert metadata in ({"sourceId": s_news}, {})
    # Write: the Flow joins the Source, and a Source of another format is named as such.
    mine = video_flow(source_id=s_news, tags={"auth_classes": "news"})
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=mine), metadata=NEWS)
    wrong = video_flow(source_id=audio.id, tags={"auth_classes": "news"})
    mismatch = await failure(
        server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=wrong), metadata=NEWS)
    )
    assert (mismatch.reason, mismatch.metadata["sourceFormat"]) == (
        "FORMAT_MISMATCH",
        "urn:x-nmos:format:audio",
    )
    listing = flows_pb2.ListFlowsRequest(page_size=100)
    listing.filter.source_id = s_news
    listed = await server.flows.ListFlows(listing, metadata=ADMIN)
    assert [item.id for item in listed.flows] == [mine.id]
    # A new Source id makes a new Source, as for any caller.
    fresh = video_flow(tags={"auth_classes": "sport"})
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=fresh), metadata=SPORT)
    got = await server.sources.GetSource(
        sources_pb2.GetSourceRequest(source_id=fresh.source_id), metadata=SPORT
    )
    assert got.source.id == fresh.source_id


async def test_a_replaced_flow_keeps_its_source_but_moves_only_to_a_writable_one(
    server: Stubs,
) -> None:
    """A whole-Flow replace needs write access to the Flow alone while it stays on its
    Source (even one the caller may not read); moving it to another existing Source
    needs write access to that one."""
    s_news, other_news = await _new_source(server, "news"), await _new_source(server, "news")
    flow = video_flow(source_id=s_news, tags={"auth_classes": "sport"})
    await server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=ADMIN)
    seen = (
        await server.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id), metadata=SPORT)
    ).flow
    seen.label = "kept"
    replaced = await server.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=seen), metadata=SPORT)
    assert (replaced.flow.label, replaced.flow.source_id) == ("kept", s_news)
    seen.source_id = other_news
    moved = await failure(
        server.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=seen), metadata=SPORT)
    )
    assert (moved.code, moved.reason, moved.metadata) == (
        grpc.StatusCode.NOT_FOUND,
        "SOURCE_NOT_FOUND",
        {"sourceId": other_news},
    )
    sport_source = await _new_source(server, "sport")
    seen.source_id = sport_source
    moved_ok = await server.flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=seen), metadata=SPORT)
    assert moved_ok.flow.source_id == sport_source


async def test_a_hidden_flow_id_is_taken_without_telling_it_is_soft_deleted(
    server: Stubs,
) -> None:
    """Creating a Flow with the id of a soft-deleted Flow the caller may not read is
    refused as for a live hidden one (ALREADY_EXISTS by CreateFlow and
    BatchCreateFlows, NOT_FOUND by an upsert), never FLOW_DELETED, which a caller who
    may read it still gets."""
    live, deleted = await new_flow(server, "news"), await new_flow(server, "news")
    await server.flows.DeleteFlow(
        flows_pb2.DeleteFlowRequest(flow_id=deleted, soft_delete=True), metadata=ADMIN
    )

    async def refusals(flow_id: str, who: Metadata) -> list[tuple[grpc.StatusCode, str]]:
        flow = video_flow(id=flow_id)
        seen = []
        for call in (
            server.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow), metadata=who),
            server.flows.BatchCreateFlows(
                flows_pb2.BatchCreateFlowsRequest(flows=[flow]), metadata=who
            ),
            server.flows.UpdateFlow(
                flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True), metadata=who
            ),
        ):
            refused = await failure(call)
            seen.append((refused.code, refused.reason))
        return seen

    hidden_live = await refusals(live, SPORT)
    assert hidden_live == [
        (grpc.StatusCode.ALREADY_EXISTS, "FLOW_ALREADY_EXISTS"),
        (grpc.StatusCode.ALREADY_EXISTS, "FLOW_ALREADY_EXISTS"),
        (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND"),
    ]
    assert await refusals(deleted, SPORT) == hidden_live
    assert {reason for _, reason in await refusals(deleted, VIEWER)} == {"FLOW_DELETED"}


async def test_a_source_with_flows_tells_a_restricted_caller_no_count(server: Stubs) -> None:
    """Deleting a Source still rendered by Flows is refused; the number of those Flows
    (hidden ones among them) is told only to an unrestricted caller."""
    s_sport = await _new_source(server, "sport")
    await new_flow(server, "news", source_id=s_sport)
    delete = sources_pb2.DeleteSourceRequest(source_id=s_sport)
    refused = await failure(server.sources.DeleteSource(delete, metadata=SPORT))
    assert (refused.reason, refused.metadata) == ("SOURCE_HAS_FLOWS", {"sourceId": s_sport})
    assert "1" not in refused.message.replace(s_sport, "")
    refused = await failure(server.sources.DeleteSource(delete, metadata=ADMIN))
    assert refused.metadata == {"sourceId": s_sport, "flowCount": "1"}
