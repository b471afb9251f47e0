"""The REST route table the generated per-route tests run over: every route the
gateway serves (from its routing table, so a new route is in the table the moment it
exists), and a request of any of them with ids that exist nowhere."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from starlette.routing import Mount, Route

from tams_server.gateway.app import gateway_routes

# Routes the gateway answers itself, with no call: the root listing, the docs, and the
# HLS player page and its script (the playlists the page loads are checked as the API).
GATEWAY_LOCAL = {
    "/",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/docs/static",
    "/hls/player",
    "/hls/hls.min.js",
}
# Routes open to every caller, with no credentials: they call the standard gRPC health
# service, which is no tams.v1 service and has no scope.
PUBLIC = {"/health": "/grpc.health.v1.Health/Check"}

UNKNOWN = str(uuid.uuid4())
FLOW = {
    "source_id": str(uuid.uuid4()), "format": "urn:x-nmos:format:data", "codec": "text/plain",
    "container": "application/json", "essence_parameters": {},
}  # fmt: skip
SOURCE = {"id": str(uuid.uuid4()), "format": "urn:x-nmos:format:data"}
WEBHOOK = {"url": "https://receiver.example.com/hook", "events": ["flows/created"]}
# What a request needs for the gateway to make its call (body, query), by route. The HLS
# playlists make two calls of one scope for Flows and Sources that exist (the Flow or the
# Source's Flows, then the Segments or the members); for ids that exist nowhere, as here,
# the first call answers.
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/service"): {"json": {"name": "scoped"}},
    ("POST", "/service/profiles/{profile_id}"): {
        "json": {
            "flow_metadata": {key: FLOW[key] for key in ("format", "codec", "essence_parameters")}
        }
    },
    ("POST", "/sources"): {"json": SOURCE},
    ("POST", "/sources/batch"): {"json": {"sources": [SOURCE]}},
    ("POST", "/flows"): {"json": FLOW},
    ("POST", "/flows/batch"): {"json": {"flows": [{**FLOW, "id": str(uuid.uuid4())}]}},
    ("PUT", "/flows/{flow_id}"): {"json": FLOW},
    ("PUT", "/flows/{id}/label"): {"json": "label"},
    ("PUT", "/flows/{id}/description"): {"json": "description"},
    ("PUT", "/flows/{id}/read_only"): {"json": False},
    ("PUT", "/flows/{id}/max_bit_rate"): {"json": 1},
    ("PUT", "/flows/{id}/avg_bit_rate"): {"json": 1},
    ("PUT", "/flows/{id}/flow_collection"): {"json": []},
    ("PUT", "/sources/{id}/label"): {"json": "label"},
    ("PUT", "/sources/{id}/description"): {"json": "description"},
    ("PUT", "/flows/{id}/tags/{name}"): {"json": "value"},
    ("PUT", "/sources/{id}/tags/{name}"): {"json": "value"},
    ("POST", "/flows/{flow_id}/segments"): {
        "json": {"object_id": "an-object", "timerange": "[0:0_1:0)"}
    },
    ("POST", "/flows/{flow_id}/storage"): {"json": {"limit": 1}},
    ("POST", "/flows/{flow_id}/storage/batch"): {"json": {"requests": [{"limit": 1}]}},
    ("POST", "/objects/{object_id:path}/instances"): {
        "json": {"url": "https://example.com/copy", "label": "copy"}
    },
    ("DELETE", "/objects/{object_id:path}/instances"): {"params": {"label": "copy"}},
    ("POST", "/service/webhooks"): {"json": WEBHOOK},
    # The spec's webhook-put body names the webhook it replaces.
    ("PUT", "/service/webhooks/{webhook_id}"): {
        "json": {**WEBHOOK, "id": UNKNOWN, "status": "created"}
    },
    ("GET", "/hls/player"): {"params": {"flow": UNKNOWN}},
}


def route_cases() -> list[tuple[str, str]]:
    """(HTTP method, path template) of every route the gateway serves."""
    cases = []
    for route in gateway_routes():
        if isinstance(route, Route):
            cases += [(method, route.path) for method in sorted(route.methods or ())]
        else:
            assert isinstance(route, Mount), route
            cases.append(("GET", route.path))
    return cases


CASES = route_cases()
API_CASES = [case for case in CASES if case[1] not in GATEWAY_LOCAL and case[1] not in PUBLIC]


def concrete(template: str) -> str:
    """The path with ids that exist nowhere (an object id with a slash)."""

    def fill(match: re.Match[str]) -> str:
        return {"name": "a-tag", "object_id": "an/object"}.get(match[1], UNKNOWN)

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, template)


async def request(
    base_url: str, case: tuple[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """Make the route's request with ids that exist nowhere (and the body and query it
    needs to reach its call), with ``headers``."""
    method, template = case
    extra = REQUESTS.get(case if method != "HEAD" else ("GET", template), {})
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await client.request(method, concrete(template), headers=headers, **extra)
