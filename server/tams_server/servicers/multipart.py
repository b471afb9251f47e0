"""The multipart calls of tams.v1.StorageService: start an upload of an allocated
Object, get part URLs (each bound to the part's Content-MD5), complete with the ETags
in part order, abort. ``StorageServicer`` hands these calls here."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence

from google.protobuf import timestamp_pb2

from tams.v1 import storage_pb2
from tams_server.domain.errors import FailedPrecondition, InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.objects import check_object_id
from tams_server.domain.storage import StorageBackend
from tams_server.objects.multipart import Multipart
from tams_server.store.multipart import MultipartStore

MAX_PARTS = 10_000


class MultipartCalls:
    """Multipart uploads over gRPC."""

    def __init__(
        self,
        backends: Mapping[str, StorageBackend],
        uploads: MultipartStore,
        multipart: Multipart,
        *,
        lifetime_s: int,
    ) -> None:
        self._backends = backends
        self._uploads = uploads
        self._multipart = multipart
        self._lifetime_s = lifetime_s

    async def start(
        self, request: storage_pb2.StartMultipartUploadRequest
    ) -> storage_pb2.StartMultipartUploadResponse:
        flow_id = check_uuid(request.flow_id, "flow_id")
        object_id = check_object_id(request.object_id, "object_id")
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
        expires = timestamp_pb2.Timestamp()
        expires.FromNanoseconds(expires_ns)
        return storage_pb2.StartMultipartUploadResponse(upload_id=upload_id, expires=expires)

    async def part_urls(
        self, request: storage_pb2.GetMultipartPartUrlsRequest
    ) -> storage_pb2.GetMultipartPartUrlsResponse:
        _check_parts_given(request.parts)
        for index, part in enumerate(request.parts):
            _check_part_number(part.part_number, f"parts[{index}].part_number")
            _check_md5(part.content_md5, f"parts[{index}].content_md5")
        upload = await self._uploads.find(request.upload_id, request.flow_id, request.object_id)
        backend = self._backend(upload.storage_id)
        response = storage_pb2.GetMultipartPartUrlsResponse()
        for part in request.parts:
            url = self._multipart.part_url(
                backend, upload.id, upload.backend_upload_id, upload.storage_key,
                part.part_number, part.content_md5, expires_s=self._lifetime_s,
            )  # fmt: skip
            response.parts.add(
                part_number=part.part_number,
                put_url=storage_pb2.HttpRequest(url=url, headers={"Content-MD5": part.content_md5}),
            )
        return response

    async def complete(
        self, request: storage_pb2.CompleteMultipartUploadRequest
    ) -> storage_pb2.CompleteMultipartUploadResponse:
        _check_parts_given(request.parts)
        previous = 0
        for index, part in enumerate(request.parts):
            _check_part_number(part.part_number, f"parts[{index}].part_number")
            if part.part_number <= previous:
                raise InvalidArgument.for_field(
                    f"parts[{index}].part_number",
                    f"{part.part_number} follows {previous}: list parts in ascending part "
                    "order, each once",
                    reason=Reason.MULTIPART_PARTS_OUT_OF_ORDER,
                )
            previous = part.part_number
            if not part.etag:
                raise InvalidArgument.for_field(
                    f"parts[{index}].etag", "is required", reason=Reason.MISSING_FIELD
                )
        upload = await self._uploads.find(request.upload_id, request.flow_id, request.object_id)
        etag = await self._multipart.complete(
            self._backend(upload.storage_id), upload.id, upload.backend_upload_id,
            upload.storage_key, [(p.part_number, p.etag) for p in request.parts],
        )  # fmt: skip
        await self._uploads.forget(upload.id)
        return storage_pb2.CompleteMultipartUploadResponse(etag=etag)

    async def abort(
        self, request: storage_pb2.AbortMultipartUploadRequest
    ) -> storage_pb2.AbortMultipartUploadResponse:
        upload = await self._uploads.find(request.upload_id, request.flow_id, request.object_id)
        await self._multipart.abort(
            self._backend(upload.storage_id), upload.id, upload.backend_upload_id,
            upload.storage_key,
        )  # fmt: skip
        await self._uploads.forget(upload.id)
        return storage_pb2.AbortMultipartUploadResponse()

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
