"""Validation of `.vaultsync.toml` (§7) with pydantic; `config` holds the settings it yields.

Imported only when a config file's bytes are new to the vault's cache (see settings.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)

from vaultsync.core.errors import ConfigError

# Up a layer (the one allowed exception here, tests/test_layers.py): a config names rules,
# and what names a rule is the rule table's to say.
from vaultsync.rules import validate_selector

SeverityName = Literal["info", "warning", "error"]
# TOML has real booleans and integers: `keep-display = "yes"` or `cache = 1` is a mistake
# to report, not a value to coerce.
Flag = StrictBool


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True
    )


class LinksConfig(_Section):
    canonical: dict[str, str] = Field(default_factory=dict)
    keep_display: Flag = False
    # Links inside `%% … %%` comments count (Obsidian indexes them) but are checked only
    # when this is true: a commented-out line is the user's way of saying "not now".
    check_comments: Flag = False

    @field_validator("canonical")
    @classmethod
    def _canonical_is_a_link_target(cls, value: dict[str, str]) -> dict[str, str]:
        # L002 fixes write these spellings into links: they must be usable as a target.
        for key, spelling in value.items():
            if not key.strip() or not spelling.strip():
                raise ValueError(f"{key!r} = {spelling!r}: an empty spelling")
            bad = sorted(set(spelling) & set("#|^[]"))
            if bad or spelling != spelling.strip():
                why = f"contains {bad[0]!r}" if bad else "has surrounding spaces"
                raise ValueError(f"{key!r} = {spelling!r} {why}, which cannot be a link target")
        return value


class BacklinksConfig(_Section):
    enabled: Flag | None = None  # not set: on while the vault holds a backlinks section
    heading: str = "## Backlinks"
    exclude: list[str] = Field(default_factory=list)


class IndexConfig(_Section):
    enabled: Flag | None = None  # not set: index blocks the user opened are filled


class StubsConfig(_Section):
    folder: str = ""


class SchemasConfig(_Section):
    dir: str = ".vaultsync/schemas"
    use: list[str] = Field(default_factory=list)  # shipped schemas to apply, by name


class WatchConfig(_Section):
    debounce_ms: StrictInt = Field(default=300, ge=0, le=60_000)
    fix: list[str] = Field(default_factory=lambda: ["S"])
    follow_renames: Flag = True


class ApiConfig(_Section):
    port: StrictInt = Field(default=0, ge=0, le=65535)
    allowed_origins: list[str] = Field(default_factory=lambda: ["app://obsidian.md"])


class Config(_Section):
    exclude: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    fail_on: SeverityName = "warning"
    severity: dict[str, SeverityName] = Field(default_factory=dict)
    all_files: Flag = False
    max_file_size: StrictInt = Field(default=10 * 1024 * 1024, gt=0)
    cache: Flag = True
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
        for selector in value:
            validate_selector(selector)
        return value

    @field_validator("severity")
    @classmethod
    def _severity_known(cls, value: dict[str, str]) -> dict[str, str]:
        for selector in value:
            validate_selector(selector)
        return value


def validate(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """The settings in `raw` (parsed TOML), by field name, with defaults filled in.

    Raises ConfigError, one line naming the file and the key, on any bad key or value.
    """
    try:
        # Keys are kebab-case only; `max_file_size` is an unknown key, not a synonym.
        model = Config.model_validate(raw, by_alias=True, by_name=False)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        message = message.removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {message}") from exc
    return model.model_dump()
