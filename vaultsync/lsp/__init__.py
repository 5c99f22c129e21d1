"""`vaultsync lsp`: the vault engine behind the Language Server Protocol (design §9b).

The server (pygls, over stdio) keeps one live index per vault, the daemon's
(`live.LiveVault`), with each open buffer's unsaved text standing in for its file, and
answers every request with the functions the CLI and the daemon use: the same
resolver, rules, fixes and `mv` planner. Nothing here is imported by other commands.
"""
