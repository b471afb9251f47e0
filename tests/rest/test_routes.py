"""Every operation of the official TAMS spec (webhooks aside: they come with the
events work) is routed by the gateway, HEAD included wherever the spec has it."""

from __future__ import annotations

import re

import grpc
import pytest
import yaml
from starlette.routing import Match

from helpers.spec import SPEC_FILE
from tams_server.gateway.app import gateway_routes

METHODS = ("get", "head", "put", "post", "delete")


def spec_operations() -> list[tuple[str, str]]:
    spec = yaml.safe_load(SPEC_FILE.read_text())
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if not path.startswith("/service/webhooks")
        for method in operations
        if method in METHODS
    ]


def concrete(path: str) -> str:
    """The path with each parameter filled in (ids, an object id with a slash)."""
    return re.sub(r"\{([^}]+)\}", lambda m: "a/b" if m[1] == "objectId" else "x-1", path)


@pytest.mark.parametrize(("method", "path"), spec_operations())
async def test_the_operation_is_routed(method: str, path: str) -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:  # never called
        routes = gateway_routes(channel)
    scope = {"type": "http", "path": concrete(path), "method": method}
    assert any(route.matches(scope)[0] == Match.FULL for route in routes), (method, path)


def test_the_spec_has_the_operations_we_expect() -> None:
    operations = spec_operations()
    assert len(operations) > 70
    assert ("POST", "/flows/{flowId}/storage") in operations
