"""tams.v1.WebhookService: the webhook registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import grpc

from tams.v1 import webhooks_pb2, webhooks_pb2_grpc
from tams_server.convert.common import tag_filters_to_domain
from tams_server.convert.webhooks import webhook_to_domain, webhook_to_proto
from tams_server.domain.errors import InvalidArgument, Reason
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import current_principal, principal
from tams_server.domain.queries import WebhookQuery
from tams_server.domain.webhooks import Webhook, unique_events, validate_webhook
from tams_server.store.paging import page_size
from tams_server.store.webhooks import WebhookStore

Context = grpc.aio.ServicerContext[object, object]


class WebhookServicer(webhooks_pb2_grpc.WebhookServiceServicer):
    """Webhooks over gRPC. ``allow_private`` lets URLs name local and private
    receivers; ``storage_ids`` are the backends ``accept_storage_ids`` may name."""

    def __init__(
        self, store: WebhookStore, *, allow_private: bool, storage_ids: Collection[str]
    ) -> None:
        self._store = store
        self._allow_private = allow_private
        self._storage_ids = frozenset(storage_ids)

    async def ListWebhooks(
        self, request: webhooks_pb2.ListWebhooksRequest, context: Context
    ) -> webhooks_pb2.ListWebhooksResponse:
        query = WebhookQuery(
            tags=tag_filters_to_domain(request.tags), reverse_order=request.reverse_order
        )
        page = await self._store.find(
            query, page_size=page_size(request.page_size), page_token=request.page_token
        )
        return webhooks_pb2.ListWebhooksResponse(
            webhooks=[webhook_to_proto(webhook) for webhook in page.items],
            next_page_token=page.next_page_token,
            page_size=page.page_size,
        )

    async def GetWebhook(
        self, request: webhooks_pb2.GetWebhookRequest, context: Context
    ) -> webhooks_pb2.GetWebhookResponse:
        check_uuid(request.webhook_id, "webhook_id")
        webhook = await self._store.get(request.webhook_id)
        return webhooks_pb2.GetWebhookResponse(webhook=webhook_to_proto(webhook))

    async def CreateWebhook(
        self, request: webhooks_pb2.CreateWebhookRequest, context: Context
    ) -> webhooks_pb2.CreateWebhookResponse:
        webhook = await self._store.create(
            self._checked(request.webhook), actor=principal(), groups=_caller_groups()
        )
        return webhooks_pb2.CreateWebhookResponse(webhook=webhook_to_proto(webhook))

    async def UpdateWebhook(
        self, request: webhooks_pb2.UpdateWebhookRequest, context: Context
    ) -> webhooks_pb2.UpdateWebhookResponse:
        check_uuid(request.webhook.id, "webhook.id")
        if not request.webhook.status:
            raise InvalidArgument.for_field(
                "webhook.status", "is required (created or disabled)", reason=Reason.MISSING_FIELD
            )
        webhook = await self._store.update(
            request.webhook.id, self._checked(request.webhook), groups=_caller_groups()
        )
        return webhooks_pb2.UpdateWebhookResponse(webhook=webhook_to_proto(webhook))

    async def DeleteWebhook(
        self, request: webhooks_pb2.DeleteWebhookRequest, context: Context
    ) -> webhooks_pb2.DeleteWebhookResponse:
        check_uuid(request.webhook_id, "webhook_id")
        await self._store.delete(request.webhook_id)
        return webhooks_pb2.DeleteWebhookResponse()

    def _checked(self, message: webhooks_pb2.Webhook) -> Webhook:
        """The registration a request carries, validated, its events each once."""
        webhook = webhook_to_domain(message)
        validate_webhook(webhook, allow_private=self._allow_private, storage_ids=self._storage_ids)
        return dataclasses.replace(webhook, events=unique_events(webhook.events))


def _caller_groups() -> tuple[str, ...] | None:
    """The calling principal's groups (None: no restriction by auth_classes)."""
    caller = current_principal.get()
    return None if caller is None else caller.groups
