"""What the routes behind the local store's signed URLs share: refusing a request, and
keeping its body as a file (streamed to a temporary file beside the target, checked
against Content-MD5, only then renamed into place, so that a failed or refused upload
leaves nothing behind)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response


def signed_path(refusal: str | None, locate: Callable[[], Path], name: str) -> Path | Response:
    """The file a signed URL is for, or the answer refusing the request: 403 when
    ``refusal`` (the store's verdict on the signature) says why, 400 when ``locate``
    finds the ``name`` in the URL bad (ValueError)."""
    if refusal is not None:
        return PlainTextResponse(f"forbidden: {refusal}", status_code=403)
    try:
        return locate()
    except ValueError:
        return PlainTextResponse(f"bad {name}", status_code=400)


async def write_body(
    request: Request, target: Path, content_md5: str | None, *, md5_file: Path | None = None
) -> Response:
    """Write the body to ``target`` if it matches ``content_md5`` (any body when None);
    the answer to the upload. ``md5_file``, when given, gets the hex MD5 before the
    file appears, so whoever finds the file finds its MD5. FileNotFoundError when the
    target's folder is missing (or goes while the body comes in)."""
    digest = hashlib.md5()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
        if content_md5 is not None and not _same_md5(content_md5, digest.digest()):
            os.unlink(temporary)
            return PlainTextResponse("Content-MD5 does not match the body", status_code=400)
        if md5_file is not None:
            await asyncio.to_thread(md5_file.write_text, digest.hexdigest())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return Response(status_code=200, headers={"ETag": f'"{digest.hexdigest()}"'})


def _same_md5(header: str, digest: bytes) -> bool:
    try:
        return base64.b64decode(header, validate=True) == digest
    except (binascii.Error, ValueError):
        return False
