"""Every example Source and Flow of the official spec goes in over gRPC and comes back
equal (server-managed fields aside).

Examples reuse ids with different meanings (e85efab4... is a data Flow in one file
and a multi Flow in another), so each example gets fresh ids, mapped consistently
inside it; collection members that no example defines are created first.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from helpers.factories import video_flow
from helpers.spec import EXAMPLES
from tams.v1 import flows_pb2, flows_pb2_grpc, sources_pb2, sources_pb2_grpc
from tams_server.gateway.shapes import (
    FLOW_READ_ONLY_FIELDS,
    SOURCE_READ_ONLY_FIELDS,
    flow_from_json,
    flow_to_json,
    source_from_json,
    source_to_json,
)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Fields the server sets itself, so they cannot round-trip byte for byte.
_SERVER_SET = {"metadata_version", "updated_by"}


def _examples(prefixes: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.glob("*.json")):
        if path.name.startswith(prefixes):
            data = json.loads(path.read_text())
            for index, item in enumerate(data if isinstance(data, list) else [data]):
                found.append((f"{path.stem}[{index}]", item))
    return found


FLOW_EXAMPLES = [
    (name, item)
    for name, item in _examples(("flow-get-200", "flow-put", "flows-get-200"))
    if "profile_id" not in item  # flow-put-profile.json: see test_profiles.py
]
SOURCE_EXAMPLES = _examples(("source-get-200", "sources-get-200"))


def _fresh_ids(item: dict[str, Any]) -> dict[str, Any]:
    """The example with every UUID replaced by a fresh one, consistently."""
    mapping: dict[str, str] = {}
    text = _UUID.sub(lambda m: mapping.setdefault(m.group(), str(uuid.uuid4())), json.dumps(item))
    return json.loads(text)


def _comparable(data: dict[str, Any], ignored: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ignored | _SERVER_SET}


def test_examples_are_found() -> None:
    assert len(FLOW_EXAMPLES) >= 20
    assert len(SOURCE_EXAMPLES) >= 7


@pytest.mark.parametrize(("name", "example"), FLOW_EXAMPLES, ids=[n for n, _ in FLOW_EXAMPLES])
async def test_flow_example_round_trips(
    flows: flows_pb2_grpc.FlowServiceStub, name: str, example: dict[str, Any]
) -> None:
    example = _fresh_ids(example)
    for member in example.get("flow_collection", []):
        if member["id"] != example["id"]:
            await flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow(id=member["id"])))
    response = await flows.UpdateFlow(
        flows_pb2.UpdateFlowRequest(flow=flow_from_json(example), allow_missing=True)
    )
    assert response.created
    stored = await flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=example["id"]))
    assert _comparable(flow_to_json(stored.flow), FLOW_READ_ONLY_FIELDS) == _comparable(
        example, FLOW_READ_ONLY_FIELDS
    )


@pytest.mark.parametrize(("name", "example"), SOURCE_EXAMPLES, ids=[n for n, _ in SOURCE_EXAMPLES])
async def test_source_example_round_trips(
    sources: sources_pb2_grpc.SourceServiceStub, name: str, example: dict[str, Any]
) -> None:
    example = _fresh_ids(example)
    await sources.CreateSource(sources_pb2.CreateSourceRequest(source=source_from_json(example)))
    stored = await sources.GetSource(sources_pb2.GetSourceRequest(source_id=example["id"]))
    assert _comparable(source_to_json(stored.source), SOURCE_READ_ONLY_FIELDS) == _comparable(
        example, SOURCE_READ_ONLY_FIELDS
    )
