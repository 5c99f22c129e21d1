from __future__ import annotations

from vaultsync.cli import entry

entry()
