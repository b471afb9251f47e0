"""Prometheus metrics of the gRPC side, with the grpc-ecosystem names and labels
(go-grpc-prometheus, py-grpc-prometheus): ``grpc_server_started_total``,
``grpc_server_handled_total``, ``grpc_server_handling_seconds``,
``grpc_server_msg_received_total`` and ``grpc_server_msg_sent_total``, each labelled
``grpc_type``, ``grpc_service``, ``grpc_method`` (and ``grpc_code`` once handled);
and the Segments registered and sent by the segment RPCs.

A plain ``grpc.aio.ServerInterceptor`` (not grpc-interceptor's), outermost: it reads
the RPC's type from the handler it wraps, keeps each method's label children once,
and costs a few counter increments and one histogram observation per call. The
metrics live on the registry given, one per server, so several servers in one
process (the tests) count apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

Context = grpc.aio.ServicerContext[Any, Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"

# Seconds; finer than Prometheus' defaults at the low end, where unary calls are.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
)  # fmt: skip
_LABELS = ("grpc_type", "grpc_service", "grpc_method")

# Responses that say how many Segments went in, or carry Segments out.
_REGISTERING = frozenset(
    {"/tams.v1.SegmentService/RegisterSegments", "/tams.v1.SegmentService/StreamRegisterSegments"}
)
_LISTING = frozenset(
    {"/tams.v1.SegmentService/ListSegments", "/tams.v1.SegmentService/StreamSegments"}
)


class GrpcMetrics:
    """The gRPC server's metrics, on ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", _LABELS,
            registry=registry,
        )  # fmt: skip
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, whatever their status.",
            (*_LABELS, "grpc_code"),
            registry=registry,
        )
        self.seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from an RPC's start to its status (its last message, for streams).",
            _LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.received = Counter(
            "grpc_server_msg_received_total", "Messages received by the server's RPCs.",
            _LABELS, registry=registry,
        )  # fmt: skip
        self.sent = Counter(
            "grpc_server_msg_sent_total", "Messages sent by the server's RPCs.", _LABELS,
            registry=registry,
        )  # fmt: skip
        self.segments_registered = Counter(
            "tams_segments_registered_total",
            "Segments stored by RegisterSegments and StreamRegisterSegments.",
            registry=registry,
        )
        self.segments_streamed = Counter(
            "tams_segments_streamed_total",
            "Segments sent by ListSegments and StreamSegments (the REST listings included).",
            ("grpc_method",),
            registry=registry,
        )


class _Method:
    """One method's label children, made on its first call."""

    __slots__ = (
        "codes", "handled", "labels", "received", "registered", "seconds", "sent", "started",
        "streamed",
    )  # fmt: skip

    def __init__(self, metrics: GrpcMetrics, full_name: str, handler: Handler) -> None:
        service, _, name = full_name.lstrip("/").rpartition("/")
        kind = _grpc_type(handler)
        self.labels = (kind, service, name)
        self.started = metrics.started.labels(*self.labels)
        self.seconds = metrics.seconds.labels(*self.labels)
        self.received = metrics.received.labels(*self.labels)
        self.sent = metrics.sent.labels(*self.labels)
        self.handled = metrics.handled
        self.codes: dict[grpc.StatusCode, Any] = {}
        self.registered = metrics.segments_registered if full_name in _REGISTERING else None
        self.streamed = metrics.segments_streamed.labels(name) if full_name in _LISTING else None

    def done(self, context: Context, started: float, error: BaseException | None) -> None:
        """Count the RPC as handled, with the status it ends with."""
        self.seconds.observe(time.perf_counter() - started)
        code = _code_of(context, error)
        child = self.codes.get(code)
        if child is None:
            child = self.codes[code] = self.handled.labels(*self.labels, code.name)
        child.inc()

    def count_response(self, response: Any) -> None:
        """The Segments a response registered or carries."""
        if self.registered is not None:
            self.registered.inc(response.registered_count)
        elif self.streamed is not None:
            self.streamed.inc(len(response.segments))


def _grpc_type(handler: Handler) -> str:
    if handler.request_streaming:
        return "bidi_stream" if handler.response_streaming else "client_stream"
    return "server_stream" if handler.response_streaming else "unary"


def _code_of(context: Context, error: BaseException | None) -> grpc.StatusCode:
    code: grpc.StatusCode | None = context.code()
    if code is not None:
        # grpc.aio keeps a status set through set_code() or abort() as that value,
        # which may be a StatusCode or its integer.
        return code if isinstance(code, grpc.StatusCode) else _BY_VALUE.get(code, _UNKNOWN)
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return _UNKNOWN


_UNKNOWN = grpc.StatusCode.UNKNOWN
_BY_VALUE: dict[object, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every RPC into ``metrics``."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._metrics = metrics
        self._methods: dict[str, _Method] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # an unknown method: gRPC answers UNIMPLEMENTED itself
            return handler
        name: str = handler_call_details.method
        method = self._methods.get(name)
        if method is None:
            method = self._methods[name] = _Method(self._metrics, name, handler)
        return _wrapped(handler, method)


def _wrapped(handler: Handler, method: _Method) -> Handler:
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _unary(handler.unary_unary, method, streamed_in=False),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _unary(handler.stream_unary, method, streamed_in=True),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _streaming(handler.unary_stream, method, streamed_in=False),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(
        _streaming(handler.stream_stream, method, streamed_in=True),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _unary(
    behaviour: Callable[..., Any], method: _Method, *, streamed_in: bool
) -> Callable[[Any, Context], Awaitable[Any]]:
    async def call(request: Any, context: Context) -> Any:
        method.started.inc()
        started = time.perf_counter()
        requests = _Counted(request) if streamed_in else None
        try:
            response = await behaviour(request if requests is None else requests, context)
        except BaseException as error:
            method.received.inc(1 if requests is None else requests.count)
            method.done(context, started, error)
            raise
        method.received.inc(1 if requests is None else requests.count)
        method.sent.inc()
        if response is not None:
            method.count_response(response)
        method.done(context, started, None)
        return response

    return call


def _streaming(
    behaviour: Callable[..., Any], method: _Method, *, streamed_in: bool
) -> Callable[[Any, Context], AsyncIterator[Any]]:
    async def call(request: Any, context: Context) -> AsyncIterator[Any]:
        method.started.inc()
        started = time.perf_counter()
        requests = _Counted(request) if streamed_in else None
        sent = 0
        try:
            responses = behaviour(request if requests is None else requests, context)
            if hasattr(responses, "__aiter__"):
                async for response in responses:
                    sent += 1
                    if method.streamed is not None:
                        method.streamed.inc(len(response.segments))
                    yield response
            else:  # a handler that writes with context.write()
                await responses
        except BaseException as error:
            method.received.inc(1 if requests is None else requests.count)
            method.sent.inc(sent)
            method.done(context, started, error)
            raise
        method.received.inc(1 if requests is None else requests.count)
        method.sent.inc(sent)
        method.done(context, started, None)

    return call


class _Counted:
    """A request stream that counts its messages as the handler reads them."""

    __slots__ = ("_iterator", "_requests", "count")

    def __init__(self, requests: AsyncIterable[Any]) -> None:
        # Iterated only when the handler reads: grpc.aio's receiver is an async
        # generator that warns when made and never run (a call refused first).
        self._requests = requests
        self._iterator: AsyncIterator[Any] | None = None
        self.count = 0

    def __aiter__(self) -> _Counted:
        return self

    async def __anext__(self) -> Any:
        if self._iterator is None:
            self._iterator = self._requests.__aiter__()
        message = await self._iterator.__anext__()
        self.count += 1
        return message
