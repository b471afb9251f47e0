"""The machine's ceiling for streamed Segments: prebuilt pages of 2,000 Segments
streamed through grpc.aio in one process, no database, no conversion, no
interceptors, read by ``AsyncTamsClient.list_segments`` as the segments benchmark reads
its stream. Segment figures elsewhere are read as ratios to it: what is left is the
server's own work.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc

from bench._common import report
from tams.v1 import objects_pb2, segments_pb2, segments_pb2_grpc
from tams_client import AsyncTamsClient

PAGE = 2000
FLOW = str(uuid.uuid4())
SEGMENT_NS = 1_920_000_000


def _page(with_url: bool, token: str) -> segments_pb2.StreamSegmentsResponse:
    """One page shaped like the segments benchmark's (one uncontrolled URL each, or
    none)."""
    page = segments_pb2.StreamSegmentsResponse(next_page_token=token)
    for i in range(PAGE):
        start, end = i * SEGMENT_NS, (i + 1) * SEGMENT_NS
        object_id = f"obj-{i:07d}"
        segment = page.segments.add(
            object_id=object_id,
            timerange=f"[{start // 10**9}:{start % 10**9}_{end // 10**9}:{end % 10**9})",
        )
        if with_url:
            segment.get_urls.add(
                url=f"https://media.example/{object_id}", label="cdn", presigned=False
            )
    return page


class _Prebuilt(segments_pb2_grpc.SegmentServiceServicer):
    """Streams the same prebuilt page until the request's ``limit`` is reached."""

    def __init__(self) -> None:
        self._pages = {urls: (_page(urls, "x" * 40), _page(urls, "")) for urls in (True, False)}

    async def StreamSegments(
        self, request: segments_pb2.StreamSegmentsRequest, context: Any
    ) -> AsyncIterator[segments_pb2.StreamSegmentsResponse]:
        page, last = self._pages[not request.get_url_options.accept_get_urls_set]
        for _ in range(request.limit // PAGE - 1):
            yield page
        yield last


async def stream_rate(tams: AsyncTamsClient, total: int, *, with_urls: bool) -> float:
    """Segments per second of one stream of ``total`` prebuilt Segments."""
    bare = None if with_urls else objects_pb2.GetUrlOptions(accept_get_urls_set=True)
    count = 0
    t0 = time.perf_counter()
    async for _segment in tams.list_segments(FLOW, limit=total, get_url_options=bare):
        count += 1
    elapsed = time.perf_counter() - t0
    assert count == total, count
    return total / elapsed


async def ceiling(total: int) -> dict[str, float]:
    """The ceiling with and without one URL per Segment (best of three each)."""
    server = grpc.aio.server()
    segments_pb2_grpc.add_SegmentServiceServicer_to_server(_Prebuilt(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with AsyncTamsClient(f"127.0.0.1:{port}", timeout=None) as channel:
            rates: dict[str, list[float]] = {"with_urls": [], "without_urls": []}
            for _ in range(3):
                rates["with_urls"].append(await stream_rate(channel, total, with_urls=True))
                rates["without_urls"].append(await stream_rate(channel, total, with_urls=False))
            return {name: max(values) for name, values in rates.items()}
    finally:
        await server.stop(None)


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    del database_url  # no database: that is the point
    total = 10_000 if tiny else 100_000 if quick else 1_000_000  # whole pages of PAGE
    rates = await ceiling(total)
    report("ceiling_stream_segments_per_s", rates["with_urls"], "segments/s",
           get_urls="one uncontrolled URL per segment", segments=total)  # fmt: skip
    report("ceiling_stream_segments_without_urls_per_s", rates["without_urls"], "segments/s",
           segments=total)  # fmt: skip
