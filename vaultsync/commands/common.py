"""Options and set-up shared by the commands that lint (`check`, `fix`)."""

from __future__ import annotations

import argparse
import io
import os
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from vaultsync.config.settings import Config, find_root, load_config
from vaultsync.core.errors import ReportWriteError, UsageError
from vaultsync.rules import Selection, validate_selector

if TYPE_CHECKING:
    from vaultsync.core.model import Diagnostic
    from vaultsync.lint.api import ReportSubject
    from vaultsync.lint.engine import Listing
    from vaultsync.output.baseline import Entry
    from vaultsync.vault.loaded import Vault


def _selectors(text: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    for item in items:
        try:
            validate_selector(item)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    return items


def add_vault_options(
    parser: argparse.ArgumentParser, quiet: str = "print diagnostics only"
) -> None:
    """`--config`, `--no-cache`, `-q` (`quiet`: what it does for this command) and `-v`."""
    parser.add_argument("--config", type=Path, metavar="FILE", help="use this config file")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more output")


def add_root_option(parser: argparse.ArgumentParser) -> None:
    """`--vault DIR`: the vault root, when it is not to be found from the paths (§1)."""
    parser.add_argument(
        "--vault",
        dest="vault_root",
        type=Path,
        metavar="DIR",
        help="the vault's root folder (default: the nearest folder upward holding "
        ".vaultsync.toml or .obsidian/, else the top of the git work tree)",
    )


def add_lint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="vault, folder or notes"
    )
    add_root_option(parser)
    parser.add_argument(
        "--select",
        type=_selectors,
        action="extend",
        default=[],
        metavar="RULES",
        help="codes, prefixes or names to enable (comma-separated)",
    )
    parser.add_argument(
        "--ignore",
        type=_selectors,
        action="extend",
        default=[],
        metavar="RULES",
        help="codes, prefixes or names to disable (comma-separated)",
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even with problems")
    parser.add_argument(
        "--statistics",
        action="store_true",
        help="print only a table of the problems per rule (text format only)",
    )
    add_vault_options(parser)


@dataclass(frozen=True, slots=True)
class Target:
    root: Path
    config: Config
    only: set[str] | None  # vault-relative note paths to report on; None: all


def vault_root(start: Path | None, given: Path | None) -> Path:
    """The vault root (§1): `given` (`--vault DIR`), else the vault holding `start` (the
    first path on the command line; None: the working folder), else `start` itself when
    it is a folder. A note with no vault around it is a usage error, never a guess."""
    if given is not None:
        if not given.is_dir():
            raise UsageError(f"{given}: --vault names no folder")
        return given.resolve()
    path = Path.cwd() if start is None else start
    found = find_root(path)
    if found is not None:
        return found
    if path.is_dir():
        return path.resolve()
    raise UsageError(
        f"{start}: no vault around this note (no .vaultsync.toml or .obsidian/ above it, "
        "not in a git work tree); name it with --vault DIR, or run `vaultsync init DIR`"
    )


def resolve_target(
    paths: list[Path],
    config_file: Path | None,
    use_cache: bool = True,
    vault: Path | None = None,
) -> Target:
    """Find the vault root and config for the given paths (like ruff finds its config);
    `vault`: the root named by `--vault`."""
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    root = vault_root(paths[0] if paths else None, vault)
    config = load_config(root, config_file, use_cache)
    if not paths or any(p.resolve() == root for p in paths):
        return Target(root, config, None)
    only: set[str] = set()
    for path in paths:
        absolute = path.resolve()
        try:
            rel = absolute.relative_to(root)
        except ValueError:
            raise UsageError(f"{path}: outside the vault at {root}") from None
        rel_text = unicodedata.normalize("NFC", str(rel).replace(os.sep, "/"))
        if absolute.is_dir():
            only.update(_notes_under(root, absolute))
        else:
            only.add(rel_text)
    return Target(root, config, only)


def _notes_under(root: Path, folder: Path) -> set[str]:
    # Walk the folder as it is on disk: its NFC spelling may not exist (NFD names).
    found: set[str] = set()
    for dirpath, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in names:
            if name.lower().endswith(".md"):
                found.add(unicodedata.normalize("NFC", f"{rel}/{name}" if rel != "." else name))
    return found


def selection(args: argparse.Namespace, config: Config) -> Selection:
    return Selection.for_config(config, args.select, args.ignore)


# --- Report output, shared by `check` and `fix` -------------------------------------------

FORMATS = ("text", "json", "github", "sarif")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """`--format`, `--output`, `--baseline`, `--write-baseline`."""
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE, not stdout"
    )
    parser.add_argument(
        "--baseline", type=Path, metavar="FILE", help="report only problems not recorded in FILE"
    )
    parser.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record the problems found in FILE (a baseline) and exit 0",
    )


def check_output_options(args: argparse.Namespace) -> None:
    """Refuse options that do not go together, before any work."""
    if args.statistics and args.format != "text":
        raise UsageError(
            f"--statistics prints a text table; it does not combine with --format {args.format}"
        )


def read_baseline(args: argparse.Namespace) -> frozenset[Entry] | None:
    """The baseline named by `--baseline`, read before any work so a bad one fails fast."""
    if getattr(args, "baseline", None) is None:
        return None
    from vaultsync.output import baseline

    known: frozenset[Entry] = baseline.load(args.baseline)
    return known


def write_baseline(args: argparse.Namespace, diagnostics: list[Diagnostic]) -> None:
    from vaultsync.output import baseline

    baseline.write(args.write_baseline, diagnostics)
    if not args.quiet:
        count = len(diagnostics)
        noun = "problem" if count == 1 else "problems"
        print(f"Recorded {count} {noun} in {args.write_baseline}.", file=sys.stderr)


def without_baseline(
    diagnostics: list[Diagnostic], known: frozenset[Entry] | None
) -> list[Diagnostic]:
    if known is None:
        return diagnostics
    from vaultsync.output import baseline

    return baseline.new_problems(diagnostics, known)


def render_report(
    out: TextIO,
    args: argparse.Namespace,
    vault: ReportSubject,
    diagnostics: list[Diagnostic],
    hidden: int,
) -> None:
    from vaultsync.output import report

    fmt = getattr(args, "format", "text")
    if fmt == "json":
        report.write_json(out, str(vault.root), len(vault.notes), diagnostics)
        return
    if fmt == "sarif":
        from vaultsync.output.sarif import write_sarif

        write_sarif(out, vault.root, diagnostics)
        return
    if fmt == "github":
        from vaultsync.output.github import write_github

        write_github(out, vault.root, diagnostics)
    elif args.statistics:  # the table instead of the report, as ruff has it
        report.write_statistics(out, diagnostics)
    else:
        report.write_text(out, diagnostics, quiet=args.quiet)
        if hidden and not args.quiet:
            noun = "problem" if hidden == 1 else "problems"
            out.write(f"{hidden} known {noun} hidden by the baseline {args.baseline}.\n")


# How much of a report is gathered before it is passed on to an unbuffered stdout.
_BATCH_CHARS = 1 << 16


class _Batched(io.StringIO):
    """Text passed on to `target` some 64 KiB at a time.

    With PYTHONUNBUFFERED set, as in many containers and CI images, stdout makes a
    system call of every write, and a report is written line by line: 168,000 calls for
    the 100,000-note benchmark vault, each waking whatever reads the pipe.
    """

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target

    def write(self, text: str) -> int:
        if len(text) >= _BATCH_CHARS:
            # A piece this size (the other half's report lines, tens of MB at 100,000
            # notes) goes on as it is: gathered, it would be held twice more.
            self.pass_on()
            self._target.write(text)
            return len(text)
        written = super().write(text)
        if self.tell() >= _BATCH_CHARS:
            self.pass_on()
        return written

    def pass_on(self) -> None:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        if text:
            self._target.write(text)


@contextmanager
def report_stream(args: argparse.Namespace) -> Iterator[TextIO]:
    """stdout, or a buffer written to `--output FILE` once the report is complete."""
    output: Path | None = getattr(args, "output", None)
    if output is None:
        stdout = sys.stdout
        try:
            if not getattr(stdout, "write_through", False):
                yield stdout  # buffered already (or not a real stream: a test's capture)
            else:
                batched = _Batched(stdout)
                try:
                    yield batched
                finally:
                    batched.pass_on()  # what was written before an error is still shown
            stdout.flush()  # a full disk shows here, as one line, not after exit
        except BrokenPipeError:
            raise  # the reader went away (`| head`): not an error to report
        except OSError as exc:
            # Only the report is written in this block, so the error is stdout's.
            raise ReportWriteError(exc.strerror or str(exc)) from None
        return
    buffer = io.StringIO()
    yield buffer
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write report: {exc.strerror or exc}") from exc


def write_encoded_report(args: argparse.Namespace, data: bytes) -> None:
    """A whole report already encoded as UTF-8 (a cached one), written as it is where
    stdout takes bytes: decoding it only to encode it again was a third of a warm graph."""
    binary = getattr(sys.stdout, "buffer", None)
    if getattr(args, "output", None) is not None or binary is None:
        with report_stream(args) as out:
            out.write(data.decode("utf-8", "surrogatepass"))
        return
    try:
        sys.stdout.flush()
        binary.write(data)
        binary.flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): not an error to report
    except OSError as exc:
        raise ReportWriteError(exc.strerror or str(exc)) from None


def load_vault(
    target: Target, quiet: bool, use_cache: bool = True, listing: Listing | None = None
) -> Vault:
    """engine.load with a progress bar where a person is watching."""
    from vaultsync.lint import engine
    from vaultsync.output import progress

    with progress.loading(quiet) as on_progress:
        return engine.load(
            target.root, target.config, on_progress, use_cache=use_cache, listing=listing
        )
