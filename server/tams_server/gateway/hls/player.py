"""``/hls/player``: a page that plays a Flow's or a Source's playlist with hls.js, and
``/hls/hls.min.js``, hls.js itself, served from a local install (npm, ``web/``): no
CDN. Without the file both answer 503 saying how to install it. The page holds no
data and makes no call; the playlists it loads are checked as any other request
(``?access_token=`` is passed on to them, for a browser cannot add headers)."""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from tams.v1 import common_pb2
from tams_server.gateway.errors import error_response
from tams_server.gateway.hls.routes import CARRIED
from tams_server.gateway.query import BadRequest, Query

DEFAULT_HLS_JS = (
    Path(__file__).resolve().parents[4] / "web" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
)
"""hls.js as ``npm ci --prefix web`` installs it in a source checkout."""
INSTALL_HINT = (
    "hls.js is not installed: run `npm ci --prefix web` in the source tree (scripts/dev_setup.sh "
    "does), or point --hls-js (TAMS_HLS_JS) at an hls.min.js"
)
SCRIPT_PATH = "/hls/hls.min.js"
# Ids as the server makes them (UUIDs), loosely: anything else is refused here, before
# it is written into the page.
_ID = re.compile(r"[0-9A-Za-z-]{1,64}")

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TAMS player: {title}</title>
<style>
body {{ margin: 0; background: #111; color: #eee; font-family: sans-serif; }}
video {{ display: block; width: 100%; max-height: 90vh; background: #000; }}
p {{ margin: 0.5em 1em; }}
</style>
</head>
<body>
<video id="video" controls muted autoplay playsinline></video>
<p id="status">{title}</p>
<script src="{script}"></script>
<script>
const playlist = {playlist};
const video = document.getElementById("video");
const status = document.getElementById("status");
// What the page saw, for whoever drives it (the browser test reads it).
window.tamsPlayer = {{ manifestParsed: false, fragmentsLoaded: 0, errors: [], fatal: [] }};
if (window.Hls && Hls.isSupported()) {{
  const hls = new Hls();
  hls.on(Hls.Events.MANIFEST_PARSED, () => {{
    window.tamsPlayer.manifestParsed = true;
    video.play().catch((error) => {{ status.textContent = "press play (" + error.name + ")"; }});
  }});
  hls.on(Hls.Events.FRAG_LOADED, () => {{ window.tamsPlayer.fragmentsLoaded += 1; }});
  hls.on(Hls.Events.ERROR, (event, data) => {{
    window.tamsPlayer.errors.push(data.details);
    if (data.fatal) {{
      window.tamsPlayer.fatal.push(data.details);
      status.textContent = "cannot play: " + data.details;
    }}
  }});
  hls.loadSource(playlist);
  hls.attachMedia(video);
}} else if (video.canPlayType("application/vnd.apple.mpegurl")) {{
  video.src = playlist;
}} else {{
  status.textContent = "this browser cannot play HLS";
}}
</script>
</body>
</html>
"""


def _unavailable(request: Request) -> Response:
    return error_response(503, common_pb2.ERROR_REASON_HTTP_ERROR, INSTALL_HINT, request)


async def player(request: Request, script: Path) -> Response:
    """``GET /hls/player?flow=<id>`` (or ``source=<id>``): the page, playing that
    Flow's media playlist (the Source's master playlist) with hls.js from ``script``."""
    query = Query(request.query_params)
    flow, source = query.text("flow"), query.text("source")
    if (flow is None) == (source is None):
        raise BadRequest("give flow=<flow id> or source=<source id>, one of them")
    chosen = flow if flow is not None else source
    assert chosen is not None
    if not _ID.fullmatch(chosen):
        raise BadRequest(f"{'flow' if flow else 'source'} must be an id, got {chosen!r}")
    if not await anyio.Path(script).is_file():
        return _unavailable(request)
    root = request.scope.get("root_path", "")
    path = f"/hls/flows/{chosen}/index.m3u8" if flow else f"/hls/sources/{chosen}/master.m3u8"
    carried = [(k, v) for k, v in request.query_params.multi_items() if k in CARRIED]
    url = root + path + (f"?{urlencode(carried)}" if carried else "")
    return HTMLResponse(
        PAGE.format(
            title=html.escape(f"{'flow' if flow else 'source'} {chosen}"),
            script=html.escape(root + SCRIPT_PATH),
            playlist=json.dumps(url).replace("<", "\\u003c"),
        ),
        # The page's URL may hold a token: it goes nowhere else.
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def hls_script(request: Request, script: Path) -> Response:
    """``GET /hls/hls.min.js``: hls.js, from ``script``."""
    if not await anyio.Path(script).is_file():
        return _unavailable(request)
    return FileResponse(script, media_type="text/javascript")


def player_routes(hls_js: Path | None = None) -> list[Route]:
    """The player page and hls.js, read from ``hls_js`` (the npm install in the
    source tree by default)."""
    script = hls_js or DEFAULT_HLS_JS
    return [
        Route("/hls/player", functools.partial(player, script=script), methods=["GET"]),
        Route(SCRIPT_PATH, functools.partial(hls_script, script=script), methods=["GET"]),
    ]
