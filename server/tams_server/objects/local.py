"""The local object store: files under ``<data-dir>/objects``, reached through
HMAC-signed, expiring URLs that this server's HTTP side serves (shaped like S3
presigned URLs: the signature covers method, key and expiry).

Keys are relative paths such as ``{flow_id}/{yyyy}/{mm}/{dd}/{object_id}``; anything
that could leave the objects folder (``..``, absolute paths, empty parts) is refused
before the filesystem is touched.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

URL_PREFIX = "/_objects/"
PART_PREFIX = "/_multipart/"


class UnsafeKey(ValueError):
    """A key that is not a plain relative path inside the store."""


class LocalObjectStore:
    """Signs URLs for, and locates, the files of the local backend."""

    def __init__(self, root: Path, base_url: str, secret: bytes) -> None:
        self.root = root.resolve()
        self._base_url = base_url.rstrip("/")
        self._secret = secret

    def url(self, method: str, key: str, *, expires_s: int, now: float | None = None) -> str:
        """A URL that lets its holder ``method`` (GET, PUT) ``key`` until it expires."""
        _parts(key)  # refuse unsafe keys here already (without touching the disk)
        expires = int((now or time.time()) + expires_s)
        signature = self._sign(method, key, expires)
        return f"{self._base_url}{URL_PREFIX}{quote(key)}?expires={expires}&signature={signature}"

    def verify(self, method: str, key: str, query: Mapping[str, str]) -> str | None:
        """Why a request to a URL made by ``url`` (``query``: its query parameters) may
        not go ahead, or None when its signature is good and live."""
        return self._verify(query, method, key, "", "bad signature")

    def path_of(self, key: str) -> Path:
        """The file of ``key``; UnsafeKey if it could leave the store."""
        path = (self.root / Path(*_parts(key))).resolve()
        if not path.is_relative_to(self.root):
            raise UnsafeKey(key)
        return path

    def sizes(self, keys: Sequence[str]) -> list[int | None]:
        """The size of each key's regular file, None where there is none; blocking (a
        worker thread's job). Same answers as ``path_of`` and a stat per key, cheaper:
        each folder is resolved once, not every file's whole path (the keys of a batch
        share a few folders); a file that is a symlink takes the full check."""
        folders: dict[str, str] = {}
        found: list[int | None] = []
        for key in keys:
            folder_key, _, name = key.rpartition("/")
            _parts(key)
            folder = folders.get(folder_key)
            if folder is None:
                folder = str(self.path_of(folder_key) if folder_key else self.root)
                folders[folder_key] = folder
            try:
                # A string, not a Path: joining Paths cost more than the stat itself.
                info = os.lstat(f"{folder}/{name}")
            except OSError:
                found.append(None)
                continue
            if stat.S_ISLNK(info.st_mode):
                found.append(_file_size(self.path_of(key)))
            else:
                found.append(info.st_size if stat.S_ISREG(info.st_mode) else None)
        return found

    def part_url(
        self, upload_id: str, part_number: int, content_md5: str, *, expires_s: int
    ) -> str:
        """A URL to PUT one part of a multipart upload; the signature covers the
        part's Content-MD5, so only a PUT carrying exactly that header is accepted."""
        expires = int(time.time() + expires_s)
        name = _part_name(upload_id, part_number)
        signature = self._sign("PUT", name, expires, content_md5)
        return f"{self._base_url}{PART_PREFIX}{name}?expires={expires}&signature={signature}"

    def verify_part(
        self, upload_id: str, part_number: int, content_md5: str, query: Mapping[str, str]
    ) -> str | None:
        """Why a part upload may not go ahead, or None (see ``verify``)."""
        return self._verify(
            query, "PUT", _part_name(upload_id, part_number), content_md5,
            "bad signature (or a Content-MD5 other than the one the URL was made for)",
        )  # fmt: skip

    def _verify(
        self, query: Mapping[str, str], method: str, key: str, content_md5: str, mismatch: str
    ) -> str | None:
        """The check of ``verify``; ``mismatch`` says why a wrong signature is wrong."""
        try:
            deadline = int(query.get("expires", ""))
        except ValueError:
            return "malformed expiry"
        expected = self._sign(method, key, deadline, content_md5)
        if not hmac.compare_digest(expected, query.get("signature", "")):
            return mismatch
        if deadline < time.time():
            return "expired"
        return None

    def _sign(self, method: str, key: str, expires: int, content_md5: str = "") -> str:
        message = f"{method.upper()}\n{key}\n{expires}"
        if content_md5:
            message += f"\n{content_md5}"
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()


def _parts(key: str) -> list[str]:
    """The path segments of a key; UnsafeKey for one that is not a plain relative path.
    Split by hand: a path parser would read "a//b" as "a/b", and two keys must never
    name one file."""
    parts = key.split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts):
        raise UnsafeKey(key)
    return parts


def _file_size(path: Path) -> int | None:
    """The size of the regular file at ``path`` (symlinks followed), or None."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _part_name(upload_id: str, part_number: int) -> str:
    return f"{upload_id}/{part_number}"
