"""The OpenAPI document the REST gateway serves at ``/openapi.json``.

It is the official TAMS spec, vendored in ``openapi/``, made into what the gateway really
serves: one self-contained document (each schema file becomes a component, each example
file is inlined), without the webhook notifications it does not send yet, with the gateway's
extensions from ``openapi/extensions.yaml`` merged in, HEAD described wherever GET is,
and the deliberate deviations from the spec written in.
"""

from __future__ import annotations

import copy
import functools
import json
import posixpath
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from tams_server.gateway.body import MAX_BODY_BYTES

SPEC_FILE = "TimeAddressableMediaStore.yaml"
EXTENSIONS_FILE = "extensions.yaml"
# What extensions.yaml merges into the spec; its other top-level keys only hold anchors.
MERGED_KEYS = ("paths", "tags", "components")
METHODS = ("get", "head", "put", "post", "delete", "options", "patch", "trace")

EXTENSION_NOTE = "Extension from the TAMS usage guide 7.0, not in the official TAMS spec."
ERROR_CONTENT: dict[str, Any] = {
    "application/json": {"schema": {"$ref": "#/components/schemas/error"}}
}
UNKNOWN_PAGE = (
    "Bad request. Invalid query options, or a `page` key that this service did not issue."
)
UNKNOWN_PAGE_TOO = "So is a `page` key that this service did not issue."
DEVIATIONS = f"""
## This server

This is the official TAMS API spec as this server's REST gateway serves it:

- **Webhooks**: the registry (`/service/webhooks`) is served; the webhook notifications
  themselves are not sent yet and are left out.
- **Extensions** from the TAMS usage guide 7.0, not in the official spec, are marked
  `x-tams-extension: true`: creating Sources (one or a batch), creating Flows (one with a
  given or new id, or a batch), allocating storage in a batch, the Segments posted as the
  body of a segment POST's 201, `frame_rate` written `"25/1"`, `GET /health`, soft
  deletion (`show_deleted`, `soft_delete`, `deleted_by`, `DELETE /sources/{{sourceId}}`,
  the `deleted` and `deleted_by` fields), the `storage_path` of Segments, and usage and
  time-range analysis.
- **Checks**: every request is checked against this document before anything else: a
  body or query value it refuses is 400, a path id that its schema cannot match (or of
  more than 1024 characters) is 404; `timerange` query values also take ISO 8601
  instants, and booleans any case (`True`).
- **Paging**: every paged listing answers 400 to a `page` key that it did not issue.
- **Errors**: a method that a path does not allow is answered 405, and a request body of
  more than {MAX_BODY_BYTES:,} bytes 413, both with the spec's error body
  (`#/components/schemas/error`).
- **HEAD** is answered wherever GET is.
"""


def spec_folder() -> Traversable:
    """The vendored spec and the extensions, installed with the package."""
    return files("tams_server.gateway").joinpath("openapi")


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The served document, built once (callers must not change it)."""
    return build_document(spec_folder())


@functools.cache
def openapi_json() -> bytes:
    """The served document, encoded once."""
    return json.dumps(openapi_document(), ensure_ascii=False).encode()


def build_document(folder: Traversable) -> dict[str, Any]:
    """The served document, from the spec and the extensions in ``folder``."""
    spec = load_yaml(folder.joinpath(SPEC_FILE))
    _drop_webhooks(spec)
    extensions = load_yaml(folder.joinpath(EXTENSIONS_FILE))
    bundler = _Bundler(folder)
    document: dict[str, Any] = bundler.bundle(spec, SPEC_FILE)
    patch = {key: bundler.bundle(extensions[key], EXTENSIONS_FILE) for key in MERGED_KEYS}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in sorted(bundler.schemas):
        if name in schemas:
            raise ValueError(f"the spec already has a schema component named {name!r}")
        schemas[name] = bundler.schemas[name]
    merge(document, patch)
    _expand_references_with_siblings(document)
    describe_head(document)
    _describe_deviations(document)
    return document


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(path, method, operation)`` of every operation of ``document``."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Deep-merge ``patch`` into ``target``: mappings key by key; lists of named items
    (parameters, tags) by ``name`` and ``in``; other lists extended; anything else
    replaced."""
    for key, value in patch.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merge_list(current, value)
        else:
            target[key] = value


def merge_list(target: list[Any], patch: list[Any]) -> None:
    for item in patch:
        same = next((old for old in target if _named(old) and _key(old) == _key(item)), None)
        if _named(item) and same is not None:
            merge(same, item)
        elif item not in target:
            target.append(item)


def _named(item: Any) -> bool:
    return isinstance(item, dict) and "name" in item


def _key(item: Any) -> tuple[Any, Any]:
    return (item.get("name"), item.get("in")) if isinstance(item, dict) else (None, None)


def load_yaml(file: Traversable) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there is one
    loaded = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)
    if not isinstance(loaded, dict):
        raise ValueError(f"{file.name} is not a mapping")
    # A JSON round trip breaks up the objects that YAML aliases share, so that merging
    # into one cannot change the others.
    result: dict[str, Any] = json.loads(json.dumps(loaded))
    return result


def _drop_webhooks(spec: dict[str, Any]) -> None:
    """The webhook notifications (the spec's ``webhooks`` section) are not sent yet;
    the registry (``/service/webhooks``) is served."""
    spec.pop("webhooks", None)


class _Bundler:
    """Replaces the references to files of the spec folder: a schema file becomes the
    component ``#/components/schemas/<file name without .json>`` (collected once in
    ``schemas``), an example file (``examples/``) is inlined, as is an example's
    ``externalValue``."""

    def __init__(self, folder: Traversable) -> None:
        self._folder = folder
        self.schemas: dict[str, Any] = {}
        self._files: dict[str, str] = {}  # component name -> file

    def bundle(self, node: Any, base: str) -> Any:
        """``node``, read from the file ``base`` (relative to the folder), with every
        file reference replaced."""
        if isinstance(node, list):
            return [self.bundle(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return self._reference(node, self._path(ref, base), base)
        result = {key: self.bundle(value, base) for key, value in node.items()}
        external = result.get("externalValue")
        if isinstance(external, str) and "://" not in external:
            del result["externalValue"]
            result["value"] = self._read(self._path(external, base))
        return result

    def _reference(self, node: dict[str, Any], path: str, base: str) -> Any:
        if path.startswith("examples/"):
            return self._read(path)  # an example is a literal value, not a reference
        siblings = {key: self.bundle(value, base) for key, value in node.items() if key != "$ref"}
        name = posixpath.splitext(posixpath.basename(path))[0]
        if self._files.setdefault(name, path) != path:
            raise ValueError(f"two schema files are named {name}: {self._files[name]}, {path}")
        if name not in self.schemas:
            self.schemas[name] = {}  # taken before recursing: schemas may refer to themselves
            self.schemas[name] = self.bundle(self._read(path), path)
        return {"$ref": f"#/components/schemas/{name}", **siblings}

    @staticmethod
    def _path(ref: str, base: str) -> str:
        if "#" in ref:
            raise ValueError(f"unsupported reference into a file: {ref} (in {base})")
        path = posixpath.normpath(posixpath.join(posixpath.dirname(base), ref))
        if path.startswith("../") or posixpath.isabs(path):
            raise ValueError(f"reference out of the spec folder: {ref} (in {base})")
        return path

    def _read(self, path: str) -> Any:
        return json.loads(self._folder.joinpath(*path.split("/")).read_text(encoding="utf-8"))


def _expand_references_with_siblings(document: dict[str, Any]) -> None:
    """OpenAPI 3.1 lets a Reference Object carry only ``summary`` and ``description``,
    yet the spec puts ``headers`` beside two response references: such a response
    becomes a copy of what it refers to, with its other fields merged in."""
    for _, _, operation in operations(document):
        responses = operation.get("responses", {})
        for status, response in responses.items():
            ref = response.get("$ref")
            if isinstance(ref, str) and set(response) - {"$ref", "summary", "description"}:
                expanded = copy.deepcopy(_resolve(document, ref))
                merge(expanded, {key: value for key, value in response.items() if key != "$ref"})
                responses[status] = expanded


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def describe_head(document: dict[str, Any]) -> None:
    """Starlette answers HEAD wherever it answers GET; the spec describes HEAD for all
    its GETs, this does it for the GETs of the extensions."""
    for path, item in document["paths"].items():
        get = item.get("get")
        if get is None or "head" in item:
            continue
        head = {
            key: copy.deepcopy(value)
            for key, value in get.items()
            if key not in ("operationId", "description", "responses", "requestBody")
        }
        note = f"{EXTENSION_NOTE}\n" if get.get("x-tams-extension") else ""
        head["description"] = f"{note}Returns the headers of `GET {path}`, without a body."
        if "operationId" in get:
            head["operationId"] = "HEAD_" + get["operationId"].removeprefix("GET_")
        head["responses"] = {
            status: _without_body(response) for status, response in get["responses"].items()
        }
        rebuilt: dict[str, Any] = {}
        for key, value in item.items():
            if key == "get":
                rebuilt["head"] = head
            rebuilt[key] = value
        document["paths"][path] = rebuilt


def _without_body(response: dict[str, Any]) -> dict[str, Any]:
    return {key: copy.deepcopy(value) for key, value in response.items() if key != "content"}


def _describe_deviations(document: dict[str, Any]) -> None:
    for _, method, operation in operations(document):
        if not _is_paged(operation):
            continue
        responses = operation["responses"]
        if "400" not in responses:
            response: dict[str, Any] = {"description": UNKNOWN_PAGE}
            if method != "head":
                response["content"] = copy.deepcopy(ERROR_CONTENT)
            responses["400"] = response
            operation["responses"] = dict(sorted(responses.items(), key=_status_order))
        else:
            # A reference may override the description of what it refers to.
            response = responses["400"]
            said = response.get("description") or _resolve(document, response["$ref"]).get(
                "description", ""
            )
            if "`page`" not in said:
                response["description"] = f"{said.strip() or 'Bad request.'} {UNKNOWN_PAGE_TOO}"
    info = document["info"]
    info["description"] = info.get("description", "").rstrip("\n") + "\n" + DEVIATIONS
    # Relative to where the document is served, so that "Try it out" calls this server.
    document["servers"] = [{"url": "/", "description": "This server"}]


def _is_paged(operation: dict[str, Any]) -> bool:
    return any(
        parameter.get("name") == "page"
        or parameter.get("$ref") == "#/components/parameters/trait_resource_paged_key"
        for parameter in operation.get("parameters", [])
    )


def _status_order(item: tuple[str, Any]) -> tuple[int, str]:
    status = item[0]
    return (0, status) if status.isdigit() else (1, status)
