"""The usage guide's routes: the spec's, each wrapped in the guide's translations
(request in, answer out), and the guide's own paths as aliases of spec routes
(``/flow-usage`` is ``/analytics/flow-usage``). Every request still reaches exactly
one spec handler, so both dialects make the same gRPC calls."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Scope

from tams_server.gateway.body import MAX_BODY_BYTES, STORED, BodyTooLarge
from tams_server.gateway.dialects import guide_responses as out
from tams_server.gateway.dialects.guide_errors import ROUTE_KEY, guide_error
from tams_server.gateway.dialects.guide_requests import (
    BODIES,
    QUERY_DEFAULTS,
    QUERY_RENAMES,
    timerange_query_in,
)
from tams_server.gateway.routes.tags import put_tags_routes

Endpoint = Callable[[Request], Awaitable[Response]]
Key = tuple[str, str]

# The spec routes whose answers the guide shows otherwise.
ANSWERS: dict[Key, out.Translation] = {
    ("GET", "/sources"): out.listing(out.source_out),
    ("POST", "/sources"): out.single(out.source_out),
    ("GET", "/sources/{source_id}"): out.single(out.source_out),
    ("POST", "/sources/batch"): out.batch("sources", out.source_out),
    ("GET", "/flows"): out.listing(out.flow_out),
    ("POST", "/flows"): out.single(out.flow_out),
    ("GET", "/flows/{flow_id}"): out.single(out.flow_out),
    ("PUT", "/flows/{flow_id}"): out.put_flow,
    ("POST", "/flows/batch"): out.batch("flows", out.flow_out),
    ("POST", "/flows/{flow_id}/segments"): out.segments_posted,
    ("POST", "/flows/{flow_id}/storage"): out.storage,
    ("POST", "/flows/{flow_id}/storage/batch"): out.storage_batch,
    ("GET", "/service/storage-backends"): out.storage_backends,
    ("GET", "/objects/{object_id:path}"): out.object_info,
}
# Listings the guide does not show: wrapped like those it shows. Flow Segments stay
# a bare array (as the guide shows them).
BARE_LISTINGS = frozenset({("GET", "/flows/{flow_id}/segments")})
WRAPPED_LISTINGS = frozenset({("GET", "/flow-delete-requests"), ("GET", "/service/webhooks")})
# The guide's own paths: (path, method, the spec route it is, its answer).
ALIASES: tuple[tuple[str, str, Key, out.Translation], ...] = (
    ("/flow-usage", "GET", ("GET", "/analytics/flow-usage"), out.flow_usage),
    ("/storage-usage", "GET", ("GET", "/analytics/storage-usage"), out.storage_usage),
    ("/time-range-analysis", "GET", ("GET", "/analytics/time-range-analysis"),
     out.time_range_analysis),
    ("/analytics/flow-usage", "GET", ("GET", "/analytics/flow-usage"), out.flow_usage),
    ("/analytics/storage-usage", "GET", ("GET", "/analytics/storage-usage"), out.storage_usage),
    ("/analytics/time-range-analysis", "GET", ("GET", "/analytics/time-range-analysis"),
     out.time_range_analysis),
    ("/objects/{object_id:path}/download", "GET", ("GET", "/objects/{object_id:path}"),
     out.download),
)  # fmt: skip
_PROPERTY_SUFFIXES = (
    "/label", "/description", "/max_bit_rate", "/avg_bit_rate", "/read_only", "/flow_collection",
)  # fmt: skip


def guide_routes(api: list[BaseRoute]) -> list[BaseRoute]:
    """The guide's routes over the spec's ``api`` (already checking requests)."""
    endpoints: dict[Key, Endpoint] = {}
    for route in api:
        if isinstance(route, Route):
            for method in route.methods or ():
                endpoints[(method, route.path)] = route.endpoint
    aliases: list[BaseRoute] = [
        Route(path, _translating(endpoints[target], target, answer), methods=[method])
        for path, method, target, answer in ALIASES
        if target in endpoints
    ]
    extra: list[BaseRoute] = [
        Route(r.path, _translating(r.endpoint, (method, r.path), out.echo), methods=[method])
        for r in put_tags_routes()
        for method in r.methods or ()
        if method != "HEAD"
    ]
    aliased = {path for path, *_ in ALIASES}
    wrapped: list[BaseRoute] = []
    for route in api:
        if not isinstance(route, Route):
            wrapped.append(route)
            continue
        if route.path in aliased:
            continue  # the alias serves it, with the guide's answer
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            key = (method, route.path)
            wrapped.append(
                Route(
                    route.path,
                    _translating(route.endpoint, key, _answer(key)),
                    methods=[method],
                    name=route.name,
                    include_in_schema=route.include_in_schema,
                )
            )
    # The guide's own paths first: /objects/{id}/download before /objects/{id:path}.
    return [*aliases, *extra, *wrapped]


def _answer(key: Key) -> out.Translation | None:
    method, path = key
    if key in ANSWERS:
        return ANSWERS[key]
    if key in WRAPPED_LISTINGS:
        return out.listing()
    if method == "PUT" and path.endswith(_PROPERTY_SUFFIXES):
        return out.echo
    return None  # as the spec answers (BARE_LISTINGS among them)


def _translating(endpoint: Endpoint, key: Key, answer: out.Translation | None) -> Endpoint:
    translate_body = BODIES.get(key)
    defaults = QUERY_DEFAULTS.get(key, {})
    renames = QUERY_RENAMES.get(key, {})

    @functools.wraps(endpoint)
    async def translated(request: Request) -> Response:
        setattr(request.state, ROUTE_KEY, key)
        sent: Any = None
        if (
            (defaults and any(name not in request.query_params for name in defaults))
            or "timerange" in request.query_params
            or any(name in request.query_params for name in renames)
        ):
            query = [
                (renames.get(k, k), timerange_query_in(v) if k == "timerange" else v)
                for k, v in request.query_params.multi_items()
            ]
            query += [(k, v) for k, v in defaults.items() if k not in request.query_params]
            request = _with(request, query_string=urlencode(query).encode())
        if request.method in ("POST", "PUT"):
            raw = await _read(request)
            try:
                sent = json.loads(raw)
            except (ValueError, RecursionError):
                sent = None  # passed on as it is: the spec's route refuses it
            if sent is not None and translate_body is not None:
                translated_body = translate_body(json.loads(raw), request.path_params)
                raw = json.dumps(translated_body).encode()
            request = _with(request, body=raw)
        response = await endpoint(request)
        return _translated(response, answer, sent, request)

    return translated


async def _read(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _with(
    request: Request, *, query_string: bytes | None = None, body: bytes | None = None
) -> Request:
    """``request`` with another query or body (the same scope state and app)."""
    scope: Scope = dict(request.scope)
    if query_string is not None:
        scope["query_string"] = query_string
    receive = request.receive
    if body is not None:
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await request.receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        receive = replay
    return Request(scope, receive)


def _translated(
    response: Response, answer: out.Translation | None, sent: Any, request: Request
) -> Response:
    is_json = response.media_type == "application/json" or (
        response.headers.get("content-type", "").startswith("application/json")
    )
    body: Any = None
    raw = getattr(response, "body", b"")
    if is_json and raw:
        body = json.loads(raw)
    if response.status_code >= 400 and isinstance(body, dict) and "summary" in body:
        return guide_error(request, response.status_code, str(body.get("type", "")),
                           str(body["summary"]))  # fmt: skip
    if answer is None:
        return response
    headers: Mapping[str, str] = dict(response.headers)
    stored = getattr(request.state, STORED, None)
    query = dict(request.query_params)
    base_url = str(request.base_url).rstrip("/")
    return answer(out.Answer(response.status_code, body, headers, sent, query, stored, base_url))
