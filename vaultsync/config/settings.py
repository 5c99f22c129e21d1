"""`.vaultsync.toml` (§7): discovered upward from the checked path, validated with pydantic.

The settings themselves are plain frozen dataclasses, so a run whose config was
validated before does not import pydantic at all: building its models costs more
start-up (~0.15 s) than a warm `check` of 10,000 notes spends on anything else.
Validation (`config.schema`) runs whenever the file's bytes are new to this vault's
cache, and its result is kept beside the other caches, keyed by those bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vaultsync import __version__
from vaultsync.core.errors import ConfigError
from vaultsync.io import statefile

CONFIG_NAME = ".vaultsync.toml"
SeverityName = Literal["info", "warning", "error"]
# The validated settings of a config file, by the sha256 of its bytes.
_VALIDATED_FILE = ".vaultsync/cache/config.pickle"
_VALIDATED_FORMAT = 2  # 2: section switches unset by default, `templates`


@dataclass(frozen=True, slots=True)
class LinksConfig:
    canonical: dict[str, str] = field(default_factory=dict)
    keep_display: bool = False
    check_comments: bool = False  # report links inside `%%` comments too


@dataclass(frozen=True, slots=True)
class BacklinksConfig:
    # None (not set): on only while the vault already holds a backlinks section (§6).
    enabled: bool | None = None
    heading: str = "## Backlinks"
    exclude: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IndexConfig:
    # None (not set): index blocks are filled where a note holds one (the user opened
    # it, which is the opt-in); false leaves them alone.
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class StubsConfig:
    folder: str = ""


@dataclass(frozen=True, slots=True)
class SchemasConfig:
    dir: str = ".vaultsync/schemas"
    use: list[str] = field(default_factory=list)  # shipped schemas to apply, by name


@dataclass(frozen=True, slots=True)
class WatchConfig:
    debounce_ms: int = 300
    fix: list[str] = field(default_factory=lambda: ["S"])
    follow_renames: bool = True


@dataclass(frozen=True, slots=True)
class ApiConfig:
    port: int = 0
    allowed_origins: list[str] = field(default_factory=lambda: ["app://obsidian.md"])


@dataclass(frozen=True, slots=True)
class Config:
    exclude: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)  # globs, besides Obsidian's folders
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: SeverityName = "warning"
    severity: dict[str, SeverityName] = field(default_factory=dict)
    all_files: bool = False
    max_file_size: int = 10 * 1024 * 1024
    cache: bool = True
    links: LinksConfig = field(default_factory=LinksConfig)
    backlinks: BacklinksConfig = field(default_factory=BacklinksConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    stubs: StubsConfig = field(default_factory=StubsConfig)
    schemas: SchemasConfig = field(default_factory=SchemasConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    api: ApiConfig = field(default_factory=ApiConfig)

    def fingerprint(self) -> str:
        """Every setting, as one stable string (part of the results cache's key)."""
        return repr(dataclasses.asdict(self))


_SECTIONS: dict[str, type[Any]] = {
    "links": LinksConfig,
    "backlinks": BacklinksConfig,
    "index": IndexConfig,
    "stubs": StubsConfig,
    "schemas": SchemasConfig,
    "watch": WatchConfig,
    "api": ApiConfig,
}


def config_from_dict(data: dict[str, Any]) -> Config:
    """A Config from validated settings by field name (`config.schema.validate`'s output)."""
    values = dict(data)
    for name, section in _SECTIONS.items():
        if name in values:
            values[name] = section(**values[name])
    return Config(**values)


def find_root(start: Path) -> Path | None:
    """The vault holding `start` (§1), or None when nothing marks one.

    The nearest folder upward holding `.vaultsync.toml` or `.obsidian/`; else the top of
    the git work tree holding it (a vault kept in git: the folder with `.git`, a folder
    or, in a linked work tree or submodule, a file). Never the note's own folder by
    default: taking that for the vault hides every note above it and breaks links.
    """
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    ancestors = (folder, *folder.parents)
    for candidate in ancestors:
        if (candidate / CONFIG_NAME).is_file() or (candidate / ".obsidian").is_dir():
            return candidate
    for candidate in ancestors:
        if (candidate / ".git").exists():
            return candidate
    return None


def load_config(root: Path, explicit: Path | None = None, use_cache: bool = True) -> Config:
    """The vault's settings; an invalid file raises ConfigError naming the file and key.

    With `use_cache`, settings validated before from the very same bytes are read back
    from the vault's cache instead of being validated again.
    """
    path = explicit if explicit is not None else root / CONFIG_NAME
    if explicit is None and not path.is_file():
        return Config()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    key = (__version__, _VALIDATED_FORMAT, hashlib.sha256(data).hexdigest())
    store = root / _VALIDATED_FILE
    if use_cache:
        known = statefile.load(store, frozenset())
        if known is not None and known.get("key") == key:
            try:
                return config_from_dict(known["settings"])
            except (KeyError, TypeError):
                pass  # not what we wrote: validate afresh
    import tomllib  # only a file not validated before is parsed: most runs need none

    try:
        # As read_text() would give it: universal newlines.
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        raw: dict[str, Any] = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    from vaultsync.config.schema import validate  # pydantic: only for a new config file

    settings = validate(raw, path)
    config = config_from_dict(settings)
    if use_cache and config.cache:
        statefile.save(store, {"key": key, "settings": settings})
    return config


def schema_differences(
    plain: type[Any] = Config, model: type[Any] | None = None, where: str = "Config"
) -> list[str]:
    """Where the plain settings (the dataclasses here, which a warm run reads without
    pydantic) and the pydantic schema that validates a new file (`config.schema`)
    disagree: field names and their order, types, defaults; nested sections alike.
    The two list the same fields by design; this is the one place they are checked
    against each other (tests/config/test_config.py runs it). Empty: they agree."""
    import typing

    from pydantic import BaseModel

    if model is None:
        from vaultsync.config import schema

        model = schema.Config
    found: list[str] = []
    names = list(model.model_fields)
    plain_names = [f.name for f in dataclasses.fields(plain)]
    if names != plain_names:
        found.append(f"{where}: schema fields {names}, settings fields {plain_names}")
    hints = typing.get_type_hints(plain)
    schema_default, plain_default = model(), plain()
    for name in (n for n in names if n in plain_names):
        ours, theirs = getattr(plain_default, name), getattr(schema_default, name)
        if isinstance(theirs, BaseModel):
            found += schema_differences(hints[name], type(theirs), f"{where}.{name}")
            continue
        annotation = model.model_fields[name].annotation
        if _shape(annotation) != _shape(hints[name]):
            found.append(f"{where}.{name}: schema type {annotation}, settings type {hints[name]}")
        if ours != theirs:
            found.append(f"{where}.{name}: schema default {theirs!r}, settings default {ours!r}")
    return found


def _shape(annotation: Any) -> object:
    """A type as data, without the constraints pydantic adds (`Annotated[bool, Strict()]`
    is `bool`): `X | None` and `Optional[X]` alike."""
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _shape(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return frozenset(_shape(arg) for arg in typing.get_args(annotation))
    if origin is None:
        return annotation
    return (origin, tuple(_shape(arg) for arg in typing.get_args(annotation)))
