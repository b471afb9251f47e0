"""What a write transaction changed, recorded for the outbox (``store.outbox``).

Store code records as it writes: an event whose body it already knows (a deletion,
the Segments it stored), or that a Flow or Source was created or changed. The outbox
reads changed Flows and Sources once, as the transaction leaves them, just before
the commit, so one event describes each however many statements changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.events import Event
from tams_server.store.engine import CHANGES_KEY


@dataclass(frozen=True, slots=True)
class FlowTouched:
    """A Flow was created or its metadata changed."""

    flow_id: str
    created: bool = False


@dataclass(frozen=True, slots=True)
class SourceTouched:
    """A Source was created or its metadata changed."""

    source_id: str
    created: bool = False


Change = Event | FlowTouched | SourceTouched


def record(conn: AsyncConnection, *changes: Change) -> None:
    """Record changes made in the write transaction of ``conn``."""
    pending: list[Any] | None = conn.info.get(CHANGES_KEY)
    if pending is None:
        raise RuntimeError("changes are recorded inside Database.write() only")
    pending.extend(changes)
