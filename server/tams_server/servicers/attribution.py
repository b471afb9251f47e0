"""Who did it (issue 12, point 4): with authentication on, the caller's subject is
who created, updated or deleted something; names a client sends are ignored. Without
authentication there is no subject, and a client's names are recorded as given."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from tams_server.domain.models import Flow, Profile, Source
from tams_server.domain.principal import principal

Attributed = TypeVar("Attributed", Flow, Source, Profile)


def attributed(model: Attributed) -> Attributed:
    """``model`` without the client's ``created_by``/``updated_by`` when a caller is
    authenticated, so that the store records the caller (its ``actor``)."""
    if principal() is None:
        return model
    if isinstance(model, Profile):
        return dataclasses.replace(model, created_by=None)
    return dataclasses.replace(model, created_by=None, updated_by=None)


def deleted_by(named: str | None) -> str | None:
    """Who a delete records: the authenticated caller, else the name the request
    gives (None: the store's default)."""
    caller = principal()
    return caller if caller is not None else named
