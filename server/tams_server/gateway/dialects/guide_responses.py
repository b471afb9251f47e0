"""The spec's answers, as the usage guide's (spec -> guide).

Each translation takes the answer of the spec's route (its status, parsed JSON body
and headers) and the guide request's own body, and answers what the guide shows.
Listings of Sources and Flows (and the other listings the guide does not show) are
wrapped as ``{"data": [...], "paging": {"next", "limit", "count", "next_key"}}``; a
Flow Segment listing stays a bare array, as the guide shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, RedirectResponse, Response

from tams_server.gateway.dialects.guide_errors import guide_error
from tams_server.gateway.dialects.guide_requests import GUIDE_NAMES
from tams_server.tai import NS_PER_S, tai_ns_to_utc_datetime


@dataclass(frozen=True)
class Answer:
    """What the spec's route answered, and what the guide client asked."""

    status: int
    body: Any
    """The parsed JSON body; None without one."""
    headers: Mapping[str, str]
    request_body: Any
    """The guide request's body as sent (parsed JSON), None without one."""
    query: Mapping[str, str]
    """The request's query parameters."""
    stored: Any = None
    """The resource as stored, when the spec's route kept it (``body.STORED``)."""
    base_url: str = ""
    """The base URL the request was made to (``http://host:port``, no trailing ``/``)."""


Translation = Callable[[Answer], Response]
_SPEC_NAMES = {spec: guide for guide, spec in GUIDE_NAMES.items()}


def rational_text(value: Any) -> Any:
    """``{"numerator": 25, "denominator": 1}`` as ``"25/1"``."""
    if isinstance(value, dict) and isinstance(value.get("numerator"), int):
        return f"{value['numerator']}/{value.get('denominator', 1)}"
    return value


def flow_out(flow: Any) -> Any:
    """A spec Flow as the guide's: essence flat, ``updated``, and the fields the
    guide always shows (``tags``, ``read_only``, the bit rates) even when unset."""
    if not isinstance(flow, dict):
        return flow
    data: dict[str, Any] = {}
    for key, value in flow.items():
        if key == "essence_parameters" and isinstance(value, dict):
            audio = flow.get("format") == "urn:x-nmos:format:audio"
            for name, item in value.items():
                guide_name = str(_SPEC_NAMES.get(name, name) if audio else name)
                data[guide_name] = rational_text(item) if name == "frame_rate" else item
        elif key == "metadata_updated":
            data["updated"] = value
        else:
            data[key] = value
    if "created_by" in data:
        data.setdefault("updated_by", data["created_by"])  # no update since its creation
    data.setdefault("tags", {})
    data.setdefault("read_only", False)
    data.setdefault("max_bit_rate", None)
    data.setdefault("avg_bit_rate", None)
    return data


def source_out(source: Any) -> Any:
    """A spec Source as the guide's, with the lists and tags it always shows."""
    if not isinstance(source, dict):
        return source
    data = {"tags": {}, "source_collection": [], "collected_by": [], **source}
    if "created_by" in data:
        data.setdefault("updated_by", data["created_by"])  # no update since its creation
    return data


def envelope(items: list[Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """A page of a listing as the guide's ``{"data", "paging"}``: ``next`` is the URL
    of the next page (the spec's ``Link``), null on the last."""
    link = headers.get("link", "")
    next_url = link[1 : link.index(">")] if link.startswith("<") and ">" in link else None
    paging: dict[str, Any] = {
        "next": next_url,
        "limit": int(headers.get("x-paging-limit", len(items)) or len(items)),
        "count": len(items),
    }
    if "x-paging-nextkey" in headers:
        paging["next_key"] = headers["x-paging-nextkey"]
    return {"data": items, "paging": paging}


def _json(answer: Answer, body: Any, status: int | None = None) -> JSONResponse:
    headers = {
        k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")
    }
    return JSONResponse(body, status_code=status or answer.status, headers=headers)


def listing(item: Callable[[Any], Any] = lambda x: x) -> Translation:
    def translate(answer: Answer) -> Response:
        if not isinstance(answer.body, list):
            return _json(answer, answer.body)
        return _json(answer, envelope([item(x) for x in answer.body], answer.headers))

    return translate


def single(item: Callable[[Any], Any]) -> Translation:
    return lambda answer: _json(answer, item(answer.body))


def batch(key: str, item: Callable[[Any], Any]) -> Translation:
    """The spec's ``{key: [...]}`` batch answer as the guide's bare array."""

    def translate(answer: Answer) -> Response:
        if isinstance(answer.body, dict) and isinstance(answer.body.get(key), list):
            return _json(answer, [item(x) for x in answer.body[key]])
        return _json(answer, answer.body)

    return translate


def put_flow(answer: Answer) -> Response:
    """The Flow as stored: 201 when created, 200 when replaced (which the spec
    answers 204 without a body)."""
    if answer.status == 201:
        return _json(answer, flow_out(answer.body))
    if answer.status == 204:
        return _json(answer, flow_out(answer.stored), 200)
    return _json(answer, answer.body)


def echo(answer: Answer) -> Response:
    """200 with the value set (the spec answers 204 without a body)."""
    if answer.status == 204:
        return _json(answer, answer.request_body, 200)
    return _json(answer, answer.body)


# The status of a single Segment's refusal, by its reason (the guide's "404 Object Not
# Found", "403 Permission Denied"); any other is a bad request.
SEGMENT_REFUSALS = {"OBJECT_UNKNOWN": 404, "AUTH_CLASS_DENIED": 403}


def segments_posted(answer: Answer) -> Response:
    """The created Segments as the guide shows them: as sent (with its
    ``storage_path``), ``ts_offset``/``last_duration`` null when not given, and
    ``get_urls`` naming the guide's download of the Object (``/objects/{id}/download``,
    which redirects to where its bytes are). One Segment (a body that is no list)
    refused is an error, as any refused request is to the guide's clients (whose
    ``raise_for_status`` would take the spec's 200 with ``failed_segments`` for a
    success); a list keeps the spec's partial failure answer."""
    failed = answer.body.get("failed_segments") if isinstance(answer.body, dict) else None
    if answer.status == 200 and isinstance(answer.request_body, dict) and failed:
        error = failed[0].get("error", {})
        reason = str(error.get("type", ""))
        status = SEGMENT_REFUSALS.get(reason, 400)
        return guide_error(None, status, reason, str(error.get("summary", "")))
    if answer.status != 201:
        return _json(answer, answer.body)

    def one(segment: Any) -> Any:
        if not isinstance(segment, dict):
            return segment
        object_id = str(segment.get("object_id", ""))
        download = f"{answer.base_url}/objects/{quote(object_id, safe='/')}/download"
        urls = [{"url": download, "presigned": False, "controlled": True}]
        return {**segment, "ts_offset": segment.get("ts_offset"),
                "last_duration": segment.get("last_duration"),
                "get_urls": segment.get("get_urls", urls)}  # fmt: skip

    sent = answer.request_body
    return _json(answer, [one(s) for s in sent] if isinstance(sent, list) else one(sent))


def put_url_out(item: Any) -> Any:
    """A spec ``put_url`` (``url``, ``content-type``) as the guide's request
    description (``method``, ``url``, ``headers``), and the guide's ``put_cors_url``:
    the same request, since a presigned PUT URL is one a browser can use too, when the
    store answers its cross-origin requests (an S3 bucket's CORS configuration; the
    TAMS spec dropped the separate URL for that reason, ADR 0039)."""
    if not isinstance(item, dict) or not isinstance(item.get("put_url"), dict):
        return item
    put = item["put_url"]
    headers = dict(put.get("headers", {}))
    if put.get("content-type"):
        headers.setdefault("Content-Type", put["content-type"])
    request = {"method": "PUT", "url": put.get("url"), "headers": headers}
    return {**item, "put_url": request, "put_cors_url": {**request, "headers": dict(headers)}}


def storage(answer: Answer) -> Response:
    """``{"pre": [...], "media_objects": [...]}``: no bucket needs creating first here
    (``pre`` is empty)."""
    if answer.status != 201 or not isinstance(answer.body, dict):
        return _json(answer, answer.body)
    media = [put_url_out(m) for m in answer.body.get("media_objects", [])]
    return _json(answer, {"pre": [], "media_objects": media})


def storage_batch(answer: Answer) -> Response:
    """One allocation per item of the guide's batch: its Object (whose id is its
    storage path), the URL to upload it to and when the allocation expires."""
    if answer.status != 201 or not isinstance(answer.body, dict):
        return _json(answer, answer.body)
    allocations = []
    for result in answer.body.get("results", []):
        for media in result.get("media_objects", []):
            allocations.append({
                "allocation_id": f"alloc-{media['object_id']}",
                "object_id": media["object_id"],
                "storage_path": media["object_id"],
                "presigned_upload_url": media.get("put_url", {}).get("url"),
                "expires_at": result.get("expires"),
                "status": "allocated",
            })  # fmt: skip
    return _json(answer, allocations)


def storage_backends(answer: Answer) -> Response:
    """``{"storage_backends": [...]}``, each with the guide's ``name``, ``type`` and
    ``default`` beside the spec's fields."""
    if not isinstance(answer.body, list):
        return _json(answer, answer.body)
    backends = [
        {**b, "name": b.get("label", b.get("id")), "type": b.get("store_type"),
         "default": b.get("default_storage", False)}
        for b in answer.body
    ]  # fmt: skip
    return _json(answer, {"storage_backends": backends})


def object_info(answer: Answer) -> Response:
    """The spec's Object with the guide's ``flow_references``: each Flow that uses it,
    with the Object's timerange."""
    if not isinstance(answer.body, dict):
        return _json(answer, answer.body)
    references = [
        {"flow_id": flow_id, "timerange": answer.body.get("timerange")}
        for flow_id in answer.body.get("referenced_by_flows", [])
    ]
    return _json(answer, {**answer.body, "flow_references": references})


def download(answer: Answer) -> Response:
    """``/objects/{id}/download``: a redirect (307) to the Object's first URL (a
    controlled one first)."""
    if not isinstance(answer.body, dict):
        return _json(answer, answer.body)
    urls = sorted(answer.body.get("get_urls", []), key=lambda u: not u.get("controlled", False))
    if not urls:
        return _json(
            answer,
            {"type": "NOT_FOUND", "summary": "the Object has no URL to download it from"},
            404,
        )
    return RedirectResponse(urls[0]["url"], status_code=307)


def flow_usage(answer: Answer) -> Response:
    """``/flow-usage``: the guide's names for the counts."""
    body = answer.body
    if not isinstance(body, dict) or answer.status != 200:
        return _json(answer, body)
    active = body.get("total_flows", 0)
    deleted = body.get("deleted_flows", 0)
    return _json(answer, {
        "total_flows": active + deleted,
        "active_flows": active,
        "deleted_flows": deleted,
        "flows_by_format": body.get("format_distribution", {}),
        "flows_by_source": body.get("source_distribution", {}),
        **{k: v for k, v in body.items() if k not in ("total_flows", "deleted_flows")},
    })  # fmt: skip


def storage_usage(answer: Answer) -> Response:
    """``/storage-usage``: the guide's names for the totals."""
    body = answer.body
    if not isinstance(body, dict) or answer.status != 200:
        return _json(answer, body)
    return _json(answer, {
        "total_objects": body.get("total_objects", 0),
        "total_size_bytes": body.get("total_storage_bytes", 0),
        "objects_by_flow": body.get("objects_by_flow", {}),
        "storage_by_month": body.get("storage_by_month", {}),
        **body,
    })  # fmt: skip


def _ns(timestamp: str) -> int:
    """A TAMS timestamp (``seconds:nanoseconds``) in nanoseconds, exactly."""
    seconds, _, nanos = timestamp.lstrip("-").partition(":")
    value = int(seconds) * NS_PER_S + int(nanos or 0)
    return -value if timestamp.startswith("-") else value


def _seconds(timestamp: Any) -> float:
    """A TAMS timestamp (``seconds:nanoseconds``) in seconds."""
    if not isinstance(timestamp, str) or ":" not in timestamp:
        return 0.0
    seconds, nanos = timestamp.lstrip("-").split(":", 1)
    value = int(seconds) + int(nanos or 0) / 1e9
    return -value if timestamp.startswith("-") else value


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else value


def gap_out(gap: str) -> dict[str, Any]:
    """A gap timerange as the guide's ``{start, end, duration_seconds}`` (ISO 8601
    instants, UTC: the TAI timestamps less the leap seconds, as the server reads ISO
    instants the other way)."""
    inner = gap.strip("[]()")
    start, _, end = inner.partition("_")

    def instant(timestamp: str) -> str | None:
        if not timestamp:
            return None
        moment = tai_ns_to_utc_datetime(_ns(timestamp))
        return moment.isoformat().replace("+00:00", "Z")

    duration = _seconds(end) - _seconds(start) if start and end else None
    return {
        "start": instant(start),
        "end": instant(end),
        "duration_seconds": None if duration is None else _number(duration),
    }


def time_range_analysis(answer: Answer) -> Response:
    """``/time-range-analysis``: the guide's names (``coverage_percentage``, gaps
    with ``start``/``end``/``duration_seconds``, ``time_distribution.hourly``: the
    seconds covered in each hour of the day, UTC)."""
    body = answer.body
    if not isinstance(body, dict) or answer.status != 200:
        return _json(answer, body)
    coverage = body.get("coverage")
    data = {
        "flow_id": answer.query.get("flow_id"),
        "total_segments": body.get("total_segments", 0),
        "total_duration_seconds": _number(_seconds(body.get("covered_duration"))),
        "coverage_percentage": None if coverage is None else round(coverage * 100, 1),
        "gaps": [gap_out(g) for g in body.get("gaps", [])],
        "overlaps": body.get("overlaps", []),
        "time_distribution": {
            "hourly": {
                hour: _number(_seconds(covered))
                for hour, covered in body.get("hourly_distribution", {}).items()
            }
        },
    }
    rest = {k: v for k, v in body.items() if k not in data and k not in ("gaps", "coverage")}
    return _json(answer, {**data, **rest})
