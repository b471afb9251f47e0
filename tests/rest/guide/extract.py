"""The examples of the TAMS API 7.0 usage guide, read from its text: each ``METHOD
/path`` (or ``curl``) block with the request body and the expected answer (status and
JSON) that follow it, and its Python client blocks. A changed guide changes them."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).with_name("tams-api-7.0-usage-guide.md")
_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|DELETE|HEAD)\s+(/\S*(?: [^/\s]\S*)*)\s*$")
_STATUS = re.compile(r"\*\*(?:Expected )?Response(?: \((\d{3})[^)]*\))?:?\*\*:?\s*(\d{3})?")


@dataclass
class Example:
    """One documented request and what the guide says it answers."""

    section: str
    title: str
    method: str
    path: str
    body: Any = None
    status: int | None = None
    expected: Any = None
    curl: bool = False


@dataclass
class PythonExample:
    section: str
    code: str


def examples(text: str | None = None) -> tuple[list[Example], list[PythonExample]]:
    text = GUIDE.read_text(encoding="utf-8") if text is None else text
    found: list[Example] = []
    python: list[PythonExample] = []
    section = title = ""
    position = 0
    current: Example | None = None
    for match in _BLOCK.finditer(text):
        prose = text[position : match.start()]
        position = match.end()
        for line in prose.splitlines():
            if line.startswith("## "):
                section = line[3:].strip()
            elif line.startswith("#### ") or line.startswith("### "):
                title = line.lstrip("#").strip()
        status = None
        for status_match in _STATUS.finditer(prose):
            status = int(status_match[1] or status_match[2] or 0) or None
        if current is not None and status is not None and current.status is None:
            current.status = status
        language, code = match[1], match[2]
        if language == "bash":
            line = code.strip()
            request = _REQUEST_LINE.match(line)
            if request is not None:
                current = Example(section, title, request[1], request[2])
                found.append(current)
            elif line.lstrip("# \n").startswith("1.") or "curl -X" in code:
                for command in _curl_commands(code):
                    found.append(command)
                    command.section, command.title = section, title
                current = None
        elif language == "json" and current is not None:
            body = json.loads(code)
            if (
                "Request Body" in prose.split("```")[-1]
                and current.body is None
                and (current.expected is None)
            ):
                current.body = body
            elif current.status is not None and current.expected is None:
                current.expected = body
        elif language == "python":
            python.append(PythonExample(section, code))
    return found, python


def _curl_commands(code: str) -> list[Example]:
    lines = [line for line in code.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    commands = []
    for part in re.split(r"(?m)^\s*(?=curl )", joined):
        if not part.startswith("curl "):
            continue
        words = shlex.split(part)
        method, url, body = "GET", "", None
        for i, word in enumerate(words):
            if word == "-X":
                method = words[i + 1]
            elif word == "-d":
                body = json.loads(words[i + 1])
            elif word.startswith("http"):
                url = word
        if not url.startswith("http://localhost:8000"):
            continue  # an upload to the storage backend's URL, not this API
        path = url.removeprefix("http://localhost:8000")
        commands.append(Example("", "", method, path, body, curl=True))
    return commands
