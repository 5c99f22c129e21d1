"""Backlinks sections outside a fixed set of notes follow the links inside it.

`vaultsync fix NOTE…` (and the pre-commit hook, which passes only the staged notes)
reports and fixes only the notes it is given. But a link those notes gain, lose or
have respelled changes the backlinks section of the note at the other end; left
alone, that note would be stale until someone fixes the whole vault. So those notes
are fixed too, for the backlinks rule only: nothing else in them changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from vaultsync.fixing.fix import FixOptions, FixResult, fix_vault
from vaultsync.parse.markers import generated_ranges, in_ranges
from vaultsync.rules import Selection
from vaultsync.rules.codes import STALE_BACKLINKS
from vaultsync.vault.loaded import Vault
from vaultsync.vault.sections import backlink_map, backlinks_enabled


def neighbours(vault: Vault, paths: Iterable[str]) -> set[str]:
    """Notes outside `paths` whose backlinks may involve a note in `paths`.

    Those a note in `paths` links to now, and those whose generated sections still
    list a note in `paths` (it may have stopped linking to them).
    """
    inside = set(paths)
    found = {
        target
        for target, sources in backlink_map(vault).items()
        if target not in inside and not sources.isdisjoint(inside)
    }
    resolve = vault.index.resolve
    for path, entry in vault.notes.items():
        parsed = entry.parsed
        if path in inside or path in found or parsed is None:
            continue
        generated = generated_ranges(parsed)
        if not generated:
            continue
        if any(
            link.linkpath
            and in_ranges(link.span.start, generated)
            and resolve(link.linkpath, path).path in inside
            for link in parsed.links
        ):
            found.add(path)
    return found


def follow(
    result: FixResult,
    selection: Selection,
    only: Iterable[str],
    options: FixOptions,
    edited: Iterable[str] | None = None,
) -> FixResult:
    """Bring the backlinks sections around the fixed notes up to date; one merged result.

    `edited`: the notes whose diagnostics the edits made before the fix may have changed
    (`linkmaps.edit` from the last check's snapshot); with them, and the notes the fix's
    own edits touched, no note is scanned to find the neighbours.
    """
    code = STALE_BACKLINKS.code
    if code not in selection.enabled or not backlinks_enabled(result.vault):
        return result  # the user turned the backlinks rule or the sections (§6) off
    if not result.converged:
        return result  # nothing of the fix was written; its neighbours must not be either
    fixed = set(only) | set(result.changes)
    if edited is not None and result.touched is not None:
        around = (set(edited) | result.touched) - fixed
    else:
        around = neighbours(result.vault, fixed)
    if not around:
        return result
    backlinks_only = Selection(frozenset({code}), selection.severities)
    extra = fix_vault(result.vault, backlinks_only, around, options, tracked=result.tracked)
    # `around` excludes every note changed so far, so the two sets of changes are disjoint.
    result.changes = dict(sorted({**result.changes, **extra.changes}.items()))
    result.skipped = dict(sorted({**result.skipped, **extra.skipped}.items()))
    result.vault = extra.vault
    if not extra.converged:
        result.converged = False
        result.still_changing = sorted({*result.still_changing, *extra.still_changing})
    return result
