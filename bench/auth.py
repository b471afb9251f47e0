"""What authentication costs: an anonymous server against one that verifies tokens
(HS256 ``--jwt-secret`` and a static API token from ``--tokens-file``), both in their
own processes, measured in one run with the calls interleaved so that noise on this
shared machine hits all alike.

- unary ``FlowService/GetFlow`` latency: sequential calls on one channel per server,
  medians and p90s, anonymous, with a JWT and with the static token, and on a second
  anonymous server, the control: its ratio to the first is the noise between two
  processes, against which the authenticated ratios are to be read;
- throughput: 32 concurrent clients on one channel, each looping for a fixed time,
  with the server's CPU per request (the figure that shows the cost on a machine whose
  2 shared cores the Python load generator may saturate);
- a 100-Segment REST page (``GET /flows/{id}/segments?limit=100``), anonymous and with
  ``Authorization: Bearer``: the gateway forwards the header to its gRPC call, which
  authenticates.

Each authenticated figure is also reported as a ratio to the anonymous one (target:
at most 1.05). Credentials are sent as the clients send them: ``authorization``
metadata on every call. The verified-credentials cache answers all but the first
call of each token, so this measures the hot path: one SHA-256 and one dict lookup.

Two server processes differ by more than that hot path on this shared machine (the
control's ratios move by 10-20% from run to run, either way), so the authenticator is
also timed alone, in this process: a cached call and a call that verifies a new token, and the
cached call as a share of the anonymous server's CPU per GetFlow (the stable figure).
"""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import grpc

from bench._common import Metadata, flow_with_segments, report, server_process
from bench._measure import (
    CLIENTS,
    Call,
    Http,
    Load,
    Target,
    http_base_url,
    latency,
    load_for,
    percentile,
)  # fmt: skip
from tams.v1 import flows_pb2, flows_pb2_grpc
from tams_server.auth.minting import mint_token
from tams_server.config import Config
from tams_server.config.auth import authenticator_of

SEGMENTS = 200
PAGE = 100
SECRET = "bench-secret-of-at-least-thirty-two-bytes"
STATIC_TOKEN = "bench-static-api-token"
SCOPES = ("tams-api/read", "tams-api/write")


@dataclass(frozen=True)
class Side:
    """One server as a caller sees it: its channel, pid, REST base URL, a Flow with
    Segments on it, and the ``authorization`` header its callers send (None: none)."""

    name: str
    channel: grpc.aio.Channel
    pid: int
    http_url: str
    flow_id: str
    authorization: str | None

    @property
    def metadata(self) -> Metadata:
        return (("authorization", self.authorization),) if self.authorization else ()


async def _side(
    stack: AsyncExitStack, name: str, database_url: str | None, env: dict[str, str],
    authorization: str | None,
) -> Side:  # fmt: skip
    """A server started with ``env`` (closed with ``stack``), with a Flow of its own."""
    target, pid = await stack.enter_async_context(server_process(database_url, env=env))
    channel = await stack.enter_async_context(grpc.aio.insecure_channel(target))
    metadata: Metadata = (("authorization", authorization),) if authorization else ()
    flow_id = await flow_with_segments(channel, SEGMENTS, metadata)
    return Side(name, channel, pid, http_base_url(pid, target), flow_id, authorization)


def _get_flow(name: str, side: Side) -> Target:
    stub = flows_pb2_grpc.FlowServiceStub(side.channel)
    request = flows_pb2.GetFlowRequest(flow_id=side.flow_id)
    metadata = side.metadata

    async def call() -> None:
        await stub.GetFlow(request, metadata=metadata)

    async def connect(stack: AsyncExitStack) -> Call:
        return call  # one channel for every client

    return Target(name, connect)


def _rest_page(name: str, side: Side) -> Target:
    path = f"/flows/{side.flow_id}/segments?limit={PAGE}&accept_get_urls="

    async def connect(stack: AsyncExitStack) -> Call:
        http = await Http.connect(side.http_url)
        stack.push_async_callback(http.close)

        async def call() -> None:
            await http.get(path, authorization=side.authorization)

        return call

    return Target(name, connect)


async def _authenticate_us(metadata: Sequence[Metadata]) -> float:
    """Microseconds per ``authenticate`` of each of ``metadata`` in turn, on a fresh
    authenticator of the server's settings."""
    authenticator = authenticator_of(Config(jwt_secret=SECRET))
    assert authenticator is not None
    t0 = time.perf_counter()
    for each in metadata:
        await authenticator.authenticate(each)
    return (time.perf_counter() - t0) / len(metadata) * 1e6


async def _report_authenticator(engine: str, anonymous_cpu_ms: float) -> None:
    one: Metadata = (("authorization", f"Bearer {_jwt()}"),)
    cached = await _authenticate_us([one] * 20_000)  # all but the first from the cache
    verifying = await _authenticate_us([(("authorization", f"Bearer {_jwt()}"),)
                                        for _ in range(1_000)])  # fmt: skip
    report("authenticate_cached_us", cached, "us", engine=engine, calls=20_000)
    report("authenticate_verifying_us", verifying, "us", engine=engine, calls=1_000)
    report("authenticate_cached_share_of_get_flow_cpu", cached / (anonymous_cpu_ms * 1000),
           "ratio", engine=engine, target="<= 0.05")  # fmt: skip


def _jwt() -> str:
    """A new token (each has its own ``jti``) the authenticated server accepts."""
    return mint_token(SECRET, subject="bench", scopes=SCOPES, ttl_s=3600)


def _ratio_note(name: str) -> dict[str, str]:
    """What a ratio to the anonymous server is held to: the target, or for the second
    anonymous server, nothing (its ratio is the noise between two processes)."""
    if name.startswith("control_"):
        return {"note": "two anonymous servers: the noise floor"}
    return {"target": "<= 1.05"}


def _report_latency(times: dict[str, list[float]], engine: str, repeats: int) -> None:
    """Medians and p90s of each target; each median's ratio to the first (anonymous)."""
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    for name, samples in times.items():
        report(f"{name}_median_ms", medians[name] * 1000, "ms", engine=engine, repeats=repeats)
        report(f"{name}_p90_ms", percentile(samples, 0.9) * 1000, "ms", engine=engine,
               repeats=repeats)  # fmt: skip
    base, *others = times
    for name in others:
        report(f"{name}_over_{base}_median", medians[name] / medians[base], "ratio",
               engine=engine, **_ratio_note(name))  # fmt: skip


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    repeats = 5 if tiny else 100 if quick else 600
    seconds, rounds = (0.2, 1) if tiny else (2.0, 1) if quick else (5.0, 3)
    engine = "postgresql" if database_url else "sqlite"
    jwt = _jwt()
    with tempfile.TemporaryDirectory(prefix="tams-bench-auth-") as tmp:
        tokens = Path(tmp) / "tokens.txt"
        digest = hashlib.sha256(STATIC_TOKEN.encode()).hexdigest()
        tokens.write_text(f"{digest} robot {' '.join(SCOPES)}\n")
        authed_env = {"TAMS_JWT_SECRET": SECRET, "TAMS_TOKENS_FILE": str(tokens)}
        async with AsyncExitStack() as stack:
            anonymous = await _side(stack, "anonymous", database_url, {}, None)
            control = await _side(stack, "control", database_url, {}, None)
            with_jwt = await _side(stack, "jwt", database_url, authed_env, f"Bearer {jwt}")
            static = replace(with_jwt, name="static", authorization=f"Bearer {STATIC_TOKEN}")
            sides = (anonymous, control, with_jwt, static)
            grpc_targets = [_get_flow(f"{side.name}_get_flow", side) for side in sides]
            rest_targets = [_rest_page(f"{side.name}_rest_list_{PAGE}", side)
                            for side in (anonymous, control, with_jwt)]  # fmt: skip
            times = await latency([*grpc_targets, *rest_targets], repeats)
            for targets in (grpc_targets, rest_targets):
                _report_latency({t.name: times[t.name] for t in targets}, engine, repeats)

            loads = {target.name: Load() for target in grpc_targets}
            for _ in range(rounds):  # interleaved, as above
                for target, side in zip(grpc_targets, sides, strict=True):
                    await load_for(target, seconds, {"server": side.pid}, loads[target.name])
            anonymous_cpu_ms = _report_load(loads, engine)
    await _report_authenticator(engine, anonymous_cpu_ms)


def _report_load(loads: dict[str, Load], engine: str) -> float:
    """Reports the throughput figures; the anonymous server's CPU ms per GetFlow."""
    rates = {name: load.requests / load.wall_s for name, load in loads.items()}
    cpu = {name: load.process_cpu_s["server"] / load.requests for name, load in loads.items()}
    for name, load in loads.items():
        report(f"{name}_per_s", rates[name], "requests/s", engine=engine, clients=CLIENTS,
               seconds=round(load.wall_s, 1),
               client_cpu_cores=round(load.client_cpu_s / load.wall_s, 2),
               server_cpu_cores=round(load.process_cpu_s["server"] / load.wall_s, 2))  # fmt: skip
        report(f"{name}_server_cpu_ms_per_request", cpu[name] * 1000, "ms", engine=engine)
    base, *others = loads
    for name in others:
        report(f"{base}_over_{name}_per_s", rates[base] / rates[name], "ratio", engine=engine,
               **_ratio_note(name))  # fmt: skip
        report(f"{name}_over_{base}_server_cpu_per_request", cpu[name] / cpu[base], "ratio",
               engine=engine, **_ratio_note(name))  # fmt: skip
    return cpu[base] * 1000
