"""The rule registry: codes, names, severities, fix kinds and user docs (§4).

A rule's documentation is the `doc` it is defined with; `vaultsync rule CODE`
prints it. Checkers are plain functions registered per family; one checker may
emit several codes when they share work (every link is resolved once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vaultsync.core.model import Diagnostic, FixKind, Severity

if TYPE_CHECKING:
    from vaultsync.lint.engine import Context
    from vaultsync.vault.index import NoteEntry


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    fix: FixKind
    doc: str
    # In the default rule set (no `select` anywhere)? A rule outside it runs only when a
    # selector names it (`--select L009`, `select = ["ALL"]` in the config).
    default: bool = True

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]


RULES: dict[str, Rule] = {}
Checker = Callable[["Context", "NoteEntry"], Iterator[Diagnostic]]
CHECKERS: list[Checker] = []


def define(
    code: str, name: str, severity: Severity, fix: FixKind, doc: str, default: bool = True
) -> Rule:
    if code in RULES or any(r.name == name for r in RULES.values()):
        raise ValueError(f"rule {code} {name} defined twice")
    rule = RULES[code] = Rule(code, name, severity, fix, doc, default)
    return rule


def checker(func: Checker) -> Checker:
    CHECKERS.append(func)
    return func


def _load_families() -> None:
    # Importing a family module registers its rules and checkers.
    from vaultsync.rules import files, frontmatter, links, sections  # noqa: F401


def by_name_or_code(text: str) -> Rule | None:
    _load_families()
    upper = text.upper()
    if upper in RULES:
        return RULES[upper]
    return next((r for r in RULES.values() if r.name == text.lower()), None)


def validate_selector(selector: str) -> None:
    """ALL, a code, a code prefix (`L`, `L00`) or a rule name; else ValueError."""
    _load_families()
    if selector.upper() == "ALL" or by_name_or_code(selector) is not None:
        return
    if any(code.startswith(selector.upper()) for code in RULES):
        return
    raise ValueError(f"unknown rule selector {selector!r}")


def _specificity(selector: str, rule: Rule) -> int:
    """How closely a selector names a rule: -1 not at all; longer is more specific."""
    upper = selector.upper()
    if upper == "ALL":
        return 0
    if selector.lower() == rule.name or upper == rule.code:
        return 100
    return len(upper) if rule.code.startswith(upper) else -1


@dataclass(frozen=True, slots=True)
class Selection:
    """Which rules run and at what severity; the most specific selector wins (ruff)."""

    enabled: frozenset[str]
    severities: dict[str, Severity]

    @classmethod
    def build(
        cls,
        select: Iterable[str],
        ignore: Iterable[str],
        severity: dict[str, str] | None = None,
    ) -> Selection:
        _load_families()
        select = list(select)
        # Nothing selected: the default rule set, which leaves out the rules that are a
        # matter of taste (L009); any explicit selector, `ALL` too, can name them.
        chosen = select or ["ALL"]
        ignore = list(ignore)
        enabled = set()
        for rule in RULES.values():
            if not select and not rule.default:
                continue
            best_select = max((_specificity(s, rule) for s in chosen), default=-1)
            best_ignore = max((_specificity(s, rule) for s in ignore), default=-1)
            if best_select >= 0 and best_select > best_ignore:
                enabled.add(rule.code)
        severities = {}
        for rule in RULES.values():
            level, best = rule.severity, -1
            for selector, name in (severity or {}).items():
                spec = _specificity(selector, rule)
                if spec > best:
                    level, best = Severity.parse(name), spec
            severities[rule.code] = level
        return cls(frozenset(enabled), severities)

    def matches(self, codes: frozenset[str], code: str) -> bool:
        """Does a suppression naming `codes` (empty: all) cover `code`?"""
        if not codes:
            return True
        rule = RULES[code]
        return any(_specificity(c, rule) >= 0 for c in codes)  # `ALL` counts too
