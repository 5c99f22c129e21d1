"""Request and response bodies of the plugin API; the OpenAPI document is derived from these.

Positions are what a JavaScript editor counts: 0-based lines and UTF-16 code units.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_Model):
    line: int = Field(description="0-based line")
    character: int = Field(description="0-based offset in the line, in UTF-16 code units")


class Range(_Model):
    start: Position
    end: Position = Field(description="just after the last character (half-open)")


class TextEdit(_Model):
    range: Range
    new_text: str


class FixInfo(_Model):
    applicability: Literal["safe", "unsafe", "none"]
    edits: list[TextEdit]


class DiagnosticOut(_Model):
    path: str = Field(description="vault-relative, '/'-separated")
    range: Range
    code: str
    rule: str
    severity: Literal["info", "warning", "error"]
    message: str
    data: dict[str, Any]
    fix: FixInfo | None


class Status(_Model):
    version: int = API_VERSION
    vaultsync: str
    vault: str
    pid: int
    port: int
    notes: int
    attachments: int
    pending: int = Field(description="changed paths waiting for their quiet period")
    generation: int = Field(description="increases with every change the daemon takes in")


class DiagnosticsOut(_Model):
    diagnostics: list[DiagnosticOut]


class LinkOut(_Model):
    range: Range
    kind: Literal["wikilink", "embed", "markdown", "property"]
    target: str
    subpath: str | None
    display: str | None
    resolved: str | None
    generated: bool = Field(description="the link sits inside a vaultsync section")


class LinksOut(_Model):
    path: str
    links: list[LinkOut]


class Backlink(_Model):
    source: str
    range: Range
    generated: bool


class BacklinksOut(_Model):
    path: str
    backlinks: list[Backlink]


class FixRequest(_Model):
    paths: list[str] = Field(default_factory=list, description="notes to fix; empty: all")
    select: list[str] = Field(
        default_factory=list, description="rule codes, prefixes or names; empty: the config's"
    )
    dry_run: bool = False


class FileFix(_Model):
    path: str
    fixed: dict[str, int] = Field(description="problems fixed, per rule code")
    diff: str = Field(description="unified diff of the change")


class FixOut(_Model):
    dry_run: bool
    changed: list[FileFix]
    skipped: dict[str, str] = Field(description="path -> why it was not written")
    remaining: int = Field(description="selected problems left in those notes")


class RescanOut(_Model):
    notes: int
    attachments: int
    changed: int


class ErrorOut(_Model):
    detail: str
