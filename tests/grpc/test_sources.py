"""SourceService: create (single, batch), get, list with filters and paging, property
updates, soft delete; every bad input rejected with nothing written."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from helpers.factories import new_id, source, tag, unique_tag, video_flow
from helpers.status import failure
from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc, sources_pb2, sources_pb2_grpc

SourceStub = sources_pb2_grpc.SourceServiceStub


async def _list_ids(stub: SourceStub, **kwargs: object) -> list[str]:
    response = await stub.ListSources(sources_pb2.ListSourcesRequest(**kwargs))  # type: ignore[arg-type]
    return [s.id for s in response.sources]


async def test_create_then_get(sources: SourceStub) -> None:
    given = source(label="Camera 1", description="Studio A", tags={"genre": ["news", "live"]})
    created = (await sources.CreateSource(sources_pb2.CreateSourceRequest(source=given))).source
    assert created.created.seconds > 0
    assert created.updated == created.created
    got = (await sources.GetSource(sources_pb2.GetSourceRequest(source_id=given.id))).source
    assert got == created
    assert got.label == "Camera 1"
    assert list(got.tags["genre"].list_value.values) == ["news", "live"]


async def test_create_twice_is_already_exists(sources: SourceStub) -> None:
    given = source()
    await sources.CreateSource(sources_pb2.CreateSourceRequest(source=given))
    result = await failure(sources.CreateSource(sources_pb2.CreateSourceRequest(source=given)))
    assert result.code == grpc.StatusCode.ALREADY_EXISTS
    assert result.reason == "SOURCE_ALREADY_EXISTS"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"id": "not-a-uuid"}, "source.id", "INVALID_ID"),
        ({"id": "6F1D0A52-8C35-4D8E-9C6F-52A1D9F0B4E1"}, "source.id", "INVALID_ID"),
        ({"id": "1ef8a2c4-8c35-7d8e-9c6f-52a1d9f0b4e1"}, "source.id", "INVALID_ID"),  # UUIDv7
        ({"id": ""}, "source.id", "MISSING_FIELD"),
        ({"format": "urn:x-nmos:format:smell"}, "source.format", "INVALID_FORMAT"),
        ({"format": ""}, "source.format", "MISSING_FIELD"),
    ],
)
async def test_bad_source_is_rejected_and_not_stored(
    sources: SourceStub, change: dict[str, str], field: str, reason: str
) -> None:
    given = source(label=unique_tag())
    for key, value in change.items():
        setattr(given, key, value)
    result = await failure(sources.CreateSource(sources_pb2.CreateSourceRequest(source=given)))
    assert result.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (result.reason, result.fields) == (reason, [field])
    assert await _list_ids(sources, filter=sources_pb2.SourceFilter(label=given.label)) == []


async def test_batch_create_is_atomic(sources: SourceStub) -> None:
    label = unique_tag()
    existing = source()
    await sources.CreateSource(sources_pb2.CreateSourceRequest(source=existing))
    batch = [source(label=label), source(label=label), existing]
    result = await failure(
        sources.BatchCreateSources(sources_pb2.BatchCreateSourcesRequest(sources=batch))
    )
    assert result.code == grpc.StatusCode.ALREADY_EXISTS
    assert result.metadata["sourceId"] == existing.id
    assert await _list_ids(sources, filter=sources_pb2.SourceFilter(label=label)) == []
    ok = await sources.BatchCreateSources(sources_pb2.BatchCreateSourcesRequest(sources=batch[:2]))
    assert [s.id for s in ok.sources] == [batch[0].id, batch[1].id]


async def test_batch_with_repeated_id_or_bad_member_is_rejected(sources: SourceStub) -> None:
    first = source()
    result = await failure(
        sources.BatchCreateSources(sources_pb2.BatchCreateSourcesRequest(sources=[first, first]))
    )
    assert (result.code, result.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["sources[1].id"])
    bad = source(format="urn:bad")
    result = await failure(
        sources.BatchCreateSources(sources_pb2.BatchCreateSourcesRequest(sources=[source(), bad]))
    )
    assert result.fields == ["sources[1].format"]
    result = await failure(sources.BatchCreateSources(sources_pb2.BatchCreateSourcesRequest()))
    assert result.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_get_unknown_and_malformed(sources: SourceStub) -> None:
    result = await failure(sources.GetSource(sources_pb2.GetSourceRequest(source_id=new_id())))
    assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "SOURCE_NOT_FOUND")
    result = await failure(sources.GetSource(sources_pb2.GetSourceRequest(source_id="x")))
    assert (result.code, result.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["source_id"])


async def test_list_filters(sources: SourceStub) -> None:
    marker = unique_tag()
    video = source(tags={"run": marker, "lang": ["en", "fr"]}, label="a")
    audio = source(format="urn:x-nmos:format:audio", tags={"run": marker}, label="b")
    for s in (video, audio):
        await sources.CreateSource(sources_pb2.CreateSourceRequest(source=s))
    run = common_pb2.TagFilter(name="run", values=[marker])

    async def ids(**filters: object) -> set[str]:
        f = sources_pb2.SourceFilter(tags=[run, *filters.pop("tags", [])], **filters)  # type: ignore[arg-type]
        return set(await _list_ids(sources, filter=f))

    assert await ids() == {video.id, audio.id}
    assert await ids(format="urn:x-nmos:format:audio") == {audio.id}
    assert await ids(label="a") == {video.id}
    assert await ids(tags=[common_pb2.TagFilter(name="lang", values=["fr", "de"])]) == {video.id}
    assert await ids(tags=[common_pb2.TagFilter(name="lang", values=["e"])]) == set()
    assert await ids(tags=[common_pb2.TagFilter(name="lang", exists=True)]) == {video.id}
    assert await ids(tags=[common_pb2.TagFilter(name="lang", exists=False)]) == {audio.id}


async def test_list_pages_by_keyset_in_spec_order(sources: SourceStub) -> None:
    marker = unique_tag()
    made = [source(tags={"run": marker}, label=f"{i:02d}") for i in range(7)]
    for s in made:
        await sources.CreateSource(sources_pb2.CreateSourceRequest(source=s))
    f = sources_pb2.SourceFilter(tags=[common_pb2.TagFilter(name="run", values=[marker])])

    async def walk(**kwargs: object) -> list[str]:
        seen: list[str] = []
        token = ""
        while True:
            page = await sources.ListSources(
                sources_pb2.ListSourcesRequest(filter=f, page_size=3, page_token=token, **kwargs)  # type: ignore[arg-type]
            )
            assert len(page.sources) <= 3
            assert page.page_size == 3
            seen += [s.label for s in page.sources]
            token = page.next_page_token
            if not token:
                return seen

    labels = [s.label for s in made]
    assert await walk() == labels[::-1]  # created, newest first
    assert await walk(reverse_order=True) == labels
    assert await walk(sort_by=sources_pb2.SOURCE_SORT_KEY_LABEL) == labels
    assert await walk(sort_by=sources_pb2.SOURCE_SORT_KEY_LABEL, reverse_order=True) == labels[::-1]


async def test_bad_page_requests(sources: SourceStub) -> None:
    result = await failure(sources.ListSources(sources_pb2.ListSourcesRequest(page_size=-1)))
    assert (result.code, result.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_size"])
    result = await failure(sources.ListSources(sources_pb2.ListSourcesRequest(page_token="abc")))
    assert result.reason == "INVALID_PAGE_TOKEN"
    first = await sources.ListSources(sources_pb2.ListSourcesRequest(page_size=1))
    assert first.next_page_token
    tampered = first.next_page_token[:-2] + ("AA" if first.next_page_token[-2:] != "AA" else "BB")
    result = await failure(sources.ListSources(sources_pb2.ListSourcesRequest(page_token=tampered)))
    assert result.reason == "INVALID_PAGE_TOKEN"
    other_query = sources_pb2.ListSourcesRequest(
        page_token=first.next_page_token, filter=sources_pb2.SourceFilter(label="x")
    )
    result = await failure(sources.ListSources(other_query))
    assert result.reason == "INVALID_PAGE_TOKEN"
    big = await sources.ListSources(sources_pb2.ListSourcesRequest(page_size=100_000))
    assert big.page_size == 1000  # coerced down (AIP-158; TAMS may return fewer)


async def test_property_updates(sources: SourceStub) -> None:
    given = source(label="old", tags={"keep": "me"})
    await sources.CreateSource(sources_pb2.CreateSourceRequest(source=given))
    change = sources_pb2.Source(id=given.id, label="new", description="described")
    updated = (
        await sources.UpdateSource(
            sources_pb2.UpdateSourceRequest(
                source=change, update_mask=field_mask_pb2.FieldMask(paths=["label", "description"])
            )
        )
    ).source
    assert (updated.label, updated.description) == ("new", "described")
    assert updated.updated.ToNanoseconds() > updated.created.ToNanoseconds()
    cleared = (
        await sources.UpdateSource(
            sources_pb2.UpdateSourceRequest(
                source=sources_pb2.Source(id=given.id),
                update_mask=field_mask_pb2.FieldMask(paths=["label"]),
            )
        )
    ).source
    assert not cleared.HasField("label")
    assert cleared.description == "described"
    tagged = (
        await sources.SetSourceTag(
            sources_pb2.SetSourceTagRequest(source_id=given.id, name="x y/z", value=tag(["1"]))
        )
    ).source
    assert set(tagged.tags) == {"keep", "x y/z"}
    untagged = (
        await sources.DeleteSourceTag(
            sources_pb2.DeleteSourceTagRequest(source_id=given.id, name="keep")
        )
    ).source
    assert set(untagged.tags) == {"x y/z"}
    result = await failure(
        sources.DeleteSourceTag(sources_pb2.DeleteSourceTagRequest(source_id=given.id, name="keep"))
    )
    assert (result.code, result.reason) == (grpc.StatusCode.NOT_FOUND, "TAG_NOT_FOUND")


async def test_bad_updates_change_nothing(sources: SourceStub) -> None:
    given = source(label="kept")
    await sources.CreateSource(sources_pb2.CreateSourceRequest(source=given))
    for paths in ([], ["format"], ["label", "id"]):
        result = await failure(
            sources.UpdateSource(
                sources_pb2.UpdateSourceRequest(
                    source=sources_pb2.Source(id=given.id, label="changed"),
                    update_mask=field_mask_pb2.FieldMask(paths=paths),
                )
            )
        )
        assert (result.code, result.reason) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_UPDATE_MASK",
        )
    result = await failure(
        sources.SetSourceTag(sources_pb2.SetSourceTagRequest(source_id=given.id, name=""))
    )
    assert result.fields == ["name"]
    result = await failure(
        sources.UpdateSource(
            sources_pb2.UpdateSourceRequest(
                source=sources_pb2.Source(id=new_id(), label="x"),
                update_mask=field_mask_pb2.FieldMask(paths=["label"]),
            )
        )
    )
    assert result.code == grpc.StatusCode.NOT_FOUND
    got = (await sources.GetSource(sources_pb2.GetSourceRequest(source_id=given.id))).source
    assert got.label == "kept"
    assert got.updated == got.created


async def test_soft_delete_hides_and_records(
    sources: SourceStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    given = source(tags={"run": unique_tag()})
    await sources.CreateSource(sources_pb2.CreateSourceRequest(source=given))
    deleted = (
        await sources.DeleteSource(
            sources_pb2.DeleteSourceRequest(source_id=given.id, deleted_by="alice")
        )
    ).source
    assert deleted.deleted_by == "alice"
    assert deleted.deleted.seconds > 0
    result = await failure(sources.GetSource(sources_pb2.GetSourceRequest(source_id=given.id)))
    assert result.code == grpc.StatusCode.NOT_FOUND
    shown = await sources.GetSource(
        sources_pb2.GetSourceRequest(source_id=given.id, show_deleted=True)
    )
    assert shown.source.deleted_by == "alice"
    f = sources_pb2.SourceFilter(
        tags=[common_pb2.TagFilter(name="run", values=[given.tags["run"].string_value])]
    )
    assert await _list_ids(sources, filter=f) == []
    assert await _list_ids(sources, filter=f, show_deleted=True) == [given.id]
    # A deleted Source takes no new Flows.
    result = await failure(
        flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow(source_id=given.id)))
    )
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SOURCE_DELETED")


async def test_source_with_flows_cannot_be_deleted(
    sources: SourceStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    flow = video_flow()
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    result = await failure(
        sources.DeleteSource(sources_pb2.DeleteSourceRequest(source_id=flow.source_id))
    )
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SOURCE_HAS_FLOWS")
    got = await sources.GetSource(sources_pb2.GetSourceRequest(source_id=flow.source_id))
    assert not got.source.HasField("deleted")


async def test_label_prefix_matches_the_start_of_labels_exactly(sources: SourceStub) -> None:
    """``label_prefix`` (the usage guide's ``label``): labels starting with the text,
    case and all, with ``%`` and ``_`` (LIKE's wildcards) and ``/`` (the escape
    character) matching only themselves; the exact ``label`` filter is unchanged."""
    marker = unique_tag()
    labels = ["Main Camera 1", "Main Camera 2", "main camera 3", "Main", "50% off", "500 off",
              "a_b", "axb", "a/b", None]  # fmt: skip
    made = {}
    for label in labels:
        fields = {"tags": {"run": marker}} | ({"label": label} if label is not None else {})
        s = source(**fields)
        await sources.CreateSource(sources_pb2.CreateSourceRequest(source=s))
        made[label] = s.id
    run = common_pb2.TagFilter(name="run", values=[marker])

    async def labelled(**filters: str) -> set[str | None]:
        f = sources_pb2.SourceFilter(tags=[run], **filters)
        found = set(await _list_ids(sources, filter=f))
        return {label for label, source_id in made.items() if source_id in found}

    assert await labelled(label_prefix="Main Camera") == {"Main Camera 1", "Main Camera 2"}
    assert await labelled(label_prefix="Main") == {"Main Camera 1", "Main Camera 2", "Main"}
    assert await labelled(label_prefix="main") == {"main camera 3"}
    assert await labelled(label_prefix="50%") == {"50% off"}
    assert await labelled(label_prefix="a_") == {"a_b"}
    assert await labelled(label_prefix="a/") == {"a/b"}
    assert await labelled(label_prefix="Main Camera 1 and more") == set()
    assert await labelled(label_prefix="") == set(labels) - {None}
    assert await labelled(label="Main") == {"Main"}
    assert await labelled(label="Main", label_prefix="Main Camera") == set()


async def test_delete_with_flows_hides_the_source_and_its_live_flows(
    sources: SourceStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    first = video_flow()
    second = video_flow(source_id=first.source_id)
    for flow in (first, second):
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    await flows.DeleteFlow(flows_pb2.DeleteFlowRequest(flow_id=second.id, soft_delete=True))
    other = video_flow()  # another Source's Flow: untouched
    await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=other))
    deleted = await sources.DeleteSource(
        sources_pb2.DeleteSourceRequest(
            source_id=first.source_id, deleted_by="guide", with_flows=True
        )
    )
    assert deleted.source.deleted_by == "guide"
    for flow_id in (first.id, second.id):
        result = await failure(flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow_id)))
        assert result.code == grpc.StatusCode.NOT_FOUND
    shown = await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=first.id, show_deleted=True))
    assert shown.flow.deleted_by == "guide"
    assert shown.flow.deleted == deleted.source.deleted
    assert (await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=other.id))).flow.id == other.id


async def test_delete_with_a_read_only_flow_changes_nothing(
    sources: SourceStub, flows: flows_pb2_grpc.FlowServiceStub
) -> None:
    writable = video_flow()
    locked = video_flow(source_id=writable.source_id, read_only=True)
    for flow in (writable, locked):
        await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    result = await failure(
        sources.DeleteSource(
            sources_pb2.DeleteSourceRequest(source_id=writable.source_id, with_flows=True)
        )
    )
    assert (result.code, result.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FLOW_READ_ONLY")
    assert result.metadata["flowId"] == locked.id
    got = await sources.GetSource(sources_pb2.GetSourceRequest(source_id=writable.source_id))
    assert not got.source.HasField("deleted")
    for flow in (writable, locked):
        assert (await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=flow.id))).flow.id == flow.id
