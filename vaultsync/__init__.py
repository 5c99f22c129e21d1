"""vaultsync: keeps an Obsidian vault healthy.

The Python API, for a script, the daemon, the LSP server and tests: `load` a vault,
`check` it, `fix` it, `move` a note. Each takes the vault's root folder and reads its
`.vaultsync.toml` as the command line does; `check` takes the same fast paths as
`vaultsync check` (lint/api.check_vault). `import vaultsync` loads nothing else: every
function imports what it needs when it is called, so that `vaultsync check` (which reads
`__version__` from here) starts as quickly as before.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Iterable
    from os import PathLike
    from pathlib import Path

    from vaultsync.config.settings import Config
    from vaultsync.core.model import Diagnostic
    from vaultsync.fixing.fix import FixResult
    from vaultsync.fixing.mv import MovePlan
    from vaultsync.rules import Selection
    from vaultsync.vault.loaded import Vault

    StrPath = str | PathLike[str]

__version__ = "0.1.0"

__all__ = ["__version__", "check", "fix", "load", "move"]


def load(root: StrPath, *, config_file: StrPath | None = None, use_cache: bool = True) -> Vault:
    """The vault at `root`, read and indexed (notes unchanged since the last cached run
    are not parsed again). `config_file`: a config to use instead of the vault's
    `.vaultsync.toml`; `use_cache`: read and write the caches (as without `--no-cache`).
    A bad config raises vaultsync.core.errors.ConfigError."""
    from pathlib import Path

    where = Path(root).resolve()
    return _load(where, _config(where, config_file, use_cache), use_cache)


def check(
    root: StrPath,
    *,
    paths: Iterable[str] | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    config_file: StrPath | None = None,
    use_cache: bool = True,
) -> list[Diagnostic]:
    """The problems in the vault at `root`, sorted as the report lists them: what
    `vaultsync check` reports. `paths`: report only on these notes (vault-relative,
    `/`-separated; None: every note); `select`, `ignore`: rule codes, prefixes or names,
    as `--select` and `--ignore` take them."""
    from pathlib import Path

    from vaultsync.core.text import nfc
    from vaultsync.lint.api import check_vault

    where = Path(root).resolve()
    config = _config(where, config_file, use_cache)
    only = None if paths is None else {nfc(p) for p in paths}
    chosen = _selection(config, select, ignore)
    return check_vault(where, config, chosen, only, use_cache=use_cache).diagnostics


def fix(
    root: StrPath,
    *,
    paths: Iterable[str] | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    unsafe: bool = False,
    force: bool = False,
    create_missing: bool = False,
    dry_run: bool = False,
    config_file: StrPath | None = None,
    use_cache: bool = True,
) -> FixResult:
    """Fix the vault at `root` as `vaultsync fix` does (safe fixes; `unsafe`, `force` and
    `create_missing` as its options) and return what changed, what was skipped and the
    problems left. `dry_run`: work the changes out (`FixResult.changes`) but write
    nothing. When the fixes do not settle, `FixResult.converged` is False and nothing was
    written."""
    from pathlib import Path

    from vaultsync.core.text import nfc
    from vaultsync.fixing.fix import FixOptions, fix_vault
    from vaultsync.fixing.neighbours import follow
    from vaultsync.io import writer

    where = Path(root).resolve()
    config = _config(where, config_file, use_cache)
    options = FixOptions(unsafe=unsafe, force=force, create_missing=create_missing, dry_run=dry_run)
    if not dry_run:
        writer.clean_temp_files(where)  # a crashed run's leftovers
    vault = _load(where, config, use_cache)
    chosen = _selection(config, select, ignore)
    only = None if paths is None else {nfc(p) for p in paths}
    result = fix_vault(vault, chosen, only, options)
    if only is not None:
        # Notes outside the given ones whose backlinks sections must follow their links.
        result = follow(result, chosen, only, options)
    return result


def move(
    root: StrPath,
    old: str,
    new: str,
    *,
    dry_run: bool = False,
    config_file: StrPath | None = None,
    use_cache: bool = True,
) -> tuple[MovePlan, dict[str, str]]:
    """Move the note or attachment `old` to `new` (both vault-relative) and rewrite every
    link to it, as `vaultsync mv` does. Returns the plan (its changes, warnings and the
    number of links rewritten) and the notes that could not be written, with why (an
    edit made meanwhile: compare-and-swap). `dry_run`: only the plan, nothing written.
    A move that cannot be done safely raises vaultsync.fixing.mv.MoveError and changes
    nothing."""
    from pathlib import Path

    from vaultsync.fixing.mv import apply_move, plan_move, vault_path

    where = Path(root).resolve()
    vault = load(where, config_file=config_file, use_cache=use_cache)
    plan = plan_move(vault, vault_path(where, where / old), vault_path(where, where / new))
    if dry_run:
        return plan, {}
    return plan, apply_move(vault, plan)


def _load(root: Path, config: Config, use_cache: bool) -> Vault:
    from vaultsync.lint import engine

    return engine.load(root, config, use_cache=use_cache)


def _config(root: Path, config_file: StrPath | None, use_cache: bool) -> Config:
    from pathlib import Path

    from vaultsync.config.settings import load_config

    explicit = None if config_file is None else Path(config_file)
    return load_config(root, explicit, use_cache)


def _selection(config: Config, select: Iterable[str], ignore: Iterable[str]) -> Selection:
    """The config's rules with the caller's selectors, each checked as the CLI does."""
    from vaultsync.rules import Selection, validate_selector

    select, ignore = list(select), list(ignore)
    for selector in [*select, *ignore]:
        validate_selector(selector)  # ValueError naming the selector
    return Selection.for_config(config, select, ignore)
