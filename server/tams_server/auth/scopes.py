"""The authorization table: which scope each RPC requires (TAMS AppNote 0016).

The table is not kept here: every RPC of every ``tams.v1`` service declares its scope
with the ``(tams.v1.required_scope)`` method option in the protos, next to the RPC,
and this module reads it from the generated descriptors. A service or an RPC added
to the protos is found without a change here; one without a declaration has no entry,
and the caller fails closed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TypeAlias

from google.protobuf.descriptor import ServiceDescriptor

from tams.v1 import options_pb2
from tams_server.domain.errors import PermissionDenied, Reason

RequiredScope: TypeAlias = options_pb2.RequiredScope.ValueType

ADMIN = "tams-api/admin"
"""The scope that grants every other (AppNote 0016)."""

SCOPE_NAMES: Mapping[RequiredScope, str] = MappingProxyType(
    {
        options_pb2.REQUIRED_SCOPE_READ: "tams-api/read",
        options_pb2.REQUIRED_SCOPE_WRITE: "tams-api/write",
        options_pb2.REQUIRED_SCOPE_DELETE: "tams-api/delete",
        options_pb2.REQUIRED_SCOPE_ADMIN: ADMIN,
    }
)
"""The OAuth2 scope string of each required scope that names one (AUTHENTICATED
names none: any caller the server knows has it)."""

_PACKAGE = "tams.v1"


def tams_services() -> Iterator[ServiceDescriptor]:
    """Every service of the generated ``tams.v1`` modules."""
    package = importlib.import_module(_PACKAGE)
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.endswith("_pb2"):
            module = importlib.import_module(f"{_PACKAGE}.{module_info.name}")
            yield from module.DESCRIPTOR.services_by_name.values()


def _read_table() -> Mapping[str, RequiredScope]:
    table = {}
    for service in tams_services():
        for method in service.methods:
            scope = method.GetOptions().Extensions[options_pb2.required_scope]
            if scope != options_pb2.REQUIRED_SCOPE_UNSPECIFIED:
                table[f"/{service.full_name}/{method.name}"] = scope
    return MappingProxyType(table)


SCOPE_TABLE = _read_table()
"""Full method name (``/tams.v1.FlowService/GetFlow``, as gRPC names a call) ->
the scope it requires; only the RPCs that declare one."""


def required_scope(full_method: str) -> RequiredScope:
    """The scope the RPC ``full_method`` requires. LookupError when it declares none:
    the caller must then refuse the call (fail closed)."""
    try:
        return SCOPE_TABLE[full_method]
    except KeyError:
        raise LookupError(f"{full_method} declares no required scope") from None


def grants(scopes: frozenset[str], required: RequiredScope) -> bool:
    """Whether a caller holding ``scopes`` may make a call that requires ``required``.
    ``tams-api/admin`` grants everything; AUTHENTICATED needs no scope at all."""
    if required == options_pb2.REQUIRED_SCOPE_AUTHENTICATED:
        return True
    name = SCOPE_NAMES.get(required)
    return name is not None and (name in scopes or ADMIN in scopes)


def check_scope(scopes: frozenset[str], full_method: str) -> None:
    """PERMISSION_DENIED (reason SCOPE_MISSING) unless a caller holding ``scopes`` may
    call ``full_method``; a method that declares no scope is refused (fail closed)."""
    try:
        required = required_scope(full_method)
    except LookupError:
        # No declaration (a test keeps every RPC declared): refuse, never guess.
        raise PermissionDenied(
            "this method declares no scope and is refused",
            reason=Reason.SCOPE_MISSING,
            metadata={"method": full_method},
        ) from None
    if not grants(scopes, required):
        name = SCOPE_NAMES[required]
        raise PermissionDenied(
            f"this call requires the scope {name}",
            reason=Reason.SCOPE_MISSING,
            metadata={"requiredScope": name, "method": full_method},
        )
