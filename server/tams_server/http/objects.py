"""HTTP routes of the local object store: PUT and GET through signed URLs.

Bodies stream in both directions; an upload is written to a temporary file, checked
against Content-MD5 when the client sends one, and only then renamed into place, so a
failed or refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from tams_server.objects.local import URL_PREFIX, LocalObjectStore, UnsafeKey


def object_routes(store: LocalObjectStore) -> list[Route]:
    """The routes serving ``store``."""

    async def handle(request: Request) -> Response:
        key = request.path_params["key"]
        refusal = store.verify(
            request.method,
            key,
            request.query_params.get("expires", ""),
            request.query_params.get("signature", ""),
        )
        if refusal is not None:
            return PlainTextResponse(f"forbidden: {refusal}", status_code=403)
        try:
            path = store.path_of(key)
        except UnsafeKey:
            return PlainTextResponse("bad object key", status_code=400)
        if request.method == "PUT":
            return await _put(request, path)
        if not path.is_file():
            return PlainTextResponse("no such object", status_code=404)
        return FileResponse(path, headers={"ETag": f'"{await _md5_of(path)}"'})

    return [Route(URL_PREFIX + "{key:path}", handle, methods=["GET", "PUT"])]


async def _put(request: Request, path: Path) -> Response:
    expected = request.headers.get("content-md5")
    digest = hashlib.md5()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                digest.update(chunk)
                await asyncio.to_thread(out.write, chunk)
        if expected is not None and not same_md5(expected, digest.digest()):
            os.unlink(temporary)
            return PlainTextResponse("Content-MD5 does not match the body", status_code=400)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return Response(status_code=200, headers={"ETag": f'"{digest.hexdigest()}"'})


def same_md5(header: str, digest: bytes) -> bool:
    try:
        return base64.b64decode(header, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


async def _md5_of(path: Path) -> str:
    def compute() -> str:
        digest = hashlib.md5()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    return await asyncio.to_thread(compute)
