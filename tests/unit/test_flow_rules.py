"""Domain rules of Flows, checked without a server."""

from __future__ import annotations

from typing import Any

import pytest

from tams_server.domain import formats
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.flows import validate_flow, validate_flow_changes
from tams_server.domain.models import CollectionItem, Flow

FLOW_ID = "4f79cfd1-c057-47f4-8e4d-1b126ca7bf34"
SOURCE_ID = "2aa143ac-0ab7-4d75-bc32-5c00c13d186f"


def audio(codec: str, **essence: Any) -> Flow:
    return Flow(
        FLOW_ID, SOURCE_ID, formats.AUDIO, codec=codec,
        essence_parameters={"sample_rate": 48000, "channels": 2, **essence},
    )  # fmt: skip


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in error.value.field_violations]


def test_valid_flows_pass() -> None:
    validate_flow(audio("audio/aac"), essence_format=formats.AUDIO)
    validate_flow(audio("audio/x-raw-int", bit_depth=24), essence_format=formats.AUDIO)
    validate_flow(Flow(FLOW_ID, SOURCE_ID, formats.MULTI), essence_format=None)
    data = Flow(FLOW_ID, SOURCE_ID, formats.DATA, codec="text/plain", essence_parameters={})
    validate_flow(data, essence_format=formats.DATA)


@pytest.mark.parametrize(
    ("flow", "field"),
    [
        (audio("audio/x-raw-int"), "flow.essence_parameters.bit_depth"),
        (audio("audio/x-raw-float", bit_depth=16), "flow.essence_parameters.bit_depth"),
        (audio("audio/aac", channels=0), "flow.essence_parameters.channels"),
        (audio("audio/aac", unc_parameters={"unc_type": "zigzag"}),
         "flow.essence_parameters.unc_parameters.unc_type"),
        (audio("audio/aac", sample_rate=-1), "flow.essence_parameters.sample_rate"),
    ],
)  # fmt: skip
def test_audio_rules(flow: Flow, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_flow(flow, essence_format=formats.AUDIO)
    assert fields(caught) == [field]


def test_every_violation_is_reported_at_once() -> None:
    flow = audio("bad codec", channels=0, sample_rate=0)
    with pytest.raises(InvalidArgument) as caught:
        validate_flow(flow, essence_format=formats.AUDIO)
    assert sorted(fields(caught)) == [
        "flow.codec",
        "flow.essence_parameters.channels",
        "flow.essence_parameters.sample_rate",
    ]


def test_repeated_collection_member_is_refused() -> None:
    item = CollectionItem(SOURCE_ID)
    with pytest.raises(InvalidArgument) as caught:
        validate_flow_changes({"flow_collection": (item, item)})
    assert fields(caught) == ["flow.flow_collection[1].id"]


def test_container_mapping_rules() -> None:
    mapping = {"audio_track": {"channel_range": "0-1"}, "mxf_container": {"package_uid": "x"}}
    flow = Flow(FLOW_ID, SOURCE_ID, formats.MULTI, container_mapping=mapping)
    with pytest.raises(InvalidArgument) as caught:
        validate_flow(flow, essence_format=None)
    assert fields(caught) == [
        "flow.container_mapping.audio_track.channel_range",
        "flow.container_mapping.mxf_container.package_uid",
    ]
