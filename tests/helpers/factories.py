"""Builders of valid resources with fresh ids, so tests isolate by data."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.message import Message

from tams.v1 import common_pb2, flows_pb2, sources_pb2


def new_id() -> str:
    """A fresh id the TAMS pattern accepts."""
    return str(uuid.uuid4())


def unique_tag() -> str:
    """A tag value no other test uses, to filter listings down to one test's data."""
    return f"t-{uuid.uuid4().hex[:12]}"


def tag(value: str | list[str]) -> common_pb2.TagValue:
    """A TagValue from a string or a list."""
    if isinstance(value, str):
        return common_pb2.TagValue(string_value=value)
    return common_pb2.TagValue(list_value=common_pb2.StringList(values=value))


def _apply(message: Message, fields: dict[str, Any]) -> None:
    """Set fields of any kind: scalars, messages (copied), repeated (replaced), tags."""
    for name, value in fields.items():
        if name == "tags":
            message.tags.clear()  # type: ignore[attr-defined]
            for key, item in value.items():
                message.tags[key].CopyFrom(tag(item))  # type: ignore[attr-defined]
            continue
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.is_repeated:
            target = getattr(message, name)
            del target[:]
            target.extend(value)
        elif field.message_type is not None:
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)


def video_flow(**fields: Any) -> flows_pb2.Flow:
    """A valid 1080p25 H.264 video Flow; keyword arguments override fields."""
    flow = flows_pb2.Flow(
        id=new_id(),
        source_id=new_id(),
        format="urn:x-nmos:format:video",
        codec="video/h264",
        container="video/mp2t",
        video=flows_pb2.VideoEssenceParameters(
            frame_width=1920,
            frame_height=1080,
            frame_rate=common_pb2.Rational(numerator=25),
        ),
    )
    _apply(flow, fields)
    return flow


def audio_flow(**fields: Any) -> flows_pb2.Flow:
    """A valid 48 kHz stereo AAC audio Flow."""
    flow = flows_pb2.Flow(
        id=new_id(),
        source_id=new_id(),
        format="urn:x-nmos:format:audio",
        codec="audio/aac",
        container="video/mp2t",
        audio=flows_pb2.AudioEssenceParameters(sample_rate=48000, channels=2),
    )
    _apply(flow, fields)
    return flow


def source(**fields: Any) -> sources_pb2.Source:
    """A valid video Source."""
    message = sources_pb2.Source(id=new_id(), format="urn:x-nmos:format:video")
    _apply(message, fields)
    return message
