"""The error of a configuration the server cannot start with."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting (or a file it names) that keeps the server from starting. The message
    names the flag and the file, never a file's contents; the CLI prints it and exits."""
