"""Instances of an Object: copies of its bytes on the configured backends (made and
removed together with their records) and uncontrolled URLs; and the removal of
Objects no Segment uses. Instances change only for a caller whose auth classes let it
write to a Flow using the Object (``ObjectInfoStore.check_writable``)."""

from __future__ import annotations

from collections.abc import Sequence

from tams_server.domain.access import Access, AuthClassMap, current_access
from tams_server.domain.errors import FailedPrecondition, InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import ObjectLocation, ObjectRecord
from tams_server.domain.storage import StorageBackend
from tams_server.objects.urls import ObjectUrls
from tams_server.store.object_info import ObjectInfoStore
from tams_server.store.objects import ObjectRecordStore

ObjectView = tuple[ObjectRecord, list[str], ObjectLocation | None]
"""An Object as ``ObjectInfoStore.get`` reads it: the record, ids of Flows using it,
where its init Object is."""

# How many Flows using the Object the answer to a change of its instances lists.
_FLOWS_AFTER_CHANGE = 100


class ObjectInstances:
    """Adds and removes the instances of Objects."""

    def __init__(
        self,
        store: ObjectInfoStore,
        urls: ObjectUrls,
        backends: Sequence[StorageBackend],
        classes: AuthClassMap | None,
    ) -> None:
        self._store = store
        self._urls = urls
        self._backends = {backend.id: backend for backend in backends}
        self._classes = classes

    async def add_copy(self, object_id: str, storage_id: str) -> ObjectView:
        """Copy the bytes to the backend ``storage_id`` and record the copy; the copy
        is deleted again if it cannot be recorded, unless a copy there was recorded
        meanwhile (a concurrent call): those bytes, at the same key, are that copy's.
        Returns the Object as it is now."""
        target = self._backend(storage_id)
        access = await self._writable(object_id)
        source_id, key, content_type = await self._store.check_copy(object_id, target.id)
        await self._urls.copy(self._backends[source_id], target, key, content_type=content_type)
        try:
            await self._store.add_copy(object_id, target.id, key)
        except BaseException as error:
            if not (
                isinstance(error, FailedPrecondition) and error.reason == Reason.INSTANCE_EXISTS
            ):
                await self._urls.delete(target, key)  # leave no stray copy behind
            raise
        return await self._view(object_id, access)

    async def add_uncontrolled(self, object_id: str, url: str, label: str) -> ObjectView:
        """Add an uncontrolled URL, whose label no backend uses; returns the Object as
        it is now."""
        if any(b.label == label for b in self._backends.values()):
            raise InvalidArgument.for_field(
                "uncontrolled.label", f"{label!r} is the label of a storage backend; choose another"
            )
        access = await self._writable(object_id)
        await self._store.add_uncontrolled(object_id, url, label)
        return await self._view(object_id, access)

    async def remove_copy(self, object_id: str, storage_id: str) -> None:
        """Forget the copy on the backend ``storage_id``, then delete its bytes."""
        backend = self._backend(storage_id)
        await self._writable(object_id)
        removed = await self._store.remove(object_id, storage_id=backend.id)
        if removed is not None:
            await self._urls.delete(backend, removed[1])

    async def remove_uncontrolled(self, object_id: str, label: str) -> None:
        """Forget the uncontrolled URL labelled ``label``."""
        await self._writable(object_id)
        await self._store.remove(object_id, label=label)

    async def _writable(self, object_id: str) -> Access | None:
        """The caller's access, once it may change the Object's instances."""
        access = current_access(self._classes)
        await self._store.check_writable(object_id, access)
        return access

    async def _view(self, object_id: str, access: Access | None) -> ObjectView:
        record, flows, init = await self._store.get(
            object_id, page_size=_FLOWS_AFTER_CHANGE, access=access
        )
        return record, list(flows.items), init

    def _backend(self, storage_id: str) -> StorageBackend:
        check_uuid(storage_id, "storage_id")
        backend = self._backends.get(storage_id)
        if backend is None:
            raise InvalidArgument.for_field(
                "storage_id", f"no storage backend {storage_id} here", reason=Reason.UNKNOWN_STORAGE
            )
        return backend


class UnusedObjects:
    """Deletes Objects no Segment uses: allocations that expired unused, and Objects
    whose last Segment was deleted (reference counting). The record goes first, then
    the bytes of every copy, so a crash leaves at worst stray bytes, never a record of
    bytes that are gone."""

    def __init__(
        self, store: ObjectRecordStore, urls: ObjectUrls, backends: Sequence[StorageBackend]
    ) -> None:
        self._store = store
        self._urls = urls
        self._backends = {backend.id: backend for backend in backends}

    async def remove(self, *, limit: int) -> int:
        """Remove up to ``limit`` expired Objects that nothing uses; returns how many
        went (bytes on a backend no longer configured stay where they are)."""
        removed = 0
        for object_id in await self._store.expired(limit=limit):
            places = await self._store.forget_if_unused(object_id)
            if places is None:
                continue
            for storage_id, key in places:
                backend = self._backends.get(storage_id)
                if backend is not None:
                    await self._urls.delete(backend, key)
            removed += 1
        return removed
