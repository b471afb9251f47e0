"""Request bodies: JSON, bounded in size."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format
from starlette.requests import Request

from tams_server.gateway.query import BadRequest

MAX_BODY_BYTES = 16 << 20  # a batch of 10,000 segments fits


class BodyTooLarge(Exception):
    """A body over ``MAX_BODY_BYTES`` (413)."""


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 400 when it is not JSON, 413 when it is too large."""
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None


Parsed = TypeVar("Parsed")


def parse_object(data: Any, parse: Callable[[Mapping[str, Any]], Parsed], where: str) -> Parsed:
    """``parse`` of a JSON object; 400 naming ``where`` (``the body``,
    ``flows[2]``...) when ``data`` is no object or ``parse`` refuses it."""
    if not isinstance(data, Mapping):
        raise BadRequest(f"{where} must be a JSON object")
    try:
        return parse(data)
    except BadRequest as error:
        raise BadRequest(f"{where}: {error.summary}", error.error_type) from None
    except (json_format.ParseError, TypeError, ValueError) as error:
        raise BadRequest(f"{where} is not valid: {error}") from None


def batch_items(body: Any, key: str, parse: Callable[[Mapping[str, Any]], Parsed]) -> list[Parsed]:
    """The ``key`` list of a batch body (``{"flows": [...]}``), each item parsed; 400
    naming the bad one."""
    if not isinstance(body, Mapping) or not isinstance(body.get(key), list):
        raise BadRequest(f'the body must be {{"{key}": [...]}}')
    return [parse_object(item, parse, f"{key}[{i}]") for i, item in enumerate(body[key])]
