"""Checks of the webhook delivery settings, at start."""

from __future__ import annotations

from tams_server.config import Config
from tams_server.config.errors import ConfigError


def check_webhook_timing(config: Config) -> None:
    """A delivery renews its lease before each POST; a POST that may outlast the
    lease would let another replica take the webhook over while it still runs."""
    if config.webhook_lease_s < 3 * config.webhook_timeout_s:
        raise ConfigError(
            f"--webhook-lease ({config.webhook_lease_s:g} s) must be at least three times "
            f"--webhook-timeout ({config.webhook_timeout_s:g} s)"
        )
    if config.webhook_max_attempts < 1:
        raise ConfigError("--webhook-attempts must be at least 1")
