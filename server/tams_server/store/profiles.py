"""Profiles in the store: immutable once created."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tams_server.domain.errors import AlreadyExists, NotFound, Reason
from tams_server.domain.models import Profile
from tams_server.domain.queries import Page
from tams_server.domain.tags import tags_from_json, tags_to_json
from tams_server.store.clock import now_ns
from tams_server.store.engine import Database
from tams_server.store.paging import PageTokenCodec, SortSpec, fingerprint, read_page
from tams_server.store.schema import profiles


class ProfileStore:
    """Use cases on Profiles, each one transaction."""

    def __init__(self, database: Database, tokens: PageTokenCodec) -> None:
        self._db = database
        self._tokens = tokens

    async def get(self, profile_id: str) -> Profile:
        """One Profile; NOT_FOUND when unknown."""
        async with self._db.read() as conn:
            return await load_profile(conn, profile_id)

    async def create(self, profile: Profile, *, actor: str | None) -> Profile:
        """Store a new Profile; ALREADY_EXISTS when the id is taken (Profiles never change)."""
        async with self._db.write() as conn:
            taken = await conn.scalar(select(profiles.c.id).where(profiles.c.id == profile.id))
            if taken is not None:
                raise AlreadyExists(
                    f"profile {profile.id} already exists; profiles cannot be changed",
                    reason=Reason.PROFILE_ALREADY_EXISTS,
                    metadata={"profileId": profile.id},
                )
            await conn.execute(
                insert(profiles).values(
                    id=profile.id,
                    label=profile.label,
                    description=profile.description,
                    created_by=profile.created_by or actor,
                    tags=tags_to_json(profile.tags),
                    flow_metadata=profile.flow_metadata,
                    format=profile.flow_metadata["format"],
                    codec=profile.flow_metadata.get("codec"),
                    created_ns=now_ns(),
                )
            )
            return await load_profile(conn, profile.id)

    async def find(
        self,
        *,
        format: str | None,
        codec: str | None,
        label: str | None,
        page_size: int,
        page_token: str,
    ) -> Page[Profile]:
        """One page of Profiles, in id order."""
        equal = {profiles.c.format: format, profiles.c.codec: codec, profiles.c.label: label}
        clauses: list[ColumnElement[bool]] = [
            column == value for column, value in equal.items() if value is not None
        ]
        async with self._db.read() as conn:
            rows, token = await read_page(
                conn,
                select(profiles).where(*clauses),
                SortSpec((profiles.c.id,), descending=False),
                tokens=self._tokens,
                query_fingerprint=fingerprint("profiles", format, codec, label),
                page_size=page_size,
                page_token=page_token,
            )
        return Page([_profile(row) for row in rows], token, page_size)


async def load_profile(conn: AsyncConnection, profile_id: str) -> Profile:
    """A Profile within a unit of work; NOT_FOUND when unknown."""
    row = (await conn.execute(select(profiles).where(profiles.c.id == profile_id))).first()
    if row is None:
        raise NotFound(
            f"profile {profile_id} not found",
            reason=Reason.PROFILE_NOT_FOUND,
            metadata={"profileId": profile_id},
        )
    return _profile(row)


def _profile(row: Row[Any]) -> Profile:
    return Profile(
        id=row.id,
        flow_metadata=row.flow_metadata,
        label=row.label,
        description=row.description,
        created_by=row.created_by,
        tags=tags_from_json(row.tags),
        created_ns=row.created_ns,
    )
