"""Locally computed S3 presigned URLs: equal to botocore's for the same instant, and
accepted by a real S3-compatible endpoint (moto's server over HTTP)."""

from __future__ import annotations

import hashlib
import uuid
from base64 import b64encode
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config as BotoConfig

from tams_server.objects.s3_presign import Credentials, S3Presigner

REGION = "eu-west-2"
CREDENTIALS = Credentials("AKIDEXAMPLE", "secret/key+with=chars")


def boto_client(endpoint: str, credentials: Credentials = CREDENTIALS) -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.session_token,
        config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.mark.parametrize(
    "key", ["flow/2024/12/20/obj-1", "with space/plus+tilde~", "ünïcödé/ключ", "a//b"]
)
@pytest.mark.parametrize("method", ["get_object", "put_object"])
@pytest.mark.parametrize("token", [None, "session/token=="])
def test_equal_to_botocore(key: str, method: str, token: str | None) -> None:
    credentials = Credentials(CREDENTIALS.access_key, CREDENTIALS.secret_key, token)
    client = boto_client("http://127.0.0.1:9000", credentials)
    theirs = client.generate_presigned_url(  # type: ignore[attr-defined]
        method, Params={"Bucket": "media", "Key": key}, ExpiresIn=900
    )
    stamp = parse_qs(urlsplit(theirs).query)["X-Amz-Date"][0]
    now = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    presigner = S3Presigner("http://127.0.0.1:9000", REGION, credentials)
    verb = "GET" if method == "get_object" else "PUT"
    assert presigner.url(verb, "media", key, expires_s=900, now=now) == theirs


def test_urls_work_against_an_s3_endpoint(s3_endpoint: str) -> None:
    """Bytes go in and come back through the URLs. (moto's server does not verify
    query signatures, so their correctness rests on test_equal_to_botocore.)"""
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    boto_client(s3_endpoint).create_bucket(  # type: ignore[attr-defined]
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    presigner = S3Presigner(s3_endpoint, REGION, CREDENTIALS)
    key = "flow/2024/12/20/ünï code+obj"
    body = uuid.uuid4().bytes * 1000
    md5 = b64encode(hashlib.md5(body).digest()).decode()
    put = presigner.url("PUT", bucket, key, expires_s=600, signed_headers={"content-md5": md5})
    with httpx.Client() as http:
        assert http.put(put, content=body, headers={"Content-MD5": md5}).status_code == 200
        got = http.get(presigner.url("GET", bucket, key, expires_s=600))
        assert got.status_code == 200
        assert got.content == body


def test_signing_key_is_made_once_a_day() -> None:
    presigner = S3Presigner("https://s3.example", REGION, CREDENTIALS)
    day = datetime(2026, 11, 23, 10, tzinfo=UTC)
    first = presigner.url("GET", "b", "k", expires_s=60, now=day)
    assert presigner.url("GET", "b", "k", expires_s=60, now=day) == first
    assert presigner.url("GET", "b", "k", expires_s=60, now=day.replace(day=24)) != first


@pytest.mark.parametrize("token", [None, "session/token=="])
def test_part_urls_equal_to_botocore(token: str | None) -> None:
    """UploadPart: the operation's own parameters first, Content-MD5 signed."""
    credentials = Credentials(CREDENTIALS.access_key, CREDENTIALS.secret_key, token)
    client = boto_client("http://127.0.0.1:9000", credentials)
    md5 = b64encode(hashlib.md5(b"part").digest()).decode()
    params = {
        "Bucket": "media", "Key": "flow/2026/11/24/obj", "UploadId": "up/id+1",
        "PartNumber": 7, "ContentMD5": md5,
    }  # fmt: skip
    theirs = client.generate_presigned_url("upload_part", Params=params, ExpiresIn=900)  # type: ignore[attr-defined]
    stamp = parse_qs(urlsplit(theirs).query)["X-Amz-Date"][0]
    now = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = S3Presigner("http://127.0.0.1:9000", REGION, credentials).url(
        "PUT", "media", "flow/2026/11/24/obj", expires_s=900, now=now,
        signed_headers={"content-md5": md5},
        extra_query={"uploadId": "up/id+1", "partNumber": "7"},
    )  # fmt: skip
    assert ours == theirs
