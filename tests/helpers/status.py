"""Assertions on gRPC errors and their rich details."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass
class RpcFailure:
    """What a failed call told us."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)


async def failure(call: Awaitable[Any]) -> RpcFailure:
    """Await ``call``, which must fail, and unpack its status details."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        result = RpcFailure(error.code(), error.details() or "")
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        for detail in status.details if status else ():
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                result.reason = info.reason
                result.metadata = dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                result.fields = [v.field for v in bad.field_violations]
        return result
    raise AssertionError("the call succeeded but was expected to fail")
