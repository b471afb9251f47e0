"""HTTP routes of the local object store: PUT and GET through signed URLs.

Bodies stream in both directions; an upload is checked against Content-MD5 when the
client sends one (see ``write_body``).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from tams_server.http.signed import signed_path, write_body
from tams_server.objects.local import URL_PREFIX, LocalObjectStore


def object_routes(store: LocalObjectStore) -> list[Route]:
    """The routes serving ``store``."""

    async def handle(request: Request) -> Response:
        key = request.path_params["key"]
        path = signed_path(
            store.verify(request.method, key, request.query_params),
            lambda: store.path_of(key),
            "object key",
        )
        if isinstance(path, Response):
            return path
        if request.method == "PUT":
            path.parent.mkdir(parents=True, exist_ok=True)
            return await write_body(request, path, request.headers.get("content-md5"))
        if not path.is_file():
            return PlainTextResponse("no such object", status_code=404)
        return FileResponse(path, headers={"ETag": f'"{await _md5_of(path)}"'})

    return [Route(URL_PREFIX + "{key:path}", handle, methods=["GET", "PUT"])]


async def _md5_of(path: Path) -> str:
    def compute() -> str:
        digest = hashlib.md5()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    return await asyncio.to_thread(compute)
