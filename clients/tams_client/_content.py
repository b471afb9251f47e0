"""The bytes of an Object as uploads read them: ``bytes``, a file (by path), or an
iterable of chunks, sync or async.

A PUT must carry its Content-MD5 before its body, so whole-Object PUTs hash first:
files are hashed, then streamed from disk; chunk iterables (readable once) are hashed
while they are spooled (in memory, on disk past a few MiB), then sent from the spool,
which a retry can read again. Multipart uploads read the content once, a part at a
time (``read_parts``), and hash each part in memory.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import tempfile
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

Content = bytes | str | os.PathLike[str] | Iterable[bytes] | AsyncIterable[bytes]
"""An Object's bytes: ``bytes``, the path of a file (read as it is sent), or an
iterable (sync or async) of byte chunks (read once)."""

MIB = 1 << 20
CHUNK = MIB
SPOOL_IN_MEMORY = 8 * MIB
_HASH_IN_THREAD = 256 * 1024  # hashlib releases the GIL on large buffers


@dataclass(frozen=True)
class Payload:
    """Bytes ready to PUT: their size, base64 MD5, and a fresh body per attempt."""

    size: int
    md5: str
    body: Callable[[], bytes | AsyncIterator[bytes]]


async def md5_base64(data: bytes) -> str:
    """Base64 MD5 (RFC 1864, the Content-MD5 header) of ``data``."""
    if len(data) < _HASH_IN_THREAD:
        return _b64(hashlib.md5(data).digest())
    return _b64((await asyncio.to_thread(hashlib.md5, data)).digest())


async def bytes_payload(data: bytes) -> Payload:
    """``data`` as a Payload."""
    return Payload(len(data), await md5_base64(data), lambda: data)


@asynccontextmanager
async def payload(content: Content) -> AsyncIterator[Payload]:
    """``content`` ready to PUT as one request; a spool, if one was needed, is
    removed on exit."""
    if isinstance(content, bytes):
        yield await bytes_payload(content)
    elif isinstance(content, str | os.PathLike):
        path = Path(content)
        size, md5 = await asyncio.to_thread(_hash_file, path)
        yield Payload(size, md5, lambda: _path_chunks(path))
    else:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            size, md5 = await _spool(content, spool)
            yield Payload(size, md5, lambda: _file_chunks(spool))


async def read_parts(content: Content, part_size: int) -> AsyncGenerator[bytes, None]:
    """Consecutive parts of ``part_size`` bytes (the last may be shorter); nothing for
    empty content. Holds at most one part and one chunk besides those yielded."""
    if isinstance(content, bytes):
        for start in range(0, len(content), part_size):
            yield content[start : start + part_size]
    elif isinstance(content, str | os.PathLike):
        f = await asyncio.to_thread(Path(content).open, "rb")
        try:
            while part := await asyncio.to_thread(f.read, part_size):
                yield part
        finally:
            await asyncio.to_thread(f.close)
    else:
        buffer = bytearray()
        async for chunk in iterate(content):
            buffer += chunk
            while len(buffer) >= part_size:
                yield bytes(buffer[:part_size])
                del buffer[:part_size]
        if buffer:
            yield bytes(buffer)


async def iterate(chunks: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The chunks; a sync iterable is advanced in a thread, as it may block (a pipe,
    a socket)."""
    if isinstance(chunks, AsyncIterable):
        async for chunk in chunks:
            yield chunk
        return
    it = iter(chunks)
    while (got := await asyncio.to_thread(_next, it)) is not None:
        yield got


def _next(it: Iterator[bytes]) -> bytes | None:
    return next(it, None)


async def _spool(
    chunks: Iterable[bytes] | AsyncIterable[bytes], spool: IO[bytes]
) -> tuple[int, str]:
    """Copy the chunks into ``spool``, hashing them on the way; (size, base64 MD5)."""
    digest = hashlib.md5()
    size = 0
    async for chunk in iterate(chunks):
        digest.update(chunk)
        await asyncio.to_thread(spool.write, chunk)
        size += len(chunk)
    return size, _b64(digest.digest())


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.md5()
    size = 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return size, _b64(digest.digest())


async def _path_chunks(path: Path) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(path.open, "rb")
    try:
        async for chunk in _file_chunks(f):
            yield chunk
    finally:
        await asyncio.to_thread(f.close)


async def _file_chunks(f: IO[bytes]) -> AsyncIterator[bytes]:
    """``f`` from its start, a chunk at a time (reads in a thread)."""
    await asyncio.to_thread(f.seek, 0)
    while chunk := await asyncio.to_thread(f.read, CHUNK):
        yield chunk


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
