"""Every operation of the official TAMS spec is routed by the gateway, HEAD included
wherever the spec has it."""

from __future__ import annotations

import functools
import re

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
        for method in operations
        if method in METHODS
    ]


def concrete(path: str) -> str:
    """The path with each parameter filled in (ids, an object id with a slash)."""
    return re.sub(r"\{([^}]+)\}", lambda m: "a/b" if m[1] == "objectId" else "x-1", path)


@pytest.mark.parametrize(("method", "path"), spec_operations())
async def test_the_operation_is_routed(method: str, path: str) -> None:
    routes = gateway_routes()
    scope = {"type": "http", "path": concrete(path), "method": method}
    assert any(route.matches(scope)[0] == Match.FULL for route in routes), (method, path)


def test_the_spec_has_the_operations_we_expect() -> None:
    operations = spec_operations()
    assert len(operations) > 70
    assert ("POST", "/flows/{flowId}/storage") in operations


def handler_names() -> set[str]:
    """The names of the gateway's handlers (each a module-level function, some bound
    to the resource they serve, wrapped in the check of their requests)."""
    names = set()
    for route in gateway_routes():
        handler = getattr(route, "endpoint", None)
        while isinstance(handler, functools.partial) or hasattr(handler, "__wrapped__"):
            handler = (
                handler.func if isinstance(handler, functools.partial) else handler.__wrapped__
            )
        if handler is not None:
            assert handler.__qualname__ == handler.__name__, handler  # not nested
            names.add(handler.__name__)
    return names


def test_handlers_are_module_level_functions() -> None:
    # handler_names refuses a nested handler; every route has a named one.
    assert len(handler_names()) >= 40
