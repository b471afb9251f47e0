"""The RPC table the generated per-RPC tests run over: every method of every tams.v1
service (from the descriptors, so a new RPC is in the table the moment it exists), and
a generic call of any of them with ids that exist nowhere."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from helpers.principals import Metadata
from tams_server.app import IMPLEMENTED_SERVICES
from tams_server.auth.scopes import SCOPE_NAMES, required_scope, tams_services

METHODS = [method for service in tams_services() for method in service.methods]


def path_of(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def unknown_ids(message: Message) -> Message:
    """``message`` with every id field (``id``, ``*_id``) naming nothing that exists."""
    for field in message.DESCRIPTOR.fields:
        named_id = field.name == "id" or field.name.endswith("_id")
        if named_id and field.type == field.TYPE_STRING and not field.is_repeated:
            setattr(message, field.name, str(uuid.uuid4()))
    return message


async def call(channel: grpc.aio.Channel, method: MethodDescriptor, metadata: Metadata) -> None:
    """Make the RPC ``method`` with ids that exist nowhere, reading its (first) answer."""
    request = unknown_ids(GetMessageClass(method.input_type)())
    response = GetMessageClass(method.output_type)
    kinds: dict[tuple[bool, bool], Any] = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, False): channel.stream_unary,
    }
    callable_ = kinds[method.client_streaming, method.server_streaming](
        path_of(method),
        request_serializer=lambda message: message.SerializeToString(),
        response_deserializer=response.FromString,
    )
    argument = iter([request]) if method.client_streaming else request
    answer = callable_(argument, metadata=metadata)
    if method.server_streaming:  # its first answer has passed or failed every check
        try:  # (some streams, WatchEvents, never end by themselves)
            await answer.read()
        finally:
            answer.cancel()
    else:
        await answer


async def code_of(
    channel: grpc.aio.Channel, method: MethodDescriptor, metadata: Metadata
) -> grpc.StatusCode:
    try:
        await call(channel, method, metadata)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def served(method: MethodDescriptor) -> bool:
    return method.containing_service.full_name in IMPLEMENTED_SERVICES


def the_scope_of(method: MethodDescriptor) -> frozenset[str]:
    """The one scope the RPC declares (none for any authenticated caller)."""
    name = SCOPE_NAMES.get(required_scope(path_of(method)))
    return frozenset({name} if name else ())


SERVED_METHODS = [method for method in METHODS if served(method)]
