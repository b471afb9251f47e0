"""The REST gateway over real HTTP: the TAMS JSON shapes, status codes, paging
headers and error bodies, for the routes built so far."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tams_server.app import RunningServer, serve_gateway


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


def video_flow_json(**fields: Any) -> dict[str, Any]:
    flow = {
        "id": str(uuid.uuid4()),
        "source_id": str(uuid.uuid4()),
        "format": "urn:x-nmos:format:video",
        "codec": "video/h264",
        "container": "video/mp2t",
        "essence_parameters": {
            "frame_width": 1920, "frame_height": 1080,
            "frame_rate": {"numerator": 25, "denominator": 1},
        },
    }  # fmt: skip
    flow.update(fields)
    return flow


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """A TAMS error body (error.json: type, summary, time) with this status."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"type", "summary", "time"} <= body.keys()
    return body


async def test_root_and_service(http: httpx.AsyncClient) -> None:
    assert (await http.get("/")).json() == ["service", "flows", "sources", "flow-delete-requests"]
    service = (await http.get("/service")).json()
    assert service["api_version"] == "8.2"
    head = await http.head("/service")
    assert (head.status_code, head.content) == (200, b"")
    name = f"store {uuid.uuid4().hex[:6]}"
    assert (await http.post("/service", json={"name": name})).status_code == 200
    assert (await http.get("/service")).json()["name"] == name
    assert_error(await http.post("/service", json={"nope": 1}), 400)
    backends = await http.get("/service/storage-backends")
    assert [b["label"] for b in backends.json()] == ["local"]
    assert backends.headers["x-paging-count"] == "1"


async def test_flows_put_get_list_delete(http: httpx.AsyncClient) -> None:
    label = f"gw-{uuid.uuid4().hex[:8]}"
    flows = [video_flow_json(label=label) for _ in range(3)]
    for flow in flows:
        created = await http.put(f"/flows/{flow['id']}", json=flow)
        assert created.status_code == 201, created.text
        assert created.json()["essence_parameters"]["frame_width"] == 1920
    replaced = await http.put(f"/flows/{flows[0]['id']}", json={**flows[0], "description": "d"})
    assert replaced.status_code == 204
    got = (await http.get(f"/flows/{flows[0]['id']}")).json()
    assert (got["label"], got["description"]) == (label, "d")

    seen: list[str] = []
    url: str | None = f"/flows?label={label}&limit=2"
    while url is not None:
        page = await http.get(url)
        assert page.headers["x-paging-limit"] == "2"
        seen += [f["id"] for f in page.json()]
        url = page.links.get("next", {}).get("url")
    assert sorted(seen) == sorted(f["id"] for f in flows)

    source = await http.get(f"/sources/{flows[0]['source_id']}")
    assert source.json()["format"] == "urn:x-nmos:format:video"
    assert (await http.delete(f"/flows/{flows[0]['id']}")).status_code == 204
    body = assert_error(await http.get(f"/flows/{flows[0]['id']}"), 404)
    assert body["type"] == "FLOW_NOT_FOUND"


async def test_bad_requests_get_the_error_body(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    assert_error(await http.put(f"/flows/{flow['id']}", content=b"{not json"), 400)
    assert_error(await http.put(f"/flows/{uuid.uuid4()}", json=flow), 400)  # id differs
    assert_error(await http.put(f"/flows/{flow['id']}", json={**flow, "codec": 7}), 400)
    assert_error(await http.get("/flows?reverse_order=maybe"), 400)
    assert_error(await http.get("/flows?limit=zero"), 400)
    assert_error(await http.get("/flows/not-a-uuid"), 404)  # names no flow (TAMS)
    assert_error(await http.get("/no/such/path"), 404)
    assert_error(await http.patch("/flows"), 405)
    huge = b"[" + b"1," * (9 << 20) + b"1]"
    assert_error(await http.post(f"/flows/{flow['id']}/segments", content=huge), 413)
    # Nothing of the refused PUTs was stored.
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)


async def test_read_only_flows_answer_403(http: httpx.AsyncClient) -> None:
    flow = video_flow_json(read_only=True)
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    body = assert_error(await http.put(f"/flows/{flow['id']}", json={**flow, "label": "x"}), 403)
    assert body["type"] == "FLOW_READ_ONLY"


async def test_storage_segments_and_objects(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    allocated = await http.post(f"/flows/{flow['id']}/storage", json={"limit": 2})
    assert allocated.status_code == 201
    media = allocated.json()["media_objects"]
    assert media[0]["put_url"]["content-type"] == "video/mp2t"
    for i, item in enumerate(media):
        put = await http.put(item["put_url"]["url"], content=f"bytes {i}".encode())
        assert put.status_code == 200
    posted = await http.post(
        f"/flows/{flow['id']}/segments",
        json=[
            {"object_id": media[0]["object_id"], "timerange": "[0:0_1:0)"},
            {"object_id": media[1]["object_id"], "timerange": "[1:0_2:0)"},
        ],
    )
    assert posted.status_code == 201
    overlap = await http.post(
        f"/flows/{flow['id']}/segments",
        json={"object_id": media[0]["object_id"], "timerange": "[0:500000000_1:0)"},
    )
    assert overlap.status_code == 200
    [failed] = overlap.json()["failed_segments"]
    assert failed["error"]["type"] == "SEGMENT_OVERLAP"

    listing = await http.get(f"/flows/{flow['id']}/segments", params={"limit": 1})
    [segment] = listing.json()
    assert segment["timerange"] == "[0:0_1:0)"
    assert listing.headers["x-paging-timerange"] == "[0:0_1:0)"
    assert (await http.get(segment["get_urls"][0]["url"])).content == b"bytes 0"
    following = await http.get(listing.links["next"]["url"])
    assert [s["object_id"] for s in following.json()] == [media[1]["object_id"]]
    no_urls = await http.get(f"/flows/{flow['id']}/segments?accept_get_urls=")
    assert all("get_urls" not in s for s in no_urls.json())

    obj = (await http.get(f"/objects/{media[0]['object_id']}")).json()
    assert obj["referenced_by_flows"] == [flow["id"]]
    assert obj["timerange"] == "[0:0_1:0)"

    assert (await http.delete(f"/flows/{flow['id']}/segments")).status_code == 204
    assert (await http.get(f"/flows/{flow['id']}/segments")).json() == []
    assert (await http.get("/flow-delete-requests")).status_code == 200


async def test_flow_and_source_properties(http: httpx.AsyncClient) -> None:
    flow = video_flow_json(tags={"genre": "news"})
    await http.put(f"/flows/{flow['id']}", json=flow)
    base = f"/flows/{flow['id']}"
    assert_error(await http.get(f"{base}/label"), 404)
    assert (await http.put(f"{base}/label", json="Evening news")).status_code == 204
    assert (await http.get(f"{base}/label")).json() == "Evening news"
    assert (await http.delete(f"{base}/label")).status_code == 204
    assert_error(await http.get(f"{base}/label"), 404)
    assert (await http.put(f"{base}/max_bit_rate", json=5000)).status_code == 204
    assert (await http.get(base)).json()["max_bit_rate"] == 5000
    assert_error(await http.put(f"{base}/max_bit_rate", json=-1), 400)
    assert_error(await http.put(f"{base}/max_bit_rate", json="fast"), 400)
    assert (await http.get(f"{base}/tags")).json() == {"genre": "news"}
    assert (await http.put(f"{base}/tags/lang", json=["en", "cy"])).status_code == 204
    assert (await http.get(f"{base}/tags/lang")).json() == ["en", "cy"]
    assert (await http.delete(f"{base}/tags/lang")).status_code == 204
    assert_error(await http.get(f"{base}/tags/lang"), 404)
    assert_error(await http.put(f"{base}/tags/lang", json={"no": 1}), 400)
    assert (await http.get(f"{base}/read_only")).json() is False
    assert (await http.put(f"{base}/read_only", json=True)).status_code == 204
    assert_error(await http.put(f"{base}/label", json="x"), 403)
    assert_error(await http.put(f"{base}/read_only", json="yes"), 400)
    assert_error(await http.delete(f"{base}/read_only"), 405)

    source = f"/sources/{flow['source_id']}"
    assert (await http.put(f"{source}/description", json="the studio")).status_code == 204
    assert (await http.get(f"{source}/description")).json() == "the studio"
    assert (await http.put(f"{source}/tags/site", json="cardiff")).status_code == 204
    assert (await http.get(f"{source}/tags")).json() == {"site": "cardiff"}


async def test_profiles(http: httpx.AsyncClient) -> None:
    profile_id = str(uuid.uuid4())
    profile = {
        "id": profile_id,
        "label": "1080p25 H.264",
        "flow_metadata": {
            "format": "urn:x-nmos:format:video", "codec": "video/h264",
            "essence_parameters": {
                "frame_width": 1920, "frame_height": 1080, "frame_rate": {"numerator": 25},
            },
        },
    }  # fmt: skip
    created = await http.post(f"/service/profiles/{profile_id}", json=profile)
    assert created.status_code == 201, created.text
    assert (await http.get(f"/service/profiles/{profile_id}")).json()["label"] == "1080p25 H.264"
    assert_error(await http.post(f"/service/profiles/{profile_id}", json=profile), 400)
    listed = await http.get("/service/profiles", params={"label": "1080p25 H.264"})
    assert profile_id in [p["id"] for p in listed.json()]

    # A Flow that takes its technical properties from the Profile: changing one is
    # 400 (as the spec says of PUT), removing one 403 (the spec has no 400 for DELETE).
    flow_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
    linked = {"id": flow_id, "source_id": source_id, "profile_id": profile_id}
    put = await http.put(f"/flows/{flow_id}", json=linked)
    assert put.status_code == 201, put.text
    assert_error(await http.put(f"/flows/{flow_id}/avg_bit_rate", json=5000), 400)
    refused = assert_error(await http.delete(f"/flows/{flow_id}/avg_bit_rate"), 403)
    assert refused["type"] == "FLOW_HAS_PROFILE"


async def test_object_instances(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    [item] = (await http.post(f"/flows/{flow['id']}/storage", json={"limit": 1})).json()[
        "media_objects"
    ]
    await http.put(item["put_url"]["url"], content=b"bytes")
    object_id = item["object_id"]
    await http.post(
        f"/flows/{flow['id']}/segments", json={"object_id": object_id, "timerange": "[0:0_1:0)"}
    )
    added = await http.post(
        f"/objects/{object_id}/instances", json={"url": "https://cdn.example/o", "label": "cdn"}
    )
    assert added.status_code == 201
    assert [u["label"] for u in added.json()["get_urls"]] == ["local", "cdn"]
    assert_error(await http.post(f"/objects/{object_id}/instances", json={"url": "u"}), 400)
    assert_error(await http.delete(f"/objects/{object_id}/instances"), 400)
    removed = await http.delete(f"/objects/{object_id}/instances", params={"label": "cdn"})
    assert removed.status_code == 204
    assert_error(await http.get(f"/objects/{uuid.uuid4()}"), 404)


async def test_the_gateway_runs_apart_from_the_server(running: RunningServer) -> None:
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        assert (await http.get("/service")).json()["api_version"] == "8.2"
        assert_error(await http.get(f"/flows/{uuid.uuid4()}"), 404)
