"""``/service/webhooks``: the webhook registry."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tams.v1 import webhooks_pb2
from tams_server.gateway.body import json_body, parse_object
from tams_server.gateway.listing import tagged_listing_fields
from tams_server.gateway.paging import list_response
from tams_server.gateway.query import BadRequest, Query
from tams_server.gateway.stubs import stubs_of
from tams_server.gateway.webhook_shapes import webhook_from_json, webhook_to_json


async def list_webhooks(request: Request) -> Response:
    """``GET /service/webhooks``: by url, ``tag.*``/``tag_exists.*`` filters, paged."""
    fields = tagged_listing_fields(Query(request.query_params))
    response = await stubs_of(request).webhooks.ListWebhooks(
        webhooks_pb2.ListWebhooksRequest(**fields)
    )
    items = [webhook_to_json(webhook) for webhook in response.webhooks]
    return list_response(request, response, items, reverse_order=fields["reverse_order"])


async def create_webhook(request: Request) -> Response:
    """``POST /service/webhooks``: 201 with the webhook; the service picks its id."""
    body = await json_body(request)
    webhook = parse_object(body, webhook_from_json, "the webhook")
    webhook.ClearField("id")
    response = await stubs_of(request).webhooks.CreateWebhook(
        webhooks_pb2.CreateWebhookRequest(webhook=webhook)
    )
    return JSONResponse(webhook_to_json(response.webhook), status_code=201)


async def get_webhook(request: Request) -> Response:
    """``GET /service/webhooks/{webhook_id}``."""
    response = await stubs_of(request).webhooks.GetWebhook(
        webhooks_pb2.GetWebhookRequest(webhook_id=request.path_params["webhook_id"])
    )
    return JSONResponse(webhook_to_json(response.webhook))


async def put_webhook(request: Request) -> Response:
    """``PUT /service/webhooks/{webhook_id}``: the whole new configuration, with a
    status (created or disabled); 201 with the webhook, as the spec has it."""
    webhook_id = request.path_params["webhook_id"]
    body = await json_body(request)
    if isinstance(body, Mapping):
        if body.get("id", webhook_id) != webhook_id:
            raise BadRequest(f"the body's id {body.get('id')!r} is not the path's {webhook_id}")
        if "status" not in body:
            raise BadRequest("the body's status is required (created or disabled)")
    webhook = parse_object(
        body, lambda data: webhook_from_json({**data, "id": webhook_id}), "the webhook"
    )
    response = await stubs_of(request).webhooks.UpdateWebhook(
        webhooks_pb2.UpdateWebhookRequest(webhook=webhook)
    )
    return JSONResponse(webhook_to_json(response.webhook), status_code=201)


async def delete_webhook(request: Request) -> Response:
    """``DELETE /service/webhooks/{webhook_id}``: 204."""
    await stubs_of(request).webhooks.DeleteWebhook(
        webhooks_pb2.DeleteWebhookRequest(webhook_id=request.path_params["webhook_id"])
    )
    return Response(status_code=204)


ROUTES = [
    Route("/service/webhooks", list_webhooks, methods=["GET"]),
    Route("/service/webhooks", create_webhook, methods=["POST"]),
    Route("/service/webhooks/{webhook_id}", get_webhook, methods=["GET"]),
    Route("/service/webhooks/{webhook_id}", put_webhook, methods=["PUT"]),
    Route("/service/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"]),
]
