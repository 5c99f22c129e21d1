"""Workspace symbols: the notes and headings of every vault, by name."""

from __future__ import annotations

from typing import NamedTuple

from lsprotocol import types

from vaultsync.lsp.matching import Query
from vaultsync.lsp.session import Session
from vaultsync.lsp.vaults import Folder

MAX_SYMBOLS = 200


class _Found(NamedTuple):
    rank: int
    name: str
    path: str
    line: int  # 1-based line of a heading; 0 for a note
    folder: Folder


def symbols(session: Session, query: str) -> list[types.SymbolInformation]:
    wanted = Query(query)
    found: list[_Found] = []
    for folder in session.folders():
        live = folder.live
        if live is None:
            continue
        with live.lock:
            for path, entry in live.vault.notes.items():
                rank = wanted.rank(entry.name)
                if rank is not None:
                    found.append(_Found(rank, entry.name, path, 0, folder))
                if entry.parsed is None:
                    continue
                for heading in entry.parsed.headings:
                    rank = wanted.rank(heading.text)
                    if rank is not None:
                        found.append(_Found(rank, heading.text, path, heading.span.line, folder))
    found.sort(key=lambda f: (f.rank, len(f.name), f.name.casefold(), f.path, f.line))
    result = []
    for hit in found[:MAX_SYMBOLS]:
        # A heading's line starts with blanks and `#`s: character 0 is exact in any encoding.
        start = types.Position(line=max(hit.line - 1, 0), character=0)
        result.append(
            types.SymbolInformation(
                name=hit.name,
                kind=types.SymbolKind.String if hit.line else types.SymbolKind.File,
                location=types.Location(
                    uri=hit.folder.uri(hit.path), range=types.Range(start=start, end=start)
                ),
                container_name=hit.path,
            )
        )
    return result
