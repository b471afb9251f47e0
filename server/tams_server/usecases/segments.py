"""Writes of Segments: registration (the rules, the backends asked about uploaded
Objects, then one write transaction per batch) and deletion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field

from tams_server.domain.access import Access
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.models import FlowDeleteRequest
from tams_server.domain.segments import (
    MAX_SEGMENTS_PER_CALL,
    Rejection,
    Segment,
    SegmentPost,
    prepare,
)
from tams_server.domain.storage import StorageBackend
from tams_server.objects.urls import ObjectUrls
from tams_server.store.objects import ObjectRecordStore
from tams_server.store.segments import SegmentsToDelete, SegmentStore, objects_of
from tams_server.usecases.caller import Caller

Candidates = list[tuple[int, Segment]]
Uploads = dict[str, int | None]  # Object id -> size (None: the backend did not say)


@dataclass(frozen=True)
class PostBatch:
    """One message of a registration stream: its Flow (empty: the stream's) and posts."""

    flow_id: str
    posts: Sequence[SegmentPost]


@dataclass
class Registered:
    """What a registration stored: how many Segments, and the posts refused (their
    ``index`` counts from the first post of the call)."""

    count: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, count: int, rejections: Sequence[Rejection]) -> None:
        self.count += count
        self.rejections += rejections


class SegmentWrites:
    """Registers and deletes Segments."""

    def __init__(
        self,
        store: SegmentStore,
        objects: ObjectRecordStore,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
    ) -> None:
        self._store = store
        self._objects = objects
        self._urls = urls
        self._backend_labels = frozenset(b.label for b in backends if b.label)
        self._default_storage = next((b.id for b in backends if b.default_storage), None)

    async def register(
        self,
        flow_id: str,
        posts: Sequence[SegmentPost],
        *,
        allocate_unknown: bool = False,
        access: Access | None = None,
    ) -> Registered:
        """Check each post (a bad one is refused, the others go on), then store them
        in one transaction, on behalf of a caller with ``access``; ``allocate_unknown``:
        an Object no one allocated is allocated on the default backend by its first
        Segment (the usage guide's registration before upload)."""
        check_uuid(flow_id, "flow_id")
        if len(posts) > MAX_SEGMENTS_PER_CALL:
            raise InvalidArgument.for_field(
                "segments",
                f"holds {len(posts)}; at most {MAX_SEGMENTS_PER_CALL} per call",
                reason=Reason.BATCH_TOO_LARGE,
            )
        candidates, rejections = _check(posts, 0)
        registered = Registered(rejections=rejections)
        allocate_on = self._default_storage if allocate_unknown else None
        registered.add(*await self._store_checked(flow_id, candidates, access, allocate_on))
        return registered

    async def register_stream(
        self, batches: AsyncIterable[PostBatch], *, access: Access | None = None
    ) -> Registered:
        """Register batch after batch, each in its own transaction, all on the Flow the
        first batch names. While the store writes one batch, the next is received and
        checked, its allocated Objects looked for in their backends; when the call
        fails, the batch in flight is rolled back."""
        flow_id = ""
        seen = 0
        registered = Registered()
        pending: asyncio.Future[tuple[int, list[Rejection]]] | None = None
        looking: asyncio.Future[Uploads] | None = None
        try:
            async for batch in batches:
                if not flow_id:
                    flow_id = check_uuid(batch.flow_id, "flow_id")
                elif batch.flow_id and batch.flow_id != flow_id:
                    raise InvalidArgument.for_field(
                        "flow_id", f"changed from {flow_id} to {batch.flow_id} in the stream"
                    )
                candidates, rejections = _check(batch.posts, seen)
                # The backends are asked about this batch's Objects while the last
                # batch is written: neither waits for the other.
                looking = asyncio.ensure_future(self._uploads(candidates))
                if pending is not None:
                    registered.add(*await pending)
                pending = asyncio.ensure_future(
                    self._store_found(flow_id, candidates, looking, access)
                )
                registered.rejections += rejections
                seen += len(batch.posts)
            if pending is not None:
                registered.add(*await pending)
        finally:
            for task in (looking, pending):
                if task is None:
                    continue
                if not task.done():
                    task.cancel()
                elif not task.cancelled():
                    task.exception()  # seen: the error this call raises, if any, is another
        if not flow_id:
            raise InvalidArgument.for_field("flow_id", "is required", reason=Reason.MISSING_FIELD)
        return registered

    async def delete(
        self,
        target: SegmentsToDelete,
        *,
        deleted_by: str | None,
        caller: Caller,
        access: Access | None = None,
    ) -> tuple[int, FlowDeleteRequest | None]:
        """Delete the Segments ``target`` covers (see ``SegmentStore.delete``), recorded
        as deleted by ``deleted_by`` or else the caller.

        Events: the "segments deleted" event goes to ``SegmentStore.delete``, to be
        written in its write transaction."""
        return await self._store.delete(target, actor=caller.actor(deleted_by), access=access)

    async def _store_checked(
        self,
        flow_id: str,
        candidates: Candidates,
        access: Access | None,
        allocate_on: str | None = None,
    ) -> tuple[int, list[Rejection]]:
        """Look in the backends for allocated Objects not yet seen there, then store."""
        found = await self._uploads(candidates)
        return await self._write(flow_id, candidates, found, access, allocate_on)

    async def _store_found(
        self,
        flow_id: str,
        candidates: Candidates,
        looking: asyncio.Future[Uploads],
        access: Access | None,
    ) -> tuple[int, list[Rejection]]:
        """Store once ``looking`` (the backends' answer about the candidates' Objects)
        is in."""
        return await self._write(flow_id, candidates, await looking, access)

    async def _uploads(self, candidates: Candidates) -> Uploads:
        """Of the candidates' allocated Objects whose bytes were never seen in their
        backend, those that are there now, with their sizes: asked outside the write
        transaction (that is network I/O), once per batch, not per Object. The store
        marks them uploaded, so an Object's bytes are looked for until first found."""
        unverified = await self._objects.unverified(objects_of(candidates))
        return await self._urls.present(unverified) if unverified else {}

    async def _write(
        self,
        flow_id: str,
        candidates: Candidates,
        uploaded: Uploads,
        access: Access | None,
        allocate_on: str | None = None,
    ) -> tuple[int, list[Rejection]]:
        """Store the candidates in one write transaction.

        Events: the "segments added" event of the Segments stored goes to
        ``SegmentStore.register``, to be written in its write transaction."""
        return await self._store.register(
            flow_id,
            candidates,
            uploaded=uploaded,
            backend_labels=self._backend_labels,
            allocate_on=allocate_on,
            access=access,
        )


def _check(posts: Sequence[SegmentPost], first_index: int) -> tuple[Candidates, list[Rejection]]:
    """The posts that pass the rules and why the others do not, each with its index in
    the call (``first_index`` is that of ``posts[0]``)."""
    candidates: Candidates = []
    rejections: list[Rejection] = []
    for offset, post in enumerate(posts):
        index = first_index + offset
        try:
            candidates.append((index, prepare(post, path=f"segments[{index}]")))
        except InvalidArgument as error:
            rejections.append(Rejection(index, post.object_id, post.timerange, error))
    return candidates, rejections
