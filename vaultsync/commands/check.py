"""Check a vault (or some of its notes) and report problems: the arguments, one call to
lint.api.check_vault (which picks the strategy), and the report."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from vaultsync.commands.common import (
    add_lint_options,
    add_output_options,
    check_output_options,
    read_baseline,
    render_report,
    report_stream,
    resolve_target,
    selection,
    without_baseline,
    write_baseline,
)
from vaultsync.core.model import Severity
from vaultsync.lint.api import Report, check_vault


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lint_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    check_output_options(args)
    target = resolve_target(
        args.paths, args.config, use_cache=not args.no_cache, vault=args.vault_root
    )
    known = read_baseline(args)
    chosen = selection(args, target.config)
    # A report depends on nothing but the diagnostics and these options; with a baseline
    # (whose file may change) or --write-baseline it is always made afresh.
    key = None
    if known is None and args.write_baseline is None:
        key = repr((args.format, args.quiet, args.statistics, str(Path.cwd())))
    wanted = Report(
        key, args.format == "text" and not args.statistics, args.quiet, args.format == "json"
    )
    result = check_vault(
        target.root,
        target.config,
        chosen,
        target.only,
        use_cache=not args.no_cache,
        report=wanted,
    )
    if result.pieces is not None:  # the cache or a strategy made the report itself
        with report_stream(args) as out:
            out.writelines(result.pieces)
        result.keep(result.pieces, result.worst)
        return _exit_code(args, target.config.fail_on, result.worst)
    diagnostics = result.diagnostics
    if args.write_baseline is not None:
        write_baseline(args, diagnostics)
        return 0
    shown = without_baseline(diagnostics, known)
    worst = max((int(d.severity) for d in shown), default=-1)
    buffer = io.StringIO()
    render_report(buffer, args, result.subject, shown, hidden=len(diagnostics) - len(shown))
    text = buffer.getvalue()
    with report_stream(args) as out:
        out.write(text)
    result.keep(text, worst)
    return _exit_code(args, target.config.fail_on, worst)


def _exit_code(args: argparse.Namespace, fail_on: str, worst: int) -> int:
    """1 when a problem shown is at or above `fail-on`, unless --exit-zero."""
    if args.exit_zero:
        return 0
    return 1 if worst >= Severity.parse(fail_on) else 0
