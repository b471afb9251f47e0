"""Storage backends come from configuration and are listed with the spec's fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from helpers.servers import own_server
from helpers.status import failure
from tams.v1 import common_pb2, storage_pb2, storage_pb2_grpc
from tams_server.config.storage import parse_storage
from tams_server.domain.errors import InvalidArgument


async def test_default_is_one_local_backend(channel: grpc.aio.Channel) -> None:
    stub = storage_pb2_grpc.StorageServiceStub(channel)
    response = await stub.ListStorageBackends(storage_pb2.ListStorageBackendsRequest())
    (backend,) = response.storage_backends
    assert backend.store_type == "http_object_store"
    assert backend.store_product == "local-files"
    assert backend.default_storage
    assert backend.label == "local"


@pytest.fixture
async def stub(
    tmp_path: Path, database_url: str
) -> AsyncIterator[storage_pb2_grpc.StorageServiceStub]:
    backends = (
        "local:?label=archive",
        "s3://media?endpoint=http://127.0.0.1:9000&region=eu-west-2&label=cloud&default=true",
        "s3://proxies?region=us-east-1&label=proxies",
    )
    async with own_server(tmp_path, database_url, run_workers=False, storage=backends) as stubs:
        yield stubs.storage


async def test_configured_backends_page_by_label(stub: storage_pb2_grpc.StorageServiceStub) -> None:
    first = await stub.ListStorageBackends(storage_pb2.ListStorageBackendsRequest(page_size=2))
    assert [b.label for b in first.storage_backends] == ["archive", "cloud"]
    rest = await stub.ListStorageBackends(
        storage_pb2.ListStorageBackendsRequest(page_size=2, page_token=first.next_page_token)
    )
    assert [b.label for b in rest.storage_backends] == ["proxies"]
    assert rest.next_page_token == ""
    cloud = first.storage_backends[1]
    assert (cloud.default_storage, cloud.region, cloud.store_product) == (True, "eu-west-2", "s3")
    assert not first.storage_backends[0].default_storage
    backwards = await stub.ListStorageBackends(
        storage_pb2.ListStorageBackendsRequest(reverse_order=True)
    )
    assert [b.label for b in backwards.storage_backends] == ["proxies", "cloud", "archive"]
    none = await stub.ListStorageBackends(
        storage_pb2.ListStorageBackendsRequest(tags=[common_pb2.TagFilter(name="x", exists=True)])
    )
    assert list(none.storage_backends) == []
    result = await failure(
        stub.ListStorageBackends(storage_pb2.ListStorageBackendsRequest(page_token="nope"))
    )
    assert result.reason == "INVALID_PAGE_TOKEN"


def test_backend_ids_are_stable_and_configuration_is_checked() -> None:
    assert (
        parse_storage(("local:",)).backends[0].id
        == parse_storage(("local:?label=x",)).backends[0].id
    )
    with pytest.raises(InvalidArgument):
        parse_storage(("ftp://nope",))
    with pytest.raises(InvalidArgument):
        parse_storage(("local:?default=true", "s3://b?default=true"))
    with pytest.raises(InvalidArgument):
        parse_storage(("local:", "local:?label=again"))
