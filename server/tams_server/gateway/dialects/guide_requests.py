"""The usage guide's requests, as the spec's (guide -> spec).

Each translation takes the parsed JSON body a guide client sends and answers the body
the spec's route takes; what is no JSON, or not the form expected, is passed on
unchanged for the spec's checks to refuse. ``guide_location`` maps a spec body
location back to the guide's names, for its validation errors.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tams_server.gateway.query import BadRequest
from tams_server.gateway.shapes import rational_from_text
from tams_server.tai import ISO_INSTANT, format_timestamp, iso_to_tai_ns

# The Flow fields the guide writes at the top level that the spec keeps in
# ``essence_parameters`` (those of every format's essence), and the guide's other
# names for some of them.
ESSENCE_FIELDS = frozenset({
    "aspect_ratio", "avc_parameters", "bit_depth", "colorspace", "component_type",
    "frame_height", "frame_rate", "frame_width", "horiz_chroma_subs", "interlace_mode",
    "pixel_aspect_ratio", "transfer_characteristic", "unc_parameters", "vert_chroma_subs",
    "vfr", "channels", "codec_parameters", "sample_rate", "data_type",
})  # fmt: skip
GUIDE_NAMES = {"bits_per_sample": "bit_depth"}
# Fields the guide shows on Flows that the spec's Flow has under other names, or
# that the server manages (ignored on input, as the spec does with its own).
FLOW_RENAMED_IN = {"updated": "metadata_updated"}

BodyTranslation = Callable[[Any, Mapping[str, str]], Any]


def flow_in(data: Any) -> Any:
    """A guide Flow (flat ``frame_width``, ``frame_rate: "25/1"``, ``bits_per_sample``)
    as the spec's (``essence_parameters``); a spec Flow is left as it is."""
    if not isinstance(data, dict):
        return data
    flow: dict[str, Any] = {}
    essence = (
        dict(data["essence_parameters"])
        if isinstance(data.get("essence_parameters"), dict)
        else None
    )
    for key, value in data.items():
        name = GUIDE_NAMES.get(key, key)
        if name in ESSENCE_FIELDS:
            essence = {} if essence is None else essence
            essence.setdefault(name, value)
        elif key in FLOW_RENAMED_IN:
            continue  # server-managed
        elif key in ("max_bit_rate", "avg_bit_rate") and value is None:
            continue  # the guide shows unset rates as null
        elif key != "essence_parameters":
            flow[key] = value
    if essence is not None:
        if isinstance(essence.get("frame_rate"), str):
            essence["frame_rate"] = rational_from_text(essence["frame_rate"])
        flow["essence_parameters"] = essence
    return flow


def _batch(key: str, item: Callable[[Any], Any] = lambda x: x) -> BodyTranslation:
    """A guide batch (a bare array) as the spec's ``{key: [...]}``."""

    def translate(data: Any, params: Mapping[str, str]) -> Any:
        if isinstance(data, list):
            return {key: [item(x) for x in data]}
        return data

    return translate


_GUIDE_TIMERANGE = re.compile(rf"([\[(]?)({ISO_INSTANT})?(?::({ISO_INSTANT}))?([\])]?)")


def _timestamp(instant: str) -> str:
    """An ISO 8601 instant (UTC, or with its offset) as the TAMS timestamp the server
    makes of it: TAI, with the leap seconds (``tams_server.tai``, which the server's
    own parsing of ISO timeranges uses)."""
    return format_timestamp(iso_to_tai_ns(instant))


def timerange_in(value: Any) -> Any:
    """The guide's timeranges, ISO 8601 instants joined by ``:``
    (``[2024-12-20T10:00:00Z:2024-12-20T10:00:10Z)``), as TAMS timeranges
    (``[1734688837:0_1734688847:0)``, TAI); any other value unchanged (and a date
    that does not exist too: the spec's check refuses it)."""
    if not isinstance(value, str):
        return value
    match = _GUIDE_TIMERANGE.fullmatch(value.strip())
    if match is None or not (match[2] or match[3]):
        return value
    try:
        start = _timestamp(match[2]) if match[2] else ""
        end = _timestamp(match[3]) if match[3] else ""
    except ValueError:
        return value
    return f"{match[1] or '['}{start}_{end}{match[4] or ')'}"


def timerange_query_in(value: str) -> str:
    """A guide timerange in a query, as the ISO 8601 form the server parses (and takes
    from UTC to TAI): only the separator changes (``:`` -> ``_``)."""
    match = _GUIDE_TIMERANGE.fullmatch(value.strip())
    if match is None or not (match[2] or match[3]):
        return value
    return f"{match[1] or '['}{match[2] or ''}_{match[3] or ''}{match[4] or ')'}"


def segments_in(data: Any, params: Mapping[str, str]) -> Any:
    """Segments as the spec posts them: timeranges as TAMS writes them; the guide's
    ``storage_path`` (where the Object is) is not a Segment field of the spec: the
    Object's id names it."""

    def one(segment: Any) -> Any:
        if isinstance(segment, dict):
            posted = {k: v for k, v in segment.items() if k != "storage_path"}
            if "timerange" in posted:
                posted["timerange"] = timerange_in(posted["timerange"])
            return posted
        return segment

    return [one(s) for s in data] if isinstance(data, list) else one(data)


def storage_in(data: Any, params: Mapping[str, str]) -> Any:
    """The guide sends ``object_ids`` and ``limit`` together; the spec takes one of
    them: the ids win (``limit`` only counts new ids the service would choose)."""
    if isinstance(data, dict) and data.get("object_ids") and "limit" in data:
        return {k: v for k, v in data.items() if k != "limit"}
    return data


_INSTANT = re.compile(r"[\[(]?(\d{4})-(\d{2})-(\d{2})T")


def automatic_storage_path(flow_id: str, timerange: Any, object_id: str) -> str:
    """``{flow_id}/{year}/{month}/{day}/{object_id}``, the date the start of
    ``timerange`` (the guide's form ``[2024-12-20T10:00:00Z:...)``), or today (UTC)
    without one."""
    match = _INSTANT.match(timerange) if isinstance(timerange, str) else None
    if match is not None:
        year, month, day = match[1], match[2], match[3]
    else:
        today = datetime.now(UTC)
        year, month, day = f"{today.year:04d}", f"{today.month:02d}", f"{today.day:02d}"
    return f"{flow_id}/{year}/{month}/{day}/{object_id}"


def storage_batch_in(data: Any, params: Mapping[str, str]) -> Any:
    """The guide's batch allocation (an array of ``{flow_id, size_bytes,
    content_type, timerange | storage_path}``) as the spec's batch of requests of one
    Object each, whose id is its storage path: the item's ``storage_path``, or the
    automatic ``{flow_id}/{yyyy}/{mm}/{dd}/{uuid}``."""
    if not isinstance(data, list):
        return data
    flow_id = params.get("flow_id", "")
    requests: list[Any] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            requests.append(item)  # refused by the spec's check
            continue
        path = item.get("storage_path")
        if not isinstance(path, str) or not path:
            path = automatic_storage_path(flow_id, item.get("timerange"), str(uuid.uuid4()))
        request: dict[str, Any] = {"object_ids": [path]}
        if "storage_id" in item:
            request["storage_id"] = item["storage_id"]
        if "flow_id" in item and item["flow_id"] != flow_id:
            message = f"{item['flow_id']!r} is not the Flow of the path, {flow_id}"
            raise BadRequest(
                f"the body[{index}].flow_id: {message}",
                where=("body", index, "flow_id"), kind="const", message=message,
            )  # fmt: skip
        requests.append(request)
    return {"requests": requests}


BODIES: dict[tuple[str, str], BodyTranslation] = {
    ("POST", "/sources/batch"): _batch("sources"),
    ("POST", "/flows"): lambda data, params: flow_in(data),
    ("PUT", "/flows/{flow_id}"): lambda data, params: flow_in(data),
    ("POST", "/flows/batch"): _batch("flows", flow_in),
    ("POST", "/flows/{flow_id}/segments"): segments_in,
    ("POST", "/flows/{flow_id}/storage"): storage_in,
    ("POST", "/flows/{flow_id}/storage/batch"): storage_batch_in,
}
# Query parameters the guide's requests mean when they leave them out: its deletes
# are soft unless ``soft_delete=false``, and a Source goes with the Flows that render
# it (its 204 for a Source its own Flows render; TAMS ADR 0018 ties a Source's life to
# its Flows').
# Its Segments may name Objects never allocated, whose bytes come later (its "Create
# Flow Segment" before its "Allocate Storage" of the same Object): the first Segment
# allocates such an Object, and a later allocation of its id gives its upload URL.
QUERY_DEFAULTS: dict[tuple[str, str], dict[str, str]] = {
    ("DELETE", "/sources/{source_id}"): {"delete_flows": "true"},
    ("POST", "/flows/{flow_id}/segments"): {"allocate_unknown_objects": "true"},
    ("POST", "/flows/{flow_id}/storage"): {"reissue_pending": "true"},
    ("DELETE", "/flows/{flow_id}"): {"soft_delete": "true"},
    ("DELETE", "/flows/{flow_id}/segments"): {"soft_delete": "true"},
}


# Query parameters the guide names otherwise: its ``label=Main Camera`` finds "Main
# Camera 1", a prefix match (the spec's ``label`` is exact).
QUERY_RENAMES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/sources"): {"label": "label_prefix"},
    ("GET", "/flows"): {"label": "label_prefix"},
}


def guide_location(key: tuple[str, str], where: tuple[str | int, ...]) -> list[str | int]:
    """A location in the spec's form of a body (``body.flows[1].essence_parameters
    .frame_width``) as the guide names it (``body[1].frame_width``)."""
    parts = list(where)
    method, path = key
    batches = {"/sources/batch", "/flows/batch", "/flows/{flow_id}/storage/batch"}
    if method == "POST" and path in batches and len(parts) > 1 and isinstance(parts[1], str):
        del parts[1]  # the spec's {"flows": [...]} is the guide's bare array
    if "flows" in path or path == "/flows":
        parts = [p for p in parts if p != "essence_parameters"]
        parts = [_GUIDE_NAME_OF.get(p, p) if isinstance(p, str) else p for p in parts]
    return parts


_GUIDE_NAME_OF = {spec: guide for guide, spec in GUIDE_NAMES.items()}
