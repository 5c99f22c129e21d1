"""Templates (§1): notes Obsidian's Templates or Templater plugin copies into new notes.

A template holds placeholders (`{{date}}`, `<% tp.file.title %>`) that only make sense
once the template is used: it is indexed like any note (its links count for resolution,
the graph and backlinks, as in Obsidian), but gets no frontmatter diagnostics, no link
diagnostics for a placeholder target, and never a generated section.

The template folders are the ones Obsidian's settings name (core Templates:
`.obsidian/templates.json` `folder`; Templater: `templates_folder` in its `data.json`),
plus the config's `templates` globs (gitignore semantics, like `exclude`). A settings
file that cannot be read or parsed names no folder: Obsidian falls back the same way.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vaultsync.config.settings import Config
from vaultsync.io.files import VaultFile
from vaultsync.vault.memos import Memo

if TYPE_CHECKING:
    # For start-up speed: a warm `check` reads `settings_files` from here, and the loaded
    # vault would bring the note parser with it.
    from vaultsync.vault.loaded import Vault

# The settings that name a template folder: file under `.obsidian/`, key.
SETTINGS = (
    ("templates.json", "folder"),
    ("plugins/templater-obsidian/data.json", "templates_folder"),
)
# Depends on the file set and the settings only: an edit of contents leaves it valid.
_PATHS: Memo[frozenset[str]] = Memo("templates.paths", True)
_NONE: frozenset[str] = frozenset()


def settings_files(root: Path) -> list[Path]:
    """The Obsidian settings files that may name template folders (for cache keys)."""
    return [root / ".obsidian" / name for name, _ in SETTINGS]


def folders(root: Path) -> list[str]:
    """The template folders Obsidian's settings name, vault-relative, without slashes."""
    found: list[str] = []
    for name, key in SETTINGS:
        try:
            settings = json.loads((root / ".obsidian" / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # missing or damaged: it names no folder
        folder = settings.get(key) if isinstance(settings, dict) else None
        if isinstance(folder, str):
            folder = unicodedata.normalize("NFC", folder.replace("\\", "/").strip().strip("/"))
            if folder and folder not in found:
                found.append(folder)
    return found


def template_paths(root: Path, config: Config, files: Iterable[VaultFile]) -> frozenset[str]:
    """The vault paths of the notes that are templates."""
    prefixes = tuple(folder + "/" for folder in folders(root))
    match = None
    if config.templates:
        from pathspec import PathSpec

        match = PathSpec.from_lines("gitignore", config.templates).match_file
    if not prefixes and match is None:
        return _NONE
    return frozenset(
        f.path
        for f in files
        if f.is_note and (f.path.startswith(prefixes) or (match is not None and match(f.path)))
    )


def of_vault(vault: Vault) -> frozenset[str]:
    """`template_paths` of a loaded vault, worked out once per vault."""
    return vault.memos.get_or_make(
        _PATHS, lambda: template_paths(vault.root, vault.config, vault.files)
    )


def is_template(vault: Vault, path: str) -> bool:
    return path in of_vault(vault)


def is_placeholder(text: str | None) -> bool:
    """Does a link target (or subpath) hold a template placeholder, `{{…}}` or `<% … %>`?"""
    return text is not None and (("{{" in text and "}}" in text) or ("<%" in text and "%>" in text))
