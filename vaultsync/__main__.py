from __future__ import annotations

from vaultsync.cli import main

raise SystemExit(main())
