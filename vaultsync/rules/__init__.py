"""Rule selection (§4): which rules of the table (rules/codes.py) run, at what severity.

The table itself is rules/codes.py, the checkers rules/checkers.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from vaultsync.core.model import Severity
from vaultsync.rules.codes import RULES, Rule, define


class RuleSettings(Protocol):
    """A config's rule selection. config.settings.Config is one; it is named by this
    protocol, not imported, because config/schema.py imports the rules (no circle)."""

    @property
    def select(self) -> list[str]: ...

    @property
    def ignore(self) -> list[str]: ...

    @property
    def severity(self) -> Mapping[str, str]: ...


__all__ = ["RULES", "Rule", "Selection", "by_name_or_code", "define", "validate_selector"]


def by_name_or_code(text: str) -> Rule | None:
    upper = text.upper()
    if upper in RULES:
        return RULES[upper]
    return next((r for r in RULES.values() if r.name == text.lower()), None)


def validate_selector(selector: str) -> None:
    """ALL, a code, a code prefix (`L`, `L00`) or a rule name; else ValueError."""
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
    def for_config(
        cls, config: RuleSettings, select: Iterable[str] = (), ignore: Iterable[str] = ()
    ) -> Selection:
        """The config's selection with a run's own selectors (`--select`, `--ignore`):
        like ruff, `select` replaces the config's selection, the config's ignores with
        it; without it, `ignore` extends the config's ignore list."""
        select, ignore = list(select), list(ignore)
        if select:
            return cls.build(select, ignore, dict(config.severity))
        return cls.build(config.select, [*config.ignore, *ignore], dict(config.severity))

    @classmethod
    def build(
        cls,
        select: Iterable[str],
        ignore: Iterable[str],
        severity: dict[str, str] | None = None,
    ) -> Selection:
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
