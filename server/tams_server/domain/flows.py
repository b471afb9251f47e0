"""Rules a Flow must satisfy before it is stored (TAMS `flow-*.json` schemas).

The edges give every field its type; these rules check values and combinations, and
name the offending field as ``flow.<path>`` so a caller can fix its request.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from tams_server.domain import formats
from tams_server.domain.errors import FieldViolation, InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.models import CollectionItem, Flow, JsonObject, Profile
from tams_server.domain.tags import TagValue

MIME_TYPE = re.compile(r"[^\s/]+/[^\s/]+")
_CHANNEL_RANGE = re.compile(r"[0-9]+_[0-9]+")
_MXF_PACKAGE_UID = re.compile(
    r"urn:smpte:umid:[0-9a-fA-F]{8}(.[0-9a-fA-F]{8}){7}"
    r"|urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)

FLOW_STATUSES = ("awaiting_content", "ingesting", "replication_in_progress", "closed_complete")
_VIDEO_ENUMS = {
    "interlace_mode": ("progressive", "interlaced_tff", "interlaced_bff", "interlaced_psf"),
    "colorspace": ("BT601", "BT709", "BT2020", "BT2100"),
    "transfer_characteristic": ("SDR", "HLG", "PQ"),
    "component_type": ("YCbCr", "RGB"),
}
_VIDEO_UNC_TYPES = (
    "planar", "YUYV", "UYVY", "AYUV", "v210", "v216", "RGB", "RGBx", "xRGB", "BGRx", "xBGR",
    "RGBA", "ARGB", "BGRA", "ABGR", "alpha",
)  # fmt: skip
_AUDIO_UNC_TYPES = ("interleaved", "planar", "pairs")
FORMATS_WITHOUT_ESSENCE = (formats.MULTI,)


class _Violations:
    """Collects every violation of a request, so one answer lists them all."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []
        self.reasons: list[Reason] = []

    def add(self, field: str, description: str, reason: Reason | None = None) -> None:
        self.items.append(FieldViolation(field, description))
        self.reasons.append(reason or _reason(description))

    def extend(self, error: InvalidArgument) -> None:
        for violation in error.field_violations:
            self.add(violation.field, violation.description, error.reason)

    def positive(self, obj: JsonObject, key: str, path: str, *, required: bool = False) -> None:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(f"{path}.{key}", "is required and must be > 0")
        elif value <= 0:
            self.add(f"{path}.{key}", f"must be > 0, got {value}")

    def non_negative(self, value: int | None, path: str) -> None:
        if value is not None and value < 0:
            self.add(path, f"must be >= 0, got {value}")

    def one_of(self, obj: JsonObject, key: str, allowed: Iterable[str], path: str) -> None:
        value = obj.get(key)
        allowed = tuple(allowed)
        if value is not None and value not in allowed:
            self.add(f"{path}.{key}", f"{value!r} is not one of {', '.join(allowed)}")

    def rational(self, obj: JsonObject, key: str, path: str, *, both_required: bool) -> None:
        value = obj.get(key)
        if value is None:
            return
        self.positive(value, "numerator", f"{path}.{key}", required=True)
        self.positive(value, "denominator", f"{path}.{key}", required=both_required)

    def mime(self, value: str | None, path: str) -> None:
        if value is not None and not MIME_TYPE.fullmatch(value):
            self.add(path, f"{value!r} is not a MIME type such as video/h264")

    def raise_if_any(self, what: str) -> None:
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
            raise InvalidArgument(
                f"invalid {what}: {first.field}: {first.description}{more}",
                reason=self.reasons[0] if len(set(self.reasons)) == 1 else Reason.INVALID_ARGUMENT,
                field_violations=self.items,
            )


def _reason(description: str) -> Reason:
    return (
        Reason.MISSING_FIELD if description.startswith("is required") else Reason.INVALID_ARGUMENT
    )


def validate_flow(flow: Flow, *, essence_format: str | None, path: str = "flow") -> None:
    """Check ``flow`` against the TAMS rules; ``essence_format`` is the format whose
    essence parameters the request carried (None when it carried none)."""
    check_uuid(flow.id, f"{path}.id")
    check_uuid(flow.source_id, f"{path}.source_id")
    if flow.profile_id is not None:
        _check_profile_link(flow, essence_format, path)
    else:
        formats.check_format(flow.format, f"{path}.format")

    v = _Violations()
    if essence_format is not None and essence_format != flow.format:
        raise InvalidArgument(
            f"{path}.essence_parameters: parameters for {essence_format} do not fit a "
            f"{flow.format} Flow",
            reason=Reason.FORMAT_MISMATCH,
            field_violations=[
                FieldViolation(
                    f"{path}.essence_parameters",
                    f"given for {essence_format}, but the Flow's format is {flow.format}",
                )
            ],
            metadata={"format": flow.format, "essenceFormat": essence_format},
        )
    needs_technical = flow.format not in FORMATS_WITHOUT_ESSENCE and flow.profile_id is None
    if needs_technical and flow.essence_parameters is None:
        v.add(f"{path}.essence_parameters", f"is required for {flow.format} Flows")
    if needs_technical and flow.codec is None:
        v.add(f"{path}.codec", f"is required for {flow.format} Flows")
    v.mime(flow.codec, f"{path}.codec")
    v.mime(flow.container, f"{path}.container")
    v.non_negative(flow.generation, f"{path}.generation")
    v.non_negative(flow.max_bit_rate, f"{path}.max_bit_rate")
    v.non_negative(flow.avg_bit_rate, f"{path}.avg_bit_rate")
    if flow.status is not None and flow.status not in FLOW_STATUSES:
        v.add(f"{path}.status", f"{flow.status!r} is not one of {', '.join(FLOW_STATUSES)}")
    if flow.segment_duration is not None:
        v.rational({"segment_duration": flow.segment_duration}, "segment_duration", path,
                   both_required=False)  # fmt: skip
    if flow.container_mapping is not None:
        _check_container_mapping(v, flow.container_mapping, f"{path}.container_mapping")
    if flow.essence_parameters is not None:
        _check_essence(v, flow, flow.essence_parameters, f"{path}.essence_parameters")
    _check_collection(v, flow.flow_collection, f"{path}.flow_collection")
    _check_tags(v, flow.tags, f"{path}.tags")
    v.raise_if_any("Flow")


TECHNICAL_FIELDS = (
    "codec",
    "container",
    "avg_bit_rate",
    "segment_duration",
    "container_mapping",
    "essence_parameters",
)


def _check_profile_link(flow: Flow, essence_format: str | None, path: str) -> None:
    """A Flow made from a Profile takes its technical metadata from it: giving any of
    it as well is an error (TAMS: "doing so will result in a 400")."""
    assert flow.profile_id is not None
    check_uuid(flow.profile_id, f"{path}.profile_id")
    if flow.format:
        formats.check_format(flow.format, f"{path}.format")
    given = [name for name in TECHNICAL_FIELDS if getattr(flow, name) is not None]
    if essence_format is not None and "essence_parameters" not in given:
        given.append("essence_parameters")
    if given:
        raise InvalidArgument(
            f"{path}.{given[0]}: must not be given with profile_id; the Profile supplies it",
            reason=Reason.PROFILE_CONFLICT,
            field_violations=[
                FieldViolation(f"{path}.{name}", "must not be given with profile_id")
                for name in given
            ],
        )


def with_technical_metadata(flow: Flow, metadata: JsonObject) -> Flow:
    """``flow`` with the format and technical metadata of a Profile's ``flow_metadata``."""
    return dataclasses.replace(
        flow,
        format=metadata["format"],
        codec=metadata.get("codec"),
        container=metadata.get("container"),
        avg_bit_rate=metadata.get("avg_bit_rate"),
        segment_duration=metadata.get("segment_duration"),
        container_mapping=metadata.get("container_mapping"),
        essence_parameters=metadata.get("essence_parameters"),
    )


def validate_profile(profile: Profile, *, essence_format: str | None) -> None:
    """A Profile holds the technical metadata of a video, audio, image or data Flow."""
    check_uuid(profile.id, "profile.id")
    metadata = profile.flow_metadata
    formats.check_format(metadata.get("format", ""), "profile.flow_metadata.format")
    if metadata["format"] == formats.MULTI:
        raise InvalidArgument.for_field(
            "profile.flow_metadata.format", "a Profile cannot describe a multi-essence Flow"
        )
    flow = with_technical_metadata(Flow(profile.id, profile.id, metadata["format"]), metadata)
    validate_flow(flow, essence_format=essence_format, path="profile.flow_metadata")
    for name in profile.tags:
        if not name:
            raise InvalidArgument.for_field("profile.tags", "tag names must not be empty")


def _check_essence(v: _Violations, flow: Flow, essence: JsonObject, path: str) -> None:
    if flow.format == formats.VIDEO:
        _check_video(v, flow.codec, essence, path)
    elif flow.format == formats.AUDIO:
        _check_audio(v, flow.codec, essence, path)
    elif flow.format == formats.IMAGE:
        v.positive(essence, "frame_width", path, required=True)
        v.positive(essence, "frame_height", path, required=True)
        v.rational(essence, "aspect_ratio", path, both_required=True)


def _check_video(v: _Violations, codec: str | None, essence: JsonObject, path: str) -> None:
    v.positive(essence, "frame_width", path, required=True)
    v.positive(essence, "frame_height", path, required=True)
    for key in ("bit_depth", "horiz_chroma_subs", "vert_chroma_subs"):
        v.positive(essence, key, path)
    for key, allowed in _VIDEO_ENUMS.items():
        v.one_of(essence, key, allowed, path)
    v.rational(essence, "aspect_ratio", path, both_required=True)
    v.rational(essence, "pixel_aspect_ratio", path, both_required=True)
    v.rational(essence, "frame_rate", path, both_required=False)
    unc = _check_unc_parameters(v, essence, _VIDEO_UNC_TYPES, path)
    avc = essence.get("avc_parameters")
    if avc is not None:
        for key in ("profile", "level", "flags"):
            if key not in avc:
                v.add(f"{path}.avc_parameters.{key}", "is required")
    if essence.get("vfr"):
        if "frame_rate" in essence:
            v.add(f"{path}.frame_rate", "must not be set when vfr is true")
    elif "frame_rate" not in essence:
        v.add(f"{path}.frame_rate", "is required unless vfr is true")
    if codec == "video/raw":
        if "bit_depth" not in essence:
            v.add(f"{path}.bit_depth", "is required for codec video/raw")
        if unc is None:
            v.add(f"{path}.unc_parameters.unc_type", "is required for codec video/raw")


def _check_audio(v: _Violations, codec: str | None, essence: JsonObject, path: str) -> None:
    v.positive(essence, "sample_rate", path, required=True)
    v.positive(essence, "channels", path, required=True)
    v.positive(essence, "bit_depth", path)
    _check_unc_parameters(v, essence, _AUDIO_UNC_TYPES, path)
    bit_depth = essence.get("bit_depth")
    if codec == "audio/x-raw-int" and bit_depth is None:
        v.add(f"{path}.bit_depth", "is required for codec audio/x-raw-int")
    if codec == "audio/x-raw-float" and bit_depth not in (32, 64):
        v.add(f"{path}.bit_depth", "must be 32 or 64 for codec audio/x-raw-float")


def _check_unc_parameters(
    v: _Violations, essence: JsonObject, unc_types: Iterable[str], path: str
) -> JsonObject | None:
    """Checks the essence's ``unc_parameters``, if given, and returns them (None: not
    given)."""
    unc: JsonObject | None = essence.get("unc_parameters")
    if unc is not None:
        if not unc.get("unc_type"):
            v.add(f"{path}.unc_parameters.unc_type", "is required")
        v.one_of(unc, "unc_type", unc_types, f"{path}.unc_parameters")
    return unc


def _check_container_mapping(v: _Violations, mapping: JsonObject, path: str) -> None:
    v.non_negative(mapping.get("track_index"), f"{path}.track_index")
    v.non_negative(mapping.get("format_track_index"), f"{path}.format_track_index")
    audio = mapping.get("audio_track") or {}
    for i, number in enumerate(audio.get("channel_numbers", ())):
        v.non_negative(number, f"{path}.audio_track.channel_numbers[{i}]")
    channel_range = audio.get("channel_range")
    if channel_range is not None and not _CHANNEL_RANGE.fullmatch(channel_range):
        v.add(f"{path}.audio_track.channel_range", f"{channel_range!r} is not like '0_1'")
    uid = (mapping.get("mxf_container") or {}).get("package_uid")
    if uid is not None and not _MXF_PACKAGE_UID.fullmatch(uid):
        v.add(f"{path}.mxf_container.package_uid", f"{uid!r} is not a SMPTE UMID or UUID URN")


def _check_collection(v: _Violations, items: tuple[CollectionItem, ...], path: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        try:
            check_uuid(item.id, f"{path}[{i}].id")
        except InvalidArgument as error:
            v.extend(error)
            continue
        if item.id in seen:
            v.add(f"{path}[{i}].id", f"{item.id} is listed more than once")
        seen.add(item.id)
        if item.container_mapping is not None:
            _check_container_mapping(v, item.container_mapping, f"{path}[{i}].container_mapping")


def _check_tags(v: _Violations, tags: dict[str, TagValue], path: str) -> None:
    """Tag names must be non-empty (they appear in URL paths)."""
    for name in tags:
        if not name:
            v.add(path, "tag names must not be empty")


def check_tag_name(name: str, field: str) -> str:
    """A tag name given on its own (set or delete one tag)."""
    if not name:
        raise InvalidArgument.for_field(field, "is required", reason=Reason.MISSING_FIELD)
    return name


def essence_summary(essence: JsonObject | None) -> dict[str, Any]:
    """The essence values the store indexes for filtering."""
    essence = essence or {}
    return {
        "frame_width": essence.get("frame_width"),
        "frame_height": essence.get("frame_height"),
        "init_segments": essence.get("init_segments"),
    }


def validate_flow_changes(changes: dict[str, Any], *, path: str = "flow") -> None:
    """Check the new values of a single-property update (the same rules as a whole
    Flow, applied to just these properties)."""
    v = _Violations()
    for key in ("max_bit_rate", "avg_bit_rate"):
        v.non_negative(changes.get(key), f"{path}.{key}")
    status = changes.get("status")
    if status is not None and status not in FLOW_STATUSES:
        v.add(f"{path}.status", f"{status!r} is not one of {', '.join(FLOW_STATUSES)}")
    _check_collection(v, tuple(changes.get("flow_collection") or ()), f"{path}.flow_collection")
    _check_tags(v, changes.get("tags") or {}, f"{path}.tags")
    v.raise_if_any("update")
