"""vaultsync's log lines go to the client's log (`window/logMessage`), never to stdout,
which carries the protocol."""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

_TYPES = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class ClientLog(logging.Handler):
    def __init__(self, server: LanguageServer) -> None:
        super().__init__()
        self.server = server
        self.setFormatter(logging.Formatter("vaultsync: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            kind = next(
                (t for level, t in _TYPES.items() if record.levelno >= level),
                types.MessageType.Log,
            )
            self.server.window_log_message(
                types.LogMessageParams(type=kind, message=self.format(record))
            )
        except Exception:
            self.handleError(record)


def to_client(server: LanguageServer, verbose: int) -> None:
    handler = ClientLog(server)
    logger = logging.getLogger("vaultsync")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
