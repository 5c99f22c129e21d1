"""Layer 10: `vaultsync watch`: lifecycle, events, the live vault, the HTTP API."""
