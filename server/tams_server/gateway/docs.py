"""API docs that need no network: the OpenAPI document at ``/openapi.json``, Swagger UI
at ``/docs`` and ReDoc at ``/redoc``. Their scripts and styles come from the
drf-spectacular-sidecar package (Swagger UI's and ReDoc's own distribution files, kept
up to date there), served under ``/docs/static``: no CDN.

The package is located without importing it (its ``__init__`` imports Django, which
nothing here needs)."""

from __future__ import annotations

import html
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tams_server.gateway.dialects import SPEC_DIALECT, Dialect
from tams_server.gateway.openapi_doc import openapi_json

OPENAPI_PATH = "/openapi.json"
STATIC_PATH = "/docs/static"
ASSETS = ("drf_spectacular_sidecar", "static/drf_spectacular_sidecar")
TITLE = "Time-addressable Media Store"

SWAGGER_UI = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: Swagger UI</title>
<link rel="icon" type="image/png" href="{static}/swagger-ui-dist/favicon-32x32.png">
<link rel="stylesheet" href="{static}/swagger-ui-dist/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-dist/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {spec_url},
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  showExtensions: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
"""

REDOC = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: ReDoc</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<redoc spec-url="{spec_url}" show-extensions="true"></redoc>
<script src="{static}/redoc/bundles/redoc.standalone.js"></script>
</body>
</html>
"""


def docs_routes(dialect: Dialect = SPEC_DIALECT) -> list[BaseRoute]:
    """The routes of the docs (of ``dialect``'s document) and of their static files."""
    return [
        Route(OPENAPI_PATH, guide_openapi if dialect.is_guide else openapi, methods=["GET"]),
        Route("/docs", swagger_ui, methods=["GET"]),
        Route("/redoc", redoc, methods=["GET"]),
        Mount(STATIC_PATH, app=StaticFiles(packages=[ASSETS]), name="docs-static"),
    ]


async def openapi(request: Request) -> Response:
    """The OpenAPI document (built on first use, off the event loop)."""
    return Response(await run_in_threadpool(openapi_json), media_type="application/json")


async def guide_openapi(request: Request) -> Response:
    """The OpenAPI document of the usage guide's dialect (``dialects.guide_openapi``)."""
    from tams_server.gateway.dialects.guide_openapi import guide_openapi_json

    return Response(await run_in_threadpool(guide_openapi_json), media_type="application/json")


async def swagger_ui(request: Request) -> Response:
    """Swagger UI, reading the document of this server."""
    root = request.scope.get("root_path", "")
    spec_url = json.dumps(root + OPENAPI_PATH).replace("<", "\\u003c")
    return HTMLResponse(
        SWAGGER_UI.format(title=TITLE, static=html.escape(root + STATIC_PATH), spec_url=spec_url)
    )


async def redoc(request: Request) -> Response:
    """ReDoc, reading the document of this server."""
    root = request.scope.get("root_path", "")
    return HTMLResponse(
        REDOC.format(
            title=TITLE,
            static=html.escape(root + STATIC_PATH),
            spec_url=html.escape(root + OPENAPI_PATH),
        )
    )
