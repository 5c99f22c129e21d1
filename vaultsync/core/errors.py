"""Errors shown to the user as one line, with exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad arguments, config or schema: one line naming the file and key."""


class ConfigError(UsageError):
    """A config problem, rendered as one line naming the file and key."""


class ReportWriteError(Exception):
    """stdout took no more of the report (a full disk, a quota): one line, exit 2."""


class NotWarm(Exception):
    """The caches cannot answer for the vault as it is now (a check asked to be answered
    from them alone, or a cache row read on demand that went bad): the vault has to be
    loaded and checked the plain way. Nothing was written."""
