"""Request bodies: JSON, bounded in size, checked against the operation's schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import jsonschema_rs
from google.protobuf import json_format
from starlette.requests import Request

from tams_server.gateway.query import BadRequest

MAX_BODY_BYTES = 16 << 20  # a batch of 10,000 segments fits
# The attribute of ``request.state`` holding the validator of the request's body
# (``validation.validated_routes`` sets it; None: the body is not checked).
BODY_VALIDATOR = "tams_body_validator"
# The attribute of ``request.state`` holding the resource as stored (its JSON) when the
# spec's answer has no body (a replaced Flow's 204), for a dialect that shows it.
STORED = "tams_stored"
# What schema error messages show instead of the value they are about (which may be
# a whole body).
MASK = "the value"


class BodyTooLarge(Exception):
    """A body over ``MAX_BODY_BYTES`` (413)."""


async def json_body(
    request: Request,
    *,
    max_items: int | None = None,
    path_id: str | None = None,
    prepare: Callable[[Any], Any] | None = None,
) -> Any:
    """The parsed JSON body, checked against the operation's schema: 400 when it is
    not JSON, too deeply nested, a list of more than ``max_items`` or not what the
    operation takes; 413 when it is too large (by its Content-Length before anything
    is read). With ``path_id`` (the id the path names), an object body's ``id`` may be
    left out (it is filled in) but must not differ. ``prepare`` rewrites the parsed
    body before the check (the gateway's wider input forms, into the spec's)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    if max_items is not None and isinstance(data, list) and len(data) > max_items:
        raise BadRequest(f"the body holds {len(data)} items; at most {max_items} per request")
    if prepare is not None:
        data = prepare(data)
    if path_id is not None and isinstance(data, dict) and data.setdefault("id", path_id) != path_id:
        raise BadRequest(f"the body's id {data['id']!r} is not the path's {path_id}")
    check_body(request, data)
    return data


def check_body(request: Request, data: Any) -> None:
    """400 when ``data`` (the parsed body) is not what the request's operation takes."""
    validator: jsonschema_rs.Validator | None = getattr(request.state, BODY_VALIDATOR, None)
    if validator is None:
        return
    try:
        error = best_error(validator.iter_errors(data))
    except RecursionError:  # pragma: no cover - json.loads refuses deeper bodies first
        raise BadRequest("the body is nested too deeply") from None
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        raise BadRequest(
            f"the body{where}: {error.message}",
            where=("body", *error.path, *([error.missing] if error.missing else [])),
            kind=error.kind,
            message=error.message,
        )


@dataclass(frozen=True)
class SchemaError:
    """What a request is refused for: where in it, and why."""

    path: list[str | int]
    message: str
    kind: str = ""
    """The schema keyword that refused it (``required``, ``type``...)."""
    missing: str | None = None
    """For ``required``: the property that is missing."""


def best_error(errors: Iterator[jsonschema_rs.ValidationError]) -> SchemaError | None:
    """The most telling of ``errors``: the deepest in the instance, looking into the
    branches of ``oneOf`` and ``anyOf`` (a Segment with a bad ``timerange`` is better
    reported as that than as matching neither a Segment nor a list of them); at equal
    depth, the one found in the fewest branches. When branches disagree at that depth
    (``format`` is "not video" in one, "not audio" in the next), the first is named and
    the others counted."""
    best: tuple[int, int] | None = None
    chosen: list[jsonschema_rs.ValidationError] = []
    for error, branches in _leaves(errors, 0):
        rank = (len(error.instance_path), -branches)
        if best is None or rank > best:
            best, chosen = rank, [error]
        elif rank == best:
            chosen.append(error)
    if not chosen:
        return None
    first = chosen[0]
    others = {e.message for e in chosen if e.instance_path == first.instance_path} - {first.message}
    message = first.message
    if others:
        message += f" (nor what {len(others)} other forms allowed here take)"
    kind = type(first.kind).__name__.lower()
    missing = getattr(first.kind, "property", None)
    return SchemaError(
        list(first.instance_path), message, kind, missing if isinstance(missing, str) else None
    )


def _leaves(
    errors: Iterator[jsonschema_rs.ValidationError], branches: int
) -> Iterator[tuple[jsonschema_rs.ValidationError, int]]:
    """The errors that have no branches of their own, with how many branches deep each
    was found."""
    for error in errors:
        context: list[list[jsonschema_rs.ValidationError]] | None = getattr(
            error.kind, "context", None
        )
        if context:
            for branch in context:
                yield from _leaves(iter(branch), branches + 1)
        else:
            yield error, branches


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
    except (json_format.ParseError, TypeError, ValueError, AttributeError) as error:
        raise BadRequest(f"{where} is not valid: {error}") from None
    except RecursionError:
        raise BadRequest(f"{where} is nested too deeply") from None


def batch_items(body: Any, key: str, parse: Callable[[Mapping[str, Any]], Parsed]) -> list[Parsed]:
    """The ``key`` list of a batch body (``{"flows": [...]}``), each item parsed; 400
    naming the bad one."""
    if not isinstance(body, Mapping) or not isinstance(body.get(key), list):
        raise BadRequest(f'the body must be {{"{key}": [...]}}')
    return [parse_object(item, parse, f"{key}[{i}]") for i, item in enumerate(body[key])]
