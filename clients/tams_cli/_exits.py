"""Exit codes of ``tams``, and the message that says what to do for each failure.

===  ==========================================================================
0    done
1    unexpected failure (a bug: please report it with the message)
2    bad usage: unknown option, missing argument, malformed value (click's own)
3    not found: no such Source, Flow or file, or no Segments in the range
4    cannot reach the store: wrong ``--target``/``TAMS_TARGET``, server down
5    not allowed: missing, expired or insufficient credentials (``TAMS_TOKEN``)
6    refused: invalid request, conflict (e.g. --to names an existing Flow), read-only
     Flow, Flows that cannot be joined
7    media error: the file is not media PyAV can read, or holds nothing to ingest
8    incomplete: some Segments did not make it; run the same command again
130  interrupted (Ctrl-C); an ingest resumes when run again
===  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
import httpx

from tams_cli._edit import (
    EditRefusedError,
    IncompatibleFlowsError,
    NothingToEditError,
    TargetExistsError,
)
from tams_cli._export import NothingToExportError
from tams_cli._ingest import IngestIncompleteError
from tams_cli._probe import MediaError
from tams_client import TamsClientError

OK = 0
UNEXPECTED = 1
USAGE = 2
NOT_FOUND = 3
UNREACHABLE = 4
NOT_ALLOWED = 5
REFUSED = 6
MEDIA = 7
INCOMPLETE = 8
INTERRUPTED = 130


@dataclass(frozen=True)
class Failure:
    """An error as the command line reports it: exit code, message and what to do."""

    code: int
    message: str
    hint: str = ""


def failure_of(error: BaseException) -> Failure:
    """How ``error`` is reported."""
    if isinstance(error, TamsClientError):
        return _client_failure(error)
    if isinstance(error, MediaError):
        return Failure(MEDIA, str(error), "check the file plays (e.g. with ffprobe or VLC)")
    if isinstance(error, IngestIncompleteError):
        return Failure(INCOMPLETE, str(error))
    if isinstance(error, NothingToEditError):
        return Failure(NOT_FOUND, str(error), "check the range (`tams flows get FLOW`)")
    if isinstance(error, TargetExistsError):
        return Failure(REFUSED, str(error), "leave --to out for a new id, or pick another")
    if isinstance(error, IncompatibleFlowsError | EditRefusedError):
        return Failure(REFUSED, str(error))
    if isinstance(error, NothingToExportError):
        return Failure(NOT_FOUND, str(error), "check the timerange (`tams flows get FLOW`)")
    if isinstance(error, FileNotFoundError):
        return Failure(NOT_FOUND, str(error), "check the path")
    if isinstance(error, httpx.HTTPError):
        return Failure(
            UNREACHABLE,
            f"object transfer failed: {error}",
            "check the store's object URLs are reachable from here (TAMS_HTTP_URL)",
        )
    if isinstance(error, KeyboardInterrupt):
        return Failure(INTERRUPTED, "interrupted", "run the same command again to resume")
    return Failure(UNEXPECTED, f"{type(error).__name__}: {error}", "this is a bug: please report")


def _client_failure(error: TamsClientError) -> Failure:
    code = error.code
    detail = f"{error.message} ({error.reason})" if error.reason else error.message
    if code == grpc.StatusCode.NOT_FOUND:
        return Failure(NOT_FOUND, detail, "check the id (`tams flows ls`, `tams sources ls`)")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Failure(
            UNREACHABLE,
            f"cannot reach the store: {detail}",
            "check --target / TAMS_TARGET (HOST:PORT of the gRPC API) and that it runs",
        )
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return Failure(
            NOT_ALLOWED,
            f"not allowed: {detail}",
            "give a token with --token or TAMS_TOKEN that has the needed scope",
        )
    if code in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.ABORTED,
    ):
        violations = "; ".join(f"{field}: {why}" for field, why in error.field_violations)
        return Failure(REFUSED, f"refused: {detail}" + (f" [{violations}]" if violations else ""))
    return Failure(UNEXPECTED, f"{code.name}: {detail}", "retry; report it if it persists")
