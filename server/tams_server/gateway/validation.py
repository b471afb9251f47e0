"""Requests checked against the served OpenAPI document before any translation.

Every operation of the document (the vendored TAMS spec with the gateway's extensions)
names the schema of its JSON body and of its path and query parameters. They are
compiled once, when the routes are built, and each request is checked against its
operation's before its handler runs: a value of the wrong JSON type, outside an enum
or not matching a pattern is a 400 with the spec's error body, never a server error
further down (``json_format`` and the shapes trust the types they are given). A path
id that its schema cannot match names no resource: 404, without a call.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tams_server.gateway.body import BODY_VALIDATOR, MASK, best_error
from tams_server.gateway.openapi_doc import METHODS, openapi_document
from tams_server.gateway.query import BadRequest

Endpoint = Callable[[Request], Awaitable[Response]]
# Longer than any id this service makes or accepts (object ids included): such a path
# id names nothing, and would only travel to the server to be refused there.
MAX_PATH_ID_CHARS = 1024
# Query parameters whose grammar is wider here than the spec's pattern, which the server
# parses: timeranges also take ISO 8601 instants (usage guide; design decision 2).
SERVER_PARSED = frozenset({"timerange"})
_TEMPLATE = re.compile(r"\{[^}]*\}")


def path_key(template: str) -> str:
    """A path template with its parameter names left out, the same for the spec's
    ``/flows/{flowId}`` and the router's ``/flows/{flow_id}`` or
    ``/objects/{object_id:path}``."""
    return _TEMPLATE.sub("{}", template)


@dataclass(frozen=True)
class Parameter:
    """One query or path parameter of an operation, as the document describes it."""

    name: str
    kind: str
    """``boolean``, ``integer`` or ``string``: how its text becomes a JSON value."""
    validator: jsonschema_rs.Validator
    prefix: str | None = None
    """For a templated name (``tag.{name}``): what every name it covers starts with."""

    def covers(self, name: str) -> bool:
        """Whether a query parameter named ``name`` is this one."""
        return name.startswith(self.prefix) if self.prefix is not None else name == self.name


@dataclass(frozen=True)
class Operation:
    """The checks of one operation."""

    body: jsonschema_rs.Validator | None
    query: tuple[Parameter, ...]
    path: tuple[Parameter, ...]


class _Compiler:
    """Validators for the document's schemas, one per distinct schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        self._components = {"schemas": document.get("components", {}).get("schemas", {})}
        self._cache: dict[str, jsonschema_rs.Validator] = {}

    def validator(self, schema: dict[str, Any]) -> jsonschema_rs.Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._cache:
            # The components ride along so that "#/components/schemas/..." resolves.
            self._cache[key] = jsonschema_rs.Draft202012Validator(
                {**schema, "components": self._components}, mask=MASK
            )
        return self._cache[key]

    def resolve(self, node: Any) -> Any:
        """``node`` with its reference (if it is one) followed, repeatedly."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target: Any = self._document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def parameter(self, spec: dict[str, Any]) -> Parameter:
        spec = self.resolve(spec)
        schema = spec.get("schema", {})
        if spec["in"] == "query" and spec["name"] in SERVER_PARSED:
            schema = {"type": "string"}
        kind = self.resolve(schema).get("type", "string")
        name = spec["name"]
        prefix = name[: name.index("{")] if "{" in name else None
        return Parameter(name, str(kind), self.validator(schema), prefix)

    def operation(self, item: dict[str, Any], operation: dict[str, Any]) -> Operation:
        parameters: dict[tuple[str, str], dict[str, Any]] = {}
        for spec in [*item.get("parameters", []), *operation.get("parameters", [])]:
            spec = self.resolve(spec)
            parameters[(spec["name"], spec["in"])] = spec
        body = self.resolve(operation.get("requestBody", {}))
        schema = body.get("content", {}).get("application/json", {}).get("schema")
        return Operation(
            body=self.validator(schema) if schema is not None else None,
            query=tuple(
                self.parameter(s) for (_, where), s in parameters.items() if where == "query"
            ),
            path=tuple(
                self.parameter(s) for (_, where), s in parameters.items() if where == "path"
            ),
        )


@functools.cache
def operation_table() -> Mapping[tuple[str, str], Operation]:
    """The checks of every operation, by (HTTP method, ``path_key``): compiled once."""
    document = openapi_document()
    compiler = _Compiler(document)
    table: dict[tuple[str, str], Operation] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                table[(method.upper(), path_key(path))] = compiler.operation(item, item[method])
    return table


def validated_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes``, each checking its requests against its operations before its
    handler runs (routes the document does not describe run unchecked)."""
    table = operation_table()
    checked: list[BaseRoute] = []
    for route in routes:
        if not isinstance(route, Route):
            checked.append(route)
            continue
        key = path_key(route.path)
        operations = {
            method: table[(method, key)] for method in route.methods or () if (method, key) in table
        }
        if not operations:
            checked.append(route)
            continue
        checked.append(
            Route(
                route.path,
                _checking(route.endpoint, operations),
                methods=sorted(route.methods or ()),
                name=route.name,
                include_in_schema=route.include_in_schema,
            )
        )
    return checked


def _checking(endpoint: Endpoint, operations: Mapping[str, Operation]) -> Endpoint:
    @functools.wraps(endpoint)
    async def checked(request: Request) -> Response:
        operation = operations.get(request.method)
        if operation is not None:
            check_path(operation, request.path_params)
            check_query(operation, request.query_params.multi_items())
            setattr(request.state, BODY_VALIDATOR, operation.body)
        return await endpoint(request)

    return checked


def check_path(operation: Operation, params: Mapping[str, Any]) -> None:
    """404 for a path parameter its schema refuses: such an id names nothing."""
    values = {_plain(name): str(value) for name, value in params.items()}
    for parameter in operation.path:
        text = values.get(_plain(parameter.name))
        if text is None:
            continue
        if len(text) > MAX_PATH_ID_CHARS or not parameter.validator.is_valid(text):
            raise HTTPException(404, f"no resource has the {parameter.name} given")


def _plain(name: str) -> str:
    """A parameter name as both spellings share it (``flowId``, ``flow_id``: ``flowid``)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def check_query(operation: Operation, items: list[tuple[str, str]]) -> None:
    """400 for a query value its parameter's schema refuses."""
    for name, text in items:
        parameter = next((p for p in operation.query if p.covers(name)), None)
        if parameter is None:
            continue  # the spec does not forbid parameters it does not name
        value = query_value(parameter, name, text)
        error = best_error(parameter.validator.iter_errors(value))
        if error is not None:
            raise BadRequest(f"query parameter {name}: {error.message.replace(MASK, repr(text))}")


def query_value(parameter: Parameter, name: str, text: str) -> Any:
    """The JSON value a query text stands for, by its parameter's type; 400 when it
    stands for none (``True``/``FALSE`` are booleans: Python's ``requests`` sends
    ``True``)."""
    if parameter.kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise BadRequest(f"query parameter {name} must be true or false, got {text!r}")
        return text.lower() == "true"
    if parameter.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise BadRequest(
                f"query parameter {name} must be a whole number, got {text!r}"
            ) from None
    return text
