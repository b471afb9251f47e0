"""Deliveries check where a receiver's name resolves at send time (a name may point
anywhere, and change), and the collection filters of ADR 0026."""

from __future__ import annotations

import pytest

from tams_server.config import Config
from tams_server.config.errors import ConfigError
from tams_server.config.webhooks import check_webhook_timing
from tams_server.domain.webhooks import in_collections
from tams_server.webhooks.receivers import Receivers


async def test_a_name_that_resolves_to_loopback_is_not_called() -> None:
    receivers = Receivers(allow_private=False, timeout_s=1.0)
    try:
        failure = await receivers.post("http://localhost:9/hook", b"{}", {})
    finally:
        await receivers.aclose()
    assert failure is not None
    assert failure.type == "WEBHOOK_RECEIVER_FORBIDDEN"
    assert "may not reach" in failure.summary


async def test_an_unresolvable_name_is_a_failure_not_an_exception() -> None:
    receivers = Receivers(allow_private=False, timeout_s=1.0)
    try:
        failure = await receivers.post("http://no-such-host.invalid/hook", b"{}", {})
    finally:
        await receivers.aclose()
    assert failure is not None
    assert failure.type == "WEBHOOK_RECEIVER_UNREACHABLE"


@pytest.mark.parametrize(
    ("wanted", "collected_by", "passes"),
    [
        (None, ("c1",), True),  # unset: no filter
        (None, None, True),
        (("c1",), ("c2", "c1"), True),
        (("c1",), ("c2",), False),
        (("c1",), (), False),
        ((), (), True),  # empty: only what no collection holds
        ((), ("c1",), False),
        (("c1",), None, False),  # the event has no such entity
        ((), None, False),
    ],
)
def test_collection_filters(
    wanted: tuple[str, ...] | None, collected_by: tuple[str, ...] | None, passes: bool
) -> None:
    assert in_collections(wanted, collected_by) is passes


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"webhook_lease_s": 20.0, "webhook_timeout_s": 10.0}, "three times"),
        ({"webhook_max_attempts": 0}, "at least 1"),
    ],
)
def test_delivery_settings_that_cannot_work_stop_the_start(
    settings: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        check_webhook_timing(Config(**settings))  # type: ignore[arg-type]
