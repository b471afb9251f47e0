"""The webhook rules of ``domain.webhooks`` and ``domain.webhook_urls``: which URLs a
webhook may name, what a registration must hold, and the status changes allowed."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from tams_server.domain.errors import FailedPrecondition, InvalidArgument, Reason
from tams_server.domain.webhook_urls import MAX_URL_LENGTH, check_webhook_url
from tams_server.domain.webhooks import Webhook, next_status, unique_events, validate_webhook

STORAGE_ID = str(uuid.uuid4())
GOOD = Webhook(url="https://receiver.example.com/hook", events=("flows/created",))


def refusal(webhook: Webhook, *, allow_private: bool = False) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as raised:
        validate_webhook(webhook, allow_private=allow_private, storage_ids={STORAGE_ID})
    return raised.value


@pytest.mark.parametrize(
    "url",
    [
        "https://receiver.example.com/hook",
        "http://receiver.example.com:8080/a/b?c=d",
        "https://93.184.216.34/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        "https://" + "a" * (MAX_URL_LENGTH - len("https://.com")) + ".com",
    ],
)
def test_public_http_urls_are_taken(url: str) -> None:
    assert check_webhook_url(url, "url", allow_private=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://receiver.example.com/hook",
        "file:///etc/passwd",
        "receiver.example.com/hook",
        "https:///no-host",
        "https://receiver.example.com:99999/",
        "https://receiver.example.com/a b",
        "https://réceiver.example.com/",
        "https://" + "a" * MAX_URL_LENGTH + ".com",
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_webhook_url(url, "webhook.url", allow_private=False)
    assert raised.value.reason == Reason.INVALID_ARGUMENT
    assert raised.value.field_violations[0].field == "webhook.url"


def test_an_empty_url_is_missing() -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_webhook_url("", "webhook.url", allow_private=False)
    assert raised.value.reason == Reason.MISSING_FIELD


LOCAL_URLS = [
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f.0.0.1/hook",
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://224.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1%25eth0]/hook",
    "http://[fc00::1]/hook",
    "http://[ff02::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
]


@pytest.mark.parametrize("url", LOCAL_URLS)
def test_local_and_private_receivers_are_forbidden(url: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        check_webhook_url(url, "webhook.url", allow_private=False)
    assert raised.value.reason == Reason.WEBHOOK_URL_FORBIDDEN


@pytest.mark.parametrize("url", LOCAL_URLS)
def test_local_receivers_are_allowed_when_configured(url: str) -> None:
    assert check_webhook_url(url, "webhook.url", allow_private=True) == url


def test_a_good_registration_passes() -> None:
    full = dataclasses.replace(
        GOOD,
        events=("flows/created", "sources/deleted"),
        api_key_name="X-Api-Key",
        api_key_value="s3cret value",
        flow_ids=(str(uuid.uuid4()),),
        flow_collected_by_ids=(),
        accept_get_urls=(),
        accept_storage_ids=(STORAGE_ID,),
        tags={"team": "news"},
        status="disabled",
    )
    validate_webhook(full, allow_private=False, storage_ids={STORAGE_ID})


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"events": ()}, "webhook.events", Reason.MISSING_FIELD),
        ({"events": ("flows/created", "flows/renamed")}, "webhook.events[1]", None),
        ({"flow_ids": ("not-a-uuid",)}, "webhook.flow_ids[0]", Reason.INVALID_ID),
        ({"source_ids": (str(uuid.uuid4()).upper(),)}, "webhook.source_ids[0]", Reason.INVALID_ID),
        ({"flow_collected_by_ids": ("x",)}, "webhook.flow_collected_by_ids[0]", Reason.INVALID_ID),
        ({"source_collected_by_ids": ("x",)}, "webhook.source_collected_by_ids[0]",
         Reason.INVALID_ID),
        ({"accept_storage_ids": ("x",)}, "webhook.accept_storage_ids[0]", Reason.INVALID_ID),
        ({"accept_storage_ids": (str(uuid.uuid4()),)}, "webhook.accept_storage_ids[0]",
         Reason.UNKNOWN_STORAGE),
        ({"api_key_name": "Bad Header"}, "webhook.api_key_name", None),
        ({"api_key_name": "Content-Type"}, "webhook.api_key_name", None),
        ({"api_key_value": "orphan"}, "webhook.api_key_value", None),
        ({"api_key_name": "X-Key", "api_key_value": "a\r\nInjected: yes"},
         "webhook.api_key_value", None),
        ({"tags": {"": "x"}}, "webhook.tags", None),
        ({"status": "started"}, "webhook.status", None),
        ({"status": "error"}, "webhook.status", None),
    ],
)  # fmt: skip
def test_bad_registrations_name_the_field(
    changes: dict[str, object], field: str, reason: Reason | None
) -> None:
    error = refusal(dataclasses.replace(GOOD, **changes))  # type: ignore[arg-type]
    assert error.field_violations[0].field == field
    assert error.reason == (reason or Reason.INVALID_ARGUMENT)


def test_repeated_events_count_once() -> None:
    assert unique_events(("flows/created", "sources/created", "flows/created")) == (
        "flows/created",
        "sources/created",
    )


@pytest.mark.parametrize(
    ("current", "requested", "result"),
    [
        ("created", "created", "created"),
        ("started", "created", "started"),
        ("disabled", "created", "created"),
        ("error", "created", "created"),
        ("created", "disabled", "disabled"),
        ("started", "disabled", "disabled"),
        ("disabled", "disabled", "disabled"),
    ],
)
def test_allowed_status_changes(current: str, requested: str, result: str) -> None:
    assert next_status(current, requested, "w") == result


def test_an_error_webhook_cannot_be_disabled() -> None:
    with pytest.raises(FailedPrecondition) as raised:
        next_status("error", "disabled", "w")
    assert raised.value.reason == Reason.WEBHOOK_STATUS_CHANGE
    assert raised.value.metadata == {"webhookId": "w", "status": "error", "requested": "disabled"}
