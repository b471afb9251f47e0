"""The docs of the usage guide's dialect: with ``--rest-dialect guide-7.0``,
``/openapi.json`` (read by ``/docs`` and ``/redoc``) is the guide dialect's document:
valid OpenAPI, describing exactly the operations that dialect serves, every error with
the guide's body; the guide's own examples (requests, answers, error bodies) validate
against its schemas, and so do real answers of the dialect."""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import jsonschema_rs
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from helpers.openapi import documented_operations, served_document, served_operations
from tams_server.app import RunningServer, serve_gateway
from tams_server.gateway.app import gateway_routes, http_app
from tams_server.gateway.dialects import Dialect
from tams_server.gateway.openapi_doc import METHODS, openapi_document, operations

sys.path.insert(0, str(Path(__file__).with_name("guide")))
from extract import GUIDE, examples

EXAMPLES, _ = examples()
GUIDE_DIALECT = "guide-7.0"


@pytest.fixture(scope="module")
async def guide_url(running: RunningServer) -> AsyncIterator[str]:
    async with serve_gateway(
        running.grpc_target, "127.0.0.1", 0, rest_dialect=GUIDE_DIALECT
    ) as url:
        yield url


@pytest.fixture
async def http(guide_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=guide_url) as client:
        yield client


@pytest.fixture
async def document(http: httpx.AsyncClient) -> dict[str, Any]:
    return await served_document(http)


class Schemas:
    """Validators of the document's schemas (its components riding along)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._components = {"schemas": document["components"]["schemas"]}

    def validator(self, schema: dict[str, Any]) -> jsonschema_rs.Validator:
        return jsonschema_rs.Draft202012Validator({**schema, "components": self._components})

    def errors(self, schema: dict[str, Any], value: Any) -> list[str]:
        return [error.message for error in self.validator(schema).iter_errors(value)]

    def operation(self, method: str, path: str) -> dict[str, Any]:
        """The operation serving ``method path`` (a concrete path): the template that
        matches with the fewest parameters (``/flows/batch`` before ``/flows/{flowId}``)."""
        path = path.split("?", 1)[0]
        found: list[tuple[int, dict[str, Any]]] = []
        for template, item in self.document["paths"].items():
            pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path) and method.lower() in item:
                found.append((template.count("{"), item[method.lower()]))
        assert found, f"{method} {path} is not in the document"
        return min(found, key=lambda pair: pair[0])[1]

    @staticmethod
    def body_schema(node: dict[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = node["content"]["application/json"]["schema"]
        return schema


def real(value: Any) -> Any:
    """The guide's placeholder values (``existing-flow-uuid``) as values of their kind."""
    if isinstance(value, dict):
        return {k: real(v) for k, v in value.items()}
    if isinstance(value, list):
        return [real(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"(new|existing|optional)-[a-z0-9-]+-uuid", value):
        return str(uuid.uuid4())
    return value


async def test_the_guide_document_is_served_valid_openapi(document: dict[str, Any]) -> None:
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    assert document["info"]["version"] == "7.0"
    assert "usage guide" in document["info"]["title"]
    assert document["info"] != openapi_document()["info"]
    assert document["servers"] == [{"url": "/", "description": "This server"}]
    for path in ("/flow-usage", "/storage-usage", "/time-range-analysis"):
        assert {"get", "head"} <= document["paths"][path].keys()


async def test_the_spec_dialect_still_serves_the_spec_document(
    running: RunningServer, document: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        spec = (await http.get("/openapi.json")).json()
    assert spec["info"]["version"] == "8.2"
    assert "/flow-usage" not in spec["paths"]
    assert spec["components"]["schemas"]["error"]["required"] == ["type", "summary", "time"]
    assert document["components"]["schemas"]["error"]["required"] == ["detail"]


async def test_the_documented_operations_are_the_served_ones(document: dict[str, Any]) -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:  # never called
        app = http_app(gateway_routes(Dialect.named(GUIDE_DIALECT)), channel)
    served = served_operations(app.routes)
    documented = documented_operations(document)
    assert ("GET", "/flow-usage") in served
    assert ("PUT", "/flows/{}/tags") in served
    assert {
        "documented but not served": sorted(documented - served),
        "served but not documented": sorted(served - documented),
    } == {"documented but not served": [], "served but not documented": []}


async def test_every_error_answer_has_the_guides_body(document: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] not in "45" or method == "head" or path == "/health":
                continue  # (/health answers its status, not an error, when unavailable)
            schema = Schemas.body_schema(response)
            assert schema == {"$ref": "#/components/schemas/error"}, (method, path, status)
            checked += 1
    assert checked > 100
    error = document["components"]["schemas"]["error"]
    assert set(error["properties"]) == {"detail", "error_code", "timestamp"}


def _guide_json_after(heading: str) -> list[Any]:
    """The JSON blocks of the guide's section ``heading`` (up to the next heading of its
    level or above)."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(heading)
    level = heading.split(" ")[0]
    end = text.find(f"\n{level} ", start + len(heading))
    section = text[start : end if end > 0 else len(text)]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]


async def test_the_guides_error_bodies_validate(document: dict[str, Any]) -> None:
    schemas = Schemas(document)
    error = {"$ref": "#/components/schemas/error"}
    bodies = [
        *_guide_json_after("### Error Response Format"),
        *_guide_json_after("### Validation Errors"),
        *_guide_json_after("#### Common Storage Errors"),
    ]
    assert len(bodies) == 6
    for body in bodies:
        assert schemas.errors(error, body) == [], body
    # The spec's error body is not the guide's.
    spec_error = {"type": "FLOW_NOT_FOUND", "summary": "no", "time": "2024-12-20T10:00:00Z"}
    assert schemas.errors(error, spec_error) != []
    assert schemas.errors(error, {"detail": [{"loc": "body"}]}) != []


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.body is not None], ids=lambda e: f"{e.method} {e.title}"
)
def test_the_guides_request_bodies_validate(example: Any) -> None:
    schemas = Schemas(_guide_document())
    operation = schemas.operation(example.method, example.path)
    schema = Schemas.body_schema(operation["requestBody"])
    assert schemas.errors(schema, real(example.body)) == []


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e.expected is not None and e.status is not None],
    ids=lambda e: f"{e.method} {e.title}",
)
def test_the_guides_answers_validate(example: Any) -> None:
    schemas = Schemas(_guide_document())
    operation = schemas.operation(example.method, example.path)
    schema = Schemas.body_schema(operation["responses"][str(example.status)])
    assert schemas.errors(schema, example.expected) == []


def _guide_document() -> dict[str, Any]:
    from tams_server.gateway.dialects.guide_openapi import guide_openapi_document

    return guide_openapi_document()


def test_answers_unlike_the_guides_do_not_validate() -> None:
    schemas = Schemas(_guide_document())
    usage = Schemas.body_schema(schemas.operation("GET", "/flow-usage")["responses"]["200"])
    assert schemas.errors(usage, {"total_flows": 1}) != []
    flows = Schemas.body_schema(schemas.operation("GET", "/flows")["responses"]["200"])
    assert schemas.errors(flows, []) != []  # a bare array is the spec's listing


async def test_real_answers_validate(document: dict[str, Any], http: httpx.AsyncClient) -> None:
    schemas = Schemas(document)
    flow_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
    flow = {
        "id": flow_id, "source_id": source_id, "format": "urn:x-nmos:format:video",
        "codec": "video/h264", "container": "video/mp2t", "frame_width": 1920,
        "frame_height": 1080, "frame_rate": "25/1",
    }  # fmt: skip
    segment = {
        "object_id": f"o-{uuid.uuid4()}",
        "timerange": "[2024-12-20T10:00:00Z:2024-12-20T10:00:10Z)",
        "get_urls": [{"url": "https://media.example/x", "label": "origin"}],
    }  # fmt: skip
    calls: list[tuple[str, str, Any]] = [
        ("POST", "/flows", flow),
        ("GET", f"/flows/{flow_id}", None),
        ("GET", "/flows?limit=2", None),
        ("GET", "/sources?limit=2", None),
        ("PUT", f"/flows/{flow_id}/label", "Camera"),
        ("PUT", f"/flows/{flow_id}/tags", {"quality": "high"}),
        ("POST", f"/flows/{flow_id}/segments", segment),
        ("GET", f"/flows/{flow_id}/segments", None),
        ("POST", f"/flows/{flow_id}/storage", {"limit": 1}),
        ("GET", "/service/storage-backends", None),
        ("GET", "/flow-usage", None),
        ("GET", "/storage-usage", None),
        ("GET", f"/time-range-analysis?flow_id={flow_id}", None),
        ("GET", f"/analytics/time-range-analysis?flow_id={flow_id}", None),
        ("GET", f"/flows/{uuid.uuid4()}", None),
        ("POST", "/flows", {**flow, "frame_width": "wide"}),
        ("POST", "/flows", flow),
    ]
    statuses = []
    for method, path, body in calls:
        answer = (
            await http.request(method, path, json=body)
            if body is not None
            else (await http.request(method, path))
        )
        statuses.append(answer.status_code)
        operation = schemas.operation(method, path)
        assert str(answer.status_code) in operation["responses"], (method, path, answer.text)
        schema = Schemas.body_schema(operation["responses"][str(answer.status_code)])
        assert schemas.errors(schema, answer.json()) == [], (method, path, answer.text)
    assert statuses[-3:] == [404, 400, 409]


def test_only_documented_methods() -> None:
    for item in _guide_document()["paths"].values():
        assert set(item) - {"parameters", "summary", "description"} <= set(METHODS)
