"""Who asks for a change, given to the use cases that record it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """The principal behind a call: its name, or None when the deployment has no auth."""

    principal: str | None

    def actor(self, named: str | None) -> str | None:
        """Who a write records (``deleted_by``, ``created_by``): the one the request
        names, else the caller."""
        return named if named is not None else self.principal
