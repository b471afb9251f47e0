"""Listing 100,000 Flows page by page: keyset paging keeps the last page as fast as the
first (an OFFSET scan would grow with the page number)."""

from __future__ import annotations

import statistics
import time
import uuid

import grpc

from bench._common import report, server
from tams.v1 import common_pb2, flows_pb2, flows_pb2_grpc

PAGE_SIZE = 100
REPEATS = 30
BATCH = 1000


def _flow(run: str) -> flows_pb2.Flow:
    flow = flows_pb2.Flow(
        id=str(uuid.uuid4()),
        source_id=str(uuid.uuid4()),
        format="urn:x-nmos:format:video",
        codec="video/h264",
        video=flows_pb2.VideoEssenceParameters(
            frame_width=1920, frame_height=1080, frame_rate=common_pb2.Rational(numerator=25)
        ),
    )
    flow.tags["bench_run"].string_value = run
    return flow


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    total = 1_000 if tiny else 5_000 if quick else 100_000
    run_tag = uuid.uuid4().hex
    async with (
        server(database_url) as running,
        grpc.aio.insecure_channel(running.grpc_target) as channel,
    ):
        stub = flows_pb2_grpc.FlowServiceStub(channel)
        started = time.perf_counter()
        for _ in range(total // BATCH):
            batch = [_flow(run_tag) for _ in range(BATCH)]
            await stub.BatchCreateFlows(flows_pb2.BatchCreateFlowsRequest(flows=batch))
        elapsed = time.perf_counter() - started
        engine = "postgresql" if database_url else "sqlite"
        report("flows_created_per_s", total / elapsed, "flows/s", engine=engine)

        # Walk every page once.
        page_times: list[float] = []
        token, seen = "", 0
        while True:
            t0 = time.perf_counter()
            page = await stub.ListFlows(
                flows_pb2.ListFlowsRequest(page_size=PAGE_SIZE, page_token=token)
            )
            page_times.append(time.perf_counter() - t0)
            seen += len(page.flows)
            if not page.next_page_token:
                break  # `token` led to the last page
            token = page.next_page_token
        last_token = token
        assert seen >= total, (seen, total)
        report("flows_listed", seen, "flows", pages=len(page_times), engine=engine)
        report("flows_list_total_s", sum(page_times), "s", engine=engine)

        # Then time the first and the last page again, interleaved, so that noise on
        # this shared machine hits both alike; compare medians.
        first_times, last_times = [], []
        for _ in range(REPEATS):
            for token, times in (("", first_times), (last_token, last_times)):
                t0 = time.perf_counter()
                await stub.ListFlows(
                    flows_pb2.ListFlowsRequest(page_size=PAGE_SIZE, page_token=token)
                )
                times.append(time.perf_counter() - t0)
        first, last = statistics.median(first_times), statistics.median(last_times)
        report("flows_first_page_ms", first * 1000, "ms", engine=engine, repeats=REPEATS)
        report("flows_last_page_ms", last * 1000, "ms", engine=engine, repeats=REPEATS)
        report("flows_last_over_first_page", last / first, "ratio", engine=engine, target="<= 1.5")
