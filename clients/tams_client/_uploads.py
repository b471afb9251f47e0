"""Uploading media: allocate Objects, PUT the bytes straight to the object store (a
few at a time, each with its Content-MD5, transient failures retried), then register
the Segments. Large files go up as multipart uploads. Bytes never pass through the
TAMS API itself."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tams.v1 import segments_pb2, storage_pb2

if TYPE_CHECKING:
    from tams_client._async_client import AsyncTamsClient

Content = bytes | str | os.PathLike[str]
"""The bytes of an Object, or the path of a file holding them (read as it is sent)."""

MIB = 1 << 20
MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
_CHUNK = MIB
_HTTP_ATTEMPTS = 4
_HTTP_PAUSE_S = 0.2
_PART_URLS_PER_CALL = 1000


@dataclass(frozen=True)
class MediaSegment:
    """A Segment to upload: where it goes on the Flow's timeline, its bytes, and the
    optional Segment fields."""

    timerange: str
    content: Content
    ts_offset: str | None = None
    key_frame_count: int | None = None
    object_timerange: str | None = None
    init_object_id: str | None = None


@dataclass(frozen=True)
class UploadFailure:
    """A Segment that did not make it, and why."""

    index: int
    timerange: str
    reason: str
    message: str


@dataclass
class UploadResult:
    """What ``upload_segments`` did: the Object ids of the registered Segments (in
    input order) and the failures; nothing is dropped silently."""

    object_ids: list[str] = field(default_factory=list)
    failures: list[UploadFailure] = field(default_factory=list)

    @property
    def registered_count(self) -> int:
        """How many Segments were registered."""
        return len(self.object_ids)


@dataclass
class Progress:
    """Counts handed to a progress callback after each Segment or part."""

    bytes_sent: int = 0
    segments_done: int = 0
    segments_total: int = 0


ProgressCallback = Callable[[Progress], None]


class HttpUploadError(Exception):
    """The object store refused a PUT (after retries, for transient failures)."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(f"the object store answered {status_code}: {body[:200]}")
        self.status_code = status_code


async def upload_segments(
    client: AsyncTamsClient,
    flow_id: str,
    segments: Iterable[MediaSegment],
    *,
    concurrency: int,
    batch_size: int,
    progress: ProgressCallback | None,
    http: httpx.AsyncClient | None,
) -> UploadResult:
    """See ``AsyncTamsClient.upload_segments``."""
    items = list(segments)
    result = UploadResult()
    state = Progress(segments_total=len(items))
    limit = asyncio.Semaphore(concurrency)
    async with _http(http) as session:
        for first in range(0, len(items), batch_size):
            batch = items[first : first + batch_size]
            allocated = await client.allocate_storage(flow_id, count=len(batch))
            errors = await asyncio.gather(
                *(
                    _send_segment(session, limit, item, target, state, progress)
                    for item, target in zip(batch, allocated, strict=True)
                )
            )
            posts: list[tuple[int, segments_pb2.SegmentPost]] = []
            for offset, (item, target, error) in enumerate(
                zip(batch, allocated, errors, strict=True)
            ):
                index = first + offset
                if error is None:
                    posts.append((index, _post(item, target.object_id)))
                else:
                    failure = UploadFailure(index, item.timerange, "UPLOAD_FAILED", error)
                    result.failures.append(failure)
            if posts:
                await _register(client, flow_id, posts, result)
    result.failures.sort(key=lambda f: f.index)
    return result


async def _send_segment(
    session: httpx.AsyncClient,
    limit: asyncio.Semaphore,
    item: MediaSegment,
    target: storage_pb2.AllocatedObject,
    state: Progress,
    progress: ProgressCallback | None,
) -> str | None:
    """PUT one Segment's bytes; why it failed, or None."""
    async with limit:
        try:
            await put_content(session, target.put_url, item.content, state, progress)
        except (HttpUploadError, httpx.HTTPError, OSError) as error:
            return str(error)
    state.segments_done += 1
    if progress is not None:
        progress(state)
    return None


async def upload_object(
    client: AsyncTamsClient,
    flow_id: str,
    content: Content,
    *,
    part_size: int,
    concurrency: int,
    content_type: str | None,
    progress: ProgressCallback | None,
    http: httpx.AsyncClient | None,
) -> str:
    """See ``AsyncTamsClient.upload_object``."""
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
    [target] = await client.allocate_storage(flow_id, count=1, content_type=content_type)
    size = await _size_of(content)
    state = Progress(segments_total=1)
    async with _http(http) as session:
        if size <= part_size:
            await put_content(session, target.put_url, content, state, progress)
            return target.object_id
        upload_id = await client.start_multipart_upload(flow_id, target.object_id)
        try:
            etags = await _put_parts(
                client, session, flow_id, target.object_id, upload_id, content,
                size, part_size, concurrency, state, progress,
            )  # fmt: skip
            await client.complete_multipart_upload(flow_id, target.object_id, upload_id, etags)
        except BaseException:
            await client.abort_multipart_upload(flow_id, target.object_id, upload_id)
            raise
    return target.object_id


async def _put_parts(
    client: AsyncTamsClient,
    session: httpx.AsyncClient,
    flow_id: str,
    object_id: str,
    upload_id: str,
    content: Content,
    size: int,
    part_size: int,
    concurrency: int,
    state: Progress,
    progress: ProgressCallback | None,
) -> list[tuple[int, str]]:
    count = -(-size // part_size)
    numbers = list(range(1, count + 1))
    # A part's MD5 goes into its URL, so each part is read twice: once to hash it
    # here, once to send it. Memory holds at most ``concurrency`` parts.
    md5s = {n: await _md5_of_range(content, (n - 1) * part_size, part_size) for n in numbers}
    urls: dict[int, storage_pb2.HttpRequest] = {}
    for first in range(0, count, _PART_URLS_PER_CALL):
        chunk = numbers[first : first + _PART_URLS_PER_CALL]
        urls.update(
            await client.get_multipart_part_urls(
                flow_id, object_id, upload_id, [(n, md5s[n]) for n in chunk]
            )
        )
    limit = asyncio.Semaphore(concurrency)
    etags: dict[int, str] = {}

    async def send(number: int) -> None:
        async with limit:
            data = await _read_range(content, (number - 1) * part_size, part_size)
            etags[number] = await put_content(session, urls[number], data, state, progress)

    try:
        # A task group cancels the other parts when one fails, before the abort.
        async with asyncio.TaskGroup() as group:
            for number in numbers:
                group.create_task(send(number))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [(n, etags[n]) for n in numbers]


async def put_content(
    session: httpx.AsyncClient,
    request: storage_pb2.HttpRequest,
    content: Content,
    state: Progress,
    progress: ProgressCallback | None,
) -> str:
    """PUT ``content`` as ``request`` says, with its Content-MD5 (unless the request
    fixes one); 5xx answers and connection failures are retried with backoff. Returns
    the ETag."""
    headers = dict(request.headers)
    if request.content_type:
        headers["Content-Type"] = request.content_type
    size = await _size_of(content)
    if not any(name.lower() == "content-md5" for name in headers):
        headers["Content-MD5"] = await _md5_of_range(content, 0, size)
    headers["Content-Length"] = str(size)
    pause = _HTTP_PAUSE_S
    for attempt in range(1, _HTTP_ATTEMPTS + 1):
        try:
            response = await session.put(request.url, content=_body(content), headers=headers)
        except httpx.TransportError:
            if attempt == _HTTP_ATTEMPTS:
                raise
        else:
            if response.status_code < 300:
                state.bytes_sent += size
                if progress is not None:
                    progress(state)
                return str(response.headers.get("etag", ""))
            if response.status_code < 500 or attempt == _HTTP_ATTEMPTS:
                raise HttpUploadError(response.status_code, response.text)
        await asyncio.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")


async def _register(
    client: AsyncTamsClient,
    flow_id: str,
    posts: Sequence[tuple[int, segments_pb2.SegmentPost]],
    result: UploadResult,
) -> None:
    response = await client.register_segments(flow_id, [post for _, post in posts])
    refused = {f.index: f for f in response.failed_segments}
    for position, (index, post) in enumerate(posts):
        failed = refused.get(position)
        if failed is None:
            result.object_ids.append(post.object_id)
        else:
            result.failures.append(
                UploadFailure(index, post.timerange, failed.error.reason, failed.error.message)
            )


def _post(item: MediaSegment, object_id: str) -> segments_pb2.SegmentPost:
    post = segments_pb2.SegmentPost(object_id=object_id, timerange=item.timerange)
    for name in ("ts_offset", "key_frame_count", "object_timerange", "init_object_id"):
        value = getattr(item, name)
        if value is not None:
            setattr(post, name, value)
    return post


def _http(http: httpx.AsyncClient | None) -> httpx.AsyncClient | _Borrowed:
    """The caller's HTTP client (left open), or a new one for this call."""
    return _Borrowed(http) if http is not None else httpx.AsyncClient(timeout=60.0)


class _Borrowed:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def __aenter__(self) -> httpx.AsyncClient:
        return self._http

    async def __aexit__(self, *_: object) -> None:
        return None


async def _size_of(content: Content) -> int:
    if isinstance(content, bytes):
        return len(content)
    return (await asyncio.to_thread(os.stat, content)).st_size


async def _md5_of_range(content: Content, start: int, length: int) -> str:
    """Base64 MD5 (RFC 1864) of ``length`` bytes from ``start``."""
    if isinstance(content, bytes):
        digest = hashlib.md5(content[start : start + length]).digest()
    else:
        digest = await asyncio.to_thread(_file_md5, Path(content), start, length)
    return base64.b64encode(digest).decode()


def _file_md5(path: Path, start: int, length: int) -> bytes:
    digest = hashlib.md5()
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            block = f.read(min(_CHUNK, left))
            if not block:
                break
            digest.update(block)
            left -= len(block)
    return digest.digest()


async def _read_range(content: Content, start: int, length: int) -> bytes:
    if isinstance(content, bytes):
        return content[start : start + length]

    def read() -> bytes:
        with Path(content).open("rb") as f:
            f.seek(start)
            return f.read(length)

    return await asyncio.to_thread(read)


def _body(content: Content) -> bytes | AsyncIterator[bytes]:
    """The request body: bytes as they are, a file streamed in chunks."""
    if isinstance(content, bytes):
        return content

    async def chunks() -> AsyncIterator[bytes]:
        with Path(content).open("rb") as f:  # noqa: ASYNC230 - reads go to a thread below
            while block := await asyncio.to_thread(f.read, _CHUNK):
                yield block

    return chunks()
