"""Regenerate the Python stubs in generated/ from protos/ (the one generation command).

Run from anywhere: ``python scripts/gen_protos.py``. The output is committed; CI runs
this and fails when the tree changes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "generated"
PACKAGE_DIRS = [OUT / "tams", OUT / "tams" / "v1"]


def main() -> int:
    shutil.rmtree(OUT / "tams", ignore_errors=True)
    OUT.mkdir(exist_ok=True)
    sources = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "tams" / "v1").glob("*.proto"))
    well_known = Path(protoc.__file__).parent / "_proto"
    # protoc finds its mypy plugins on PATH: put this interpreter's scripts folder (the
    # venv's bin/) first, so the command works without an activated venv.
    scripts = str(Path(sys.executable).parent)
    os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"-I{well_known}",
            f"--python_out={OUT}",
            f"--grpc_python_out={OUT}",
            f"--mypy_out={OUT}",
            f"--mypy_grpc_out={OUT}",
            *sources,
        ]
    )
    if code != 0:
        print(f"protoc failed with exit code {code}", file=sys.stderr)
        return code
    for package in PACKAGE_DIRS:
        (package / "__init__.py").write_text("")
        (package / "py.typed").write_text("")
    print(f"generated stubs for {len(sources)} proto files in {OUT.relative_to(ROOT)}/tams")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
