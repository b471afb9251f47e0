"""The OpenAPI document a running server serves, and the operations it names against
those its routes answer: what the docs tests of the spec's dialect and of the usage
guide's share."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import BaseRoute, Route

from tams_server.gateway.docs import docs_routes
from tams_server.gateway.openapi_doc import operations
from tams_server.objects.local import PART_PREFIX, URL_PREFIX


async def served_document(http: httpx.AsyncClient) -> dict[str, Any]:
    """``/openapi.json`` as the server behind ``http`` serves it."""
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    served: dict[str, Any] = response.json()
    return served


def normalised(path: str) -> str:
    """The path with every parameter (and its convertor) as ``{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """``(METHOD, normalised path)`` of every operation of ``document``."""
    return {(method.upper(), normalised(path)) for path, method, _ in operations(document)}


def served_operations(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    """What ``routes`` answer, but the docs themselves, the object bytes and HLS playback
    (not TAMS JSON)."""
    docs = {getattr(route, "path", "") for route in docs_routes()}
    served = set()
    for route in routes:
        path = getattr(route, "path", "")
        if path in docs or path.startswith((URL_PREFIX, PART_PREFIX, "/hls/")):
            continue
        assert isinstance(route, Route), route  # a Mount would hide its routes from this walk
        served |= {(method, normalised(path)) for method in route.methods or ()}
    return served
