"""HTTP route of local multipart uploads: PUT one part to its signed URL.

The URL's signature covers the part's Content-MD5, so the header is required and must
be the one the URL was made for; the body must then match it. A part is streamed to
a temporary file and renamed into place with its MD5 beside it, or not kept at all.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tams_server.http.signed import signed_path, write_body
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
        folder = signed_path(
            store.verify_part(upload_id, number, content_md5, request.query_params),
            lambda: uploads.folder(upload_id),
            "upload id",
        )
        if isinstance(folder, Response):
            return folder
        if not folder.is_dir():
            return PlainTextResponse("no such upload (completed or aborted)", status_code=404)
        try:
            return await write_body(
                request, folder / str(number), content_md5, md5_file=folder / f"{number}.md5"
            )
        except FileNotFoundError:  # aborted (or completed) while this part came in
            return PlainTextResponse("no such upload (completed or aborted)", status_code=404)

    return [Route(PART_PREFIX + "{upload_id}/{part_number:int}", put_part, methods=["PUT"])]
