"""The messages of a streamed registration, ``batch_size`` Segments each, the Flow
id in the first only; from a plain or an async iterable."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from tams.v1 import segments_pb2


class _Batcher:
    """Gathers Segments into messages."""

    def __init__(self, flow_id: str, batch_size: int) -> None:
        self._flow_id = flow_id
        self._size = batch_size
        self._batch: list[segments_pb2.SegmentPost] = []
        self._sent = 0

    def add(
        self, segment: segments_pb2.SegmentPost
    ) -> segments_pb2.StreamRegisterSegmentsRequest | None:
        """Take ``segment``; a message once a batch is full."""
        self._batch.append(segment)
        return self._message() if len(self._batch) >= self._size else None

    def last(self) -> segments_pb2.StreamRegisterSegmentsRequest | None:
        """The final message (the one message of an empty run), if any is due."""
        return self._message() if self._batch or not self._sent else None

    def _message(self) -> segments_pb2.StreamRegisterSegmentsRequest:
        message = segments_pb2.StreamRegisterSegmentsRequest(
            flow_id="" if self._sent else self._flow_id, segments=self._batch
        )
        self._sent, self._batch = self._sent + 1, []
        return message


def batches(
    flow_id: str, segments: Iterable[segments_pb2.SegmentPost], batch_size: int
) -> Iterator[segments_pb2.StreamRegisterSegmentsRequest]:
    """The messages of ``segments``."""
    batcher = _Batcher(flow_id, batch_size)
    for segment in segments:
        if (message := batcher.add(segment)) is not None:
            yield message
    if (message := batcher.last()) is not None:
        yield message


async def async_batches(
    flow_id: str,
    segments: Iterable[segments_pb2.SegmentPost] | AsyncIterable[segments_pb2.SegmentPost],
    batch_size: int,
) -> AsyncIterator[segments_pb2.StreamRegisterSegmentsRequest]:
    """The messages of ``segments``, read as they come."""
    if not isinstance(segments, AsyncIterable):
        for plain in batches(flow_id, segments, batch_size):
            yield plain
        return
    batcher = _Batcher(flow_id, batch_size)
    async for segment in segments:
        if (message := batcher.add(segment)) is not None:
            yield message
    if (message := batcher.last()) is not None:
        yield message
