"""Storage: presigning URLs with our local SigV4 presigner against boto3's
generate_presigned_url in the same run (the storage issue asks for at least 5x);
allocating upload URLs through the streaming RPC; listing Segments with presigned S3
get_urls against the same listing without URLs (target: at least half the rate)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import statistics
import time
import uuid
from pathlib import Path

import boto3
import grpc
import httpx
from botocore.config import Config as BotoConfig

from bench._common import report, server, server_process, video_flow
from tams.v1 import (
    flows_pb2,
    flows_pb2_grpc,
    objects_pb2,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_server.objects.s3_presign import Credentials, S3Presigner

ENDPOINT = "http://127.0.0.1:9000"


async def run(*, quick: bool, database_url: str | None, tiny: bool = False) -> None:
    count = 100 if tiny else 2_000 if quick else 20_000
    keys = [f"flow-id/2026/11/23/object-{i:06d}" for i in range(count)]
    client = boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name="eu-west-2", aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
    )  # fmt: skip
    presigner = S3Presigner(ENDPOINT, "eu-west-2", Credentials("AKID", "secret"))

    t0 = time.perf_counter()
    for key in keys:
        client.generate_presigned_url(
            "get_object", Params={"Bucket": "media", "Key": key}, ExpiresIn=3600
        )
    boto_rate = count / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for key in keys:
        presigner.url("GET", "media", key, expires_s=3600)
    our_rate = count / (time.perf_counter() - t0)
    report("presign_boto3_per_s", boto_rate, "urls/s", urls=count)
    report("presign_local_per_s", our_rate, "urls/s", urls=count)
    report("presign_local_over_boto3", our_rate / boto_rate, "ratio", target=">= 5")
    await _allocation(count=100 if tiny else 1_000 if quick else 10_000, database_url=database_url)
    await _listing(count=100 if tiny else 2_000 if quick else 10_000, database_url=database_url)


async def _allocation(*, count: int, database_url: str | None) -> None:
    """Allocating Objects with upload URLs through the streaming RPC (local backend)."""
    engine = "postgresql" if database_url else "sqlite"
    async with (
        server(database_url) as running,
        grpc.aio.insecure_channel(running.grpc_target) as channel,
    ):
        flow = flows_pb2.Flow(
            id=str(uuid.uuid4()), source_id=str(uuid.uuid4()), format="urn:x-nmos:format:data",
            codec="text/plain", container="application/octet-stream",
            data=flows_pb2.DataEssenceParameters(),
        )  # fmt: skip
        await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(
            flows_pb2.CreateFlowRequest(flow=flow)
        )
        stub = storage_pb2_grpc.StorageServiceStub(channel)
        t0 = time.perf_counter()
        got = 0
        call = stub.AllocateStorage(
            storage_pb2.AllocateStorageRequest(flow_id=flow.id, limit=count)
        )
        async for message in call:
            got += len(message.media_objects)
        elapsed = time.perf_counter() - t0
        assert got == count
        report("allocate_urls_per_s", count / elapsed, "urls/s", engine=engine, urls=count)


LISTING_REPEATS = 7
ALLOCATE_LIMIT = 10_000


async def _listing(*, count: int, database_url: str | None) -> None:
    """Stream ``count`` Segments whose Objects are in an S3 bucket (moto's server),
    with presigned get_urls and without, interleaved; medians of the repeats."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    engine = "postgresql" if database_url else "sqlite"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id="k",
            aws_secret_access_key="s",
            config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
        )  # fmt: skip
        s3.create_bucket(
            Bucket="media", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
        )
        storage = f"s3://media?endpoint={endpoint}&region=eu-west-2&access_key=k&secret_key=s"
        async with (
            server_process(database_url, storage=(storage,)) as (target, pid),
            grpc.aio.insecure_channel(target) as channel,
        ):
            flow_id = await video_flow(channel)
            object_ids = await _upload(channel, flow_id, count)
            posts = [
                segments_pb2.SegmentPost(object_id=oid, timerange=f"[{i}:0_{i + 1}:0)")
                for i, oid in enumerate(object_ids)
            ]
            stub = segments_pb2_grpc.SegmentServiceStub(channel)
            response = await stub.RegisterSegments(
                segments_pb2.RegisterSegmentsRequest(flow_id=flow_id, segments=posts)
            )
            assert response.registered_count == count, response.failed_segments[:2]

            cpu: dict[bool, list[float]] = {True: [], False: []}

            async def rate(options: objects_pb2.GetUrlOptions) -> float:
                cpu_before = _cpu_s(pid)
                t = time.perf_counter()
                seen = urls = 0
                call = stub.StreamSegments(
                    segments_pb2.StreamSegmentsRequest(flow_id=flow_id, get_url_options=options)
                )
                async for message in call:
                    seen += len(message.segments)
                    urls += sum(len(s.get_urls) for s in message.segments)
                took = time.perf_counter() - t
                cpu[options.accept_get_urls_set].append((_cpu_s(pid) - cpu_before) / count)
                assert seen == count
                assert urls == (0 if options.accept_get_urls_set else count)
                return count / took

            # The first listing with URLs signs every one; later ones within the
            # minute reuse them (ObjectUrls.download).
            cold = await rate(objects_pb2.GetUrlOptions())
            bare, signed = [], []
            for _ in range(LISTING_REPEATS):
                bare.append(await rate(objects_pb2.GetUrlOptions(accept_get_urls_set=True)))
                signed.append(await rate(objects_pb2.GetUrlOptions()))
    finally:
        moto.stop()
    without, with_urls = statistics.median(bare), statistics.median(signed)
    cpu_without, cpu_with = statistics.median(cpu[True]), statistics.median(cpu[False])
    report("server_cpu_us_per_segment_without_urls", cpu_without * 1e6, "us", engine=engine)
    report("server_cpu_us_per_segment_with_urls", cpu_with * 1e6, "us", engine=engine)
    report("list_segments_without_urls_per_s", without, "segments/s", engine=engine, segments=count)
    report("list_segments_presigned_urls_per_s", with_urls, "segments/s", engine=engine,
           segments=count)  # fmt: skip
    report("list_segments_presigned_urls_cold_per_s", cold, "segments/s", engine=engine,
           segments=count, note="first listing: every URL signed, none reused")  # fmt: skip
    report("list_cold_over_without", cold / without, "ratio", engine=engine)
    report("list_with_urls_over_without", with_urls / without, "ratio", engine=engine,
           target=">= 0.5")  # fmt: skip


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _upload(channel: grpc.aio.Channel, flow_id: str, count: int) -> list[str]:
    """Allocate ``count`` Objects and PUT a few bytes to each, 32 at a time."""
    stub = storage_pb2_grpc.StorageServiceStub(channel)
    allocated = []
    for first in range(0, count, ALLOCATE_LIMIT):  # a call allocates at most so many
        allocated += [
            item
            async for message in stub.AllocateStorage(
                storage_pb2.AllocateStorageRequest(
                    flow_id=flow_id, limit=min(ALLOCATE_LIMIT, count - first)
                )
            )
            for item in message.media_objects
        ]
    limit = asyncio.Semaphore(32)
    # Connections are kept and reused: opening 20,000 toward a threaded moto server
    # timed out under load.
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=32)) as http:

        async def put(url: str) -> None:
            async with limit:
                (await http.put(url, content=b"\x47" * 188)).raise_for_status()

        await asyncio.gather(*(put(item.put_url.url) for item in allocated))
    return [item.object_id for item in allocated]
