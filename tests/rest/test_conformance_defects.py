"""Conformance defects found by clients written elsewhere, each answered as the spec
says (issue 14, section 4)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from rest.test_gateway import assert_error, video_flow_json

from tams_server.app import RunningServer


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as client:
        yield client


async def new_flow(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    flow = video_flow_json(**fields)
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    return flow


async def post_segments(http: httpx.AsyncClient, flow_id: str, *timeranges: str) -> None:
    """Allocate an Object for each timerange and register it there."""
    allocated = await http.post(f"/flows/{flow_id}/storage", json={"limit": len(timeranges)})
    objects = allocated.json()["media_objects"]
    for media in objects:
        put = media["put_url"]
        uploaded = await http.put(
            put["url"], content=b"x", headers={"content-type": put["content-type"]}
        )
        assert uploaded.is_success, uploaded.text
    ids = [o["object_id"] for o in objects]
    posts = [{"object_id": i, "timerange": t} for i, t in zip(ids, timeranges, strict=True)]
    answer = await http.post(f"/flows/{flow_id}/segments", json=posts)
    assert answer.status_code == 201, answer.text


async def test_storage_with_an_empty_body_allocates_the_default(http: httpx.AsyncClient) -> None:
    flow = await new_flow(http)
    answer = await http.post(f"/flows/{flow['id']}/storage", json={})
    assert answer.status_code == 201, answer.text
    objects = answer.json()["media_objects"]
    assert len(objects) == 10
    assert len({o["object_id"] for o in objects}) == 10


async def test_a_timerange_filter_returns_flows_overlapping_it(http: httpx.AsyncClient) -> None:
    label = f"overlap-{uuid.uuid4()}"
    empty, full = await new_flow(http, label=label), await new_flow(http, label=label)
    await post_segments(http, full["id"], "[0:0_10:0)")

    async def ids(**params: str) -> set[str]:
        answer = await http.get("/flows", params={"label": label, **params})
        assert answer.status_code == 200, answer.text
        return {f["id"] for f in answer.json()}

    assert await ids() == {empty["id"], full["id"]}
    assert await ids(timerange="_") == {full["id"]}
    assert await ids(timerange="[5:0_6:0)") == {full["id"]}
    assert await ids(timerange="[20:0_30:0)") == set()
    assert await ids(timerange="()") == {empty["id"]}


async def test_show_deleted_keeps_the_urls_of_live_segments(http: httpx.AsyncClient) -> None:
    flow = await new_flow(http)
    segments_url = f"/flows/{flow['id']}/segments"
    await post_segments(http, flow["id"], "[0:0_1:0)", "[1:0_2:0)")
    live = (await http.get(segments_url)).json()
    gone = await http.delete(segments_url, params={"timerange": "[0:0_1:0)", "soft_delete": "true"})
    assert gone.status_code == 204, gone.text
    shown = (await http.get(segments_url, params={"show_deleted": "true"})).json()
    assert [s["timerange"] for s in shown] == ["[0:0_1:0)", "[1:0_2:0)"]
    assert "deleted" in shown[0]
    kept = shown[1]
    assert kept["get_urls"] == live[1]["get_urls"]
    assert kept.get("storage_path") == live[1].get("storage_path")


async def test_a_huge_timerange_is_400(http: httpx.AsyncClient) -> None:
    flow = await new_flow(http)
    huge = f"[{'9' * 10_000}:0_{'9' * 10_001}:0)"
    assert_error(await http.get(f"/flows/{flow['id']}/segments", params={"timerange": huge}), 400)
    assert_error(await http.get("/flows", params={"timerange": huge}), 400)


async def test_a_deeply_nested_body_is_400(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    deep = "[" * 100_000 + "]" * 100_000
    for body in (deep, json.dumps({**flow, "tags": None})[:-1] + ', "x": ' + deep + "}"):
        answer = await http.put(
            f"/flows/{flow['id']}", content=body, headers={"content-type": "application/json"}
        )
        assert_error(answer, 400)
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)


@pytest.mark.parametrize(
    "path",
    ["/flows/{}", "/sources/{}", "/objects/{}", "/flows/{}/segments", "/service/profiles/{}"],
)
async def test_an_id_that_cannot_be_one_is_404(http: httpx.AsyncClient, path: str) -> None:
    assert_error(await http.get(path.format("f" * 20_000)), 404)
    assert_error(
        await http.get(path.format("not-a-uuid" if "objects" not in path else "x" * 2000)), 404
    )


async def test_too_many_segments_are_refused_before_parsing(http: httpx.AsyncClient) -> None:
    flow = await new_flow(http)
    url = f"/flows/{flow['id']}/segments"
    many = [{"object_id": f"o{i}", "timerange": f"[{i}:0_{i + 1}:0)"} for i in range(100_000)]
    error = assert_error(await http.post(url, json=many), 400)
    assert "10000" in error["summary"]
    assert b" 413 " in await declared_too_large(http, url)
    assert (await http.get(url)).json() == []


async def declared_too_large(http: httpx.AsyncClient, path: str) -> bytes:
    """The status line of the answer to a POST that declares a gigabyte and sends
    nothing: refused on the declaration, without waiting for the body."""
    url = httpx.URL(str(http.base_url))
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {1 << 30}\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return line


@pytest.mark.parametrize("label", ["cam\x00era", "\x00"])
async def test_nul_in_text_is_refused_on_every_engine(http: httpx.AsyncClient, label: str) -> None:
    flow = video_flow_json(label=label)
    error = assert_error(await http.put(f"/flows/{flow['id']}", json=flow), 400)
    assert error["type"] == "INVALID_TEXT"
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)
    assert_error(await http.get("/flows", params={"label": label}), 400)


@pytest.mark.parametrize(
    ("path", "name"),
    [("/flows", "label"), ("/flows", "page"), ("/flows", "tag.genre"), ("/sources", "label"),
     ("/flows/{}/segments", "object_id"), ("/flows/{}/segments", "page"),
     ("/flows/{}/segments", "timerange"), ("/flow-delete-requests", "page")],
)  # fmt: skip
async def test_long_query_values_are_answered_not_failed(
    http: httpx.AsyncClient, path: str, name: str
) -> None:
    """A value far beyond anything real is an answer (a page, or 400), never a server
    error or a 429 from the gRPC metadata its error message would carry."""
    flow = await new_flow(http)
    answer = await http.get(path.format(flow["id"]), params={name: "x" * 20_000})
    assert answer.status_code in (200, 400), answer.text[:500]
    assert answer.headers["content-type"] == "application/json"


async def test_long_ids_in_bodies_are_answered_not_failed(http: httpx.AsyncClient) -> None:
    flow = await new_flow(http)
    long_id = "x" * 20_000
    segment = {"object_id": long_id, "timerange": "[0:0_1:0)"}
    answers = [
        await http.post(f"/flows/{flow['id']}/segments", json=segment),
        await http.post(f"/flows/{flow['id']}/storage", json={"object_ids": [long_id]}),
        await http.post(
            f"/objects/{long_id[:100]}/instances", json={"url": "https://e.x/" + long_id}
        ),
        await http.put(f"/flows/{flow['id']}/tags/genre", json=long_id),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201, 204, 400, 404), answer.text[:500]
