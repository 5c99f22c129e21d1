"""Frontmatter schemas (§8): YAML files compiled once into pydantic models.

A schema file is validated itself (a bad one is a one-line `UsageError` naming the file,
line and problem) and compiled into a pydantic model whose fields are the declared
properties. Validating a note's properties is one `model_validate` call; the errors are
turned into `Violation`s that name the property (and list item) at fault, so the rule
can point at the exact key or value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from vaultsync.config.settings import Config
from vaultsync.core.errors import UsageError
from vaultsync.io.files import yaml_files
from vaultsync.parse.yamlcore import YamlLoader, compose

if TYPE_CHECKING:  # pathspec: imported where a schema's `paths` are matched
    from pathspec import PathSpec

PropertyType = Literal[
    "text", "list", "number", "checkbox", "date", "datetime", "tags", "aliases", "link"
]
Scalar = str | int | float | bool
LIST_TYPES = frozenset({"list", "tags", "aliases"})
# Obsidian's own keys (R53): known to every schema, so `additional-properties` never flags them.
OBSIDIAN_KEYS = frozenset({"tags", "aliases", "cssclasses"})

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\Z")
WIKILINK = re.compile(r"\[\[([^\[\]\n]+)\]\]\Z")


# --- Obsidian's property types, shared by schemas and `.obsidian/types.json` (F005) -------


def is_date(value: Any) -> bool:
    if isinstance(value, date) and not isinstance(value, datetime):
        return True
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_datetime(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | date)


# An empty list item (`- ` with nothing after it, a template's blank) is no value, as an
# empty property is none: it is neither checked nor counted.


def _is_list(value: Any) -> bool:
    return isinstance(value, list) and all(v is None or _is_scalar(v) for v in value)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)


# Type name (schema types and types.json's) -> does a (non-null) value have it?
TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str),
    "number": is_number,
    "checkbox": lambda v: isinstance(v, bool),
    "date": is_date,
    "datetime": is_datetime,
    "list": _is_list,
    "multitext": _is_text_list,
    "tags": _is_text_list,
    "aliases": _is_text_list,
    "link": lambda v: isinstance(v, str) and WIKILINK.match(v) is not None,
}
TYPE_NAMES = {
    "text": "text",
    "number": "a number",
    "checkbox": "a checkbox (true or false)",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (YYYY-MM-DDTHH:MM:SS)",
    "list": "a list",
    "multitext": "a list of text",
    "tags": "a list of tags",
    "aliases": "a list of aliases",
    "link": 'a quoted wikilink ("[[Note]]")',
}


def describe(value: Any) -> str:
    """How a value reads in a message: its type, and the value when it is short."""
    if value is None:
        return "empty"
    kind = {bool: "a checkbox", int: "a number", float: "a number", str: "text"}.get(
        type(value), "a list" if isinstance(value, list) else "a nested object"
    )
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 40:
        return f"{kind} {value!r}"
    return kind


# --- the schema file format -------------------------------------------------------------


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True
    )


class ItemSpec(_Spec):
    """What each item of a list must be."""

    # Several types (`[date, datetime]`) only on a property; see PropertySpec.kinds.
    type: PropertyType | list[PropertyType] | None = None
    enum: list[Scalar] | None = Field(default=None, min_length=1)
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @field_validator("type")
    @classmethod
    def _types(cls, value: PropertyType | list[PropertyType] | None) -> Any:
        if not isinstance(value, list):
            return value
        kinds = list(dict.fromkeys(value))
        if not kinds:
            raise ValueError("give a type, or a list of at least one")
        return kinds[0] if len(kinds) == 1 else kinds

    @model_validator(mode="after")
    def _fits_type(self) -> ItemSpec:
        kind = self.type
        if isinstance(kind, list):
            if type(self) is ItemSpec:
                raise ValueError("a list item has one type")
            constraints = self.model_dump(exclude={"type", "required"}, exclude_none=True)
            if constraints:
                raise ValueError(
                    f"{', '.join(sorted(map(_kebab, constraints)))}: a property of several "
                    "types takes no constraint but required"
                )
            return self
        if kind in LIST_TYPES and type(self) is ItemSpec:  # PropertySpec allows lists
            raise ValueError(f"a list item cannot be of type {kind}")
        text_only = kind not in (None, "text", "link", "date", "datetime")
        if text_only and (
            self.pattern is not None or self.min_length is not None or self.max_length is not None
        ):
            raise ValueError(f"pattern, min-length and max-length apply to text, not {kind}")
        if kind not in (None, "number") and (self.minimum is not None or self.maximum is not None):
            raise ValueError(f"minimum and maximum apply to numbers, not {kind}")
        return self


class PropertySpec(ItemSpec):
    required: bool = False
    min_items: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=0)
    items: PropertyType | ItemSpec | None = None

    @model_validator(mode="after")
    def _list_options(self) -> PropertySpec:
        if isinstance(self.type, list):
            return self  # ItemSpec._fits_type allowed nothing else
        listy = self.type is None or self.type in LIST_TYPES
        if not listy and (
            self.items is not None or self.min_items is not None or self.max_items is not None
        ):
            raise ValueError(f"items, min-items and max-items apply to lists, not {self.type}")
        if isinstance(self.items, str) and self.items in LIST_TYPES:
            raise ValueError(f"a list item cannot be of type {self.items}")
        if self.type in LIST_TYPES and self.enum is not None:
            raise ValueError("enum of a list goes under items: {enum: [...]}")
        return self

    @property
    def item_spec(self) -> ItemSpec | None:
        if isinstance(self.items, str):
            return ItemSpec(type=self.items)
        return self.items

    @property
    def kinds(self) -> tuple[PropertyType, ...]:
        """The types a value may have: one, several (`type: [date, datetime]`) or any (())."""
        if self.type is None:
            return ()
        return tuple(self.type) if isinstance(self.type, list) else (self.type,)


class Where(BaseModel):
    """Conditions on a note; every one must hold. Other keys: a property equals a value."""

    model_config = ConfigDict(extra="allow", frozen=True)

    has: str | list[str] | None = None
    tag: str | list[str] | None = None


class AppliesTo(_Spec):
    paths: list[str] = Field(default_factory=lambda: ["**"])
    where: Where | None = None


class SchemaFile(_Spec):
    name: str = Field(min_length=1)
    description: str | None = None
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    properties: dict[str, PropertySpec] = Field(default_factory=dict)
    additional_properties: Literal["allow", "warn", "error"] = "allow"


# --- compiled schemas ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    """A property breaks its schema: `at` is where to point (key, value, item, block)."""

    key: str | None  # None: the block as a whole
    index: int | None  # the list item at fault
    message: str
    at: Literal["key", "value", "block"]
    unknown: bool = False  # an undeclared property (F003 when the schema only warns)


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    source: str  # the file it came from, for messages
    spec: SchemaFile
    model: type[BaseModel]
    paths: PathSpec[Any]
    links: tuple[str, ...]  # properties whose value (or items) must be resolving wikilinks

    def applies(
        self, path: str, properties: dict[str, Any], tags: Callable[[], Iterable[str]]
    ) -> bool:
        """Does the schema apply? `tags` gives the note's tags, asked only if needed."""
        if not self.paths.match_file(path):
            return False
        where = self.spec.applies_to.where
        return where is None or _holds(where, properties, tags)

    @property
    def declared(self) -> frozenset[str]:
        return frozenset(self.spec.properties)

    def validate(self, properties: dict[str, Any]) -> list[Violation]:
        try:
            self.model.model_validate(properties)
        except ValidationError as exc:
            return [_violation(error, properties) for error in exc.errors()]
        return []


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _holds(where: Where, properties: dict[str, Any], tags: Callable[[], Iterable[str]]) -> bool:
    if any(properties.get(key) in (None, "", []) for key in _as_list(where.has)):
        return False
    wanted = [t.lstrip("#").casefold() for t in _as_list(where.tag)]
    if wanted:
        have = {t.lstrip("#").casefold() for t in tags()}
        # A nested tag `#video/short` also carries its parent `#video`, as in Obsidian.
        for tag in list(have):
            parts = tag.split("/")
            have.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if not all(t in have for t in wanted):
            return False
    for key, expected in (where.model_extra or {}).items():
        value = properties.get(key)
        if isinstance(value, list) and not isinstance(expected, list):
            if expected not in value:
                return False
        elif value != expected:
            return False
    return True


def _check(predicate: Callable[[Any], bool], kind: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not predicate(value):
            raise PydanticCustomError(
                "obsidian_type", "should be {expected}", {"expected": TYPE_NAMES[kind]}
            )
        return value

    return check


def _enum(values: list[Scalar]) -> Callable[[Any], Any]:
    allowed = list(values)

    def check(value: Any) -> Any:
        # `True == 1` in Python; a checkbox is not the number 1.
        if not any(value == v and type(value) is type(v) for v in allowed):
            shown = ", ".join(str(v) for v in allowed)
            raise PydanticCustomError("enum", "should be one of: {allowed}", {"allowed": shown})
        return value

    return check


def _item_type(spec: ItemSpec) -> Any:
    """The pydantic type of a scalar (a property or one list item)."""
    kind = spec.type
    assert not isinstance(kind, list)  # _property_type takes those
    if kind is None:  # untyped: the constraints given say what it is
        if spec.pattern is not None or spec.min_length is not None or spec.max_length is not None:
            kind = "text"
        elif spec.minimum is not None or spec.maximum is not None:
            kind = "number"
    annotations: list[Any] = []
    base: Any = Any
    if kind == "number":
        base = float
        annotations = [Strict(), Field(ge=spec.minimum, le=spec.maximum)]
    elif kind == "checkbox":
        base = StrictBool
    elif kind in ("text", "link", "date", "datetime"):
        base = str
        annotations = [
            Strict(),
            StringConstraints(
                min_length=spec.min_length, max_length=spec.max_length, pattern=spec.pattern
            ),
        ]
        if kind != "text":
            annotations.append(AfterValidator(_check(TYPE_CHECKS[kind], kind)))
    if spec.enum is not None:
        annotations.append(AfterValidator(_enum(spec.enum)))
    return Annotated[base, *annotations] if annotations else base


def _check_any(kinds: tuple[PropertyType, ...]) -> Callable[[Any], Any]:
    checks = [TYPE_CHECKS[kind] for kind in kinds]
    expected = " or ".join(TYPE_NAMES[kind] for kind in kinds)

    def check(value: Any) -> Any:
        if not any(check(value) for check in checks):
            raise PydanticCustomError(
                "obsidian_type", "should be {expected}", {"expected": expected}
            )
        return value

    return check


def _count_items(minimum: int | None, maximum: int | None) -> Callable[[list[Any]], Any]:
    """min-items and max-items, counting only the items that are there (not empty)."""

    def check(value: list[Any]) -> list[Any]:
        count = sum(1 for item in value if item is not None)
        if minimum is not None and count < minimum:
            raise PydanticCustomError(
                "too_short", "has fewer than {min_length} items", {"min_length": minimum}
            )
        if maximum is not None and count > maximum:
            raise PydanticCustomError(
                "too_long", "has more than {max_length} items", {"max_length": maximum}
            )
        return value

    return check


def _property_type(spec: PropertySpec) -> Any:
    kinds = spec.kinds
    if len(kinds) > 1:
        return Annotated[Any, AfterValidator(_check_any(kinds))]
    kind = kinds[0] if kinds else None
    if kind in LIST_TYPES:
        item = spec.item_spec
        if item is None:
            item = ItemSpec(type="text") if kind in ("tags", "aliases") else None
        item_type = (
            _item_type(item)
            if item is not None
            else Annotated[Any, AfterValidator(_check(_is_scalar, "list"))]
        )
        annotations: list[Any] = [Strict()]
        if spec.min_items is not None or spec.max_items is not None:
            annotations.append(AfterValidator(_count_items(spec.min_items, spec.max_items)))
        return Annotated[
            list[item_type | None],  # type: ignore[valid-type]
            *annotations,
        ]
    if kind is None and spec.items is not None:
        # No type but item rules: a list, like `type: list`.
        return _property_type(spec.model_copy(update={"type": "list"}))
    return _item_type(spec)


def compile_model(spec: SchemaFile) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for i, (name, prop) in enumerate(spec.properties.items()):
        kind = _property_type(prop)
        if prop.required:
            fields[f"p{i}"] = (kind, Field(alias=name))
        else:
            # Obsidian writes an emptied property as null: that is "not set", not a type error.
            fields[f"p{i}"] = (kind | None, Field(default=None, alias=name))
    config = ConfigDict(extra="ignore", regex_engine="python-re", populate_by_name=False)
    model: type[BaseModel] = create_model(
        f"Schema_{re.sub(r'[^A-Za-z0-9_]', '_', spec.name)}", __config__=config, **fields
    )
    return model


_MESSAGES = {
    "string_type": "{key} should be text, not {value}",
    "float_type": "{key} should be a number, not {value}",
    "bool_type": "{key} should be a checkbox (true or false), not {value}",
    "list_type": "{key} should be a list, not {value}",
    "string_pattern_mismatch": "{key} {shown} does not match the pattern {pattern}",
    "string_too_short": "{key} {shown} is shorter than {min_length} characters",
    "string_too_long": "{key} {shown} is longer than {max_length} characters",
    "greater_than_equal": "{key} {shown} is below the minimum {ge}",
    "less_than_equal": "{key} {shown} is above the maximum {le}",
    "too_short": "{key} has fewer than {min_length} items",
    "too_long": "{key} has more than {max_length} items",
}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _violation(error: Any, properties: dict[str, Any]) -> Violation:
    loc = error["loc"]
    key = str(loc[0]) if loc else None
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    ctx = error.get("ctx") or {}
    kind = error["type"]
    shown_key = key if index is None else f"{key}[{index}]"
    value = error.get("input")
    if kind == "missing":
        return Violation(key, None, f"required property {key!r} is missing", "block")
    if value is None and key is not None and index is None and key in properties:
        return Violation(key, None, f"required property {key!r} is empty", "value")
    template = _MESSAGES.get(kind)
    if template is not None:
        message = template.format(
            key=repr(shown_key), value=describe(value), shown=_shown(value), **ctx
        )
    else:
        message = f"{shown_key!r} {error['msg']}"
        if kind in ("obsidian_type", "enum"):
            message += f", not {describe(value)}"
    return Violation(key, index, message, "value")


# --- loading schema files -----------------------------------------------------------------


def _position(source: str, loc: tuple[Any, ...]) -> int:
    """1-based line of the node at `loc` in a schema file (its deepest existing part)."""
    try:
        node = compose(source)
    except yaml.YAMLError:
        return 1
    line = 1
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        found = None
        if isinstance(node, yaml.MappingNode):
            wanted = {str(part), _kebab(str(part))}
            for key_node, value_node in node.value:
                if str(key_node.value) in wanted:
                    found = value_node
                    line = key_node.start_mark.line + 1
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            found = node.value[part]
        node = found
    return line


def parse_schema(source: str, origin: str) -> SchemaFile:
    """A schema file's text -> its validated spec, or UsageError naming file and line."""
    try:
        raw = yaml.load(source, Loader=YamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise UsageError(f"{origin}:{line}: invalid YAML: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise UsageError(f"{origin}:1: invalid YAML: {type(exc).__name__}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{origin}:1: a schema is a mapping with name, applies-to, properties")
    try:
        return SchemaFile.model_validate(raw)
    except ValidationError as exc:
        # A union (`items: text` or `items: {...}`) fails in each branch; the deepest
        # location names the key the user got wrong.
        error = max(exc.errors(), key=lambda e: len(e["loc"]))
        loc = tuple(p for p in error["loc"] if not _is_pydantic_branch(p))
        where = ".".join(str(p) for p in loc) or "schema"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        message = message.removeprefix("Value error, ")
        raise UsageError(f"{origin}:{_position(source, loc)}: {where}: {message}") from None


def _is_pydantic_branch(part: Any) -> bool:
    # Union members show up in error locations (`literal[...]`, `ItemSpec`); not user keys.
    return isinstance(part, str) and (
        part.startswith(("literal[", "list[literal[", "function-"))
        or part
        in (
            "ItemSpec",
            "str",
            "list[str]",
            "int",
            "float",
            "bool",
        )
    )


@cache
def _compiled(path: str, mtime_ns: int, size: int, origin: str) -> Schema:
    """Read, validate and compile one schema file; cached while the file is unchanged."""
    from pathspec import PathSpec

    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{origin}:1: cannot read schema: {exc}") from None
    spec = parse_schema(source, origin)
    try:
        paths = PathSpec.from_lines("gitignore", spec.applies_to.paths)
    except ValueError as exc:
        raise UsageError(f"{origin}:1: applies-to.paths: {exc}") from None
    links = tuple(
        name
        for name, prop in spec.properties.items()
        if "link" in prop.kinds or (prop.item_spec is not None and prop.item_spec.type == "link")
    )
    return Schema(spec.name, origin, spec, compile_model(spec), paths, links)


def _load_file(path: Path, origin: str) -> Schema:
    stat = path.stat()
    return _compiled(str(path), stat.st_mtime_ns, stat.st_size, origin)


def shipped_dir() -> Path:
    """The schemas installed with vaultsync (package data, so any install has them)."""
    return Path(str(resources.files("vaultsync") / "data" / "schemas"))


def load_schemas(root: Path, config: Config) -> list[Schema]:
    """The vault's schemas (`schemas.dir`) plus the shipped ones named in `schemas.use`.

    A vault schema with the same name as a shipped one replaces it.
    """
    schemas: dict[str, Schema] = {}
    for path in yaml_files(root / config.schemas.dir):
        schema = _load_file(
            path, str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        )
        if schema.name in schemas:
            raise UsageError(
                f"{schema.source}:1: name: schema {schema.name!r} is also defined in "
                f"{schemas[schema.name].source}"
            )
        schemas[schema.name] = schema
    shipped = {p.stem: p for p in yaml_files(shipped_dir())}
    for name in config.schemas.use:
        if name in schemas:
            continue
        found = shipped.get(name)
        if found is None:
            known = ", ".join(sorted(shipped)) or "none"
            raise UsageError(f"schemas.use: no shipped schema named {name!r} (shipped: {known})")
        schemas[name] = _load_file(found, f"<shipped>/{found.name}")
    return list(schemas.values())
