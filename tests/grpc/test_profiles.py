"""Profiles: immutable technical metadata that Flows are made from (TAMS
/service/profiles, Flow PUT with profile_id)."""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf import field_mask_pb2

from helpers.factories import new_id, unique_tag, video_flow
from helpers.spec import EXAMPLES
from helpers.status import failure
from tams.v1 import flows_pb2, flows_pb2_grpc, service_info_pb2, service_info_pb2_grpc
from tams_server.gateway.shapes import (
    FLOW_READ_ONLY_FIELDS,
    flow_from_json,
    flow_to_json,
    profile_from_json,
    profile_to_json,
)

ProfileStub = service_info_pb2_grpc.ServiceInfoServiceStub
TECHNICAL = {
    "format",
    "codec",
    "container",
    "avg_bit_rate",
    "segment_duration",
    "essence_parameters",
}


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


async def _create_profile(stub: ProfileStub, **changes: Any) -> dict[str, Any]:
    body = _example("profile-post-201.json") | {"id": new_id()} | changes
    await stub.CreateProfile(service_info_pb2.CreateProfileRequest(profile=profile_from_json(body)))
    return body


async def test_profile_example_round_trips(service_info: ProfileStub) -> None:
    body = await _create_profile(service_info)
    got = await service_info.GetProfile(service_info_pb2.GetProfileRequest(profile_id=body["id"]))
    stored = profile_to_json(got.profile)
    assert stored.pop("created")
    assert stored == {k: v for k, v in body.items() if k != "created"}


async def test_flow_from_profile_example(
    service_info: ProfileStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    profile = await _create_profile(service_info)
    body = _example("flow-put-profile.json") | {
        "id": new_id(),
        "source_id": new_id(),
        "profile_id": profile["id"],
    }
    response = await flows.UpdateFlow(
        flows_pb2.UpdateFlowRequest(flow=flow_from_json(body), allow_missing=True)
    )
    stored = flow_to_json(response.flow)
    given = {k: v for k, v in stored.items() if k not in TECHNICAL | FLOW_READ_ONLY_FIELDS}
    given.pop("metadata_version")
    assert given == body
    assert {k: stored[k] for k in TECHNICAL} == {k: profile["flow_metadata"][k] for k in TECHNICAL}


async def test_profile_rules(
    service_info: ProfileStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    profile = await _create_profile(service_info)
    again = profile_from_json(profile)
    result = await failure(
        service_info.CreateProfile(service_info_pb2.CreateProfileRequest(profile=again))
    )
    assert (result.code, result.reason) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "PROFILE_ALREADY_EXISTS",
    )
    multi = profile_from_json(
        profile | {"id": new_id(), "flow_metadata": {"format": "urn:x-nmos:format:multi"}}
    )
    result = await failure(
        service_info.CreateProfile(service_info_pb2.CreateProfileRequest(profile=multi))
    )
    assert result.fields == ["profile.flow_metadata.format"]
    no_essence = profile | {
        "id": new_id(),
        "flow_metadata": {"format": "urn:x-nmos:format:video", "codec": "video/h264"},
    }
    result = await failure(
        service_info.CreateProfile(
            service_info_pb2.CreateProfileRequest(profile=profile_from_json(no_essence))
        )
    )
    assert result.fields == ["profile.flow_metadata.essence_parameters"]

    both = video_flow(profile_id=profile["id"])
    result = await failure(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=both)))
    assert (result.code, result.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "PROFILE_CONFLICT")
    assert "flow.codec" in result.fields
    unknown = flows_pb2.Flow(id=new_id(), source_id=new_id(), profile_id=new_id())
    result = await failure(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=unknown)))
    assert (result.code, result.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "PROFILE_NOT_FOUND",
    )

    linked = flows_pb2.Flow(id=new_id(), source_id=new_id(), profile_id=profile["id"])
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=linked))
    result = await failure(
        flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flows_pb2.Flow(id=linked.id, avg_bit_rate=1),
                update_mask=field_mask_pb2.FieldMask(paths=["avg_bit_rate"]),
            )
        )
    )
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FLOW_HAS_PROFILE")
    # profile_id "" breaks the link, so technical metadata may change again.
    unlinked = video_flow(id=linked.id, source_id=linked.source_id, profile_id="")
    stored = (await flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=unlinked))).flow
    assert not stored.HasField("profile_id")
    assert stored.video.frame_width == 1920


async def test_list_profiles(service_info: ProfileStub) -> None:
    label = unique_tag()
    made = [await _create_profile(service_info, label=label) for _ in range(3)]
    seen, token = [], ""
    while True:
        page = await service_info.ListProfiles(
            service_info_pb2.ListProfilesRequest(label=label, page_size=2, page_token=token)
        )
        seen += [p.id for p in page.profiles]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(p["id"] for p in made)
    none = await service_info.ListProfiles(
        service_info_pb2.ListProfilesRequest(label=label, codec="audio/aac")
    )
    assert list(none.profiles) == []
