"""``--public-url``: the URLs handed out for local objects and upload parts start with
it; without it, with the bound address (https when TLS is on)."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx

from helpers.certs import Certs
from helpers.objects import allocate, new_flow
from helpers.servers import Stubs, own_server
from tams.v1 import storage_pb2
from tams_server.app import serve
from tams_server.config import Config
from tams_server.http.server import base_url, bind


@asynccontextmanager
async def tls_server(
    certs: Certs, data_dir: Path, database_url: str, **settings: Any
) -> AsyncIterator[Stubs]:
    """A TLS server (on free ports unless given), and stubs on a channel trusting its CA."""
    config = Config(
        **{"grpc_port": 0, "http_port": 0, **settings},
        data_dir=data_dir, database_url=database_url, shutdown_grace_s=2.0,
        tls_cert=certs.server.cert, tls_key=certs.server.key,
    )  # fmt: skip
    async with (
        serve(config) as running,
        grpc.aio.secure_channel(running.grpc_target, certs.channel_credentials()) as channel,
    ):
        yield Stubs.on(running, channel)


async def put_url(stubs: Stubs) -> str:
    """The put_url of a new Object."""
    [item] = await allocate(stubs.storage, flow_id=await new_flow(stubs.flows), limit=1)
    return item.put_url.url


async def put(url: str, body: bytes, certs: Certs, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=certs.ca)) as http:
        return await http.put(url, content=body, headers=headers)


def free_port() -> int:
    """A port free now (the server binds it a moment later)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
        return port


async def test_without_a_public_url_urls_use_the_bound_address_over_https(
    certs: Certs, tmp_path: Path, database_url: str
) -> None:
    async with tls_server(certs, tmp_path, database_url) as stubs:
        url = await put_url(stubs)
        assert url.startswith(f"{stubs.running.http_url}/_objects/")
        assert url.startswith("https://127.0.0.1:")
        assert (await put(url, b"bytes", certs)).status_code == 200
        assert stubs.object_file(url).read_bytes() == b"bytes"


async def test_object_and_part_urls_use_the_public_url(
    certs: Certs, tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    public = f"https://localhost:{port}"  # another name of this server, in its certificate
    async with tls_server(
        certs, tmp_path, database_url, http_port=port, public_url=f"{public}/"
    ) as stubs:
        url = await put_url(stubs)
        assert url.startswith(f"{public}/_objects/")
        assert (await put(url, b"bytes", certs)).status_code == 200
        assert stubs.object_file(url).read_bytes() == b"bytes"

        flow_id = await new_flow(stubs.flows)
        [item] = await allocate(stubs.storage, flow_id=flow_id, limit=1)
        upload = await stubs.storage.StartMultipartUpload(
            storage_pb2.StartMultipartUploadRequest(flow_id=flow_id, object_id=item.object_id)
        )
        md5 = base64.b64encode(hashlib.md5(b"part").digest()).decode()
        parts = await stubs.storage.GetMultipartPartUrls(
            storage_pb2.GetMultipartPartUrlsRequest(
                flow_id=flow_id, object_id=item.object_id, upload_id=upload.upload_id,
                parts=[storage_pb2.PartToUpload(part_number=1, content_md5=md5)],
            )
        )  # fmt: skip
        [part] = parts.parts
        assert part.put_url.url.startswith(f"{public}/_multipart/")
        response = await put(part.put_url.url, b"part", certs, **dict(part.put_url.headers))
        assert response.status_code == 200, response.text


async def test_a_public_url_may_carry_a_proxy_prefix(tmp_path: Path, database_url: str) -> None:
    async with own_server(tmp_path, database_url, public_url="http://media.example/tams/") as stubs:
        assert (await put_url(stubs)).startswith("http://media.example/tams/_objects/")


def test_the_bound_address_names_its_scheme_and_brackets_ipv6() -> None:
    listener, url = bind("127.0.0.1", 0, https=True)
    with listener:
        assert url == f"https://127.0.0.1:{listener.getsockname()[1]}"
    # What bind names an IPv6 listener (this machine may have no IPv6 loopback to bind).
    assert base_url("::1", 8000) == "http://[::1]:8000"
    assert base_url("2001:db8::1", 443, https=True) == "https://[2001:db8::1]:443"
