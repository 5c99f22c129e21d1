"""The daemon's local HTTP API (§9); imported only by `vaultsync watch`."""
