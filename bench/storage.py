"""Presigning URLs: our local SigV4 presigner against boto3's generate_presigned_url,
in the same run (the storage issue asks for at least 5x)."""

from __future__ import annotations

import time
import uuid

import boto3
import grpc
from botocore.config import Config as BotoConfig

from bench._common import report, server
from tams.v1 import flows_pb2, flows_pb2_grpc, storage_pb2, storage_pb2_grpc
from tams_server.objects.s3_presign import Credentials, S3Presigner

ENDPOINT = "http://127.0.0.1:9000"


async def run(*, quick: bool, database_url: str | None) -> None:
    count = 2_000 if quick else 20_000
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
    await _allocation(count=1_000 if quick else 10_000, database_url=database_url)


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
