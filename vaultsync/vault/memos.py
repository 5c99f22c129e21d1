"""Per-vault memos: values worked out once per loaded vault by the module that owns
them, under typed keys that say whether an edit of notes' contents makes them stale.

Its own module, without the loaded vault: vault/templates.py declares a memo and must not
bring the note parser into a warm `check`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


@dataclass(frozen=True, slots=True, eq=False)
class Memo(Generic[T]):
    """The key of one per-vault memo: a value worked out once per loaded vault (the
    backlink map, each note's resolved links, ...) by the module that owns it.

    `survives_edit`: the value stays valid when notes' contents change but their names,
    the file set and the settings do not (the daemon keeps such memos across a save and
    drops the others: `Memos.drop_edit_dependent`). Declared here, with the memo, so
    whoever adds a memo says whether an edit invalidates it.
    """

    name: str
    survives_edit: bool


class Memos:
    """A loaded vault's memos, each typed by its `Memo` key."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[Memo[Any], Any] = {}

    def get(self, memo: Memo[T]) -> T | None:
        return cast("T | None", self._values.get(memo))

    def put(self, memo: Memo[T], value: T) -> T:
        self._values[memo] = value
        return value

    def get_or_make(self, memo: Memo[T], make: Callable[[], T]) -> T:
        """The memo's value, made by `make()` on first use."""
        value = self._values.get(memo)
        if value is None:
            value = self._values[memo] = make()
        return cast("T", value)

    def clear(self) -> None:
        self._values.clear()

    def surviving_edit(self) -> Memos:
        """A new set of memos holding the values of these that survive an edit of notes'
        contents (`survives_edit`), for the vault such an edit makes."""
        carried = Memos()
        carried._values = {m: v for m, v in self._values.items() if m.survives_edit}
        return carried

    def drop_edit_dependent(self) -> None:
        """Drop the memos an edit of notes' contents makes stale (not `survives_edit`)."""
        for memo in [m for m in self._values if not m.survives_edit]:
            del self._values[memo]

    def __repr__(self) -> str:
        return f"Memos({sorted(m.name for m in self._values)})"
