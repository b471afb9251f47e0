"""The gateway's offline API docs: /openapi.json is valid OpenAPI, self-contained, and
describes exactly the operations the gateway serves (extensions marked as such);
/docs and /redoc load their scripts and styles from this server only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import grpc
import httpx
import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

from helpers.openapi import documented_operations, normalised, served_document, served_operations
from tams_server.app import RunningServer
from tams_server.gateway.app import gateway_routes, http_app
from tams_server.gateway.openapi_doc import SPEC_FILE, operations, spec_folder
from tams_server.http.multipart import multipart_routes
from tams_server.http.objects import object_routes
from tams_server.objects.local import LocalObjectStore
from tams_server.objects.local_multipart import LocalMultipart

EXTENSION = "TAMS usage guide 7.0"


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


@pytest.fixture
async def document(http: httpx.AsyncClient) -> dict[str, Any]:
    """/openapi.json as the running server serves it."""
    return await served_document(http)


def upstream_operations() -> set[tuple[str, str]]:
    """The operations of the official spec (the vendored copy), the webhook
    notifications aside."""
    spec = yaml.safe_load(spec_folder().joinpath(SPEC_FILE).read_text(encoding="utf-8"))
    spec.pop("webhooks")
    return set(documented_operations(spec))


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    # The two upstream quirks (headers beside a response $ref) are fixed in the document.
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "8.2"


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every ``(key, value)`` pair of every mapping in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


async def test_the_document_is_self_contained(document: dict[str, Any]) -> None:
    refs = [value for key, value in walk(document) if key == "$ref"]
    assert len(refs) > 100
    assert [ref for ref in refs if not ref.startswith("#/components/")] == []
    for ref in set(refs):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    assert [value for key, value in walk(document) if key == "externalValue"] == []
    assert {"source", "flow-get", "flow-segment", "error"} <= set(document["components"]["schemas"])


async def test_the_webhook_registry_is_in_and_the_notifications_are_out(
    document: dict[str, Any],
) -> None:
    assert "webhooks" not in document
    webhook_paths = sorted(path for path in document["paths"] if "webhook" in path)
    assert webhook_paths == ["/service/webhooks", "/service/webhooks/{webhookId}"]
    assert "Webhooks" in {tag["name"] for tag in document["tags"]}


async def test_every_extension_operation_is_marked(document: dict[str, Any]) -> None:
    upstream = upstream_operations()
    extensions = set()
    for path, method, operation in operations(document):
        if (method.upper(), normalised(path)) in upstream:
            assert "x-tams-extension" not in operation, (method, path)
        else:
            assert operation.get("x-tams-extension") is True, (method, path)
            assert EXTENSION in operation["description"], (method, path)
            extensions.add((method.upper(), path))
    assert {
        ("POST", "/sources"),
        ("POST", "/sources/batch"),
        ("POST", "/flows/batch"),
        ("POST", "/flows/{flowId}/storage/batch"),
        ("GET", "/analytics/flow-usage"),
        ("GET", "/analytics/storage-usage"),
        ("GET", "/analytics/time-range-analysis"),
        ("DELETE", "/sources/{sourceId}"),
    } <= extensions


@pytest.mark.parametrize(
    ("method", "path", "names"),
    [
        *(
            (method, path, {"show_deleted"})
            for path in (
                "/sources", "/sources/{sourceId}", "/flows", "/flows/{flowId}",
                "/flows/{flowId}/segments",
            )
            for method in ("get", "head")
        ),
        ("delete", "/flows/{flowId}", {"soft_delete", "deleted_by"}),
        ("delete", "/flows/{flowId}/segments", {"soft_delete", "deleted_by"}),
        ("delete", "/sources/{sourceId}", {"deleted_by"}),
    ],
)  # fmt: skip
async def test_extension_parameters_are_marked(
    document: dict[str, Any], method: str, path: str, names: set[str]
) -> None:
    parameters = {
        parameter["name"]: parameter
        for parameter in document["paths"][path][method].get("parameters", [])
        if "name" in parameter
    }
    for name in names:
        assert parameters[name]["in"] == "query"
        assert parameters[name]["x-tams-extension"] is True
        assert EXTENSION in parameters[name]["description"]


@pytest.mark.parametrize(
    ("schema", "names"),
    [
        ("source", {"deleted", "deleted_by"}),
        ("flow-get", {"deleted", "deleted_by"}),
        ("flow-segment", {"deleted", "deleted_by", "storage_path"}),
    ],
)
async def test_extension_fields_are_marked(
    document: dict[str, Any], schema: str, names: set[str]
) -> None:
    properties = document["components"]["schemas"][schema]["properties"]
    for name in names:
        assert properties[name]["x-tams-extension"] is True
        assert properties[name]["readOnly"] is True
        assert name not in document["components"]["schemas"][schema].get("required", [])
    assert properties["deleted"]["format"] == "date-time"


async def test_every_paged_listing_may_answer_400(document: dict[str, Any]) -> None:
    paged = [
        (method, path, operation)
        for path, method, operation in operations(document)
        if any(
            parameter.get("name") == "page" or parameter.get("$ref", "").endswith("_paged_key")
            for parameter in operation.get("parameters", [])
        )
    ]
    assert len(paged) >= 10
    for method, path, operation in paged:
        assert "`page`" in operation["responses"]["400"]["description"], (method, path)


async def test_info_describes_the_deviations(document: dict[str, Any]) -> None:
    description = document["info"]["description"]
    for said in ("405", "413", "x-tams-extension", "`page`", "Webhooks"):
        assert said in description
    assert document["servers"] == [{"url": "/", "description": "This server"}]


async def test_the_documented_operations_are_the_served_ones(
    document: dict[str, Any], tmp_path: Path
) -> None:
    # The routes of the server's HTTP side, as tams_server.app.serve puts them together.
    objects = LocalObjectStore(tmp_path / "objects", "http://127.0.0.1:1", b"secret")
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:  # never called
        app = http_app([
            *object_routes(objects),
            *multipart_routes(objects, LocalMultipart(objects, tmp_path / "parts")),
            *gateway_routes(),
        ], channel)  # fmt: skip
    served = served_operations(app.routes)
    documented = documented_operations(document)
    assert ("GET", "/flows/{}/segments") in served
    assert {
        "documented but not served": sorted(documented - served),
        "served but not documented": sorted(served - documented),
    } == {"documented but not served": [], "served but not documented": []}


class Assets(HTMLParser):
    """The URLs of a page's scripts, styles and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"] or "")
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"] or "")


CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
async def test_the_pages_load_only_local_assets(
    http: httpx.AsyncClient, running: RunningServer, page: str, script: str
) -> None:
    response = await http.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text
    parser = Assets()
    parser.feed(response.text)
    assert any(script in url and url.endswith(".js") for url in parser.urls), parser.urls
    origin = urlsplit(running.http_url).netloc
    for url in parser.urls:
        absolute = urljoin(str(response.url), url)
        assert urlsplit(absolute).netloc == origin, url
        asset = await http.get(absolute)
        assert asset.status_code == 200, url
        suffix = Path(urlsplit(absolute).path).suffix
        assert CONTENT_TYPES[suffix] in asset.headers["content-type"], url
    # Nowhere else on the page either (no CDN, no fonts from elsewhere).
    hosts = set(re.findall(r"https?://([^/\"'\s]+)", response.text))
    assert hosts <= {origin}


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_head_answers_too(http: httpx.AsyncClient, path: str) -> None:
    response = await http.head(path)
    assert response.status_code == 200
    assert response.content == b""
