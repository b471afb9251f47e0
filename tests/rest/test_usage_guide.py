"""Every example of the TAMS API 7.0 usage guide, read from its text
(``guide/extract.py``), against a server run with ``--rest-dialect guide-7.0`` and
anonymous access on loopback (the guide's requests carry no credentials).

The examples run in the guide's order, with its deletes last (the guide deletes the
Source and the Flow its later sections use). Its path placeholders are the ids its
own bodies created (``{flow_id}``: the first Flow it creates), and its placeholder
values (``existing-source-uuid``, ``new-flow-uuid``...) are real ones. An answer must
have the guide's status, and every field the guide shows, with the guide's value
where the value is the client's (ids, labels...) rather than the server's (times,
URLs, generated ids)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).with_name("guide")))
from extract import Example, examples

from helpers.servers import guide_dialect_server
from tams_server.app import RunningServer

EXAMPLES, PYTHON = examples()
# Examples (by title) that do not yet work as the guide writes them, and why: each
# must still fail (so that a fix is noticed and the entry removed).
KNOWN_GAPS: dict[str, str] = {}
# Segment posts (by title) that the guide's own earlier requests make fail, with what
# they get.
REFUSED_BY_THE_GUIDE = {
    # Its Step 3 registers [10:00:00, 10:15:00) of the Flow over the [10:00:00,
    # 10:00:10) its "Create Flow Segment" registered.
    "Step 3: Register Flow Segment": "SEGMENT_OVERLAP",
    # Its "existing" Object (the one its Segment placed at 2024-12-20 10:00:00, for 10
    # s) reused at 2024-01-01 without a ts_offset: outside the Object's own timeline.
    "Step 2: Create Flow Segments (Pointing to Existing Objects)": "OBJECT_TIMERANGE_MISMATCH",
    "cURL Example": "OBJECT_TIMERANGE_MISMATCH",
}


def _ids(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["id"]} if isinstance(value.get("id"), str) else set()
        return own.union(*(_ids(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_ids(v) for v in value))
    return set()


# The ids the guide's requests create: a listing it shows with one of them must list it.
CREATED = frozenset().union(*(_ids(e.body) for e in EXAMPLES))
# Values the server chooses: the guide's are only examples of their form.
SERVER_CHOSEN = frozenset({
    "created", "updated", "created_by", "updated_by", "timestamp", "url", "storage_id",
    "allocation_id", "object_id", "storage_path", "presigned_upload_url", "expires_at",
    "put_url", "put_cors_url", "pre", "get_urls", "id", "name", "type",
})  # fmt: skip
# Counts that depend on what the store holds, not on the request.
COUNTS = frozenset({
    "total_flows", "active_flows", "deleted_flows", "flows_by_format", "flows_by_source",
    "total_objects", "total_size_bytes", "objects_by_flow", "storage_by_month",
    "total_segments", "total_duration_seconds", "coverage_percentage", "gaps",
    "time_distribution", "overlaps",
    # Paging: whether a next page exists depends on what else the store holds.
    "next", "next_key", "count",
})  # fmt: skip


@pytest.fixture
async def guide_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    folder = tmp_path_factory.mktemp("guide")
    async with guide_dialect_server(folder, database_url) as running:
        yield running


class Ids:
    """The ids the guide's placeholders stand for."""

    def __init__(self) -> None:
        first = {e.path: e.body for e in reversed(EXAMPLES) if isinstance(e.body, dict)}
        self.source_id = first["/sources"]["id"]
        self.flow_id = first["/flows"]["id"]
        self.object_id = first["/flows/{flow_id}/segments"]["object_id"]
        self.storage_id = ""

    def path(self, path: str) -> str:
        return (
            path.replace("{source_id}", self.source_id)
            .replace("{flow_id}", self.flow_id)
            .replace("{object_id}", self.object_id)
        )

    def value(self, value: Any) -> Any:
        """The guide's placeholder values as real ones."""
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str) and re.fullmatch(r"(new|existing|optional)-[a-z0-9-]+", value):
            if "source" in value:
                return self.source_id
            if "storage" in value and "path" not in value:
                return self.storage_id
            if "flow" in value:
                return str(uuid.uuid4())
            if "object" in value:
                return self.object_id
            return value  # a storage path: any text
        return value


def shows(expected: Any, actual: Any, where: str = "") -> None:
    """``actual`` has every field ``expected`` shows, with its value where the value
    is the client's."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is no object"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {actual!r}"
            if key in SERVER_CHOSEN or key in COUNTS:
                continue
            shows(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is no array"
        by_id = {item.get("id"): item for item in actual if isinstance(item, dict)}
        if expected and all(isinstance(e, dict) and "id" in e for e in expected):
            for item in expected:  # the items the guide lists, as it shows them
                if item["id"] in CREATED:  # (not the server's own, such as its backends)
                    assert item["id"] in by_id, f"{where}: {item['id']} not in {actual!r}"
                if item["id"] in by_id:
                    shows(item, by_id[item["id"]], f"{where}[{item['id']}]")
        elif expected and isinstance(expected[0], dict):
            for item in actual:  # the guide's items show the fields every item has
                assert isinstance(item, dict)
                for key in expected[0].keys() - {"storage_path"}:
                    assert key in item, f"{where}[].{key} missing from {item!r}"
    elif isinstance(expected, (bool, int, float, str)) or expected is None:
        assert actual == expected, f"{where}: {actual!r} is not the guide's {expected!r}"


def counts_agree(path: str, body: Any) -> None:
    """The Analytics counts (which depend on what else the store holds) add up: the
    totals are the sums of their parts."""
    if path == "/flow-usage":
        assert body["total_flows"] == body["active_flows"] + body["deleted_flows"], body
        assert sum(body["flows_by_format"].values()) == body["active_flows"], body
        assert sum(body["flows_by_source"].values()) == body["active_flows"], body
    elif path == "/storage-usage":
        assert sum(body["storage_by_month"].values()) == body["total_size_bytes"], body
        assert all(count >= 1 for count in body["objects_by_flow"].values()), body
    elif path.startswith("/time-range-analysis"):
        hourly = body["time_distribution"]["hourly"]
        assert sum(hourly.values()) == pytest.approx(body["total_duration_seconds"]), body
        assert set(hourly) <= {f"{hour:02d}" for hour in range(24)}, body
        assert 0 <= body["coverage_percentage"] <= 100, body
        assert body["overlaps"] == [], body


def ordered() -> list[Example]:
    """The guide's order, its deletes last, in the reverse order (what uses a thing
    goes before it)."""
    return [e for e in EXAMPLES if e.method != "DELETE"] + [
        e for e in reversed(EXAMPLES) if e.method == "DELETE"
    ]


async def test_every_example_of_the_guide(guide_server: RunningServer, tmp_path: Path) -> None:
    """Its requests, then its first delete (its Flow's Segments), its Python blocks
    (which use what the requests made, on a Flow its Segments no longer cover), then
    its other deletes."""
    ids = Ids()
    async with httpx.AsyncClient(base_url=guide_server.http_url) as http:
        backends = (await http.get("/service/storage-backends")).json()["storage_backends"]
        ids.storage_id = backends[0]["id"]
        failures: list[str] = []
        examples = ordered()
        first_delete = next(i for i, e in enumerate(examples) if e.method == "DELETE")
        await run(http, ids, examples[: first_delete + 1], failures)
        await run_python(guide_server, ids, tmp_path)
        await run(http, ids, examples[first_delete + 1 :], failures)
        assert not failures, "\n".join(failures)


async def run_python(server: RunningServer, ids: Ids, folder: Path) -> None:
    """The guide's Python blocks, as written (its base URL and placeholder ids
    replaced: its "existing" Objects are new ones, which their first Segments
    allocate), without raising (its clients call ``raise_for_status`` and
    ``response.json()`` on every answer), and what they print says each step worked."""
    (folder / "video_segment.mp4").write_bytes(b"\0" * 1024)
    for example in PYTHON:
        code = example.code.replace("http://localhost:8000", server.http_url)
        # The Object id the guide's requests already allocated: a new one.
        code = code.replace(ids.object_id, str(uuid.uuid4()))
        for placeholder in re.findall(r'"((?:existing|new)-[a-z0-9-]+)"', code):
            value = str(uuid.uuid4()) if "object" in placeholder else ids.value(placeholder)
            code = code.replace(f'"{placeholder}"', repr(value))
        output = io.StringIO()

        def execute(code: str = code, output: io.StringIO = output) -> None:
            with contextlib.redirect_stdout(output), contextlib.chdir(folder):
                exec(compile(code, "guide", "exec"), {"__name__": "guide"})

        await asyncio.to_thread(execute)
        printed = output.getvalue()
        assert "failed" not in printed.lower(), printed
        assert all(int(status) < 300 for status in re.findall(r"segment: (\d+)", printed)), printed


async def run(
    http: httpx.AsyncClient, ids: Ids, examples: list[Example], failures: list[str]
) -> None:
    for example in examples:
        label = f"{example.method} {example.path} ({example.title})"
        body = ids.value(example.body)
        answer = await http.request(
                example.method, ids.path(example.path),
                json=body if example.body is not None else None,
            )  # fmt: skip
        try:
            if example.title in REFUSED_BY_THE_GUIDE and example.path.endswith("/segments"):
                assert answer.status_code == 400, answer.text
                assert answer.json()["error_code"] == REFUSED_BY_THE_GUIDE[example.title]
            elif example.status is not None:
                assert answer.status_code == example.status, answer.text
            else:
                assert answer.status_code < 400, answer.text
            if example.expected is not None:
                shows(example.expected, answer.json(), "body")
                counts_agree(example.path, answer.json())
        except AssertionError as error:
            if example.title not in KNOWN_GAPS:
                failures.append(f"{label}: {error}")
            continue
        assert example.title not in KNOWN_GAPS or example.curl, f"{label} works now"
