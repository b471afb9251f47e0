"""Source messages <-> domain Sources."""

from __future__ import annotations

from tams.v1 import sources_pb2
from tams_server.convert.common import (
    fill_collection,
    fill_resource,
    optional,
    resource_to_domain,
    set_time,
    tag_filters_to_domain,
)
from tams_server.domain.errors import InvalidArgument
from tams_server.domain.models import Source
from tams_server.domain.queries import SourceQuery, SourceSortKey

_SORT_KEYS: dict[int, SourceSortKey] = {
    sources_pb2.SOURCE_SORT_KEY_UNSPECIFIED: "created",
    sources_pb2.SOURCE_SORT_KEY_CREATED: "created",
    sources_pb2.SOURCE_SORT_KEY_UPDATED: "updated",
    sources_pb2.SOURCE_SORT_KEY_LABEL: "label",
}


def source_to_domain(message: sources_pb2.Source) -> Source:
    """The writable fields of a Source message; read-only ones are ignored."""
    return Source(id=message.id, format=message.format, **resource_to_domain(message))


def source_to_proto(source: Source) -> sources_pb2.Source:
    """A Source message with every field the domain knows."""
    message = sources_pb2.Source(id=source.id, format=source.format)
    fill_resource(message, source)
    fill_collection(message.source_collection, source.source_collection)
    set_time(message.updated, source.updated_ns)
    return message


def source_query_to_domain(request: sources_pb2.ListSourcesRequest) -> SourceQuery:
    """The filters and order of a ListSources request."""
    f = request.filter
    if request.sort_by not in _SORT_KEYS:
        raise InvalidArgument.for_field("sort_by", f"unknown sort key {request.sort_by}")
    return SourceQuery(
        label=optional(f, "label"),
        label_prefix=optional(f, "label_prefix"),
        format=optional(f, "format"),
        tags=tag_filters_to_domain(f.tags),
        collected_by_ids=tuple(f.collected_by_ids),
        not_collected=f.not_collected,
        sort_by=_SORT_KEYS[request.sort_by],
        reverse_order=request.reverse_order,
        show_deleted=request.show_deleted,
    )
