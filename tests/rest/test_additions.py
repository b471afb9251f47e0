"""Additions beyond the spec that contradict nothing (issue 14, section 2): GET /health,
POST /flows, `frame_rate: "25/1"`, and the posted Segments as a segment POST's 201
body."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from grpc_health.v1 import health_pb2
from rest.test_conformance_defects import post_segments
from rest.test_gateway import assert_error, video_flow_json

from tams_server.app import RunningServer
from tams_server.servicers.health import ReadinessHealthServicer
from tams_server.store.engine import Database


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


async def test_health(http: httpx.AsyncClient) -> None:
    answer = await http.get("/health")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ok", "database": "ok"}
    assert (await http.head("/health")).status_code == 200


async def test_health_is_not_serving_without_its_database(tmp_path: Path) -> None:
    database = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'tams.db'}")
    servicer = ReadinessHealthServicer(database)
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    await servicer.set("tams.v1.FlowService", health_pb2.HealthCheckResponse.SERVING)
    try:
        overall = await servicer.Check(health_pb2.HealthCheckRequest(service=""), None)  # type: ignore[arg-type]
        one = await servicer.Check(
            health_pb2.HealthCheckRequest(service="tams.v1.FlowService"),
            None,  # type: ignore[arg-type]
        )
    finally:
        await database.dispose()
    assert overall.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert one.status == health_pb2.HealthCheckResponse.SERVING  # liveness of the service


async def test_post_flows_with_a_new_or_a_given_id(http: httpx.AsyncClient) -> None:
    body = video_flow_json(label="posted")
    del body["id"]
    created = await http.post("/flows", json=body)
    assert created.status_code == 201, created.text
    flow = created.json()
    assert uuid.UUID(flow["id"])
    assert created.headers["location"] == f"/flows/{flow['id']}"
    assert (await http.get(f"/flows/{flow['id']}")).json()["label"] == "posted"

    given = video_flow_json()
    again = await http.post("/flows", json=given)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == given["id"]
    assert_error(await http.post("/flows", json=given), 400)  # the id is taken
    assert_error(await http.post("/flows", json={**video_flow_json(), "tags": None}), 400)
    assert_error(await http.post("/flows", json=[given]), 400)


@pytest.mark.parametrize(
    ("text", "rational"),
    [("25/1", {"numerator": 25, "denominator": 1}),
     ("30000/1001", {"numerator": 30000, "denominator": 1001}),
     ("50", {"numerator": 50, "denominator": 1})],
)  # fmt: skip
async def test_frame_rate_as_text(
    http: httpx.AsyncClient, text: str, rational: dict[str, int]
) -> None:
    flow = video_flow_json()
    flow["essence_parameters"]["frame_rate"] = text
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    stored = (await http.get(f"/flows/{flow['id']}")).json()
    assert stored["essence_parameters"]["frame_rate"] == rational
    posted = video_flow_json()
    posted["essence_parameters"]["frame_rate"] = text
    assert (await http.post("/flows", json=posted)).json()["essence_parameters"]["frame_rate"] == (
        rational
    )
    batch = video_flow_json()
    batch["essence_parameters"]["frame_rate"] = text
    made = await http.post("/flows/batch", json={"flows": [batch]})
    assert made.json()["flows"][0]["essence_parameters"]["frame_rate"] == rational


@pytest.mark.parametrize("text", ["25/0", "fast", "-25/1", "25/1/1", ""])
async def test_frame_rate_text_that_is_no_rate_is_400(http: httpx.AsyncClient, text: str) -> None:
    flow = video_flow_json()
    flow["essence_parameters"]["frame_rate"] = text
    assert_error(await http.put(f"/flows/{flow['id']}", json=flow), 400)
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)


async def test_a_segment_post_answers_the_segments(http: httpx.AsyncClient) -> None:
    flow = video_flow_json()
    await http.put(f"/flows/{flow['id']}", json=flow)
    url = f"/flows/{flow['id']}/segments"
    one = {"object_id": f"o-{uuid.uuid4()}", "timerange": "[0:0_1:0)",
           "get_urls": [{"url": "https://media.example/0", "label": "origin"}]}  # fmt: skip
    answer = await http.post(url, json=one)
    assert answer.status_code == 201, answer.text
    assert answer.json() == one
    two = [
        {"object_id": f"o-{uuid.uuid4()}", "timerange": f"[{i}:0_{i + 1}:0)",
         "get_urls": [{"url": f"https://media.example/{i}", "label": "origin"}]}
        for i in (1, 2)
    ]  # fmt: skip
    answer = await http.post(url, json=two)
    assert answer.status_code == 201, answer.text
    assert answer.json() == two
    await post_segments(http, flow["id"], "[3:0_4:0)")
