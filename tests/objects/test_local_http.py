"""The local backend over the server's HTTP side: signed, expiring PUT and GET URLs,
streamed bodies, Content-MD5 checked, nothing left behind by a refused upload, no
way out of the objects folder."""

from __future__ import annotations

import hashlib
import uuid
from base64 import b64encode

import httpx
import pytest

from tams_server.app import RunningServer
from tams_server.objects.local import UnsafeKey


def key() -> str:
    return f"{uuid.uuid4()}/2026/11/23/{uuid.uuid4().hex}"


async def test_put_then_get_streams_the_bytes(running: RunningServer) -> None:
    name = key()
    body = b"".join(uuid.uuid4().bytes for _ in range(200_000))  # 3.2 MB, in many chunks
    md5 = b64encode(hashlib.md5(body).digest()).decode()

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    async with httpx.AsyncClient() as http:
        put = await http.put(
            running.objects.url("PUT", name, expires_s=60), content=chunks(),
            headers={"Content-MD5": md5},
        )  # fmt: skip
        assert put.status_code == 200
        assert put.headers["etag"] == f'"{hashlib.md5(body).hexdigest()}"'
        got = await http.get(running.objects.url("GET", name, expires_s=60))
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["etag"] == put.headers["etag"]


async def test_refusals(running: RunningServer) -> None:
    name = key()
    store = running.objects
    async with httpx.AsyncClient() as http:
        wrong_md5 = b64encode(hashlib.md5(b"other").digest()).decode()
        refused = await http.put(
            store.url("PUT", name, expires_s=60),
            content=b"data",
            headers={"Content-MD5": wrong_md5},
        )
        assert refused.status_code == 400
        assert not store.path_of(name).exists()
        assert list(store.path_of(name).parent.glob(".upload-*")) == []  # nothing half-made
        assert (await http.get(store.url("GET", name, expires_s=60))).status_code == 404
        put_url = store.url("PUT", name, expires_s=60)
        tampered = put_url[:-1] + ("0" if put_url[-1] != "0" else "1")
        assert (await http.put(tampered, content=b"x")).status_code == 403
        as_get = put_url  # a PUT signature does not allow a GET
        assert (await http.get(as_get)).status_code == 403
        expired = store.url("GET", name, expires_s=-1)
        assert (await http.get(expired)).status_code == 403
        assert (await http.put(put_url.replace(name, key()), content=b"x")).status_code == 403
        assert not store.path_of(name).exists()


@pytest.mark.parametrize(
    "bad", ["../escape", "/etc/passwd", "a/../../b", "a//b", "", "./x", "a/", "a\\b", "a\x00b"]
)
def test_keys_cannot_leave_the_store(running: RunningServer, bad: str) -> None:
    with pytest.raises(UnsafeKey):
        running.objects.url("GET", bad, expires_s=60)


async def test_traversal_in_the_url_is_refused(running: RunningServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{running.http_url}/_objects/..%2F..%2Fetc%2Fpasswd?expires=1&signature=x"
        )
    assert response.status_code in (400, 403, 404)
