"""The reasons of the domain and of the protos are one catalogue: neither drifts."""

from __future__ import annotations

from tams.v1 import common_pb2
from tams_client import TamsClientError
from tams_server.domain.errors import Reason

PREFIX = "ERROR_REASON_"


def test_the_proto_enum_holds_exactly_the_domain_reasons() -> None:
    proto = {name.removeprefix(PREFIX) for name in common_pb2.ErrorReason.DESCRIPTOR.values_by_name}
    assert proto - {"UNSPECIFIED"} == {reason.name for reason in Reason}


def test_every_reason_is_sent_as_its_own_name() -> None:
    assert [reason.value for reason in Reason] == [reason.name for reason in Reason]


def test_client_errors_name_their_reason_as_the_proto_enum() -> None:
    assert TamsClientError("", reason="FLOW_READ_ONLY").error_reason == (
        common_pb2.ERROR_REASON_FLOW_READ_ONLY
    )
    for unknown in ("", "A_REASON_OF_A_NEWER_SERVER"):
        assert TamsClientError("", reason=unknown).error_reason == (
            common_pb2.ERROR_REASON_UNSPECIFIED
        )
