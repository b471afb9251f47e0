"""Uploading media: allocate Objects, PUT the bytes straight to the object store (a
few at a time, each with its Content-MD5, transient failures retried), then register
the Segments. Large Objects go up as multipart uploads. Bytes never pass through the
TAMS API itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from tams.v1 import segments_pb2, storage_pb2
from tams_client._calls import Options
from tams_client._content import MIB, Content, Payload, bytes_payload, payload, read_parts
from tams_client._errors import TamsClientError

if TYPE_CHECKING:
    from tams_client._async_client import AsyncTamsClient

MIN_PART_SIZE = 5 * MIB  # S3's minimum for every part but the last
MAX_PARTS = 10_000
_HTTP_ATTEMPTS = 4
_HTTP_PAUSE_S = 0.2
_TRANSIENT = frozenset({408, 429})  # besides every 5xx


@dataclass(frozen=True)
class MediaSegment:
    """A Segment to upload: where it goes on the Flow's timeline, its bytes (``bytes``,
    a file path, or an iterable of chunks), and the optional Segment fields."""

    timerange: str
    content: Content
    ts_offset: str | None = None
    key_frame_count: int | None = None
    object_timerange: str | None = None
    init_object_id: str | None = None


@dataclass(frozen=True)
class UploadFailure:
    """A Segment that did not make it, and why: ``UPLOAD_FAILED`` (the object store
    refused the bytes), the server's reason for a refused Segment (``SEGMENT_OVERLAP``
    ...), or the reason of a call that failed (then the batch's outcome is unknown)."""

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


@dataclass
class _Run:
    """One upload call's HTTP client, progress and callback, and the options of its
    API calls."""

    session: httpx.AsyncClient
    state: Progress
    progress: ProgressCallback | None
    options: Options

    @property
    def call_options(self) -> dict[str, Any]:
        """The keyword arguments that give an API call these options."""
        return {"timeout": self.options.timeout, "retry": self.options.retry}

    def sent(self, size: int = 0, segments: int = 0) -> None:
        self.state.bytes_sent += size
        self.state.segments_done += segments
        if self.progress is not None:
            self.progress(self.state)


async def upload_segments(
    client: AsyncTamsClient,
    flow_id: str,
    segments: Iterable[MediaSegment],
    *,
    concurrency: int,
    batch_size: int,
    progress: ProgressCallback | None,
    http: httpx.AsyncClient | None,
    options: Options,
) -> UploadResult:
    """See ``AsyncTamsClient.upload_segments``."""
    _check_positive(concurrency=concurrency, batch_size=batch_size)
    items = list(segments)
    result = UploadResult()
    limit = asyncio.Semaphore(concurrency)
    async with _http(http) as session:
        run = _Run(session, Progress(segments_total=len(items)), progress, options)
        for first in range(0, len(items), batch_size):
            batch = list(enumerate(items[first : first + batch_size], start=first))
            try:
                allocated = await client.allocate_storage(
                    flow_id, count=len(batch), **run.call_options
                )
                errors = await asyncio.gather(
                    *(_send_segment(run, limit, item.content, target) for (_, item), target
                      in zip(batch, allocated, strict=True))
                )  # fmt: skip
                posts = []
                for (index, item), target, error in zip(batch, allocated, errors, strict=True):
                    if error is None:
                        posts.append((index, _post(item, target.object_id)))
                    else:
                        result.failures.append(
                            UploadFailure(index, item.timerange, "UPLOAD_FAILED", error)
                        )
                if posts:
                    await _register(client, run, flow_id, posts, result)
            except TamsClientError as error:
                # The API failed: what is registered stays reported, the rest fails.
                # Earlier batches are accounted for; nothing of this one is registered.
                reason = error.reason or error.code.name
                failed = {f.index for f in result.failures}
                result.failures.extend(
                    UploadFailure(i, item.timerange, reason, error.message)
                    for i, item in enumerate(items[first:], start=first)
                    if i not in failed
                )
                break
    result.failures.sort(key=lambda f: f.index)
    return result


async def _send_segment(
    run: _Run, limit: asyncio.Semaphore, content: Content, target: storage_pb2.AllocatedObject
) -> str | None:
    """PUT one Segment's bytes; why it failed, or None."""
    async with limit:
        try:
            async with payload(content) as body:
                await put(run, target.put_url, body)
        except (HttpUploadError, httpx.HTTPError, OSError) as error:
            return str(error) or type(error).__name__
    run.sent(segments=1)
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
    options: Options,
) -> str:
    """See ``AsyncTamsClient.upload_object``."""
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
    _check_positive(concurrency=concurrency)
    async with _http(http) as session:
        run = _Run(session, Progress(segments_total=1), progress, options)
        [target] = await client.allocate_storage(
            flow_id, count=1, content_type=content_type, **run.call_options
        )
        parts = read_parts(content, part_size)
        try:
            # Two parts read tell a single PUT from a multipart upload, whatever the
            # content (a stream has no size to look at).
            first = await anext(parts, b"")
            second = await anext(parts, None)
            if second is None:
                await put(run, target.put_url, await bytes_payload(first))
            else:
                await _multipart(
                    client, run, flow_id, target.object_id, _chain(first, second, parts),
                    concurrency,
                )  # fmt: skip
        finally:
            await parts.aclose()
        run.sent(segments=1)
    return target.object_id


async def _multipart(
    client: AsyncTamsClient,
    run: _Run,
    flow_id: str,
    object_id: str,
    parts: AsyncIterator[bytes],
    concurrency: int,
) -> None:
    """Start, send every part, complete; abort on any failure (or cancellation)."""
    upload_id = await client.start_multipart_upload(flow_id, object_id, **run.call_options)
    try:
        etags = await _send_parts(client, run, flow_id, object_id, upload_id, parts, concurrency)
        await client.complete_multipart_upload(
            flow_id, object_id, upload_id, etags, **run.call_options
        )
    except BaseException as error:
        try:
            await client.abort_multipart_upload(flow_id, object_id, upload_id, **run.call_options)
        except Exception as abort_error:  # the first failure is the one to report
            error.add_note(
                f"aborting multipart upload {upload_id} failed too ({abort_error}); "
                "the server aborts it once it expires"
            )
        raise


async def _send_parts(
    client: AsyncTamsClient,
    run: _Run,
    flow_id: str,
    object_id: str,
    upload_id: str,
    parts: AsyncIterator[bytes],
    concurrency: int,
) -> list[tuple[int, str]]:
    """PUT the parts ``concurrency`` at a time as they are read; each part's URL is
    asked for once its MD5 is known (the URL is bound to it). At most ``concurrency``
    parts are in memory. Returns (number, ETag) in part order."""
    limit = asyncio.Semaphore(concurrency)
    etags: dict[int, str] = {}

    async def send(number: int, data: bytes) -> None:
        try:
            body = await bytes_payload(data)
            urls = await client.get_multipart_part_urls(
                flow_id, object_id, upload_id, [(number, body.md5)], **run.call_options
            )
            etags[number] = await put(run, urls[number], body)
        finally:
            limit.release()

    try:
        # A task group cancels the other parts when one fails, before the abort.
        async with asyncio.TaskGroup() as group:
            number = 0
            while True:
                await limit.acquire()
                data = await anext(parts, None)
                if data is None:
                    limit.release()
                    break
                number += 1
                if number > MAX_PARTS:
                    limit.release()
                    raise ValueError(f"more than {MAX_PARTS} parts: raise part_size")
                group.create_task(send(number, data))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return sorted(etags.items())


async def put(run: _Run, request: storage_pb2.HttpRequest, body: Payload) -> str:
    """PUT ``body`` as ``request`` says, with its Content-MD5 (unless the request fixes
    one); 408, 429 and 5xx answers and connection failures are retried with backoff.
    Returns the ETag."""
    headers = dict(request.headers)
    if request.content_type:
        headers["Content-Type"] = request.content_type
    if not any(name.lower() == "content-md5" for name in headers):
        headers["Content-MD5"] = body.md5
    headers["Content-Length"] = str(body.size)
    pause = _HTTP_PAUSE_S
    for attempt in range(1, _HTTP_ATTEMPTS + 1):
        try:
            response = await run.session.put(request.url, content=body.body(), headers=headers)
        except httpx.TransportError:
            if attempt == _HTTP_ATTEMPTS:
                raise
        else:
            if response.is_success:
                run.sent(size=body.size)
                return str(response.headers.get("etag", ""))
            transient = response.status_code >= 500 or response.status_code in _TRANSIENT
            if not transient or attempt == _HTTP_ATTEMPTS:
                raise HttpUploadError(response.status_code, response.text)
        await asyncio.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")


async def _register(
    client: AsyncTamsClient,
    run: _Run,
    flow_id: str,
    posts: Sequence[tuple[int, segments_pb2.SegmentPost]],
    result: UploadResult,
) -> None:
    response = await client.register_segments(
        flow_id, [post for _, post in posts], **run.call_options
    )
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


async def _chain(first: bytes, second: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    yield second
    async for part in rest:
        yield part


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1")


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
