"""What the listings share: their paging, order and tag filter parameters, and
the page they answer with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypedDict, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from tams.v1 import common_pb2
from tams_server.gateway.paging import Page, list_response
from tams_server.gateway.query import Query

Key = TypeVar("Key")


class ListingFields(TypedDict, Generic[Key]):
    """Paging, order and ``show_deleted`` of a listing, as its List request's fields."""

    page_size: int
    page_token: str
    reverse_order: bool
    sort_by: Key
    show_deleted: bool


def listing_fields(query: Query, sort: Mapping[str, Key], unspecified: Key) -> ListingFields[Key]:
    """The listing's fields from ``limit``, ``page``, ``reverse_order``, ``sort_by`` (one
    of ``sort``; ``unspecified`` when absent) and ``show_deleted``."""
    size, token = query.paging()
    return ListingFields(
        page_size=size,
        page_token=token,
        reverse_order=query.boolean("reverse_order"),
        sort_by=query.choice("sort_by", sort, unspecified),
        show_deleted=query.boolean("show_deleted"),
    )


class TaggedListingFields(TypedDict):
    """Paging, order and tag filters of a listing ordered by one key (storage
    backends by label, webhooks by url), as its List request's fields."""

    page_size: int
    page_token: str
    tags: list[common_pb2.TagFilter]
    reverse_order: bool


def tagged_listing_fields(query: Query) -> TaggedListingFields:
    """The listing's fields from ``limit``, ``page``, ``tag.*``, ``tag_exists.*`` and
    ``reverse_order``."""
    size, token = query.paging()
    return TaggedListingFields(
        page_size=size,
        page_token=token,
        tags=query.tag_filters(),
        reverse_order=query.boolean("reverse_order"),
    )


class CollectedBy(TypedDict):
    """The ``collected_by_ids`` filter, as filter fields."""

    collected_by_ids: list[str]
    not_collected: bool


def collected_by_filter(query: Query) -> CollectedBy:
    """``collected_by_ids``: given but empty, it asks for what no collection names."""
    ids = query.csv("collected_by_ids")
    return CollectedBy(
        collected_by_ids=ids, not_collected=query.has("collected_by_ids") and not ids
    )


def listing_response(
    request: Request, page: Page, items: list[Any], fields: ListingFields[Any]
) -> Response:
    """One page of the listing (``items``, the JSON of ``page``'s), with its paging
    headers."""
    return list_response(request, page, items, reverse_order=fields["reverse_order"])
