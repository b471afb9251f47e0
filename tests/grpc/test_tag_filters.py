"""Tag filters over a few hundred Flows and Sources return exactly the matching ones,
page after page. Each filter is a probe of the tag table per listed resource
(``store/tags.py``, answered from its ``(owner, name, value)`` index), so a probe that
matched another resource's tag, or another tag of the same one, would show here as an
item too many or too few. How fast is ``bench scale``'s question, not this one's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from helpers.factories import source, unique_tag, video_flow
from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc, sources_pb2, sources_pb2_grpc

COUNT = 240
PAGE = 40  # "one_tag" and "tag_and_not_exists" match more: paging goes through filters


def _tags(index: int, run: str) -> dict[str, Any]:
    """Resource ``index``'s tags: one of four sites, one of ten shows, every seventh
    marked ``archive``, every fifth with a two-valued ``lang``."""
    tags: dict[str, Any] = {"run": run, "site": f"site-{index % 4}", "show": f"show-{index % 10}"}
    if index % 7 == 0:
        tags["archive"] = "yes"
    if index % 5 == 0:
        tags["lang"] = ["en", "fr"]
    return tags


@dataclass(frozen=True)
class Tagged:
    """The resources of one module run, by index: what their tags are is ``_tags``."""

    run: str
    flow_ids: list[str]
    source_ids: list[str]


@pytest.fixture(scope="module")
async def tagged(
    flows: flows_pb2_grpc.FlowServiceStub, sources: sources_pb2_grpc.SourceServiceStub
) -> Tagged:
    """COUNT Flows, each of its own Source tagged alike."""
    run = unique_tag()
    made = [video_flow(tags=_tags(i, run)) for i in range(COUNT)]
    await sources.BatchCreateSources(
        sources_pb2.BatchCreateSourcesRequest(
            sources=[source(id=flow.source_id, tags=_tags(i, run)) for i, flow in enumerate(made)]
        )
    )
    await flows.BatchCreateFlows(flows_pb2.BatchCreateFlowsRequest(flows=made))
    return Tagged(run, [flow.id for flow in made], [flow.source_id for flow in made])


def _has(name: str, *values: str) -> common_pb2.TagFilter:
    return common_pb2.TagFilter(name=name, values=values)


def _exists(name: str, exists: bool = True) -> common_pb2.TagFilter:
    return common_pb2.TagFilter(name=name, exists=exists)


# (filters, which indexes match); every listing is also filtered by the run's tag.
CASES: dict[str, tuple[list[common_pb2.TagFilter], Callable[[int], bool]]] = {
    "one_tag": ([_has("site", "site-1")], lambda i: i % 4 == 1),
    "two_tags": ([_has("site", "site-1"), _has("show", "show-5")], lambda i: i % 20 == 5),
    "two_tags_never_together": ([_has("site", "site-0"), _has("show", "show-5")], lambda i: False),
    "tag_and_exists": ([_has("show", "show-0"), _exists("archive")], lambda i: i % 70 == 0),
    "tag_and_not_exists": (
        [_has("site", "site-2"), _exists("archive", False)],
        lambda i: i % 4 == 2 and i % 7 != 0,
    ),
    "values_of_two_tags": (
        [_has("site", "site-0", "site-3"), _has("lang", "fr", "de")],
        lambda i: i % 4 in (0, 3) and i % 5 == 0,
    ),
    "exists_and_not_exists": (
        [_exists("lang"), _exists("archive", False)],
        lambda i: i % 5 == 0 and i % 7 != 0,
    ),
    "value_of_another_tag": ([_has("show", "site-1")], lambda i: False),
}


def _expected(ids: list[str], matches: Callable[[int], bool]) -> list[str]:
    return sorted(resource_id for i, resource_id in enumerate(ids) if matches(i))


async def _every_page(list_page: Callable[[str], Awaitable[tuple[list[str], str]]]) -> list[str]:
    """The ids of a listing's every page, from ``list_page(token)``: (ids, next token)."""
    listed: list[str] = []
    token = ""
    while True:
        ids, token = await list_page(token)
        listed += ids
        if not token:
            return listed


@pytest.mark.parametrize("case", CASES)
async def test_flows_by_tags(
    flows: flows_pb2_grpc.FlowServiceStub, tagged: Tagged, case: str
) -> None:
    filters, matches = CASES[case]
    wanted = flows_pb2.FlowFilter(tags=[_has("run", tagged.run), *filters])

    async def list_page(token: str) -> tuple[list[str], str]:
        page = await flows.ListFlows(
            flows_pb2.ListFlowsRequest(filter=wanted, page_size=PAGE, page_token=token)
        )
        return [flow.id for flow in page.flows], page.next_page_token

    assert sorted(await _every_page(list_page)) == _expected(tagged.flow_ids, matches)


@pytest.mark.parametrize("case", CASES)
async def test_sources_by_tags(
    sources: sources_pb2_grpc.SourceServiceStub, tagged: Tagged, case: str
) -> None:
    filters, matches = CASES[case]
    wanted = sources_pb2.SourceFilter(tags=[_has("run", tagged.run), *filters])

    async def list_page(token: str) -> tuple[list[str], str]:
        page = await sources.ListSources(
            sources_pb2.ListSourcesRequest(filter=wanted, page_size=PAGE, page_token=token)
        )
        return [item.id for item in page.sources], page.next_page_token

    assert sorted(await _every_page(list_page)) == _expected(tagged.source_ids, matches)
