"""Multipart uploads to an S3 backend: the control calls (create, list parts,
complete, abort) through aioboto3; part URLs presigned locally, with the part's
Content-MD5 among the signed headers, so S3 accepts only a PUT carrying exactly it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from tams_server.domain.errors import FailedPrecondition, NotFound, Reason
from tams_server.objects.s3_presign import S3Presigner

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client


class S3Multipart:
    """One bucket's multipart uploads."""

    def __init__(self, client: S3Client, presigner: S3Presigner, bucket: str) -> None:
        self._client = client
        self._presigner = presigner
        self._bucket = bucket

    async def start(self, key: str, content_type: str | None) -> str:
        """Create the upload; returns S3's UploadId."""
        if content_type:
            created = await self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ContentType=content_type
            )
        else:
            created = await self._client.create_multipart_upload(Bucket=self._bucket, Key=key)
        return created["UploadId"]

    def part_url(
        self, key: str, upload_id: str, part_number: int, content_md5: str, expires_s: int
    ) -> str:
        """The presigned UploadPart URL of one part."""
        return self._presigner.url(
            "PUT", self._bucket, key, expires_s=expires_s,
            signed_headers={"content-md5": content_md5},
            extra_query={"uploadId": upload_id, "partNumber": str(part_number)},
        )  # fmt: skip

    async def complete(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> str:
        """Check the list against the parts S3 holds (none left out), then complete;
        returns the ETag of the assembled Object."""
        held = await self._held_parts(key, upload_id)
        listed = {number for number, _ in parts}
        missing = sorted(set(held) - listed)
        if missing:
            raise FailedPrecondition(
                f"parts {missing} were uploaded but are not in the list; list every part",
                reason=Reason.MULTIPART_PART_MISSING,
                metadata={"partNumbers": ",".join(map(str, missing))},
            )
        absent = sorted(listed - set(held))
        if absent:
            raise FailedPrecondition(
                f"parts {absent} were never uploaded",
                reason=Reason.MULTIPART_PART_NOT_UPLOADED,
                metadata={"partNumbers": ",".join(map(str, absent))},
            )
        for number, etag in parts:
            if etag.strip('"') != held[number].strip('"'):
                raise FailedPrecondition(
                    f"the ETag of part {number} is not the one its upload returned",
                    reason=Reason.MULTIPART_ETAG_MISMATCH,
                    metadata={"partNumber": str(number)},
                )
        try:
            done = await self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": number, "ETag": held[number]} for number, _ in parts]
                },
            )  # fmt: skip
        except ClientError as error:
            raise _refusal(error) from error
        return done.get("ETag", "")

    async def abort(self, key: str, upload_id: str) -> None:
        """Abort the upload; S3 drops the parts. An upload already gone is fine."""
        try:
            await self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=key, UploadId=upload_id
            )
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise

    async def _held_parts(self, key: str, upload_id: str) -> dict[int, str]:
        held: dict[int, str] = {}
        marker = 0
        try:
            while True:
                page = await self._client.list_parts(
                    Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
                for part in page.get("Parts", []):
                    held[part["PartNumber"]] = part["ETag"]
                if not page.get("IsTruncated"):
                    return held
                marker = page["NextPartNumberMarker"]
        except ClientError as error:
            raise _refusal(error) from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _refusal(error: ClientError) -> Exception:
    """S3's refusal of a multipart call as a service error."""
    code = _code(error)
    if code == "NoSuchUpload":
        return NotFound("the multipart upload is gone", reason=Reason.MULTIPART_UPLOAD_NOT_FOUND)
    if code == "EntityTooSmall":
        return FailedPrecondition(
            "every part but the last must be at least 5 MiB (S3)",
            reason=Reason.MULTIPART_PART_TOO_SMALL,
        )
    if code in ("InvalidPart", "InvalidPartOrder"):
        return FailedPrecondition(
            f"S3 refused the part list: {code}", reason=Reason.MULTIPART_ETAG_MISMATCH
        )
    return error
