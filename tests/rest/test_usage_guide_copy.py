"""The vendored usage guide (``guide/tams-api-7.0-usage-guide.md``) is the guide, byte
for byte: its examples are what the guide tests run, so a reformatted copy (an editor
or ``ruff format`` rewriting its Python blocks) would test another text."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

VENDORED = Path(__file__).with_name("guide") / "tams-api-7.0-usage-guide.md"
# The guide as published to this project (its mis-decoded emoji included).
SHA256 = "cd31cb513acc3211605cac3bbfd4233edb0a17c51def1a2151db643bab22c434"
# The shared copy beside a checkout on the development machine (absent from CI's clone).
SHARED = Path(__file__).parents[3] / "shared" / "usage-guide" / VENDORED.name


def test_the_vendored_guide_is_the_recorded_text() -> None:
    assert hashlib.sha256(VENDORED.read_bytes()).hexdigest() == SHA256


@pytest.mark.skipif(not SHARED.exists(), reason="no shared guide beside this checkout")
def test_the_vendored_guide_is_the_shared_one() -> None:
    assert VENDORED.read_bytes() == SHARED.read_bytes()
