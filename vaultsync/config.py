"""`.vaultsync.toml` (§7): discovered upward from the checked path, validated with pydantic."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vaultsync.errors import UsageError

CONFIG_NAME = ".vaultsync.toml"
SeverityName = Literal["info", "warning", "error"]


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True
    )


class LinksConfig(_Section):
    canonical: dict[str, str] = Field(default_factory=dict)
    keep_display: bool = False


class BacklinksConfig(_Section):
    enabled: bool = True
    heading: str = "## Backlinks"
    exclude: list[str] = Field(default_factory=list)


class IndexConfig(_Section):
    enabled: bool = True


class StubsConfig(_Section):
    folder: str = ""


class SchemasConfig(_Section):
    dir: str = ".vaultsync/schemas"


class WatchConfig(_Section):
    debounce_ms: int = Field(default=300, ge=0, le=60_000)
    fix: list[str] = Field(default_factory=lambda: ["S"])
    follow_renames: bool = True


class ApiConfig(_Section):
    port: int = Field(default=0, ge=0, le=65535)
    allowed_origins: list[str] = Field(default_factory=lambda: ["app://obsidian.md"])


class Config(_Section):
    exclude: list[str] = Field(default_factory=list)
    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    fail_on: SeverityName = "warning"
    severity: dict[str, SeverityName] = Field(default_factory=dict)
    all_files: bool = False
    max_file_size: int = Field(default=10 * 1024 * 1024, gt=0)
    cache: bool = True
    links: LinksConfig = Field(default_factory=LinksConfig)
    backlinks: BacklinksConfig = Field(default_factory=BacklinksConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    stubs: StubsConfig = Field(default_factory=StubsConfig)
    schemas: SchemasConfig = Field(default_factory=SchemasConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)

    @field_validator("select", "ignore")
    @classmethod
    def _selectors_known(cls, value: list[str]) -> list[str]:
        from vaultsync.rules import validate_selector

        for selector in value:
            validate_selector(selector)
        return value

    @field_validator("severity")
    @classmethod
    def _severity_known(cls, value: dict[str, str]) -> dict[str, str]:
        from vaultsync.rules import validate_selector

        for selector in value:
            validate_selector(selector)
        return value


class ConfigError(UsageError):
    """A config problem, rendered as one line naming the file and key."""


def find_root(start: Path) -> Path:
    """Nearest folder upward holding `.vaultsync.toml` or `.obsidian/`; else `start`."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_NAME).is_file() or (candidate / ".obsidian").is_dir():
            return candidate
    return folder


def load_config(root: Path, explicit: Path | None = None) -> Config:
    path = explicit if explicit is not None else root / CONFIG_NAME
    if explicit is None and not path.is_file():
        return Config()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(f"{path}: {where}: {message}") from exc
