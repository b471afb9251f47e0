"""The local store's batch look for files (``LocalObjectStore.sizes``, what registration
asks of the local backend): each folder resolved once, yet the same answers as
``path_of`` and a stat per key, symlinks and unsafe keys included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tams_server.objects.local import LocalObjectStore, UnsafeKey


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    (tmp_path / "objects").mkdir()
    return LocalObjectStore(tmp_path / "objects", "http://127.0.0.1:1", b"secret")


def put(store: LocalObjectStore, key: str, size: int) -> Path:
    path = store.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_files_in_several_folders_missing_ones_and_folders(store: LocalObjectStore) -> None:
    put(store, "f1/2026/12/03/a", 3)
    put(store, "f1/2026/12/03/b", 5)
    put(store, "f2/2026/12/04/c", 7)
    put(store, "top", 1)
    keys = [
        "f1/2026/12/03/a", "f1/2026/12/03/missing", "f2/2026/12/04/c", "f1/2026/12/03/b",
        "f1/2026/12/03", "nowhere/x", "top",
    ]  # fmt: skip
    assert store.sizes(keys) == [3, None, 7, 5, None, None, 1]
    assert store.sizes([]) == []


def test_a_symlink_inside_the_store_counts_as_its_target(store: LocalObjectStore) -> None:
    put(store, "f/2026/12/03/real", 11)
    (store.root / "f/2026/12/03/link").symlink_to(store.root / "f/2026/12/03/real")
    (store.root / "f/2026/12/03/dangling").symlink_to(store.root / "f/none")
    assert store.sizes(["f/2026/12/03/link", "f/2026/12/03/dangling"]) == [11, None]


def test_nothing_outside_the_store_is_looked_at(store: LocalObjectStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s" * 9)
    put(store, "f/ok", 2)
    (store.root / "f/file-link").symlink_to(outside / "secret")
    (store.root / "folder-link").symlink_to(outside)
    for key in ("f/file-link", "folder-link/secret"):
        with pytest.raises(UnsafeKey):
            store.path_of(key)
        with pytest.raises(UnsafeKey):
            store.sizes(["f/ok", key])


@pytest.mark.parametrize("key", ["f/../x", "/abs", "f//x", "f/./x", "f\\x", "", "f/"])
def test_unsafe_keys_are_refused(store: LocalObjectStore, key: str) -> None:
    with pytest.raises(UnsafeKey):
        store.sizes([key])
