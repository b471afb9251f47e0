"""The ingest journal: a small JSON file that lets an interrupted ingest continue. It
holds what must not change between attempts (the file's identity, the target, the
options, the start time on the TAMS timeline, the ids of the Source and Flows, and of
each Flow's init Object once uploaded) and whether the ingest finished. Which Segments
are in is asked of the server itself, so a Segment registered just before a crash is
neither lost nor registered twice."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1


@dataclass(frozen=True)
class FileIdentity:
    """What tells one file from another, or from itself changed."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        stat = path.stat()
        return cls(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class Entry:
    """One ingest's journal."""

    file: FileIdentity
    target: str
    segment_duration: str
    start_ns: int
    source_id: str
    multi_flow_id: str
    flows: dict[str, list[str]]  # stream index -> [flow id, source id, format]
    flows_created: bool = False
    complete: bool = False
    container: str = "ts"
    init_objects: dict[str, str] = field(default_factory=dict)  # flow id -> init Object id

    def matches(
        self, file: FileIdentity, target: str, segment_duration: str, container: str
    ) -> bool:
        """Whether this journal is of the same file, store and splitting."""
        return (file, target, segment_duration, container) == (
            self.file,
            self.target,
            self.segment_duration,
            self.container,
        )


def journal_path(media: Path, folder: Path | None) -> Path:
    """Where the journal of ``media`` lives: beside it, or in ``folder`` under a name
    made from its full path."""
    if folder is None:
        return media.with_name(media.name + ".tams-journal.json")
    digest = hashlib.sha256(str(media.resolve()).encode()).hexdigest()[:16]
    return folder / f"{media.name}.{digest}.tams-journal.json"


def load(path: Path) -> Entry | None:
    """The journal at ``path``; None when there is none (or it cannot be read: a
    journal torn by a crash is as good as none, since it is written atomically)."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        if raw.pop("version", None) != VERSION:
            return None
        raw["file"] = FileIdentity(**raw["file"])
        return Entry(**raw)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(path: Path, entry: Entry) -> None:
    """Write the journal atomically (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"version": VERSION, **asdict(entry)}, indent=1))
    os.replace(temporary, path)
