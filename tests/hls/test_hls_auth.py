"""HLS with authentication: the playlists take the scope of a Segment listing (read),
from a header or from ``?access_token=`` (players cannot add headers), and the master
playlist carries the token into the media playlist URIs it writes, so that a player
given only the master URL plays; the player page and hls.js need no credentials."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from helpers import auth
from helpers.hls import Span, external_flow, tag_values, uris
from helpers.servers import Stubs, module_fixture

READ = "tams-api/read"


secured = module_fixture(auth.secret_server, "hls-auth", hash_of=auth.cheap_hash)


@pytest.fixture(scope="module")
async def source_and_flow(secured: Stubs) -> tuple[str, str]:
    """A Source with a video Flow of two Segments, made with all scopes."""
    token = auth.hs256()
    metadata = (("authorization", f"Bearer {token}"),)
    flow_id = await external_flow(
        secured.channel, [Span(0, 10**9), Span(10**9, 2 * 10**9)], metadata=metadata
    )
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        flow = await http.get(f"/flows/{flow_id}", headers={"Authorization": f"Bearer {token}"})
    return flow.json()["source_id"], flow_id


def paths(source_id: str, flow_id: str) -> list[str]:
    return [f"/hls/flows/{flow_id}/index.m3u8", f"/hls/sources/{source_id}/master.m3u8"]


async def test_no_credentials_is_401(secured: Stubs, source_and_flow: tuple[str, str]) -> None:
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        for path in paths(*source_and_flow):
            refused = await http.get(path)
            assert refused.status_code == 401, (path, refused.text)
            assert refused.json()["type"] == "CREDENTIALS_MISSING"
            assert refused.headers["www-authenticate"].startswith("Bearer")


async def test_too_few_scopes_is_403(secured: Stubs, source_and_flow: tuple[str, str]) -> None:
    writer = auth.hs256(scope="tams-api/write tams-api/delete")
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        for path in paths(*source_and_flow):
            for refused in (
                await http.get(path, headers={"Authorization": f"Bearer {writer}"}),
                await http.get(path, params={"access_token": writer}),
            ):
                assert refused.status_code == 403, (path, refused.text)
                assert refused.json()["type"] == "SCOPE_MISSING"


async def test_a_bad_token_in_the_query_is_401(
    secured: Stubs, source_and_flow: tuple[str, str]
) -> None:
    expired = auth.hs256(exp=1)
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        for path in paths(*source_and_flow):
            refused = await http.get(path, params={"access_token": expired})
            assert refused.status_code == 401
            assert refused.json()["type"] == "TOKEN_EXPIRED"


async def test_the_read_scope_plays_with_a_header_or_the_query(
    secured: Stubs, source_and_flow: tuple[str, str]
) -> None:
    reader = auth.hs256(scope=READ)
    _, flow_id = source_and_flow
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        by_header = await http.get(
            f"/hls/flows/{flow_id}/index.m3u8", headers={"Authorization": f"Bearer {reader}"}
        )
        by_query = await http.get(
            f"/hls/flows/{flow_id}/index.m3u8", params={"access_token": reader}
        )
    assert by_header.status_code == by_query.status_code == 200
    assert len(uris(by_query.text)) == 2
    # Segment URIs carry their own signature (here: external URLs), never the token.
    assert all(reader not in uri for uri in uris(by_query.text))


async def test_the_master_playlist_carries_the_token_to_its_media_playlists(
    secured: Stubs, source_and_flow: tuple[str, str]
) -> None:
    reader = auth.hs256(scope=READ)
    source_id, flow_id = source_and_flow
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        master = await http.get(
            f"/hls/sources/{source_id}/master.m3u8",
            params={"access_token": reader, "live": "false", "ignored": "x"},
        )
        assert master.status_code == 200, master.text
        (variant,) = uris(master.text)
        query = parse_qs(urlsplit(variant).query)
        assert query == {"access_token": [reader], "live": ["false"]}
        assert urlsplit(variant).path == f"/hls/flows/{flow_id}/index.m3u8"
        # A player that only had the master URL follows it, with no header.
        media = await http.get(variant)
    assert media.status_code == 200, media.text
    assert tag_values(media.text, "#EXT-X-PLAYLIST-TYPE") == ["VOD"]


async def test_the_player_needs_no_credentials_and_passes_the_token_on(
    secured: Stubs, tmp_path: Path
) -> None:
    flow_id = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=secured.running.http_url) as http:
        page = await http.get("/hls/player", params={"flow": flow_id, "access_token": "tok"})
        script = await http.get("/hls/hls.min.js")
    assert page.status_code == 200, page.text
    assert f'"/hls/flows/{flow_id}/index.m3u8?access_token=tok"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
