"""Multipart uploads of allocated Objects: start, part URLs (each bound to the part's
Content-MD5), completion with the ETags in part order, abort, and the abort of uploads
left unfinished. Each spans the upload records (``MultipartStore``) and the backend's
own multipart upload (``Multipart``). Each call writes to its Flow: a caller its
auth classes keep from writing to it is refused before anything else is read."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from tams_server.domain.access import AuthClassMap, current_access
from tams_server.domain.errors import FailedPrecondition, InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import check_object_id
from tams_server.domain.storage import StorageBackend
from tams_server.objects.multipart import Multipart
from tams_server.store.flows import FlowStore
from tams_server.store.multipart import MultipartStore

MAX_PARTS = 10_000


class MultipartUploads:
    """Multipart uploads, whichever backend holds the Object."""

    def __init__(
        self,
        backends: Mapping[str, StorageBackend],
        uploads: MultipartStore,
        multipart: Multipart,
        *,
        lifetime_s: int,
        flows: FlowStore,
        classes: AuthClassMap | None,
    ) -> None:
        self._flows = flows
        self._classes = classes
        self._backends = backends
        self._uploads = uploads
        self._multipart = multipart
        self._lifetime_s = lifetime_s

    async def start(self, flow_id: str, object_id: str) -> tuple[str, int]:
        """Begin an upload of an allocated Object; returns the upload id and when the
        upload expires (ns). The backend's upload is aborted if it cannot be recorded."""
        check_uuid(flow_id, "flow_id")
        check_object_id(object_id, "object_id")
        await self._check_writable(flow_id)
        storage_id, key, content_type = await self._uploads.target(flow_id, object_id)
        backend = self._backend(storage_id)
        upload_id = uuid.uuid4().hex
        backend_upload_id = await self._multipart.start(backend, upload_id, key, content_type)
        try:
            expires_ns = await self._uploads.record(
                upload_id, object_id=object_id, flow_id=flow_id, storage_id=storage_id,
                key=key, backend_upload_id=backend_upload_id,
                lifetime_ns=self._lifetime_s * 1_000_000_000,
            )  # fmt: skip
        except BaseException:
            await self._multipart.abort(backend, upload_id, backend_upload_id, key)
            raise
        return upload_id, expires_ns

    async def part_urls(
        self, upload_id: str, flow_id: str, object_id: str, parts: Sequence[tuple[int, str]]
    ) -> list[str]:
        """A URL for each (part number, Content-MD5) of ``parts``, in their order; each
        takes exactly that part, with exactly that Content-MD5."""
        _check_parts_given(parts)
        for index, (number, content_md5) in enumerate(parts):
            _check_part_number(number, f"parts[{index}].part_number")
            _check_md5(content_md5, f"parts[{index}].content_md5")
        await self._check_writable(flow_id)
        upload = await self._uploads.find(upload_id, flow_id, object_id)
        backend = self._backend(upload.storage_id)
        urls = []
        for number, content_md5 in parts:
            url = self._multipart.part_url(
                backend, upload.id, upload.backend_upload_id, upload.storage_key,
                number, content_md5, expires_s=self._lifetime_s,
            )  # fmt: skip
            urls.append(url)
        return urls

    async def complete(
        self, upload_id: str, flow_id: str, object_id: str, parts: Sequence[tuple[int, str]]
    ) -> str:
        """Assemble the Object from its (part number, ETag) ``parts``, listed in
        ascending part order; returns the Object's ETag."""
        _check_parts_given(parts)
        previous = 0
        for index, (number, etag) in enumerate(parts):
            _check_part_number(number, f"parts[{index}].part_number")
            if number <= previous:
                raise InvalidArgument.for_field(
                    f"parts[{index}].part_number",
                    f"{number} follows {previous}: list parts in ascending part order, each once",
                    reason=Reason.MULTIPART_PARTS_OUT_OF_ORDER,
                )
            previous = number
            if not etag:
                raise InvalidArgument.for_field(
                    f"parts[{index}].etag", "is required", reason=Reason.MISSING_FIELD
                )
        await self._check_writable(flow_id)
        upload = await self._uploads.find(upload_id, flow_id, object_id)
        etag = await self._multipart.complete(
            self._backend(upload.storage_id), upload.id, upload.backend_upload_id,
            upload.storage_key, parts,
        )  # fmt: skip
        await self._uploads.forget(upload.id)
        return etag

    async def abort(self, upload_id: str, flow_id: str, object_id: str) -> None:
        """Discard an upload and its parts."""
        await self._check_writable(flow_id)
        upload = await self._uploads.find(upload_id, flow_id, object_id)
        await self._discard(self._backend(upload.storage_id), upload)

    async def abort_expired(self, *, limit: int) -> None:
        """Abort up to ``limit`` uploads left unfinished past their expiry. One on a
        backend no longer configured has nothing left to abort: only its record goes."""
        for upload in await self._uploads.expired(limit=limit):
            backend = self._backends.get(upload.storage_id)
            if backend is None:
                await self._uploads.forget(upload.id)
            else:
                await self._discard(backend, upload)

    async def _check_writable(self, flow_id: str) -> None:
        """Refuse a caller the Flow's auth classes keep from writing to it: NOT_FOUND
        without any right, PERMISSION_DENIED AUTH_CLASS_DENIED with read only (as for
        the allocation of its storage). An unknown Flow is left to the upload records
        to report."""
        await self._flows.check_writable(flow_id, current_access(self._classes))

    async def _discard(self, backend: StorageBackend, upload: Any) -> None:
        """Abort the backend's upload, then forget the record (a record row of
        ``MultipartStore``)."""
        await self._multipart.abort(
            backend, upload.id, upload.backend_upload_id, upload.storage_key
        )
        await self._uploads.forget(upload.id)

    def _backend(self, storage_id: str) -> StorageBackend:
        backend = self._backends.get(storage_id)
        if backend is None:
            raise FailedPrecondition(
                f"storage backend {storage_id} is no longer configured on this server",
                reason=Reason.STORAGE_NOT_CONFIGURED,
                metadata={"storageId": storage_id},
            )
        return backend


def _check_parts_given(parts: Sequence[object]) -> None:
    if not parts:
        raise InvalidArgument.for_field("parts", "is required", reason=Reason.MISSING_FIELD)
    if len(parts) > MAX_PARTS:
        raise InvalidArgument.for_field(
            "parts", f"holds {len(parts)}; at most {MAX_PARTS}", reason=Reason.BATCH_TOO_LARGE
        )


def _check_part_number(number: int, field: str) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise InvalidArgument.for_field(field, f"must be 1 to {MAX_PARTS}, got {number}")


def _check_md5(value: str, field: str) -> None:
    """RFC 1864: the base64 of the 16-byte MD5 digest."""
    if not value:
        raise InvalidArgument.for_field(field, "is required", reason=Reason.MISSING_FIELD)
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise InvalidArgument.for_field(field, f"{value!r} is not the base64 of an MD5 digest")
