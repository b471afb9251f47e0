"""Hypothesis runs without per-example deadlines: on a shared 2-core machine a slow
example says nothing about the code under test, and would make the suite flaky."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("tams", deadline=None)
settings.load_profile("tams")
