"""The usage guide's extensions over real HTTP: creating Sources alone and in batches,
batches of Flows, soft delete with deleted_by and show_deleted, storage_path, ISO 8601
timeranges, the analytics endpoints, and the wrapped list shape behind its switch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from rest.test_gateway import assert_error, video_flow_json

from tams_server.app import RunningServer, serve_gateway
from tams_server.domain.timerange import tai_offset_s


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


def source_json(**fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video", **fields}


async def test_post_source_as_the_guide_shows(http: httpx.AsyncClient) -> None:
    body = source_json(label="Main Camera 1", description="Primary studio camera")
    created = await http.post("/sources", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/sources/{body['id']}"
    assert {k: created.json()[k] for k in body} == body
    assert (await http.get(f"/sources/{body['id']}")).json()["label"] == "Main Camera 1"
    assert_error(await http.post("/sources", json=body), 400)  # the id is taken
    assert_error(await http.post("/sources", json={"id": "x", "format": 3}), 400)
    assert_error(await http.post("/sources", json=[body]), 400)


async def test_batches_are_all_or_nothing(http: httpx.AsyncClient) -> None:
    sources = [source_json(label=f"cam {i}") for i in range(3)]
    created = await http.post("/sources/batch", json={"sources": sources})
    assert created.status_code == 201, created.text
    assert [s["id"] for s in created.json()["sources"]] == [s["id"] for s in sources]

    good, bad = source_json(), source_json(format="urn:x-nmos:format:nonsense")
    assert_error(await http.post("/sources/batch", json={"sources": [good, bad]}), 400)
    assert_error(await http.get(f"/sources/{good['id']}"), 404)  # nothing written
    assert_error(await http.post("/sources/batch", json={"flows": []}), 400)

    flows = [video_flow_json(), video_flow_json()]
    made = await http.post("/flows/batch", json={"flows": flows})
    assert made.status_code == 201, made.text
    assert [f["id"] for f in made.json()["flows"]] == [f["id"] for f in flows]
    clash = video_flow_json(id=flows[0]["id"])
    fresh = video_flow_json()
    assert_error(await http.post("/flows/batch", json={"flows": [fresh, clash]}), 400)
    assert_error(await http.get(f"/flows/{fresh['id']}"), 404)
    broken = {"flows": [video_flow_json(), {**video_flow_json(), "codec": 7}]}
    assert "flows[1]" in assert_error(await http.post("/flows/batch", json=broken), 400)["summary"]


async def test_soft_delete_of_a_flow_and_its_source(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    gone = await http.delete(f"/flows/{flow['id']}?soft_delete=true&deleted_by=alice")
    assert gone.status_code == 204, gone.text
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)
    kept = (await http.get(f"/flows/{flow['id']}?show_deleted=true")).json()
    assert kept["deleted_by"] == "alice"
    assert "deleted" in kept
    listed = await http.get(f"/flows?source_id={flow['source_id']}&show_deleted=true")
    assert [f["id"] for f in listed.json()] == [flow["id"]]
    assert (await http.get(f"/flows?source_id={flow['source_id']}")).json() == []

    source_id = flow["source_id"]
    assert_error(await http.delete(f"/sources/{source_id}?soft_delete=false"), 400)
    assert (await http.delete(f"/sources/{source_id}?deleted_by=bob")).status_code == 204
    assert_error(await http.get(f"/sources/{source_id}"), 404)
    source = (await http.get(f"/sources/{source_id}?show_deleted=true")).json()
    assert source["deleted_by"] == "bob"
    assert_error(await http.delete(f"/sources/{uuid.uuid4()}"), 404)


async def test_soft_deleted_segments_and_iso_timeranges(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    segments = [
        {"object_id": f"obj-{i}-{uuid.uuid4()}", "timerange": f"[{i * 10}:0_{i * 10 + 10}:0)",
         "get_urls": [{"url": f"https://media.example/{i}", "label": "origin"}]}
        for i in range(3)
    ]  # fmt: skip
    posted = await http.post(f"/flows/{flow['id']}/segments", json=segments)
    assert posted.status_code == 201, posted.text
    url = f"/flows/{flow['id']}/segments"
    # The guide's ISO 8601 form, in UTC; TAMS timestamps are TAI, ahead by the
    # leap-second offset: 1970-01-01T00:00:00Z + offset is the TAMS time 10:0.
    start = 10 - tai_offset_s(0)
    iso_range = f"[1970-01-01T00:00:{start:02d}Z_1970-01-01T00:00:{start + 10:02d}Z)"
    iso = await http.get(url, params={"timerange": iso_range})
    assert [s["timerange"] for s in iso.json()] == ["[10:0_20:0)"]
    gone = await http.delete(url, params={"timerange": "[0:0_10:0)", "soft_delete": "true",
                                          "deleted_by": "carol"})  # fmt: skip
    assert gone.status_code == 204, gone.text
    assert [s["timerange"] for s in (await http.get(url)).json()] == ["[10:0_20:0)", "[20:0_30:0)"]
    everything = (await http.get(url, params={"show_deleted": "true"})).json()
    assert [s.get("deleted_by") for s in everything] == ["carol", None, None]


async def test_storage_path_names_the_object_key(
    http: httpx.AsyncClient, running: RunningServer
) -> None:
    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    allocated = await http.post(f"/flows/{flow['id']}/storage", json={"limit": 1})
    [media] = allocated.json()["media_objects"]
    put = media["put_url"]
    async with httpx.AsyncClient() as raw:
        sent = await raw.put(put["url"], content=b"ts" * 94, headers={
            "Content-Type": put["content-type"], **put.get("headers", {})})  # fmt: skip
        assert sent.status_code in (200, 201), sent.text
    segment = {"object_id": media["object_id"], "timerange": "[0:0_1:0)"}
    assert (await http.post(f"/flows/{flow['id']}/segments", json=segment)).status_code == 201
    [listed] = (await http.get(f"/flows/{flow['id']}/segments")).json()
    assert listed["storage_path"].startswith(f"{flow['id']}/")
    assert listed["storage_path"].endswith(f"/{media['object_id']}")


async def test_analytics_endpoints(http: httpx.AsyncClient) -> None:
    usage = await http.get("/analytics/flow-usage")
    assert usage.status_code == 200
    assert usage.json()["total_flows"] >= 1
    assert "urn:x-nmos:format:video" in usage.json()["format_distribution"]
    storage = (await http.get("/analytics/storage-usage?top_flows=5")).json()
    assert len(storage["storage_by_flow"]) <= 5
    assert storage["total_storage_bytes"] >= 0

    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    segments = [
        {"object_id": f"o-{uuid.uuid4()}", "timerange": tr,
         "get_urls": [{"url": "https://media.example/x", "label": "origin"}]}
        for tr in ("[0:0_10:0)", "[20:0_30:0)")
    ]  # fmt: skip
    await http.post(f"/flows/{flow['id']}/segments", json=segments)
    analysis = await http.get(f"/analytics/time-range-analysis?flow_id={flow['id']}")
    body = analysis.json()
    assert (body["timerange"], body["coverage"], body["gaps"]) == (
        "[0:0_30:0)",
        2 / 3,
        ["[10:0_20:0)"],
    )
    assert body["overlaps"] == []
    # TAI 0:0 is 1969-12-31T23:59:50Z: 10 s in hour 23, the second Segment in hour 00.
    assert body["hourly_distribution"] == {"23": "10:0", "00": "10:0"}
    usage_body = usage.json()
    assert usage_body["deleted_flows"] >= 0
    assert sum(usage_body["source_distribution"].values()) == usage_body["total_flows"]
    assert {"objects_by_flow", "storage_by_month"} <= storage.keys()
    assert sum(storage["storage_by_month"].values()) == storage["total_storage_bytes"]
    everything = (await http.get("/analytics/time-range-analysis")).json()
    assert everything["total_segments"] >= 2
    assert_error(await http.get(f"/analytics/time-range-analysis?flow_id={uuid.uuid4()}"), 404)
    assert_error(await http.get("/analytics/time-range-analysis?timerange=soon"), 400)
    assert_error(await http.get("/analytics/storage-usage?top_flows=-1"), 400)


async def test_the_guide_dialect_wraps_lists(running: RunningServer) -> None:
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        flow = video_flow_json()
        await http.put(f"/flows/{flow['id']}", json=flow)
        page = await http.get("/flows?limit=1")
        body = page.json()
        assert [len(body["data"]), body["paging"]["limit"], body["paging"]["count"]] == [1, 1, 1]
        assert body["paging"]["next_key"] == page.headers["x-paging-nextkey"]
        assert body["paging"]["next"] == page.headers["link"][1 : page.headers["link"].index(">")]
        assert "link" in page.headers
        single = (await http.get(f"/flows/{flow['id']}")).json()
        assert single["id"] == flow["id"]  # single resources are never wrapped
    with pytest.raises(ValueError, match="REST dialect"):
        async with serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="data"):
            pass


async def test_storage_batch(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    url = f"/flows/{flow['id']}/storage/batch"
    init_id = f"init-{uuid.uuid4()}"
    body = {"requests": [{"limit": 2}, {"object_ids": [init_id], "content_type": "video/mp4"}]}
    allocated = await http.post(url, json=body)
    assert allocated.status_code == 201, allocated.text
    [media, init] = allocated.json()["results"]
    assert len(media["media_objects"]) == 2
    assert media["media_objects"][0]["put_url"]["content-type"] == "video/mp2t"
    assert init["media_objects"][0]["object_id"] == init_id
    assert init["media_objects"][0]["put_url"]["content-type"] == "video/mp4"

    fresh = f"fresh-{uuid.uuid4()}"
    clash = {"requests": [{"object_ids": [fresh]}, {"object_ids": [init_id]}]}
    assert_error(await http.post(url, json=clash), 400)  # init_id is taken: nothing allocated
    again = await http.post(url, json={"requests": [{"object_ids": [fresh]}]})
    assert again.status_code == 201, again.text
    bad = assert_error(await http.post(url, json={"requests": [{"limit": 1}, {"limit": "x"}]}), 400)
    assert "requests[1]" in bad["summary"]
    assert_error(await http.post(url, json={"requests": []}), 400)
    assert_error(await http.post(url, json=[{"limit": 1}]), 400)
    assert_error(await http.post(f"/flows/{uuid.uuid4()}/storage/batch", json=body), 404)


async def test_guide_timeranges_in_bodies_and_queries_agree(running: RunningServer) -> None:
    """The guide's ISO timeranges (``:`` between UTC instants) mean the same TAI times
    in a Segment's body as in a query, and come back as the same instants in gaps."""
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        flow = video_flow_json()
        assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
        first = "[2024-12-20T10:00:00Z:2024-12-20T10:00:10Z)"
        later = "[2024-12-20T10:00:20.5Z:2024-12-20T11:00:30+01:00)"  # 10:00:30Z
        segments = [
            {"object_id": f"o-{uuid.uuid4()}", "timerange": tr,
             "get_urls": [{"url": "https://media.example/x", "label": "origin"}]}
            for tr in (first, later)
        ]  # fmt: skip
        posted = await http.post(f"/flows/{flow['id']}/segments", json=segments)
        assert posted.status_code == 201, posted.text
        offset = tai_offset_s(1734688800)  # 2024-12-20T10:00:00Z in Unix seconds
        assert offset == 37
        start = 1734688800 + offset
        listed = await http.get(f"/flows/{flow['id']}/segments", params={"timerange": first})
        assert [s["timerange"] for s in listed.json()] == [f"[{start}:0_{start + 10}:0)"]
        everything = (await http.get(f"/flows/{flow['id']}/segments")).json()
        assert [s["timerange"] for s in everything] == [
            f"[{start}:0_{start + 10}:0)",
            f"[{start + 20}:500000000_{start + 30}:0)",
        ]
        analysis = (await http.get(f"/time-range-analysis?flow_id={flow['id']}")).json()
        assert analysis["gaps"] == [
            {"start": "2024-12-20T10:00:10Z", "end": "2024-12-20T10:00:20.500000Z",
             "duration_seconds": 10.5},
        ]  # fmt: skip


async def test_a_replaced_flow_answers_the_stored_flow_in_the_guide_dialect(
    running: RunningServer,
) -> None:
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        flow = video_flow_json()
        assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
        replaced = await http.put(f"/flows/{flow['id']}", json={**flow, "label": "Updated"})
        assert replaced.status_code == 200, replaced.text
        stored = (await http.get(f"/flows/{flow['id']}")).json()
        assert replaced.json() == stored
        assert stored["label"] == "Updated"
        assert {"updated", "created"} <= stored.keys()  # the server's, not sent


async def test_label_filters_in_both_dialects(
    http: httpx.AsyncClient, running: RunningServer
) -> None:
    """The spec's ``label`` is exact, ``label_prefix`` a prefix (with ``%`` and ``_``
    plain characters); the guide dialect's ``label`` is that prefix."""
    run = uuid.uuid4().hex
    for label in ("Main Camera 1", "Main Camera", "Main_Camera", "MainXCamera"):
        body = source_json(label=label, tags={"run": run})
        assert (await http.post("/sources", json=body)).status_code == 201
    flow = video_flow_json(label="Main Video Stream", tags={"run": run})
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201

    def labels(answer: httpx.Response) -> set[str]:
        assert answer.status_code == 200, answer.text
        items = answer.json()
        items = items["data"] if isinstance(items, dict) else items
        return {item["label"] for item in items}

    query = {"tag.run": run}
    assert labels(await http.get("/sources", params={**query, "label": "Main Camera"})) == {
        "Main Camera"
    }
    prefixed = await http.get("/sources", params={**query, "label_prefix": "Main_"})
    assert labels(prefixed) == {"Main_Camera"}
    assert labels(await http.get("/flows", params={**query, "label": "Main Video"})) == set()
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as guide,
    ):
        found = await guide.get("/sources", params={**query, "label": "Main Camera"})
        assert labels(found) == {"Main Camera 1", "Main Camera"}
        found = await guide.get("/flows", params={**query, "label": "Main Video"})
        assert labels(found) == {"Main Video Stream"}


async def test_a_source_goes_with_its_flows_when_asked_and_in_the_guide_dialect(
    http: httpx.AsyncClient, running: RunningServer
) -> None:
    """The spec dialect refuses to delete a Source that live Flows render, unless
    ``delete_flows=true``; the guide dialect deletes them with it by default."""
    flow = video_flow_json()
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    source_id = flow["source_id"]
    assert_error(await http.delete(f"/sources/{source_id}"), 400)
    assert_error(await http.delete(f"/sources/{source_id}?delete_flows=maybe"), 400)
    assert (await http.get(f"/flows/{flow['id']}")).status_code == 200  # nothing changed
    gone = await http.delete(f"/sources/{source_id}?delete_flows=true&deleted_by=carol")
    assert gone.status_code == 204, gone.text
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)
    kept = (await http.get(f"/flows/{flow['id']}?show_deleted=true")).json()
    assert kept["deleted_by"] == "carol"

    guided = video_flow_json()
    assert (await http.put(f"/flows/{guided['id']}", json=guided)).status_code == 201
    locked = video_flow_json(source_id=guided["source_id"], read_only=True)
    assert (await http.put(f"/flows/{locked['id']}", json=locked)).status_code == 201
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as guide,
    ):
        refused = await guide.delete(f"/sources/{guided['source_id']}")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error_code"] == "FLOW_READ_ONLY"
        assert (await http.get(f"/flows/{guided['id']}")).status_code == 200
        assert (await http.put(f"/flows/{locked['id']}/read_only", json=False)).status_code == 204
        gone = await guide.delete(f"/sources/{guided['source_id']}")
        assert gone.status_code == 204, gone.text
        for flow_id in (guided["id"], locked["id"]):
            assert_error(await http.get(f"/flows/{flow_id}"), 404)
        assert_error(await http.get(f"/sources/{guided['source_id']}"), 404)


async def test_the_guide_dialect_gives_put_cors_url(
    http: httpx.AsyncClient, running: RunningServer
) -> None:
    """The guide's ``put_cors_url`` is the presigned PUT of ``put_url``: an upload to
    it is the Object's."""
    flow = video_flow_json()
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as guide,
    ):
        allocated = await guide.post(f"/flows/{flow['id']}/storage", json={"limit": 1})
        assert allocated.status_code == 201, allocated.text
        (media,) = allocated.json()["media_objects"]
        assert media["put_cors_url"] == media["put_url"]
        assert media["put_cors_url"]["method"] == "PUT"
        cors = media["put_cors_url"]
        uploaded = await http.put(cors["url"], content=b"\0" * 16, headers=cors["headers"])
        assert uploaded.status_code < 300, uploaded.text
        segment = {"object_id": media["object_id"], "timerange": "[0:0_1:0)"}
        guided = {**segment, "storage_path": "elsewhere/another-object"}  # not a key
        posted = await guide.post(f"/flows/{flow['id']}/segments", json=guided)
        assert posted.status_code == 201, posted.text


async def test_a_segment_before_its_upload_in_the_guide_dialect(
    http: httpx.AsyncClient, running: RunningServer
) -> None:
    """The guide registers a Segment of an Object never allocated, then allocates and
    uploads it: its dialect allocates the Object with the Segment and issues its upload
    URL again later. The spec dialect refuses both, unless asked."""
    flow = video_flow_json()
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    object_id = str(uuid.uuid4())
    segment = {"object_id": object_id, "timerange": "[0:0_10:0)"}
    refused = await http.post(f"/flows/{flow['id']}/segments", json=segment)
    assert refused.status_code == 200, refused.text
    assert refused.json()["failed_segments"][0]["error"]["type"] == "OBJECT_UNKNOWN"
    assert_error(await http.get(f"/objects/{object_id}"), 404)
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as guide,
    ):
        guided = {**segment, "storage_path": "elsewhere/another-object"}  # not a key
        posted = await guide.post(f"/flows/{flow['id']}/segments", json=guided)
        assert posted.status_code == 201, posted.text
        [get_url] = posted.json()["get_urls"]
        assert get_url["url"] == f"{url}/objects/{object_id}/download"
        info = (await guide.get(f"/objects/{object_id}")).json()
        assert info["flow_references"] == [{"flow_id": flow["id"], "timerange": "[0:0_10:0)"}]
        taken = await http.post(f"/flows/{flow['id']}/storage", json={"object_ids": [object_id]})
        assert_error(taken, 400)  # the spec dialect: taken
        again = await guide.post(f"/flows/{flow['id']}/storage", json={"object_ids": [object_id]})
        assert again.status_code == 201, again.text
        put = again.json()["media_objects"][0]["put_url"]
        uploaded = await http.put(put["url"], content=b"late bytes", headers=put["headers"])
        assert uploaded.status_code < 300, uploaded.text
        downloaded = await guide.get(get_url["url"], follow_redirects=True)
        assert downloaded.content == b"late bytes"


async def test_a_refused_segment_is_an_error_in_the_guide_dialect(
    http: httpx.AsyncClient, running: RunningServer
) -> None:
    """One Segment refused: the guide's error (its clients' raise_for_status sees it);
    a list keeps the spec's 200 with failed_segments."""
    flow = video_flow_json()
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    path = f"/flows/{flow['id']}/segments"
    first = {"object_id": str(uuid.uuid4()), "timerange": "[0:0_10:0)"}
    async with (
        serve_gateway(running.grpc_target, "127.0.0.1", 0, rest_dialect="guide-7.0") as url,
        httpx.AsyncClient(base_url=url) as guide,
    ):
        assert (await guide.post(path, json=first)).status_code == 201
        overlapping = {"object_id": str(uuid.uuid4()), "timerange": "[5:0_15:0)"}
        refused = await guide.post(path, json=overlapping)
        assert refused.status_code == 400, refused.text
        assert set(refused.json()) == {"detail", "error_code", "timestamp"}
        assert refused.json()["error_code"] == "SEGMENT_OVERLAP"
        unknown_init = {**overlapping, "timerange": "[20:0_30:0)", "init_object_id": "no-such"}
        missing = await guide.post(path, json=unknown_init)
        assert missing.status_code == 404, missing.text
        assert missing.json()["error_code"] == "OBJECT_UNKNOWN"
        partly = await guide.post(
            path, json=[overlapping, {**overlapping, "timerange": "[40:0_50:0)"}]
        )
        assert partly.status_code == 200, partly.text
        [failed] = partly.json()["failed_segments"]
        assert failed["error"]["type"] == "SEGMENT_OVERLAP"
    listed = (await http.get(path)).json()
    assert sorted(s["timerange"] for s in listed) == ["[0:0_10:0)", "[40:0_50:0)"]
