"""OpenTelemetry tracing (``--tracing``): a span per RPC, per REST request and per SQL
statement, one trace from a REST request through its gRPC call to the database; the
caller's ``traceparent`` continued; nothing of it loaded when tracing is off."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from helpers.factories import video_flow
from helpers.servers import Stubs, own_server
from tams.v1 import flows_pb2, segments_pb2, service_info_pb2, service_info_pb2_grpc
from tams_server.app import serve_gateway
from tams_server.cli import build_parser, config_from_args
from tams_server.config.errors import ConfigError
from tams_server.config.tracing import tracing_of

GET_FLOW = "/tams.v1.FlowService/GetFlow"
CREATE_FLOW = "/tams.v1.FlowService/CreateFlow"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    tmp_path: Path, database_url: str, exporter: InMemorySpanExporter
) -> AsyncIterator[Stubs]:
    async with own_server(tmp_path, database_url, span_exporter=exporter) as stubs:
        yield stubs


async def finished(
    exporter: InMemorySpanExporter, wanted: Callable[[ReadableSpan], bool], count: int = 1
) -> list[ReadableSpan]:
    """The ended spans ``wanted`` picks, once there are ``count`` of them (a server
    span ends as its answer goes out, a moment after the client has it)."""
    async with asyncio.timeout(10):
        while True:
            spans = [span for span in exporter.get_finished_spans() if wanted(span)]
            if len(spans) >= count:
                return spans
            await asyncio.sleep(0.02)


def named(name: str) -> Callable[[ReadableSpan], bool]:
    return lambda span: span.name == name


def attributes(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def test_an_rpc_is_a_server_span_with_its_method_and_status(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    flow = video_flow()
    await traced.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    (span,) = await finished(exporter, named(CREATE_FLOW))
    assert span.kind == SpanKind.SERVER
    assert span.status.status_code != StatusCode.ERROR
    assert {
        "rpc.system": "grpc",
        "rpc.service": "tams.v1.FlowService",
        "rpc.method": "CreateFlow",
        "rpc.grpc.status_code": grpc.StatusCode.OK.value[0],
    }.items() <= attributes(span).items()


async def test_a_refused_rpc_carries_its_code(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await traced.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id=str(uuid.uuid4())))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    (span,) = await finished(exporter, named(GET_FLOW))
    assert attributes(span)["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    # The caller's doing, not the server's: no error status (OpenTelemetry's RPC
    # conventions keep that for UNKNOWN, INTERNAL, UNAVAILABLE and the like).
    assert span.status.status_code == StatusCode.UNSET


async def test_bad_input_carries_its_code(traced: Stubs, exporter: InMemorySpanExporter) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await traced.flows.GetFlow(flows_pb2.GetFlowRequest(flow_id="not-a-uuid"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    (span,) = await finished(exporter, named(GET_FLOW))
    assert attributes(span)["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]


async def test_the_callers_traceparent_is_continued(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    stub = service_info_pb2_grpc.ServiceInfoServiceStub(traced.channel)
    await stub.GetService(
        service_info_pb2.GetServiceRequest(),
        metadata=(("traceparent", f"00-{trace_id}-{parent_id}-01"),),
    )
    (span,) = await finished(exporter, named("/tams.v1.ServiceInfoService/GetService"))
    assert span.context.trace_id == int(trace_id, 16)
    assert span.parent is not None
    assert span.parent.span_id == int(parent_id, 16)
    assert span.parent.is_remote


async def test_streaming_rpcs_have_spans(traced: Stubs, exporter: InMemorySpanExporter) -> None:
    flow = video_flow(container="video/mp2t")
    await traced.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    post = segments_pb2.SegmentPost(
        object_id=f"obj-{uuid.uuid4().hex}",
        timerange="[0:0_1:0)",
        get_urls=[segments_pb2.UncontrolledUrl(url="https://media.example/a", label="cdn")],
    )
    response = await traced.segments.StreamRegisterSegments(
        iter([segments_pb2.StreamRegisterSegmentsRequest(flow_id=flow.id, segments=[post])])
    )
    assert response.registered_count == 1
    listed = [
        page
        async for page in traced.segments.StreamSegments(
            segments_pb2.StreamSegmentsRequest(flow_id=flow.id)
        )
    ]
    assert sum(len(page.segments) for page in listed) == 1
    for method in ("StreamRegisterSegments", "StreamSegments"):
        (span,) = await finished(exporter, named(f"/tams.v1.SegmentService/{method}"))
        assert span.kind == SpanKind.SERVER
        assert attributes(span)["rpc.grpc.status_code"] == 0


async def test_sql_statements_are_children_of_their_rpc(
    traced: Stubs, exporter: InMemorySpanExporter, database_url: str
) -> None:
    await traced.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=video_flow()))
    (rpc,) = await finished(exporter, named(CREATE_FLOW))
    statements = children(exporter.get_finished_spans(), rpc)
    assert statements, [span.name for span in exporter.get_finished_spans()]
    inserts = [s for s in statements if attributes(s)["db.operation.name"] == "INSERT"]
    assert inserts, [attributes(s)["db.query.text"] for s in statements]
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    for span in statements:
        assert span.kind == SpanKind.CLIENT
        assert attributes(span)["db.system"] == engine
        assert span.context.trace_id == rpc.context.trace_id


async def test_a_rest_request_and_its_rpc_share_a_trace(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    flow = video_flow()
    await traced.flows.CreateFlow(flows_pb2.CreateFlowRequest(flow=flow))
    async with httpx.AsyncClient(base_url=traced.running.http_url) as http:
        answer = await http.get(f"/flows/{flow.id}")
    assert answer.status_code == 200
    (request,) = await finished(exporter, lambda s: s.name.startswith("GET /flows/"))
    assert request.name == "GET /flows/{flow_id}"
    assert request.kind == SpanKind.SERVER
    assert {
        "http.request.method": "GET",
        "http.route": "/flows/{flow_id}",
        "http.response.status_code": 200,
        "url.path": f"/flows/{flow.id}",
    }.items() <= attributes(request).items()
    (rpc,) = await finished(exporter, lambda s: s.name == GET_FLOW and s.kind == SpanKind.SERVER)
    (call,) = [
        s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT and s.name == GET_FLOW
    ]
    assert rpc.context.trace_id == call.context.trace_id == request.context.trace_id
    assert call.parent is not None
    assert call.parent.span_id == request.context.span_id
    assert rpc.parent is not None
    assert rpc.parent.span_id == call.context.span_id


async def test_a_rest_error_marks_the_request(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    async with httpx.AsyncClient(base_url=traced.running.http_url) as http:
        answer = await http.get(f"/flows/{uuid.uuid4()}")
    assert answer.status_code == 404
    (request,) = await finished(exporter, lambda s: s.name.startswith("GET /flows/"))
    assert attributes(request)["http.response.status_code"] == 404
    # A 4xx is the client's doing: the server span is not an error (OpenTelemetry's
    # HTTP conventions); the gRPC spans carry NOT_FOUND.
    assert request.status.status_code != StatusCode.ERROR


async def test_a_query_string_never_reaches_a_span(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=traced.running.http_url) as http:
        answer = await http.get("/flows", params={"access_token": secret, "limit": "1"})
    assert answer.status_code == 200
    await finished(exporter, named("GET /flows"))
    await finished(exporter, named("/tams.v1.FlowService/ListFlows"), count=2)
    for span in exporter.get_finished_spans():
        assert all(secret not in str(value) for value in attributes(span).values()), span.name


async def test_a_standalone_gateway_passes_the_trace_on(
    traced: Stubs, exporter: InMemorySpanExporter
) -> None:
    gateway_spans = InMemorySpanExporter()
    async with (
        serve_gateway(
            traced.running.grpc_target, "127.0.0.1", 0, span_exporter=gateway_spans
        ) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        assert (await http.get("/service")).status_code == 200
    (request,) = await finished(gateway_spans, named("GET /service"))
    (rpc,) = await finished(exporter, named("/tams.v1.ServiceInfoService/GetService"))
    assert rpc.context.trace_id == request.context.trace_id


async def test_a_server_side_failure_is_an_error(tmp_path: Path) -> None:
    spans = InMemorySpanExporter()
    # A gateway whose gRPC server is not there: 503 for the REST request.
    async with (
        serve_gateway("127.0.0.1:1", "127.0.0.1", 0, span_exporter=spans) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        assert (await http.get("/service")).status_code == 503
    (request,) = await finished(spans, named("GET /service"))
    assert attributes(request)["http.response.status_code"] == 503
    assert request.status.status_code == StatusCode.ERROR
    (call,) = await finished(spans, named("/tams.v1.ServiceInfoService/GetService"))
    assert call.kind == SpanKind.CLIENT
    assert call.status.status_code == StatusCode.ERROR
    assert attributes(call)["rpc.grpc.status_code"] == grpc.StatusCode.UNAVAILABLE.value[0]


async def test_console_tracing_prints_spans_on_stderr(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with own_server(tmp_path, database_url, tracing="console") as stubs:
        stub = service_info_pb2_grpc.ServiceInfoServiceStub(stubs.channel)
        await stub.GetService(service_info_pb2.GetServiceRequest())
    captured = capsys.readouterr()  # the spans went out as the server stopped
    assert '"name": "/tams.v1.ServiceInfoService/GetService"' in captured.err
    assert "GetService" not in captured.out


def test_the_mode_comes_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_from_args(build_parser().parse_args(["serve"])).tracing == "off"
    args = build_parser().parse_args(["serve", "--tracing", "otlp"])
    assert config_from_args(args).tracing == "otlp"
    assert build_parser().parse_args(["gateway", "--tracing", "console"]).tracing == "console"
    monkeypatch.setenv("TAMS_TRACING", "console")
    assert config_from_args(build_parser().parse_args(["serve"])).tracing == "console"


def test_an_unknown_mode_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--tracing", "jaeger"])
    assert "choose off, console, otlp, not 'jaeger'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--tracing: choose off, console, otlp"):
        tracing_of("jaeger")


async def test_a_server_with_an_unknown_mode_does_not_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match="--tracing"):
        async with own_server(data, f"sqlite+aiosqlite:///{data}/tams.db", tracing="on"):
            pass
    assert not data.exists()  # refused before anything was made
    with pytest.raises(ConfigError, match="--tracing"):
        async with serve_gateway("127.0.0.1:1", "127.0.0.1", 0, tracing="on"):
            pass


def test_an_exporter_that_is_none_is_refused() -> None:
    with pytest.raises(ConfigError, match="span_exporter must be a SpanExporter"):
        tracing_of("off", span_exporter="stdout")


def test_without_the_extra_the_server_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace.export", None)
    with pytest.raises(ConfigError, match=r"pip install 'tams-grpc\[tracing\]'"):
        tracing_of("otlp")
    assert tracing_of("off") is None  # off needs nothing


_OFF_PROBE = """
import asyncio, sys, tempfile
from pathlib import Path
from tams_server.app import serve
from tams_server.config import Config

async def main():
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(grpc_port=0, http_port=0, data_dir=Path(tmp))
        async with serve(config):
            pass
    print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))

asyncio.run(main())
"""


def test_tracing_off_loads_no_opentelemetry() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _OFF_PROBE], capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("TAMS_")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
