"""The webhook calls both clients offer (TAMS ``/service/webhooks``), described as in
``_api``: TamsApi takes them from this class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tams.v1 import common_pb2, webhooks_pb2
from tams_client import _rpcs as rpcs
from tams_client._calls import DEFAULT, Call, Listing, Options, Timeout, Unary
from tams_client._methods import listing, unary
from tams_client._retry import RetryPolicy

IDEMPOTENT = True
ONCE = False  # a retry could do it twice (or fail where the first try succeeded)


class WebhookCalls:
    """List, get, register, update and delete webhooks. A webhook's ``api_key_value``
    is write-only: the server never sends it back."""

    @listing
    def list_webhooks(
        *,
        tags: Sequence[common_pb2.TagFilter] = (),
        reverse_order: bool = False,
        page_size: int = 0,
        page_token: str = "",
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Listing[webhooks_pb2.ListWebhooksResponse, webhooks_pb2.Webhook]:
        """Every webhook matching the tag filters, by url, fetched page by page as the
        iteration goes."""
        request = webhooks_pb2.ListWebhooksRequest(
            tags=tags, reverse_order=reverse_order, page_size=page_size, page_token=page_token
        )
        return Listing(rpcs.LIST_WEBHOOKS, request, lambda r: r.webhooks, Options(timeout, retry))

    @unary
    def get_webhook(
        webhook_id: str, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, webhooks_pb2.Webhook]:
        """One webhook."""
        request = webhooks_pb2.GetWebhookRequest(webhook_id=webhook_id)
        return Unary(rpcs.GET_WEBHOOK, request, _webhook, IDEMPOTENT, Options(timeout, retry))

    @unary
    def create_webhook(
        webhook: webhooks_pb2.Webhook,
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, webhooks_pb2.Webhook]:
        """Register a webhook (its ``id`` is the server's choice); it receives the events
        committed from now on."""
        request = webhooks_pb2.CreateWebhookRequest(webhook=webhook)
        return Unary(rpcs.CREATE_WEBHOOK, request, _webhook, ONCE, Options(timeout, retry))

    @unary
    def update_webhook(
        webhook: webhooks_pb2.Webhook,
        *,
        timeout: Timeout = DEFAULT,
        retry: RetryPolicy | None = None,
    ) -> Call[Any, webhooks_pb2.Webhook]:
        """Replace the configuration of the webhook ``webhook.id``; ``status`` is
        required: ``created`` (re-enable) or ``disabled``."""
        request = webhooks_pb2.UpdateWebhookRequest(webhook=webhook)
        return Unary(rpcs.UPDATE_WEBHOOK, request, _webhook, IDEMPOTENT, Options(timeout, retry))

    @unary
    def delete_webhook(
        webhook_id: str, *, timeout: Timeout = DEFAULT, retry: RetryPolicy | None = None
    ) -> Call[Any, None]:
        """Delete a webhook."""
        request = webhooks_pb2.DeleteWebhookRequest(webhook_id=webhook_id)
        return Unary(rpcs.DELETE_WEBHOOK, request, lambda r: None, ONCE, Options(timeout, retry))


def _webhook(reply: Any) -> webhooks_pb2.Webhook:
    webhook: webhooks_pb2.Webhook = reply.webhook
    return webhook
