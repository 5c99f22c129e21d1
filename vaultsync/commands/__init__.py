"""Subcommands of the `vaultsync` CLI, one module each."""
