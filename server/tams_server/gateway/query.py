"""Query parameters of TAMS requests: typed reads that answer 400 on bad input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from starlette.datastructures import QueryParams

from tams.v1 import common_pb2

Chosen = TypeVar("Chosen")
INT32_MAX = 2**31 - 1
MAX_PAGE_SIZE = 1000


class BadRequest(Exception):
    """A request the gateway can refuse before calling the server (400)."""

    def __init__(
        self,
        summary: str,
        error_type: common_pb2.ErrorReason.ValueType = common_pb2.ERROR_REASON_INVALID_ARGUMENT,
        *,
        where: tuple[str | int, ...] = (),
        kind: str = "",
        message: str = "",
    ) -> None:
        super().__init__(summary)
        self.summary = summary
        self.error_type = error_type
        self.where = where
        """Where in the request the refused value is (``("body", "label")``), when a
        schema check found it; the guide dialect's validation errors name it."""
        self.kind = kind
        """The schema keyword that refused it (``required``, ``type``...)."""
        self.message = message
        """Why, without ``where``."""


class Query:
    """The query of one request."""

    def __init__(self, params: QueryParams) -> None:
        self._params = params

    def text(self, name: str) -> str | None:
        """A string parameter; None when absent."""
        return self._params.get(name)

    def has(self, name: str) -> bool:
        """Whether the parameter was given at all (possibly empty)."""
        return name in self._params

    def boolean(self, name: str, default: bool = False) -> bool:
        """``true`` or ``false``, in any case (Python's ``requests`` sends ``True``);
        anything else is 400."""
        value = self._params.get(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise BadRequest(f"{name} must be true or false, got {value!r}")
        return value.lower() == "true"

    def integer(self, name: str, *, minimum: int = 0, maximum: int = INT32_MAX) -> int | None:
        """A whole number in ``[minimum, maximum]``; None when absent."""
        value = self._params.get(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise BadRequest(f"{name} must be a whole number, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise BadRequest(f"{name} must be {minimum} to {maximum}, got {number}")
        return number

    def csv(self, name: str) -> list[str]:
        """A comma-separated list; empty when absent or empty."""
        value = self._params.get(name)
        return [item for item in value.split(",") if item] if value else []

    def tag_filters(self, prefix: str = "tag") -> list[common_pb2.TagFilter]:
        """TAMS ``{prefix}.{name}=a,b`` and ``{prefix}_exists.{name}=true|false``."""
        filters: dict[str, common_pb2.TagFilter] = {}
        for key, value in self._params.multi_items():
            if key.startswith(f"{prefix}."):
                name = key[len(prefix) + 1 :]
                entry = filters.setdefault(name, common_pb2.TagFilter(name=name))
                entry.values.extend(item for item in value.split(",") if item)
            elif key.startswith(f"{prefix}_exists."):
                name = key[len(prefix) + 8 :]
                entry = filters.setdefault(name, common_pb2.TagFilter(name=name))
                entry.exists = self.boolean(key)
        return list(filters.values())

    def choice(self, name: str, choices: Mapping[str, Chosen], default: Chosen) -> Chosen:
        """What ``choices`` gives for the parameter (``sort_by=label``, say);
        ``default`` when absent, 400 for a name it does not list."""
        value = one_of(self.text(name), list(choices), name)
        return default if value is None else choices[value]

    def paging(self) -> tuple[int, str]:
        """(page size, page token) from ``limit`` and ``page``. TAMS lets a service
        use its own default and maximum: a limit below 1 means the default, one above
        the maximum the maximum (the size used is in ``X-Paging-Limit``)."""
        limit = self.integer("limit", minimum=-(2**63), maximum=2**63)
        size = 0 if limit is None or limit < 1 else min(limit, MAX_PAGE_SIZE)
        return size, self._params.get("page", "")


def one_of(value: str | None, allowed: Sequence[str], name: str) -> str | None:
    """``value`` if allowed (or absent); 400 otherwise."""
    if value is not None and value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value
