"""The OpenAPI document of the usage guide's dialect, served at ``/openapi.json`` (and so
shown by ``/docs`` and ``/redoc``) when the gateway runs with ``--rest-dialect guide-7.0``.

The dialect serves the spec dialect's routes with other JSON, and a few paths of its own
(``guide_routes``); so its document is the spec dialect's served document with the
overlay ``openapi/guide-7.0.yaml`` applied (the guide's info, error body and shapes),
the guide's Analytics paths made from the spec's ``/analytics/*`` operations, the PUTs
that echo what they set answering 200 with it, every error answer with the guide's
error body, and HEAD described wherever GET is."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from tams_server.gateway.dialects.guide_routes import _PROPERTY_SUFFIXES, ALIASES
from tams_server.gateway.openapi_doc import (
    ERROR_CONTENT,
    METHODS,
    describe_head,
    load_yaml,
    merge_list,
    openapi_document,
    spec_folder,
)

GUIDE_FILE = "guide-7.0.yaml"
# The guide's Analytics answers, by the spec's ``/analytics/*`` path they translate.
ANALYTICS = {
    "/analytics/flow-usage": "guide-flow-usage",
    "/analytics/storage-usage": "guide-storage-usage",
    "/analytics/time-range-analysis": "guide-time-range-analysis",
}
# The resources whose property PUTs the dialect answers 200 with the value set.
_PROPERTY_OWNERS = ("/flows/{flowId}", "/sources/{sourceId}")


@functools.cache
def guide_openapi_document() -> dict[str, Any]:
    """The guide dialect's document, built once (callers must not change it)."""
    return build_guide_document(openapi_document(), load_yaml(spec_folder() / GUIDE_FILE))


@functools.cache
def guide_openapi_json() -> bytes:
    """The guide dialect's document, encoded once."""
    return json.dumps(guide_openapi_document(), ensure_ascii=False).encode()


def build_guide_document(spec: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` (the guide's) applied over a copy of the spec dialect's document."""
    document = copy.deepcopy(spec)
    document["info"] = overlay["info"]
    schemas = document["components"]["schemas"]
    for name, schema in overlay["components"]["schemas"].items():
        if name in schemas and name != "error":
            raise ValueError(f"the spec already has a schema component named {name!r}")
        schemas[name] = schema
    for path, item in overlay["paths"].items():
        target = document["paths"].setdefault(path, {})
        for key, value in item.items():
            if key in METHODS and key in target:
                _apply(target[key], value)
            else:
                target[key] = value
    _analytics(document)
    _echoing_puts(document)
    _error_bodies(document)
    describe_head(document)
    return document


def _apply(operation: dict[str, Any], patch: dict[str, Any]) -> None:
    """``patch`` over ``operation``: responses status by status (None removes one),
    parameters by name, anything else replaced."""
    for key, value in patch.items():
        if key == "responses":
            responses = operation.setdefault("responses", {})
            for status, response in value.items():
                if response is None:
                    responses.pop(status, None)
                else:
                    responses[status] = response
            operation["responses"] = dict(sorted(responses.items()))
        elif key == "parameters":
            merge_list(operation.setdefault("parameters", []), value)
        else:
            operation[key] = value


def _analytics(document: dict[str, Any]) -> None:
    """The guide's Analytics answers, at its own paths and at the spec's."""
    paths = document["paths"]
    served = {path: target for path, _, (_, target), _ in ALIASES}
    for path, target in served.items():
        schema = ANALYTICS.get(target)
        if schema is None:
            continue
        get = copy.deepcopy(paths[target]["get"])
        ok = get["responses"]["200"]
        ok["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
        ok["description"] = document["components"]["schemas"][schema]["title"] + "."
        if path != target:
            get["operationId"] = "GET_" + path.strip("/")
            paths[path] = {"get": get}
        else:
            paths[path]["get"] = get


def _echoing_puts(document: dict[str, Any]) -> None:
    """A PUT of a property answers 200 with the value set (the spec's answers 204)."""
    for path, item in document["paths"].items():
        put = item.get("put")
        if put is None or not path.startswith(_PROPERTY_OWNERS):
            continue
        if not path.endswith(_PROPERTY_SUFFIXES) or "204" not in put["responses"]:
            continue
        responses = put["responses"]
        del responses["204"]
        responses["200"] = {
            "description": "The value set.",
            "content": copy.deepcopy(put["requestBody"]["content"]),
        }
        put["responses"] = dict(sorted(responses.items()))


def _error_bodies(document: dict[str, Any]) -> None:
    """Every error answer has the guide's body (``#/components/schemas/error``, which
    the overlay makes the guide's), including those the spec describes without one."""
    for item in document["paths"].values():
        for method, operation in item.items():
            if method not in METHODS or method == "head":
                continue
            for status, response in operation.get("responses", {}).items():
                if status[:1] in "45" and "content" not in response and "$ref" not in response:
                    response["content"] = copy.deepcopy(ERROR_CONTENT)
