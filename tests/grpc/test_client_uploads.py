"""Uploads through tams_client: allocate, PUT the bytes (bounded concurrency, retries
of transient failures), register; multipart for large files, aborted on failure.
Real server, real HTTP; the only stand-in is an httpx transport that wraps the real
one to count, delay or fail requests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from helpers.factories import new_id, video_flow
from tams.v1 import flows_pb2, segments_pb2
from tams_client import (
    AsyncTamsClient,
    HttpUploadError,
    MediaSegment,
    Progress,
    TamsClient,
)
from tams_server.app import RunningServer

MIB = 1 << 20


class Wrapped(httpx.AsyncBaseTransport):
    """The real transport, watched: counts requests in flight (each held ``hold_s``),
    records each request's Content-MD5, awaits ``before(n)`` ahead of the n-th request,
    and fails the first ``fail_first`` attempts at each URL with ``fail_status``, or
    every attempt at URLs containing ``always_fail``."""

    def __init__(
        self,
        *,
        hold_s: float = 0.0,
        fail_first: int = 0,
        fail_status: int = 503,
        always_fail: str | None = None,
        before: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._hold_s = hold_s
        self._fail_first = fail_first
        self._fail_status = fail_status
        self._always_fail = always_fail
        self._before = before
        self.attempts: dict[str, int] = {}
        self.md5s: dict[str, str] = {}
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.attempts[url] = self.attempts.get(url, 0) + 1
        self.md5s[url] = request.headers.get("content-md5", "")
        if self._before is not None:
            await self._before(sum(self.attempts.values()))
        if self._always_fail is not None and self._always_fail in url:
            return httpx.Response(self._fail_status, text="refused by the test")
        if self.attempts[url] <= self._fail_first:
            return httpx.Response(self._fail_status, text="try again")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self._hold_s)
            return await self._real.handle_async_request(request)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self._real.aclose()


def uploads_open(running: RunningServer) -> set[str]:
    """The local multipart uploads in progress (their part folders)."""
    folder = running.config.data_dir / "multipart"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


async def new_flow(client: AsyncTamsClient) -> str:
    return (await client.create_flow(video_flow())).id


async def bytes_listed(client: AsyncTamsClient, flow_id: str) -> list[bytes]:
    """The bytes of each Segment, fetched through its listed get_url (the first: the
    backend's signed URL)."""
    found = []
    async with httpx.AsyncClient() as http:
        async for segment in client.list_segments(flow_id):
            got = await http.get(segment.get_urls[0].url)
            got.raise_for_status()
            found.append(got.content)
    return found


@pytest.fixture
async def client(grpc_target: str) -> AsyncIterator[AsyncTamsClient]:
    async with AsyncTamsClient(grpc_target) as tams:
        yield tams


async def test_upload_segments_round_trip(client: AsyncTamsClient, tmp_path: Path) -> None:
    flow_id = await new_flow(client)
    bodies = [uuid.uuid4().bytes * (i + 1) for i in range(5)]
    big_file = tmp_path / "segment.ts"
    big_file.write_bytes(uuid.uuid4().bytes * 200_000)  # 3.2 MB, streamed from disk
    segments = [MediaSegment(f"[{i}:0_{i + 1}:0)", body) for i, body in enumerate(bodies)]
    segments.append(MediaSegment("[5:0_6:0)", big_file, key_frame_count=1))
    seen: list[Progress] = []
    transport = Wrapped(hold_s=0.05)
    async with httpx.AsyncClient(transport=transport) as http:
        result = await client.upload_segments(
            flow_id, segments, concurrency=3, batch_size=4, http=http,
            progress=lambda p: seen.append(Progress(**vars(p))),
        )  # fmt: skip
    assert (result.registered_count, result.failures) == (6, [])
    assert transport.most_in_flight == 3  # bounded, and used
    assert await bytes_listed(client, flow_id) == [*bodies, big_file.read_bytes()]
    assert seen[-1].segments_done == seen[-1].segments_total == 6
    assert seen[-1].bytes_sent == sum(map(len, bodies)) + big_file.stat().st_size


async def test_transient_failures_are_retried(client: AsyncTamsClient) -> None:
    flow_id = await new_flow(client)
    transport = Wrapped(fail_first=2)  # two 503s, then the real store
    async with httpx.AsyncClient(transport=transport) as http:
        result = await client.upload_segments(
            flow_id, [MediaSegment("[0:0_1:0)", b"bytes")], http=http
        )
    assert result.registered_count == 1
    assert list(transport.attempts.values()) == [3]


async def test_failures_are_reported_per_segment(client: AsyncTamsClient) -> None:
    flow_id = await new_flow(client)
    segments = [
        MediaSegment("[0:0_1:0)", b"first"),
        MediaSegment("[0:0_1:0)", b"overlaps the first"),
        MediaSegment("[2:0_3:0)", b"refused by the store"),
        MediaSegment("[4:0_5:0)", b"fine"),
    ]
    transport = Wrapped(always_fail="_objects/", fail_status=403)
    async with httpx.AsyncClient(transport=transport) as http:
        # Every PUT refused (403 is not retried): nothing registered, all reported.
        refused = await client.upload_segments(flow_id, segments[2:3], http=http)
    assert refused.registered_count == 0
    [failure] = refused.failures
    assert (failure.index, failure.reason) == (0, "UPLOAD_FAILED")
    assert "403" in failure.message
    result = await client.upload_segments(flow_id, segments)
    assert result.registered_count == 3
    assert [(f.index, f.reason) for f in result.failures] == [(1, "SEGMENT_OVERLAP")]


async def test_large_objects_go_up_in_parts(
    client: AsyncTamsClient, tmp_path: Path, running: RunningServer
) -> None:
    flow_id = await new_flow(client)
    before = uploads_open(running)
    path = tmp_path / "big.ts"
    path.write_bytes(uuid.uuid4().bytes * (11 * MIB // 16))  # 11 MiB: three 5 MiB parts
    transport = Wrapped()
    async with httpx.AsyncClient(transport=transport) as http:
        object_id = await client.upload_object(flow_id, path, part_size=5 * MIB, http=http)
    assert sum(1 for url in transport.attempts if "/_multipart/" in url) == 3
    await client.register_segments(flow_id, [_post(object_id)])
    assert await bytes_listed(client, flow_id) == [path.read_bytes()]
    # Small content goes up in one PUT.
    small = await client.upload_object(flow_id, b"tiny", part_size=5 * MIB)
    assert small != object_id
    assert uploads_open(running) == before  # the completed upload left nothing


async def test_a_failed_multipart_upload_is_aborted(
    client: AsyncTamsClient, running: RunningServer
) -> None:
    flow_id = await new_flow(client)
    before = uploads_open(running)
    content = b"x" * (6 * MIB)
    transport = Wrapped(always_fail="/2?", fail_status=403)  # part 2 is refused
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(HttpUploadError):
            await client.upload_object(flow_id, content, part_size=5 * MIB, http=http)
    assert uploads_open(running) == before  # aborted: its parts are gone


async def test_s3_uploads(two_backends: RunningServer) -> None:
    async with AsyncTamsClient(two_backends.grpc_target) as client:
        flow_id = await new_flow(client)
        body = uuid.uuid4().bytes * 1000
        result = await client.upload_segments(flow_id, [MediaSegment("[0:0_1:0)", body)])
        assert result.registered_count == 1
        large = b"L" * (5 * MIB) + b"tail"
        object_id = await client.upload_object(flow_id, large, part_size=5 * MIB)
        await client.register_segments(flow_id, [_post(object_id, "[1:0_2:0)")])
        streamed = uuid.uuid4().bytes * (6 * MIB // 16)  # two parts, from a stream
        stream_id = await client.upload_object(flow_id, async_chunks(streamed, MIB))
        spooled = await client.upload_segments(
            flow_id, [MediaSegment("[3:0_4:0)", in_chunks(body, 999))]
        )
        assert spooled.registered_count == 1
        await client.register_segments(flow_id, [_post(stream_id, "[2:0_3:0)")])
        assert await bytes_listed(client, flow_id) == [body, large, streamed, body]


async def test_the_sync_client_uploads_too(grpc_target: str) -> None:
    def work() -> tuple[int, str]:
        with TamsClient(grpc_target) as tams:
            flow = tams.create_flow(video_flow())
            segments = [
                MediaSegment("[0:0_1:0)", b"sync"),
                MediaSegment("[1:0_2:0)", in_chunks(b"a sync stream", 4)),
            ]
            result = tams.upload_segments(flow.id, segments)
            return result.registered_count, tams.upload_object(flow.id, in_chunks(b"more", 2))

    count, object_id = await asyncio.to_thread(work)
    assert count == 2
    assert object_id


async def test_parts_below_the_s3_minimum_are_refused(client: AsyncTamsClient) -> None:
    with pytest.raises(ValueError, match="part_size"):
        await client.upload_object(str(uuid.uuid4()), b"x", part_size=MIB)


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def in_chunks(data: bytes, size: int) -> Iterator[bytes]:
    """A sync stream of ``data``."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def async_chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    """An async stream of ``data``, giving way to the loop between chunks."""
    for chunk in in_chunks(data, size):
        await asyncio.sleep(0)
        yield chunk


async def test_streams_of_chunks_upload_as_segments(client: AsyncTamsClient) -> None:
    flow_id = await new_flow(client)
    # The last is larger than the in-memory spool: it spills to disk.
    bodies = [uuid.uuid4().bytes * n for n in (1000, 5000, 9 * MIB // 16)]
    segments = [
        MediaSegment("[0:0_1:0)", in_chunks(bodies[0], 1000)),  # a generator
        MediaSegment("[1:0_2:0)", [bodies[1][:7], bodies[1][7:]]),  # a list of chunks
        MediaSegment("[2:0_3:0)", async_chunks(bodies[2], 300_000)),
    ]
    transport = Wrapped(fail_first=1)  # every body is sent twice, read again from the spool
    async with httpx.AsyncClient(transport=transport) as http:
        result = await client.upload_segments(flow_id, segments, http=http)
    assert (result.registered_count, result.failures) == (3, [])
    assert list(transport.attempts.values()) == [2, 2, 2]
    assert sorted(transport.md5s.values()) == sorted(map(md5_of, bodies))
    assert await bytes_listed(client, flow_id) == bodies


async def test_streams_go_up_in_parts_read_once(
    client: AsyncTamsClient, running: RunningServer
) -> None:
    flow_id = await new_flow(client)
    before = uploads_open(running)
    data = uuid.uuid4().bytes * (11 * MIB // 16)
    parts = [data[start : start + 5 * MIB] for start in range(0, len(data), 5 * MIB)]
    transport = Wrapped(hold_s=0.02)
    async with httpx.AsyncClient(transport=transport) as http:
        object_id = await client.upload_object(
            flow_id, async_chunks(data, 777_777), part_size=5 * MIB, concurrency=2, http=http
        )
    part_urls = [url for url in transport.attempts if "/_multipart/" in url]
    assert sorted(transport.md5s[url] for url in part_urls) == sorted(map(md5_of, parts))
    assert transport.most_in_flight <= 2
    # A stream shorter than a part goes up in one PUT.
    small_id = await client.upload_object(flow_id, in_chunks(b"a short stream", 3))
    await client.register_segments(flow_id, [_post(object_id), _post(small_id, "[10:0_11:0)")])
    assert await bytes_listed(client, flow_id) == [data, b"a short stream"]
    assert uploads_open(running) == before


async def test_a_broken_stream_aborts_its_upload(
    client: AsyncTamsClient, running: RunningServer
) -> None:
    flow_id = await new_flow(client)
    before = uploads_open(running)
    open_during: list[set[str]] = []
    part_sent = asyncio.Event()

    async def watch(_: int) -> None:
        open_during.append(uploads_open(running) - before)
        part_sent.set()

    async def broken() -> AsyncIterator[bytes]:
        yield b"a" * (11 * MIB)  # two whole parts: the multipart upload starts
        await part_sent.wait()
        raise OSError("the encoder went away")

    async with httpx.AsyncClient(transport=Wrapped(before=watch)) as http:
        with pytest.raises(OSError, match="encoder went away"):
            await client.upload_object(flow_id, broken(), part_size=5 * MIB, http=http)
    assert len(open_during[0]) == 1  # the upload was open while its parts went up
    assert uploads_open(running) == before  # and is aborted now


async def test_api_failures_are_reported_per_segment(client: AsyncTamsClient) -> None:
    flow_id = await new_flow(client)

    async def freeze(request_number: int) -> None:
        if request_number == 3:  # the first PUT of the second batch
            await client.update_flow(flows_pb2.Flow(id=flow_id, read_only=True), ["read_only"])

    segments = [MediaSegment(f"[{i}:0_{i + 1}:0)", b"media") for i in range(5)]
    async with httpx.AsyncClient(transport=Wrapped(before=freeze)) as http:
        result = await client.upload_segments(flow_id, segments, batch_size=2, http=http)
    # The first batch went in; the second was refused as a whole; the third never left.
    assert result.registered_count == 2
    assert [(f.index, f.reason) for f in result.failures] == [
        (2, "FLOW_READ_ONLY"),
        (3, "FLOW_READ_ONLY"),
        (4, "FLOW_READ_ONLY"),
    ]
    missing = await client.upload_segments(new_id(), segments[:2])
    assert missing.registered_count == 0
    assert [f.index for f in missing.failures] == [0, 1]
    assert all(f.reason for f in missing.failures)


async def test_bad_arguments_are_refused_up_front(client: AsyncTamsClient) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        await client.upload_segments(new_id(), [], concurrency=0)
    with pytest.raises(ValueError, match="batch_size"):
        await client.upload_segments(new_id(), [], batch_size=0)


def _post(object_id: str, timerange: str = "[0:0_10:0)") -> segments_pb2.SegmentPost:
    return segments_pb2.SegmentPost(object_id=object_id, timerange=timerange)
