"""Requests the spec's schemas refuse are 400 with the spec's error body, never a
server error, and change nothing. Generated from the served document: every field of
every request body (to three levels) is sent with values of each wrong JSON type, and
every query parameter with an enum, a pattern or a non-string type with a value
outside it."""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from rest.test_gateway import assert_error, video_flow_json

from helpers.route_table import REQUESTS, concrete
from tams_server.app import RunningServer
from tams_server.gateway.openapi_doc import openapi_document, operations
from tams_server.gateway.validation import SERVER_PARSED

DOCUMENT = openapi_document()
# One value of each JSON type.
SAMPLES: dict[str, Any] = {
    "null": None, "boolean": True, "integer": 7, "number": 1.5, "string": "text",
    "array": [], "object": {},
}  # fmt: skip
Path = tuple[str | int, ...]


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def allowed_types(schema: Any) -> set[str] | None:
    """The JSON types a schema lets through; None when it does not say."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return None
    if "type" in schema:
        declared = schema["type"]
        types = set(declared if isinstance(declared, list) else [declared])
        return types | ({"integer"} if "number" in types else set())
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        found = [allowed_types(b) for b in branches]
        return None if any(t is None for t in found) else set().union(*found)  # type: ignore[arg-type]
    return None


def fields(schema: Any, path: Path = (), depth: int = 3) -> Iterator[tuple[Path, Any]]:
    """(path, schema) of every property a body can have, to ``depth`` levels (array
    items are at index 0)."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth == 0:
        return
    for name, sub in schema.get("properties", {}).items():
        yield (*path, name), sub
        yield from fields(sub, (*path, name), depth - 1)
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key, []):
            yield from fields(branch, path, depth)
    for key in ("then", "else"):
        if key in schema:
            yield from fields(schema[key], path, depth)
    if "items" in schema:
        yield from fields(schema["items"], (*path, 0), depth - 1)


def with_value(body: Any, path: Path, value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path`` (containers made as needed)."""
    if not path:
        return value
    body = copy.deepcopy(body)
    if isinstance(path[0], int) and not isinstance(body, list):
        body = [body]
    node = body
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            if not isinstance(node[step], (dict, list)):
                node[step] = {}
        elif not isinstance(node.get(step), (dict, list)):
            node[step] = [] if isinstance(following, int) else {}
        node = node[step]
    if isinstance(path[-1], int):
        node[:] = [value]
    else:
        node[path[-1]] = value
    return body


def router_path(path: str) -> str:
    """The spec's path in the route table's spelling (for its request bodies)."""
    names = {"flowId": "flow_id", "sourceId": "source_id", "profileId": "profile_id",
             "objectId": "object_id:path", "request-id": "request_id"}  # fmt: skip
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + names.get(m[1], m[1]) + "}", path)


def base_body(method: str, path: str) -> Any:
    template = router_path(path)
    for (m, t), extra in REQUESTS.items():
        if m == method.upper() and re.sub(r"\{[^}]*\}", "{}", t) == re.sub(
            r"\{[^}]*\}", "{}", template
        ):
            return extra.get("json")
    return {}


def body_cases() -> list[Any]:
    cases = []
    for path, method, operation in operations(DOCUMENT):
        content = resolve(operation.get("requestBody", {})).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            continue
        found: dict[Path, Any] = {(): schema}
        for where, sub in fields(schema):
            found.setdefault(where, sub)
        for where, sub in found.items():
            types = allowed_types(sub)
            if types is None:
                continue
            wrong = [name for name in SAMPLES if name not in types]
            if wrong:
                label = ".".join(map(str, where)) or "(body)"
                cases.append(
                    pytest.param(method, path, where, wrong, id=f"{method} {path} {label}")
                )
    return cases


def query_cases() -> list[Any]:
    cases = []
    for path, method, operation in operations(DOCUMENT):
        item = DOCUMENT["paths"][path]
        for spec in [*item.get("parameters", []), *operation.get("parameters", [])]:
            spec = resolve(spec)
            if spec["in"] != "query" or spec["name"] in SERVER_PARSED:
                continue
            schema = resolve(spec.get("schema", {}))
            name = spec["name"].replace("{name}", "a-tag")
            kind = schema.get("type", "string")
            if "enum" in schema or "pattern" in schema or kind in ("boolean", "integer"):
                bad = "not~a~valid~value"
                if "pattern" in schema and re.search(schema["pattern"], bad):
                    continue
                cases.append(pytest.param(method, path, name, bad, id=f"{method} {path} {name}"))
            if "minimum" in schema:
                low = str(schema["minimum"] - 1)
                cases.append(pytest.param(method, path, name, low, id=f"{method} {path} {name}<"))
    return cases


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


@pytest.fixture
async def flow(http: httpx.AsyncClient) -> dict[str, Any]:
    flow = video_flow_json(label="untouched", tags={"kept": "yes"})
    assert (await http.put(f"/flows/{flow['id']}", json=flow)).status_code == 201
    return flow


def real_path(path: str, flow: dict[str, Any]) -> str:
    """The spec's path with the fixture Flow and its Source where they go."""
    path = path.replace("{flowId}", flow["id"]).replace("{sourceId}", flow["source_id"])
    return concrete(router_path(path))


@pytest.mark.parametrize(("method", "path", "where", "wrong"), body_cases())
async def test_wrong_typed_body_fields_are_400(
    http: httpx.AsyncClient,
    flow: dict[str, Any],
    method: str,
    path: str,
    where: Path,
    wrong: list[str],
) -> None:
    base = base_body(method, path)
    if (method, path) in (("put", "/flows/{flowId}"), ("post", "/flows")):
        base = {**base, "id": flow["id"]}  # the gateway fills it in when absent
    url = real_path(path, flow)
    spec = body_validator(method, path)
    refused_all = True
    for type_name in wrong:
        body = with_value(base, where, SAMPLES[type_name])
        answer = await http.request(method.upper(), url, json=body)
        if spec.is_valid(body):  # another branch of a oneOf takes it (or ignores it)
            assert answer.status_code < 500, (type_name, answer.text)
            refused_all = False
            continue
        error = assert_error(answer, 400)
        assert error["type"] == "INVALID_ARGUMENT", (type_name, error)
    if refused_all:  # nothing changed
        stored = (await http.get(f"/flows/{flow['id']}")).json()
        assert (stored["label"], stored["tags"]) == ("untouched", {"kept": "yes"})


def body_validator(method: str, path: str) -> jsonschema.Draft202012Validator:
    """The operation's body schema, checked by another library than the gateway's."""
    operation = DOCUMENT["paths"][path][method]
    schema = resolve(operation["requestBody"])["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": DOCUMENT["components"]})


@pytest.mark.parametrize(("method", "path", "name", "value"), query_cases())
async def test_query_values_outside_the_spec_are_400(
    http: httpx.AsyncClient, flow: dict[str, Any], method: str, path: str, name: str, value: str
) -> None:
    answer = await http.request(method.upper(), real_path(path, flow), params={name: value})
    if method == "head":
        assert answer.status_code == 400
    else:
        assert_error(answer, 400)


@pytest.mark.parametrize("tags", [None, "news", 3, ["a"], {"a": 1}])
async def test_tags_that_are_no_tags_are_400(http: httpx.AsyncClient, tags: Any) -> None:
    """The first of the class: a 500 with plain text, from an AttributeError."""
    flow = video_flow_json(tags=tags)
    assert_error(await http.put(f"/flows/{flow['id']}", json=flow), 400)
    assert_error(await http.get(f"/flows/{flow['id']}"), 404)
    source = {"id": str(uuid.uuid4()), "format": "urn:x-nmos:format:video", "tags": tags}
    assert_error(await http.post("/sources", json=source), 400)
    assert_error(await http.post("/sources/batch", json={"sources": [source]}), 400)
    assert_error(await http.post("/flows/batch", json={"flows": [flow]}), 400)
    assert_error(await http.get(f"/sources/{source['id']}"), 404)


async def test_source_format_outside_the_enum_is_400(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/sources", params={"format": "bad"}), 400)
    assert (await http.head("/sources", params={"format": "bad"})).status_code == 400
    assert (await http.get("/sources", params={"format": "urn:x-nmos:format:video"})).is_success


@pytest.mark.parametrize("text", ["True", "TRUE", "true", "False", "false", "FaLsE"])
async def test_booleans_in_any_case(
    http: httpx.AsyncClient, flow: dict[str, Any], text: str
) -> None:
    answer = await http.get(f"/flows/{flow['id']}", params={"include_timerange": text})
    assert answer.status_code == 200, answer.text
    assert_error(await http.get("/flows", params={"show_deleted": "yes"}), 400)
