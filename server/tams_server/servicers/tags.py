"""The tag calls Flows and Sources both answer: set or delete one tag."""

from __future__ import annotations

from typing import Protocol, TypeVar

from tams.v1 import common_pb2
from tams_server.convert.common import tag_edit_to_domain
from tams_server.domain.access import Access
from tams_server.domain.ids import check_uuid
from tams_server.domain.principal import principal
from tams_server.domain.tags import TagEdit

Resource_co = TypeVar("Resource_co", covariant=True)


class TaggedStore(Protocol[Resource_co]):
    """A store whose resources have tags (``FlowStore``, ``SourceStore``)."""

    async def edit_tag(
        self, resource_id: str, edit: TagEdit, *, actor: str | None, access: Access | None
    ) -> Resource_co: ...


async def edit_tag(
    store: TaggedStore[Resource_co],
    access: Access | None,
    resource_id: str,
    id_field: str,
    name: str,
    value: common_pb2.TagValue | None = None,
) -> Resource_co:
    """Set the tag ``name`` to ``value`` or, without one, delete it, on behalf of the
    caller (whose ``access`` the resource's auth classes may refuse); the resource's id
    (request field ``id_field``) is checked first."""
    check_uuid(resource_id, id_field)
    edit = tag_edit_to_domain(name, value)
    return await store.edit_tag(resource_id, edit, actor=principal(), access=access)
