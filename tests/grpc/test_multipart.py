"""Multipart uploads, local backend (parts to this server's HTTP side) and S3 (moto's
server): parts PUT with their Content-MD5, completed with the ETags in part order, the
Object then registered and read back through its get_url. Every bad step is refused
and leaves no Object behind."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

import grpc
import httpx
import pytest

from helpers.factories import video_flow
from helpers.servers import QUICK_EXPIRY_S, gone, own_server
from helpers.status import failure
from tams.v1 import (
    flows_pb2,
    flows_pb2_grpc,
    segments_pb2,
    segments_pb2_grpc,
    storage_pb2,
    storage_pb2_grpc,
)
from tams_server.app import RunningServer

StorageStub = storage_pb2_grpc.StorageServiceStub
MIB = 1 << 20


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


class Upload:
    """One multipart upload of a freshly allocated Object, driven step by step."""

    def __init__(self, channel: grpc.aio.Channel, flow_id: str, object_id: str) -> None:
        self.storage = StorageStub(channel)
        self.segments = segments_pb2_grpc.SegmentServiceStub(channel)
        self.flow_id, self.object_id = flow_id, object_id
        self.upload_id = ""

    @classmethod
    async def begin(cls, channel: grpc.aio.Channel) -> Upload:
        flow = video_flow()
        await flows_pb2_grpc.FlowServiceStub(channel).CreateFlow(
            flows_pb2.CreateFlowRequest(flow=flow)
        )
        call = StorageStub(channel).AllocateStorage(
            storage_pb2.AllocateStorageRequest(flow_id=flow.id, limit=1)
        )
        [allocated] = [item async for message in call for item in message.media_objects]
        upload = cls(channel, flow.id, allocated.object_id)
        started = await upload.storage.StartMultipartUpload(
            storage_pb2.StartMultipartUploadRequest(flow_id=flow.id, object_id=upload.object_id)
        )
        assert started.expires.seconds > 0
        upload.upload_id = started.upload_id
        return upload

    async def urls(self, parts: dict[int, bytes]) -> dict[int, storage_pb2.HttpRequest]:
        response = await self.storage.GetMultipartPartUrls(
            storage_pb2.GetMultipartPartUrlsRequest(
                flow_id=self.flow_id, object_id=self.object_id, upload_id=self.upload_id,
                parts=[
                    storage_pb2.PartToUpload(part_number=n, content_md5=md5_of(data))
                    for n, data in parts.items()
                ],
            )
        )  # fmt: skip
        return {p.part_number: p.put_url for p in response.parts}

    async def put(self, parts: dict[int, bytes]) -> dict[int, str]:
        """PUT the parts as the URLs say; their ETags."""
        etags = {}
        async with httpx.AsyncClient() as http:
            for number, request in (await self.urls(parts)).items():
                response = await http.put(
                    request.url, content=parts[number], headers=dict(request.headers)
                )
                assert response.status_code == 200, response.text
                etags[number] = response.headers["etag"]
        return etags

    def complete(self, etags: list[tuple[int, str]]) -> object:
        return self.storage.CompleteMultipartUpload(
            storage_pb2.CompleteMultipartUploadRequest(
                flow_id=self.flow_id, object_id=self.object_id, upload_id=self.upload_id,
                parts=[storage_pb2.CompletedPart(part_number=n, etag=e) for n, e in etags],
            )
        )  # fmt: skip

    async def register(self) -> segments_pb2.RegisterSegmentsResponse:
        return await self.segments.RegisterSegments(
            segments_pb2.RegisterSegmentsRequest(
                flow_id=self.flow_id,
                segments=[
                    segments_pb2.SegmentPost(object_id=self.object_id, timerange="[0:0_1:0)")
                ],
            )
        )

    async def read_back(self) -> bytes:
        listing = await self.segments.ListSegments(
            segments_pb2.ListSegmentsRequest(flow_id=self.flow_id)
        )
        async with httpx.AsyncClient() as http:
            got = await http.get(listing.segments[0].get_urls[0].url)
        got.raise_for_status()
        return got.content


async def round_trip(channel: grpc.aio.Channel, parts: dict[int, bytes]) -> str:
    upload = await Upload.begin(channel)
    etags = await upload.put(parts)
    done = await upload.complete(sorted(etags.items()))
    assert (await upload.register()).registered_count == 1
    assert await upload.read_back() == b"".join(parts[n] for n in sorted(parts))
    return done.etag  # type: ignore[attr-defined, no-any-return]


async def test_local_round_trip(channel: grpc.aio.Channel) -> None:
    parts = {1: uuid.uuid4().bytes * 40_000, 2: uuid.uuid4().bytes * 3, 3: b"tail"}
    etag = await round_trip(channel, parts)
    digests = b"".join(hashlib.md5(parts[n]).digest() for n in (1, 2, 3))
    assert etag == f'"{hashlib.md5(digests).hexdigest()}-3"'  # as S3 computes it


async def test_s3_round_trip(two_backends: RunningServer) -> None:
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        parts = {1: b"a" * (5 * MIB), 2: uuid.uuid4().bytes * 100}
        assert (await round_trip(channel, parts)).endswith('-2"')


async def test_bad_part_uploads_are_refused(channel: grpc.aio.Channel) -> None:
    upload = await Upload.begin(channel)
    data = b"part one"
    [request] = (await upload.urls({1: data})).values()
    other_md5 = md5_of(b"something else")
    async with httpx.AsyncClient() as http:
        no_md5 = await http.put(request.url, content=data)
        assert no_md5.status_code == 400
        # Another Content-MD5 than the URL was made for: the signature fails.
        assert (await http.put(request.url, content=data, headers={"Content-MD5": other_md5})
                ).status_code == 403  # fmt: skip
        # The signed MD5, but other bytes: the body check fails.
        wrong_body = await http.put(request.url, content=b"tampered", headers=dict(request.headers))
        assert wrong_body.status_code == 400
        tampered = request.url.replace("signature=", "signature=0")
        assert (await http.put(tampered, content=data, headers=dict(request.headers))
                ).status_code == 403  # fmt: skip
    # Nothing of those was kept: completing with part 1 finds it never uploaded.
    never = await failure(upload.complete([(1, '"whatever"')]))
    assert never.reason == "MULTIPART_PART_NOT_UPLOADED"
    assert [f.error.reason for f in (await upload.register()).failed_segments] == [
        "OBJECT_NOT_UPLOADED"
    ]


async def test_completion_needs_every_part_in_order_with_its_etag(
    channel: grpc.aio.Channel,
) -> None:
    upload = await Upload.begin(channel)
    parts = {1: b"one" * 100, 2: b"two" * 100, 3: b"three"}
    etags = await upload.put(parts)
    cases = [
        ([(2, etags[2]), (1, etags[1]), (3, etags[3])], grpc.StatusCode.INVALID_ARGUMENT,
         "MULTIPART_PARTS_OUT_OF_ORDER"),
        ([(1, etags[1]), (1, etags[1])], grpc.StatusCode.INVALID_ARGUMENT,
         "MULTIPART_PARTS_OUT_OF_ORDER"),
        ([(1, etags[1]), (3, etags[3])], grpc.StatusCode.FAILED_PRECONDITION,
         "MULTIPART_PART_MISSING"),
        ([(1, etags[1]), (2, etags[1]), (3, etags[3])], grpc.StatusCode.FAILED_PRECONDITION,
         "MULTIPART_ETAG_MISMATCH"),
        ([(1, etags[1]), (2, ""), (3, etags[3])], grpc.StatusCode.INVALID_ARGUMENT,
         "MISSING_FIELD"),
        ([], grpc.StatusCode.INVALID_ARGUMENT, "MISSING_FIELD"),
    ]  # fmt: skip
    for listed, code, reason in cases:
        refused = await failure(upload.complete(listed))
        assert (refused.code, refused.reason) == (code, reason), listed
    # Still open after every refusal, and nothing registered meanwhile.
    assert [f.error.reason for f in (await upload.register()).failed_segments] == [
        "OBJECT_NOT_UPLOADED"
    ]
    await upload.complete(sorted(etags.items()))
    assert (await upload.register()).registered_count == 1
    assert await upload.read_back() == b"".join(parts[n] for n in (1, 2, 3))


async def test_s3_refusals(two_backends: RunningServer) -> None:
    async with grpc.aio.insecure_channel(two_backends.grpc_target) as channel:
        upload = await Upload.begin(channel)
        etags = await upload.put({1: b"small", 2: b"parts"})
        missing = await failure(upload.complete([(2, etags[2])]))
        assert missing.reason == "MULTIPART_PART_MISSING"
        wrong = await failure(upload.complete([(1, etags[2]), (2, etags[2])]))
        assert wrong.reason == "MULTIPART_ETAG_MISMATCH"
        small = await failure(upload.complete(sorted(etags.items())))
        assert (small.code, small.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION, "MULTIPART_PART_TOO_SMALL"
        )  # fmt: skip
        await upload.storage.AbortMultipartUpload(
            storage_pb2.AbortMultipartUploadRequest(
                flow_id=upload.flow_id, object_id=upload.object_id, upload_id=upload.upload_id
            )
        )
        gone = await failure(upload.complete(sorted(etags.items())))
        assert gone.code == grpc.StatusCode.NOT_FOUND


async def test_upload_requests_are_checked(channel: grpc.aio.Channel) -> None:
    upload = await Upload.begin(channel)
    other = await Upload.begin(channel)
    storage = upload.storage

    def part_urls(**fields: object) -> object:
        request = {
            "flow_id": upload.flow_id, "object_id": upload.object_id,
            "upload_id": upload.upload_id,
            "parts": [storage_pb2.PartToUpload(part_number=1, content_md5=md5_of(b"x"))],
        }  # fmt: skip
        request.update(fields)
        return storage.GetMultipartPartUrls(storage_pb2.GetMultipartPartUrlsRequest(**request))  # type: ignore[arg-type]

    unknown = await failure(part_urls(upload_id=uuid.uuid4().hex))
    assert (unknown.code, unknown.reason) == (
        grpc.StatusCode.NOT_FOUND, "MULTIPART_UPLOAD_NOT_FOUND"
    )  # fmt: skip
    theirs = await failure(part_urls(upload_id=other.upload_id))  # another Object's upload
    assert theirs.code == grpc.StatusCode.NOT_FOUND
    bad_md5 = await failure(
        part_urls(parts=[storage_pb2.PartToUpload(part_number=1, content_md5="bm90IG1kNQ==")])
    )
    assert bad_md5.fields == ["parts[0].content_md5"]
    bad_number = await failure(
        part_urls(parts=[storage_pb2.PartToUpload(part_number=0, content_md5=md5_of(b"x"))])
    )
    assert bad_number.fields == ["parts[0].part_number"]
    no_parts = await failure(part_urls(parts=[]))
    assert no_parts.fields == ["parts"]

    not_allocated = await failure(
        storage.StartMultipartUpload(
            storage_pb2.StartMultipartUploadRequest(
                flow_id=other.flow_id, object_id=upload.object_id
            )
        )
    )
    assert (not_allocated.code, not_allocated.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION, "OBJECT_NOT_ALLOCATED"
    )  # fmt: skip

    [request] = (await upload.urls({1: b"late"})).values()
    await storage.AbortMultipartUpload(
        storage_pb2.AbortMultipartUploadRequest(
            flow_id=upload.flow_id, object_id=upload.object_id, upload_id=upload.upload_id
        )
    )
    async with httpx.AsyncClient() as http:
        after = await http.put(request.url, content=b"late", headers=dict(request.headers))
    assert after.status_code == 404
    assert (await failure(upload.complete([(1, '"x"')]))).code == grpc.StatusCode.NOT_FOUND


async def test_abandoned_uploads_are_aborted(tmp_path: Path, database_url: str) -> None:
    async with own_server(
        tmp_path, database_url, object_timeout_s=QUICK_EXPIRY_S, janitor_interval_s=0.1
    ) as stubs:
        upload = await Upload.begin(stubs.channel)
        await upload.put({1: b"abandoned"})
        parts = tmp_path / "multipart" / upload.upload_id
        assert parts.is_dir()
        await gone(parts)
        assert (await failure(upload.complete([(1, '"x"')]))).code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("number", [0, 10_001])
async def test_part_numbers_outside_the_range_are_refused(
    channel: grpc.aio.Channel, number: int
) -> None:
    upload = await Upload.begin(channel)
    refused = await failure(upload.complete([(number, '"x"')]))
    assert refused.fields == ["parts[0].part_number"]
