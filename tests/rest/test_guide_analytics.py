"""The usage guide's Analytics (``/flow-usage``, ``/storage-usage``,
``/time-range-analysis``) with the guide dialect on, to the exact value, on both
engines: the store of known content of ``helpers/analytics_store`` on an empty
database, read by callers who may read everything or only some Flows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from helpers.analytics_store import ADMIN, AUDIO, NEWS, SPORT, VIDEO, KnownStore, known_store
from helpers.servers import module_fixture

Metadata = tuple[tuple[str, str], ...]


store = module_fixture(known_store, "guide-analytics", rest_dialect="guide-7.0")


async def get(store: KnownStore, path: str, who: Metadata | None = ADMIN) -> httpx.Response:
    headers = {"Authorization": who[0][1]} if who else {}
    async with httpx.AsyncClient(base_url=store.server.running.http_url) as http:
        return await http.get(path, headers=headers)


def shown(response: httpx.Response, *fields: str) -> dict[str, Any]:
    """The answer's ``fields``, after checking it is a 200."""
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: body[name] for name in fields}


@pytest.mark.parametrize("path", ["/flow-usage", "/analytics/flow-usage"])
async def test_flow_usage(store: KnownStore, path: str) -> None:
    s = store.sources
    assert shown(
        await get(store, path),
        "total_flows", "active_flows", "deleted_flows", "flows_by_format", "flows_by_source",
    ) == {
        "total_flows": 6, "active_flows": 5, "deleted_flows": 1,
        "flows_by_format": {VIDEO: 4, AUDIO: 1},
        "flows_by_source": {s["S1"]: 2, s["S2"]: 1, s["S3"]: 1, s["S4"]: 1},
    }  # fmt: skip


async def test_flow_usage_of_a_restricted_caller(store: KnownStore) -> None:
    s = store.sources
    assert shown(
        await get(store, "/flow-usage", SPORT),
        "total_flows", "active_flows", "deleted_flows", "flows_by_source",
    ) == {
        "total_flows": 3, "active_flows": 3, "deleted_flows": 0,
        "flows_by_source": {s["S1"]: 1, s["S3"]: 1, s["S4"]: 1},
    }  # fmt: skip


@pytest.mark.parametrize("path", ["/storage-usage", "/analytics/storage-usage"])
async def test_storage_usage(store: KnownStore, path: str) -> None:
    f = store.flows
    assert shown(
        await get(store, path), "total_objects", "total_size_bytes", "objects_by_flow",
        "storage_by_month",
    ) == {
        "total_objects": 6, "total_size_bytes": 10_000,
        "objects_by_flow": {f["A"]: 3, f["C"]: 2, f["E"]: 1, f["F"]: 1},
        "storage_by_month": {"2024-11": 5000, "2024-12": 5000},
    }  # fmt: skip
    sport = await get(store, f"{path}?top_flows=1", SPORT)
    assert shown(sport, "total_objects", "total_size_bytes", "storage_by_month") == {
        "total_objects": 2, "total_size_bytes": 0, "storage_by_month": {},
    }  # fmt: skip
    assert len(sport.json()["objects_by_flow"]) == 1


@pytest.mark.parametrize("path", ["/time-range-analysis", "/analytics/time-range-analysis"])
async def test_time_range_analysis(store: KnownStore, path: str) -> None:
    flow_id = store.flows["A"]
    assert shown(
        await get(store, f"{path}?flow_id={flow_id}"),
        "flow_id", "total_segments", "total_duration_seconds", "coverage_percentage", "gaps",
        "overlaps", "time_distribution",
    ) == {
        "flow_id": flow_id, "total_segments": 3, "total_duration_seconds": 430,
        "coverage_percentage": 14.2,  # 430 s of 3030
        "gaps": [
            {"start": "2024-12-20T10:15:30Z", "end": "2024-12-20T10:15:45Z",
             "duration_seconds": 15},
            {"start": "2024-12-20T10:15:55Z", "end": "2024-12-20T10:59:00Z",
             "duration_seconds": 2585},
        ],
        "overlaps": [],
        "time_distribution": {"hourly": {"10": 160, "11": 270}},
    }  # fmt: skip
    window = "[2024-12-20T10:15:00Z:2024-12-20T11:00:00Z)"  # the guide's form of a timerange
    part = await get(store, f"{path}?flow_id={flow_id}&timerange={window}")
    assert shown(part, "total_duration_seconds", "time_distribution") == {
        "total_duration_seconds": 100, "time_distribution": {"hourly": {"10": 100}},
    }  # fmt: skip


async def test_time_range_analysis_of_a_flow_hidden_from_the_caller(store: KnownStore) -> None:
    hidden = await get(store, f"/time-range-analysis?flow_id={store.flows['A']}", SPORT)
    assert hidden.status_code == 404, hidden.text
    assert hidden.json()["error_code"] == "FLOW_NOT_FOUND"
    assert "detail" in hidden.json()
    assert (await get(store, f"/time-range-analysis?flow_id={store.flows['A']}", NEWS)).is_success


@pytest.mark.parametrize(
    ("query", "status"),
    [("flow_id=nope", 400), ("timerange=yesterday", 400), ("max_gaps=-1", 400),
     ("max_gaps=x", 400), ("flow_id=6c3d1e0e-7e2f-4a43-9a09-2c1c3f4c5d01", 404)],
)  # fmt: skip
async def test_time_range_analysis_refuses_bad_queries(
    store: KnownStore, query: str, status: int
) -> None:
    answer = await get(store, f"/time-range-analysis?{query}")
    assert answer.status_code == status, answer.text
    assert {"detail", "error_code", "timestamp"} <= answer.json().keys()


@pytest.mark.parametrize("path", ["/flow-usage", "/storage-usage", "/time-range-analysis"])
async def test_analytics_need_credentials(store: KnownStore, path: str) -> None:
    answer = await get(store, path, None)
    assert answer.status_code == 401, answer.text
    assert {"detail", "error_code", "timestamp"} <= answer.json().keys()
