"""Multipart uploads to the local backend, shaped like S3's: parts are PUT (each with
its Content-MD5) to signed URLs this server's HTTP side serves, kept under
``<data-dir>/multipart/{upload_id}/``, then assembled in part order into the Object's
file, which appears at once (a rename) or not at all.

Upload ids are this service's own (32 hex digits), never taken from a path as is.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tams_server.domain.errors import FailedPrecondition, NotFound, Reason
from tams_server.objects.local import LocalObjectStore

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class LocalMultipart:
    """Parts on disk, and their assembly."""

    def __init__(self, objects: LocalObjectStore, root: Path) -> None:
        self._objects = objects
        self.root = root

    def folder(self, upload_id: str) -> Path:
        """Where the parts of ``upload_id`` go; ValueError for a malformed id."""
        if not UPLOAD_ID.fullmatch(upload_id):
            raise ValueError(upload_id)
        return self.root / upload_id

    async def start(self, upload_id: str) -> None:
        """Make room for the parts."""
        await asyncio.to_thread(self.folder(upload_id).mkdir, parents=True, exist_ok=True)

    def part_url(self, upload_id: str, part_number: int, content_md5: str, expires_s: int) -> str:
        """The signed URL of one part."""
        return self._objects.part_url(upload_id, part_number, content_md5, expires_s=expires_s)

    async def complete(self, upload_id: str, key: str, parts: Sequence[tuple[int, str]]) -> str:
        """Assemble the parts (checked: every uploaded part listed, every listed part
        uploaded, ETags equal) into the Object's file; returns the S3-style ETag."""
        folder = self.folder(upload_id)
        target = self._objects.path_of(key)
        return await asyncio.to_thread(_assemble, folder, target, parts)

    async def abort(self, upload_id: str) -> None:
        """Drop the parts."""
        await asyncio.to_thread(shutil.rmtree, self.folder(upload_id), ignore_errors=True)


def _assemble(folder: Path, target: Path, parts: Sequence[tuple[int, str]]) -> str:
    if not folder.is_dir():
        raise NotFound("the multipart upload is gone", reason=Reason.MULTIPART_UPLOAD_NOT_FOUND)
    uploaded = {int(p.name): p for p in folder.iterdir() if p.name.isdigit()}
    listed = [number for number, _ in parts]
    missing = sorted(set(uploaded) - set(listed))
    if missing:
        raise FailedPrecondition(
            f"parts {missing} were uploaded but are not in the list; list every part",
            reason=Reason.MULTIPART_PART_MISSING,
            metadata={"partNumbers": ",".join(map(str, missing))},
        )
    absent = [number for number in listed if number not in uploaded]
    if absent:
        raise FailedPrecondition(
            f"parts {absent} were never uploaded",
            reason=Reason.MULTIPART_PART_NOT_UPLOADED,
            metadata={"partNumbers": ",".join(map(str, absent))},
        )
    digests = []
    for number, etag in parts:
        digest = (folder / f"{number}.md5").read_text()
        if etag.strip('"') != digest:
            raise FailedPrecondition(
                f"the ETag of part {number} is not the one its upload returned",
                reason=Reason.MULTIPART_ETAG_MISMATCH,
                metadata={"partNumber": str(number)},
            )
        digests.append(bytes.fromhex(digest))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".assemble-")
    try:
        with open(handle, "wb") as out:
            for number, _ in parts:
                with uploaded[number].open("rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(parts)}"'
