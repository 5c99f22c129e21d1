"""Workspace folders and the vaults in them: one live index per vault, found from a URI.

A workspace folder is a vault. A note belongs to the vault of the nearest folder upward
holding `.vaultsync.toml` or `.obsidian/` (as `check` finds it), else to the innermost
workspace folder holding it; a file in neither is no note of any vault.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

from vaultsync.config.settings import CONFIG_NAME, find_root, load_config
from vaultsync.core.errors import UsageError
from vaultsync.core.text import nfc
from vaultsync.daemon.live import LiveVault
from vaultsync.rules import Selection

log = logging.getLogger("vaultsync.lsp")

# Files outside the vault's notes that change what the engine reports: a change to one
# re-indexes the vault. (`.obsidian/workspace.json` changes all the time and says nothing.)
_SETTINGS = frozenset(
    {
        CONFIG_NAME,
        ".obsidian/app.json",  # userIgnoreFilters: excluded files
        ".obsidian/types.json",  # property types (F005)
        ".obsidian/templates.json",
        ".obsidian/plugins/templater-obsidian/data.json",
    }
)


@dataclass(eq=False)
class Folder:
    """One vault: its live index once loaded, and what the server has told the client."""

    root: Path
    live: LiveVault | None = None
    error: str | None = None  # why it could not be loaded (a bad config)
    loaded: threading.Event = field(default_factory=threading.Event)
    # Notes whose last published diagnostics were not empty: they are told when they are.
    published: set[str] = field(default_factory=set)
    # Per open note, the notes its unsaved edits may have changed the diagnostics of;
    # they are published again when it is saved.
    touched: dict[str, set[str]] = field(default_factory=dict)
    variants_touched: bool = False  # an unsaved edit changed a canonical spelling
    scheduled: bool = False  # its indexing was asked for

    def load(self) -> None:
        """Index the vault (in the caller's thread); a bad config leaves `error` set."""
        try:
            config = load_config(self.root)
            selection = Selection.build(config.select, config.ignore, dict(config.severity))
            live = LiveVault(self.root, config, selection, use_cache=config.cache)
        except UsageError as exc:
            self.live, self.error = None, str(exc)
            log.error("%s: not indexed: %s", self.root, exc)
        else:
            live.drop_derived()
            self.live, self.error = live, None
            vault = live.vault
            log.info(
                "indexed %s: %d notes, %d attachments",
                self.root,
                len(vault.notes),
                len(vault.index.attachments),
            )
        finally:
            self.published.clear()
            self.touched.clear()
            self.variants_touched = False
            self.loaded.set()

    def ready(self, timeout: float) -> LiveVault | None:
        """The live vault once indexed (waiting up to `timeout` s); None if it failed."""
        self.loaded.wait(timeout)
        return self.live

    def on_disk(self, fs_path: str) -> str | None:
        """The vault-relative name of a file as on disk (`/`-separated); None outside the
        vault or inside a dot-folder (never part of a vault)."""
        rel = _relative(Path(fs_path), self.root)
        if rel is None:
            return None
        text = rel.as_posix()
        if text == "." or any(part.startswith(".") for part in text.split("/")):
            return None
        return text

    def relative(self, fs_path: str) -> str | None:
        """The vault path (NFC) of a file in this vault; None as for `on_disk`."""
        text = self.on_disk(fs_path)
        return None if text is None else nfc(text)

    def location(self, path: str) -> Path:
        """Where a vault path is on disk (its NFD name, if it has one)."""
        live = self.live
        return self.root / (live.location(path) if live is not None else path)

    def uri(self, path: str) -> str:
        return from_fs_path(str(self.location(path))) or ""

    def is_setting(self, fs_path: str) -> bool:
        """Does a change to this file change what the vault's notes are told?"""
        rel = _relative(Path(fs_path), self.root)
        if rel is None:
            return False
        text = rel.as_posix()
        if text in _SETTINGS:
            return True
        live = self.live
        schemas = live.config.schemas.dir.strip("/") if live is not None else ".vaultsync/schemas"
        return text.startswith(schemas + "/") and text.endswith((".yaml", ".yml"))


def _relative(path: Path, root: Path) -> Path | None:
    try:
        return path.relative_to(root)
    except ValueError:
        pass
    try:  # the same folder spelled through a symbolic link
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return None


def vault_root(path: Path) -> Path | None:
    """The vault holding `path` as the command line finds it (§1), if anything marks one."""
    return find_root(path)


class Vaults:
    """The vaults of the workspace, by root."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.folders: dict[Path, Folder] = {}
        self.workspace: list[Path] = []  # the client's workspace folders

    def add_workspace(self, fs_path: str) -> Folder:
        """A workspace folder: the vault it is (or lies in); not loaded yet if new."""
        path = Path(fs_path)
        with self.lock:
            if path not in self.workspace:
                self.workspace.append(path)
        return self._folder(vault_root(path) or path)

    def remove_workspace(self, fs_path: str) -> Folder | None:
        """Forget a workspace folder; its vault, if no other folder or note needs it."""
        path = Path(fs_path)
        with self.lock:
            if path in self.workspace:
                self.workspace.remove(path)
            root = vault_root(path) or path
            if any((vault_root(p) or p) == root for p in self.workspace):
                return None
            return self.folders.pop(root, None)

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        """The vault holding the file at `uri` and its vault path; None if none does."""
        fs_path = to_fs_path(uri)
        if fs_path is None:
            return None
        folder = self.holding(fs_path, create=True)
        rel = None if folder is None else folder.relative(fs_path)
        return None if folder is None or rel is None else (folder, rel)

    def holding(self, fs_path: str, create: bool) -> Folder | None:
        """The vault a file belongs to (`create`: also one not known yet)."""
        path = Path(fs_path)
        root = vault_root(path.parent)
        if root is None:
            with self.lock:
                holding = [w for w in self.workspace if _relative(path, w) is not None]
            if not holding:
                return None
            root = max(holding, key=lambda w: len(w.parts))  # the innermost
        if create:
            return self._folder(root)
        with self.lock:
            return self.folders.get(root)

    def new_folders(self) -> list[Folder]:
        """Folders created since the last call, to be loaded."""
        with self.lock:
            fresh = [f for f in self.folders.values() if not f.scheduled]
            for folder in fresh:
                folder.scheduled = True
            return fresh

    def _folder(self, root: Path) -> Folder:
        with self.lock:
            folder = self.folders.get(root)
            if folder is None:
                folder = self.folders[root] = Folder(root)
            return folder

    def all(self) -> list[Folder]:
        with self.lock:
            return list(self.folders.values())
