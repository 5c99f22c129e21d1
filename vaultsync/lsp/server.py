"""The pygls server: what each LSP message does, over stdio.

Notifications (buffers opened, changed, saved, closed; files changed on disk; workspace
folders) only queue work for the updater's one thread. Requests run on pygls's worker
threads, each waiting for its vault's index and reading it under the live vault's lock.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import from_fs_path, to_fs_path

from vaultsync import __version__
from vaultsync.lsp import (
    actions,
    completion,
    definition,
    doclinks,
    hover,
    logs,
    references,
    rename,
    symbols,
)
from vaultsync.lsp.buffers import Buffers
from vaultsync.lsp.disk import DiskWatcher
from vaultsync.lsp.session import Session
from vaultsync.lsp.updates import Updates
from vaultsync.lsp.vaults import Vaults

log = logging.getLogger("vaultsync.lsp")
F = TypeVar("F", bound=Callable[..., Any])


class _Unreadable:
    """A request whose params do not fit its method: answered with an error."""

    def __init__(self, msg_id: int | str, error: JsonRpcException) -> None:
        self.id = msg_id
        self.error = error


class Protocol(LanguageServerProtocol):
    """pygls's protocol, with two changes.

    - Positions are UTF-16 whatever the client offers (every client must support it):
      the engine's converter counts in UTF-16 (see positions.py).
    - A request whose params cannot be read is answered with InvalidParams; pygls would
      log it and leave the client waiting forever.
    """

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = None
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            msg_id = data.get("id")
            if "method" in data and isinstance(msg_id, int | str) and not isinstance(msg_id, bool):
                return _Unreadable(msg_id, JsonRpcInvalidParams(f"invalid params: {exc.message}"))
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Unreadable):
            log.warning("request %s: params not understood", message.id)
            self._send_response(message.id, None, message.error.to_response_error())
            return
        super().handle_message(message)


def build(verbose: int = 0) -> LanguageServer:
    """The server, its features registered; `serve` runs it."""
    server = LanguageServer(
        "vaultsync",
        __version__,
        text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        protocol_cls=Protocol,
        max_workers=4,
    )
    logs.to_client(server, verbose)
    vaults = Vaults()
    buffers = Buffers()
    updates = Updates(
        vaults, buffers, server.text_document_publish_diagnostics, lambda m: _show(server, m)
    )
    session = Session(vaults, buffers, updates)
    session.warn = lambda message: _show(server, message, types.MessageType.Warning)

    def on_disk(fs_path: str) -> None:
        folder = vaults.holding(fs_path, create=False)
        if folder is None:
            return
        if folder.is_setting(fs_path):
            updates.reload(folder)
            return
        name = folder.on_disk(fs_path)
        if name is not None:
            updates.on_disk(folder, [name])

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        session.client = params.capabilities
        folders = [f.uri for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        elif not folders and params.root_path:
            folders = [from_fs_path(params.root_path) or ""]
        for uri in folders:
            fs_path = to_fs_path(uri)
            if fs_path is not None:
                vaults.add_workspace(fs_path)

    @server.feature(types.INITIALIZED)
    def initialized(params: types.InitializedParams) -> None:
        workspace = session.client.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is not None and watched.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
            )
            server.client_register_capability(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id="vaultsync-files",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=options,
                        )
                    ]
                )
            )
        else:
            updates.watcher = DiskWatcher(on_disk)
            log.info("the client does not report changed files: vaultsync watches them")
        updates.scheduler.start()
        updates.load_new()

    @server.feature(types.SHUTDOWN)
    def shutdown(params: None) -> None:
        updates.scheduler.stop()
        if updates.watcher is not None:
            updates.watcher.stop()

    # --- buffers and files ----------------------------------------------------------------

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        located = vaults.locate(uri)
        if located is None:
            return
        folder, path = located
        buffers.open(uri, folder, path, server.workspace.get_text_document(uri))
        updates.load_new()
        updates.changed(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        if buffers.get(params.text_document.uri) is not None:
            updates.changed(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_DID_SAVE, types.TextDocumentSaveRegistrationOptions(include_text=False)
    )
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        if buffers.get(params.text_document.uri) is not None:
            updates.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        buffer = buffers.close(params.text_document.uri)
        if buffer is not None:
            updates.closed(buffer)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            fs_path = to_fs_path(change.uri)
            if fs_path is not None:
                on_disk(fs_path)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed:
            fs_path = to_fs_path(folder.uri)
            if fs_path is not None:
                vaults.remove_workspace(fs_path)
        for folder in params.event.added:
            fs_path = to_fs_path(folder.uri)
            if fs_path is not None:
                vaults.add_workspace(fs_path)
        updates.load_new()

    # --- requests ---------------------------------------------------------------------------

    def threaded(func: F) -> F:
        threaded_func: F = server.thread()(func)
        return threaded_func

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @threaded
    def on_definition(params: types.DefinitionParams) -> types.Location | None:
        return definition.definition(session, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @threaded
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        return hover.hover(session, params.text_document.uri, params.position)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=["[", "(", "#", "^"]),
    )
    @threaded
    def on_completion(params: types.CompletionParams) -> types.CompletionList | None:
        return completion.complete(session, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @threaded
    def on_references(params: types.ReferenceParams) -> list[types.Location] | None:
        return references.references(
            session, params.text_document.uri, params.position, params.context.include_declaration
        )

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_LINK)
    @threaded
    def on_document_link(params: types.DocumentLinkParams) -> list[types.DocumentLink] | None:
        return doclinks.document_links(session, params.text_document.uri)

    @server.feature(types.WORKSPACE_SYMBOL)
    @threaded
    def on_symbol(params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
        return symbols.symbols(session, params.query)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )
    @threaded
    def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return actions.code_actions(session, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    @threaded
    def on_code_action_resolve(params: types.CodeAction) -> types.CodeAction:
        return actions.resolve(session, params)

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @threaded
    def on_prepare_rename(
        params: types.PrepareRenameParams,
    ) -> types.PrepareRenamePlaceholder | None:
        return rename.prepare(session, params.text_document.uri, params.position)

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    @threaded
    def on_rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
        return rename.rename(session, params.text_document.uri, params.position, params.new_name)

    @server.feature(
        types.WORKSPACE_WILL_RENAME_FILES,
        types.FileOperationRegistrationOptions(
            filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*"))]
        ),
    )
    @threaded
    def on_will_rename(params: types.RenameFilesParams) -> types.WorkspaceEdit | None:
        return rename.will_rename(session, params)

    return server


def _show(
    server: LanguageServer, message: str, kind: types.MessageType = types.MessageType.Error
) -> None:
    log.log(logging.ERROR if kind == types.MessageType.Error else logging.WARNING, message)
    server.window_show_message(types.ShowMessageParams(type=kind, message=message))


def serve(verbose: int = 0) -> int:
    """Serve over stdin/stdout until the client says exit (or closes stdin)."""
    # The protocol gets its own copy of stdout; file descriptor 1 then points at stderr,
    # so nothing else (a stray print, a library's warning) can corrupt the protocol.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server = build(verbose)
    server.start_io(sys.stdin.buffer, protocol_out)
    return 0
