"""FlowService: create-or-replace with an implicit Source, property updates, tags,
read-only Flows, collections, deletion; every bad input rejected, nothing written."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from helpers.factories import audio_flow, new_id, tag, unique_tag, video_flow
from helpers.status import failure
from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc, sources_pb2, sources_pb2_grpc

FlowStub = flows_pb2_grpc.FlowServiceStub


def _mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


async def _get(flows: FlowStub, flow_id: str) -> flows_pb2.Flow:
    return (await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id))).flow


async def _exists(flows: FlowStub, flow_id: str) -> bool:
    try:
        await _get(flows, flow_id)
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return False
    return True


async def test_put_creates_flow_and_source(
    flows: FlowStub, sources: sources_pb2_grpc.SourceServiceStub
) -> None:
    flow = video_flow(label="cam", tags={"a": "1"})
    response = await flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True))
    assert response.created
    stored = response.flow
    assert stored.created.seconds > 0
    assert stored.metadata_version
    assert stored.video.frame_width == 1920
    assert stored.video.frame_rate.numerator == 25
    assert not stored.video.frame_rate.HasField("denominator")
    source = (
        await sources.GetSource(sources_pb2.GetSourceRequest(source_id=flow.source_id))
    ).source
    assert source.format == flow.format


async def test_put_replaces_whole_flow(flows: FlowStub) -> None:
    flow = video_flow(label="one", tags={"a": "1"})
    first = (
        await flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True))
    ).flow
    replacement = video_flow(id=flow.id, source_id=flow.source_id, description="two")
    response = await flows.UpdateFlow(
        flows_pb2.UpdateFlowRequest(flow=replacement, allow_missing=True)
    )
    assert not response.created
    second = response.flow
    assert not second.HasField("label")
    assert second.description == "two"
    assert dict(second.tags) == {}  # PUT replaces tags wholesale
    assert second.created == first.created
    assert second.metadata_version != first.metadata_version


async def test_create_refuses_existing_and_replace_refuses_missing(flows: FlowStub) -> None:
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    result = await failure(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow)))
    assert (result.code, result.reason) == (grpc.StatusCode.ALREADY_EXISTS, "FLOW_ALREADY_EXISTS")
    missing = video_flow()
    result = await failure(flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=missing)))
    assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")
    assert not await _exists(flows, missing.id)


def _without(flow: flows_pb2.Flow, field: str) -> flows_pb2.Flow:
    flow.ClearField(field)
    return flow


BAD_FLOWS = [
    ("bad id", video_flow(id="123"), "flow.id", "INVALID_ID"),
    ("bad source id", video_flow(source_id="nope"), "flow.source_id", "INVALID_ID"),
    (
        "unknown format",
        video_flow(format="urn:x-nmos:format:hologram"),
        "flow.format",
        "INVALID_FORMAT",
    ),
    ("no format", _without(video_flow(), "format"), "flow.format", "MISSING_FIELD"),
    ("no codec", _without(video_flow(), "codec"), "flow.codec", "MISSING_FIELD"),
    ("no essence", _without(video_flow(), "video"), "flow.essence_parameters", "MISSING_FIELD"),
    (
        "audio essence on video",
        video_flow(audio=flows_pb2.AudioEssenceParameters(sample_rate=1, channels=1)),
        "flow.essence_parameters",
        "FORMAT_MISMATCH",
    ),
    (
        "zero width",
        video_flow(
            video=flows_pb2.VideoEssenceParameters(
                frame_height=1080, frame_rate=common_pb2.Rational(numerator=25)
            )
        ),
        "flow.essence_parameters.frame_width",
        "MISSING_FIELD",
    ),
    (
        "no frame rate",
        video_flow(video=flows_pb2.VideoEssenceParameters(frame_width=1, frame_height=1)),
        "flow.essence_parameters.frame_rate",
        "MISSING_FIELD",
    ),
    (
        "frame rate with vfr",
        video_flow(
            video=flows_pb2.VideoEssenceParameters(
                frame_width=1,
                frame_height=1,
                vfr=True,
                frame_rate=common_pb2.Rational(numerator=25),
            )
        ),
        "flow.essence_parameters.frame_rate",
        "INVALID_ARGUMENT",
    ),
    (
        "bad colorspace",
        video_flow(
            video=flows_pb2.VideoEssenceParameters(
                frame_width=1,
                frame_height=1,
                colorspace="BT999",
                frame_rate=common_pb2.Rational(numerator=25),
            )
        ),
        "flow.essence_parameters.colorspace",
        "INVALID_ARGUMENT",
    ),
    (
        "raw video without bit depth",
        video_flow(
            codec="video/raw",
            video=flows_pb2.VideoEssenceParameters(
                frame_width=1,
                frame_height=1,
                frame_rate=common_pb2.Rational(numerator=25),
                unc_parameters=flows_pb2.UncompressedVideoParameters(unc_type="v210"),
            ),
        ),
        "flow.essence_parameters.bit_depth",
        "MISSING_FIELD",
    ),
    (
        "float audio bit depth",
        audio_flow(
            codec="audio/x-raw-float",
            audio=flows_pb2.AudioEssenceParameters(sample_rate=48000, channels=2, bit_depth=24),
        ),
        "flow.essence_parameters.bit_depth",
        "INVALID_ARGUMENT",
    ),
    ("bad codec", video_flow(codec="h264"), "flow.codec", "INVALID_ARGUMENT"),
    ("negative bit rate", video_flow(max_bit_rate=-1), "flow.max_bit_rate", "INVALID_ARGUMENT"),
    ("bad status", video_flow(status="done"), "flow.status", "INVALID_ARGUMENT"),
    (
        "bad member id",
        video_flow(flow_collection=[common_pb2.CollectionItem(id="x")]),
        "flow.flow_collection[0].id",
        "INVALID_ID",
    ),
    (
        "negative denominator",
        video_flow(segment_duration=common_pb2.Rational(numerator=1, denominator=-2)),
        "flow.segment_duration.denominator",
        "INVALID_ARGUMENT",
    ),
]


@pytest.mark.parametrize(
    ("flow", "field", "reason"), [c[1:] for c in BAD_FLOWS], ids=[c[0] for c in BAD_FLOWS]
)
async def test_bad_flow_is_rejected_and_not_stored(
    flows: FlowStub,
    sources: sources_pb2_grpc.SourceServiceStub,
    flow: flows_pb2.Flow,
    field: str,
    reason: str,
) -> None:
    request = flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True)
    result = await failure(flows.UpdateFlow(request))
    assert result.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in result.fields
    assert result.reason == reason
    if "id" not in field:
        assert not await _exists(flows, flow.id)
        source = await failure(
            sources.GetSource(sources_pb2.GetSourceRequest(source_id=flow.source_id))
        )
        assert source.code == grpc.StatusCode.NOT_FOUND  # no implicit Source either


async def test_format_must_match_existing_source(flows: FlowStub) -> None:
    video = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video))
    audio = audio_flow(source_id=video.source_id)
    result = await failure(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=audio)))
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FORMAT_MISMATCH")
    assert result.metadata["sourceFormat"] == video.format
    assert not await _exists(flows, audio.id)


async def test_property_updates_and_tags(flows: FlowStub) -> None:
    flow = video_flow(label="old")
    created = (await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))).flow
    change = flows_pb2.Flow(id=flow.id, label="new", max_bit_rate=8000, avg_bit_rate=5000)
    updated = (
        await flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=change, update_mask=_mask("label", "max_bit_rate", "avg_bit_rate")
            )
        )
    ).flow
    assert (updated.label, updated.max_bit_rate, updated.avg_bit_rate) == ("new", 8000, 5000)
    assert updated.metadata_version != created.metadata_version
    assert updated.metadata_updated.ToNanoseconds() > created.metadata_updated.ToNanoseconds()
    assert updated.video == created.video  # untouched
    cleared = (
        await flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flows_pb2.Flow(id=flow.id), update_mask=_mask("max_bit_rate")
            )
        )
    ).flow
    assert not cleared.HasField("max_bit_rate")
    assert cleared.label == "new"
    tagged = (
        await flows.SetFlowTag(
            flows_pb2.SetFlowTagRequest(flow_id=flow.id, name="genre", value=tag("news"))
        )
    ).flow
    assert tagged.tags["genre"].string_value == "news"
    assert tagged.metadata_version != cleared.metadata_version
    untagged = (
        await flows.DeleteFlowTag(flows_pb2.DeleteFlowTagRequest(flow_id=flow.id, name="genre"))
    ).flow
    assert "genre" not in untagged.tags


async def test_bad_property_updates_change_nothing(flows: FlowStub) -> None:
    flow = video_flow(label="kept")
    created = (await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))).flow
    cases = [
        (flows_pb2.Flow(id=flow.id, max_bit_rate=-5), ("max_bit_rate",), "flow.max_bit_rate"),
        (flows_pb2.Flow(id=flow.id, label="x"), ("codec",), "update_mask"),
        (flows_pb2.Flow(id=flow.id, status="bogus"), ("status",), "flow.status"),
        (flows_pb2.Flow(id="bad", label="x"), ("label",), "flow.id"),
    ]
    for change, paths, field in cases:
        result = await failure(
            flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=change, update_mask=_mask(*paths)))
        )
        assert result.code == grpc.StatusCode.INVALID_ARGUMENT
        assert field in result.fields
    assert await _get(flows, flow.id) == created


async def test_read_only_flow_refuses_every_write_but_read_only(flows: FlowStub) -> None:
    flow = video_flow(label="frozen", read_only=True)
    created = (await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))).flow
    writes = [
        flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flows_pb2.Flow(id=flow.id, label="x"), update_mask=_mask("label")
            )
        ),
        flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flows_pb2.Flow(id=flow.id, label="x", read_only=False),
                update_mask=_mask("label", "read_only"),
            )
        ),
        flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(flow=video_flow(id=flow.id, source_id=flow.source_id))
        ),
        flows.SetFlowTag(flows_pb2.SetFlowTagRequest(flow_id=flow.id, name="a", value=tag("b"))),
        flows.DeleteFlowTag(flows_pb2.DeleteFlowTagRequest(flow_id=flow.id, name="a")),
        flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow.id)),
        flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=flow.id, soft_delete=True)),
    ]
    for write in writes:
        result = await failure(write)
        assert (result.code, result.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "FLOW_READ_ONLY",
        )
    assert await _get(flows, flow.id) == created
    # The read_only change itself goes through, by property or by a PUT changing only it.
    unlocked = (
        await flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flows_pb2.Flow(id=flow.id, read_only=False), update_mask=_mask("read_only")
            )
        )
    ).flow
    assert unlocked.read_only is False
    relocked = flows_pb2.Flow()
    relocked.CopyFrom(flow)
    await flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=relocked))
    relocked.read_only = False
    assert (
        await flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=relocked))
    ).flow.read_only is False


async def test_collections_infer_collected_by_and_source_collections(
    flows: FlowStub, sources: sources_pb2_grpc.SourceServiceStub
) -> None:
    video, audio = video_flow(), audio_flow()
    for member in (video, audio):
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=member))
    multi = flows_pb2.Flow(
        id=new_id(),
        source_id=new_id(),
        format="urn:x-nmos:format:multi",
        flow_collection=[
            common_pb2.CollectionItem(id=audio.id, role="audio"),
            common_pb2.CollectionItem(
                id=video.id, container_mapping=common_pb2.ContainerMapping(track_index=0)
            ),
        ],
    )
    stored = (await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=multi))).flow
    assert [item.id for item in stored.flow_collection] == [audio.id, video.id]  # order kept
    assert stored.flow_collection[1].container_mapping.track_index == 0
    # GetFlow reads a Flow in a collection (either side) in full.
    got = await _get(flows, multi.id)
    assert [(item.id, item.role) for item in got.flow_collection] == [
        (audio.id, "audio"),
        (video.id, ""),
    ]
    assert got.flow_collection[1].container_mapping.track_index == 0
    assert list((await _get(flows, video.id)).collected_by) == [multi.id]
    multi_source = (
        await sources.GetSource(sources_pb2.GetSourceRequest(source_id=multi.source_id))
    ).source
    assert [(i.id, i.role) for i in multi_source.source_collection] == [
        (audio.source_id, "audio"),
        (video.source_id, ""),
    ]
    video_source = (
        await sources.GetSource(sources_pb2.GetSourceRequest(source_id=video.source_id))
    ).source
    assert list(video_source.collected_by) == [multi.source_id]
    listed = await flows.ListFlows(
        flows_pb2.ListFlowsRequest(filter=flows_pb2.FlowFilter(collected_by_ids=[multi.id]))
    )
    assert {f.id for f in listed.flows} == {video.id, audio.id}
    # Members must exist; nothing is written otherwise.
    ghost = video_flow(flow_collection=[common_pb2.CollectionItem(id=new_id())])
    result = await failure(flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=ghost)))
    assert (result.code, result.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "COLLECTION_MEMBER_NOT_FOUND",
    )
    assert not await _exists(flows, ghost.id)
    emptied = (
        await flows.UpdateFlow(
            flows_pb2.UpdateFlowRequest(
                flow=flows_pb2.Flow(id=multi.id), update_mask=_mask("flow_collection")
            )
        )
    ).flow
    assert list(emptied.flow_collection) == []
    assert list((await _get(flows, video.id)).collected_by) == []


async def test_delete_flow_removes_it_and_its_last_source(
    flows: FlowStub, sources: sources_pb2_grpc.SourceServiceStub
) -> None:
    first = video_flow()
    second = video_flow(source_id=first.source_id)
    for flow in (first, second):
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    response = await flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=first.id))
    assert not response.HasField("delete_request")
    assert not await _exists(flows, first.id)
    await sources.GetSource(sources_pb2.GetSourceRequest(source_id=first.source_id))
    await flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=second.id))
    result = await failure(
        sources.GetSource(sources_pb2.GetSourceRequest(source_id=first.source_id))
    )
    assert result.code == grpc.StatusCode.NOT_FOUND
    result = await failure(flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=second.id)))
    assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "FLOW_NOT_FOUND")


async def test_soft_delete_flow(flows: FlowStub) -> None:
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    await flows.DeleteFlow(
        flows_pb2.DeleteFlowRequest(flow_id=flow.id, soft_delete=True, deleted_by="bob")
    )
    assert not await _exists(flows, flow.id)
    shown = (await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id, show_deleted=True))).flow
    assert shown.deleted_by == "bob"
    result = await failure(
        flows.UpdateFlow(flows_pb2.UpdateFlowRequest(flow=flow, allow_missing=True))
    )
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FLOW_DELETED")


async def test_get_with_timerange(flows: FlowStub) -> None:
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    plain = await _get(flows, flow.id)
    assert not plain.HasField("timerange")
    with_range = (
        await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id, include_timerange=True))
    ).flow
    assert with_range.timerange == "()"  # no Segments yet
    result = await failure(
        flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id, timerange="[1.5_2:0)"))
    )
    assert (result.reason, result.fields) == ("INVALID_TIMERANGE", ["timerange"])


async def test_list_filters(flows: FlowStub) -> None:
    marker = unique_tag()
    hd = video_flow(tags={"run": marker}, label="hd")
    sd = video_flow(
        tags={"run": marker, "k": ["a", "b"]},
        video=flows_pb2.VideoEssenceParameters(
            frame_width=720, frame_height=576, frame_rate=common_pb2.Rational(numerator=25),
            init_segments=True,
        ),
    )  # fmt: skip
    sound = audio_flow(tags={"run": marker})
    sound.tags["run"].string_value = marker
    for flow in (hd, sd, sound):
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    run = common_pb2.TagFilter(name="run", values=[marker])

    async def ids(**filters: object) -> set[str]:
        f = flows_pb2.FlowFilter(tags=[run, *filters.pop("tags", [])], **filters)  # type: ignore[arg-type]
        response = await flows.ListFlows(flows_pb2.ListFlowsRequest(filter=f))
        return {flow.id for flow in response.flows}

    assert await ids() == {hd.id, sd.id, sound.id}
    assert await ids(format="urn:x-nmos:format:audio") == {sound.id}
    assert await ids(codec="video/h264") == {hd.id, sd.id}
    assert await ids(label="hd") == {hd.id}
    assert await ids(source_id=sd.source_id) == {sd.id}
    assert await ids(frame_width=720) == {sd.id}
    assert await ids(frame_height=1080) == {hd.id}
    assert await ids(init_segments=True) == {sd.id}
    assert await ids(init_segments=False) == {hd.id, sound.id}
    assert await ids(tags=[common_pb2.TagFilter(name="k", values=["b"])]) == {sd.id}
    assert await ids(tags=[common_pb2.TagFilter(name="k", exists=False)]) == {hd.id, sound.id}
    assert await ids(timerange="_") == set()  # what overlaps all time: none has Segments
    assert await ids(timerange="()") == {hd.id, sd.id, sound.id}  # none has Segments yet
    assert await ids(timerange="[0:0_10:0)") == set()
    assert await ids(not_collected=True) == {hd.id, sd.id, sound.id}


async def test_label_prefix_matches_the_start_of_labels_exactly(flows: FlowStub) -> None:
    """``label_prefix`` (the usage guide's ``label``): case-sensitive, LIKE's wildcards
    plain characters."""
    marker = unique_tag()
    made = {label: video_flow(tags={"run": marker}, label=label)
            for label in ("Main Video", "main video", "10%", "100", "x_y", "xzy")}  # fmt: skip
    for flow in made.values():
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    run = common_pb2.TagFilter(name="run", values=[marker])

    async def labelled(prefix: str) -> set[str]:
        f = flows_pb2.FlowFilter(tags=[run], label_prefix=prefix)
        found = {f.id for f in (await flows.ListFlows(flows_pb2.ListFlowsRequest(filter=f))).flows}
        return {label for label, flow in made.items() if flow.id in found}

    assert await labelled("Main") == {"Main Video"}
    assert await labelled("10%") == {"10%"}
    assert await labelled("x_") == {"x_y"}
    assert await labelled("Main Video!") == set()


async def test_list_rejects_bad_filters(flows: FlowStub) -> None:
    cases = [
        (flows_pb2.FlowFilter(source_id="x"), "filter.source_id"),
        (flows_pb2.FlowFilter(timerange="[a_b)"), "filter.timerange"),
        (flows_pb2.FlowFilter(collected_by_ids=["x"]), "filter.collected_by_ids[0]"),
    ]
    for f, field in cases:
        result = await failure(flows.ListFlows(flows_pb2.ListFlowsRequest(filter=f)))
        assert (result.code, result.fields) == (grpc.StatusCode.INVALID_ARGUMENT, [field])
    result = await failure(flows.ListFlows(flows_pb2.ListFlowsRequest(sort_by=42)))  # type: ignore[arg-type]
    assert result.fields == ["sort_by"]
