"""``/service/webhooks`` over real HTTP, on both engines: the spec's status codes
(POST 201, PUT 201 with the webhook, DELETE 204, 404 for unknown ids), HEAD, paging
headers, tag filters, 400 for each kind of bad input, and no API key value in any
answer; ``/service`` advertises webhooks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from helpers.webhooks import set_stored
from tams_server.app import RunningServer

RECEIVER = "https://receiver.example.com/hook"


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


def registration(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"url": RECEIVER, "events": ["flows/created"]}
    body["tags"] = {"test": str(uuid.uuid4())}
    body.update(fields)
    return body


async def post(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await http.post("/service/webhooks", json=registration(**fields))
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def test_service_advertises_webhooks(http: httpx.AsyncClient) -> None:
    service = (await http.get("/service")).json()
    assert {"name": "webhooks"} in service["event_stream_mechanisms"]


async def test_post_get_put_delete(http: httpx.AsyncClient) -> None:
    made = await post(
        http, api_key_name="X-Api-Key", api_key_value="secret",
        flow_collected_by_ids=[], accept_get_urls=[], include_object_timerange=True,
    )  # fmt: skip
    assert made["status"] == "created"
    assert made["flow_collected_by_ids"] == []
    assert made["accept_get_urls"] == []
    assert "flow_ids" not in made
    assert "api_key_value" not in made
    path = f"/service/webhooks/{made['id']}"
    assert (await http.get(path)).json() == made
    head = await http.head(path)
    assert (head.status_code, head.content) == (200, b"")

    put = await http.put(
        path, json={**made, "url": "https://other.example.com/", "status": "disabled"}
    )
    assert put.status_code == 201, put.text
    assert put.json()["status"] == "disabled"
    assert put.json()["url"] == "https://other.example.com/"
    assert "api_key_value" not in put.json()
    assert (await http.get(path)).json() == put.json()

    assert (await http.delete(path)).status_code == 204
    for response in (
        await http.get(path),
        await http.head(path),
        await http.delete(path),
        await http.put(path, json={**made, "status": "created"}),
    ):
        assert response.status_code == 404, response.request


async def test_put_rules(http: httpx.AsyncClient) -> None:
    made = await post(http)
    path = f"/service/webhooks/{made['id']}"
    other = str(uuid.uuid4())
    assert (await http.put(path, json={**made, "id": other})).status_code == 400
    no_status = {key: value for key, value in made.items() if key != "status"}
    assert (await http.put(path, json=no_status)).status_code == 400
    without_id = {key: value for key, value in made.items() if key != "id"}
    assert (await http.put(path, json=without_id)).status_code == 400  # webhook-put needs it
    assert (await http.put(path, json=made)).status_code == 201
    assert (await http.get(path)).json() == made


async def test_listing_pages_and_filters(http: httpx.AsyncClient) -> None:
    team = str(uuid.uuid4())
    urls = sorted(f"https://{name}.example.com/" for name in ("x", "y", "z"))
    for url in urls:
        await post(
            http,
            url=url,
            tags={"team": team, "shift": ["late"] if url.startswith("https://x.") else "day"},
        )
    response = await http.get("/service/webhooks", params={"tag.team": team, "limit": 2})
    assert response.status_code == 200
    assert [w["url"] for w in response.json()] == urls[:2]
    headers = response.headers
    assert (headers["X-Paging-Limit"], headers["X-Paging-Count"]) == ("2", "2")
    assert headers["X-Paging-Reverse-Order"] == "false"
    assert headers["X-Paging-NextKey"]
    following = await http.get(response.links["next"]["url"])
    assert [w["url"] for w in following.json()] == urls[2:]
    assert "Link" not in following.headers

    head = await http.head("/service/webhooks", params={"tag.team": team, "limit": 2})
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["X-Paging-Count"] == "2"
    reverse = await http.get(
        "/service/webhooks", params={"tag.team": team, "reverse_order": "true"}
    )
    assert [w["url"] for w in reverse.json()] == urls[::-1]
    late = await http.get("/service/webhooks", params={"tag.team": team, "tag.shift": "late,x"})
    assert [w["url"] for w in late.json()] == urls[:1]
    none = await http.get(
        "/service/webhooks", params={"tag.team": team, "tag_exists.shift": "false"}
    )
    assert none.json() == []
    assert all("api_key_value" not in w for w in response.json())


@pytest.mark.parametrize(
    "fields",
    [
        {"url": "ftp://receiver.example.com/"},
        {"url": "http://localhost:8080/"},
        {"url": "http://169.254.169.254/latest/meta-data/"},
        {"url": "https://" + "a" * 2050 + ".com/"},
        {"url": None},
        {"events": []},
        {"events": ["flows/renamed"]},
        {"events": "flows/created"},
        {"flow_ids": ["not-a-uuid"]},
        {"source_ids": "all"},
        {"accept_storage_ids": [str(uuid.uuid4())]},
        {"status": "started"},
        {"api_key_value": "without-a-name"},
        {"api_key_name": "X-Key", "api_key_value": "line\nbreak"},
        {"presigned": "yes"},
        {"tags": {"": "x", "test": str(uuid.uuid4())}},
        {"unknown_option": True},
    ],
)
async def test_bad_registrations_are_400(http: httpx.AsyncClient, fields: dict[str, Any]) -> None:
    body = registration(**fields)
    response = await http.post("/service/webhooks", json=body)
    assert response.status_code == 400, response.text
    assert {"type", "summary", "time"} <= set(response.json())
    listed = await http.get("/service/webhooks", params={"tag.test": body["tags"].get("test", "")})
    assert listed.json() == []


async def test_an_error_webhook_cannot_be_disabled(
    http: httpx.AsyncClient, database_url: str
) -> None:
    made = await post(http)
    await set_stored(database_url, made["id"], status="error")
    path = f"/service/webhooks/{made['id']}"
    refused = await http.put(path, json={**made, "status": "disabled"})
    assert refused.status_code == 400
    assert refused.json()["type"] == "WEBHOOK_STATUS_CHANGE"
    enabled = await http.put(path, json={**made, "status": "created"})
    assert enabled.json()["status"] == "created"
