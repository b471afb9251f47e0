"""HTTP route of local multipart uploads: PUT one part to its signed URL.

The URL's signature covers the part's Content-MD5, so the header is required and must
be the one the URL was made for; the body must then match it. A part is streamed to
a temporary file and renamed into place with its MD5 beside it, or not kept at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tams_server.http.objects import same_md5
from tams_server.objects.local import PART_PREFIX, LocalObjectStore
from tams_server.objects.local_multipart import LocalMultipart

MAX_PART_NUMBER = 10_000


def multipart_routes(store: LocalObjectStore, uploads: LocalMultipart) -> list[Route]:
    """The route taking parts."""

    async def put_part(request: Request) -> Response:
        upload_id = request.path_params["upload_id"]
        number = request.path_params["part_number"]
        if not 1 <= number <= MAX_PART_NUMBER:
            return PlainTextResponse("part numbers go from 1 to 10000", status_code=400)
        content_md5 = request.headers.get("content-md5")
        if not content_md5:
            return PlainTextResponse("Content-MD5 is required for parts", status_code=400)
        refusal = store.verify_part(
            upload_id, number, request.query_params.get("expires", ""),
            request.query_params.get("signature", ""), content_md5,
        )  # fmt: skip
        if refusal is not None:
            return PlainTextResponse(f"forbidden: {refusal}", status_code=403)
        try:
            folder = uploads.folder(upload_id)
        except ValueError:
            return PlainTextResponse("bad upload id", status_code=400)
        if not folder.is_dir():
            return PlainTextResponse("no such upload (completed or aborted)", status_code=404)
        try:
            return await _store_part(request, folder, number, content_md5)
        except FileNotFoundError:  # aborted (or completed) while this part came in
            return PlainTextResponse("no such upload (completed or aborted)", status_code=404)

    return [Route(PART_PREFIX + "{upload_id}/{part_number:int}", put_part, methods=["PUT"])]


async def _store_part(request: Request, folder: Path, number: int, content_md5: str) -> Response:
    """Stream the body to a temporary file; keep it (and its MD5) only if it matches."""
    digest = hashlib.md5()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
        if not same_md5(content_md5, digest.digest()):
            os.unlink(temporary)
            return PlainTextResponse("Content-MD5 does not match the body", status_code=400)
        (folder / f"{number}.md5").write_text(digest.hexdigest())
        os.replace(temporary, folder / str(number))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return Response(status_code=200, headers={"ETag": f'"{digest.hexdigest()}"'})
