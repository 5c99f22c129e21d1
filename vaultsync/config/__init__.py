"""Layer 4: `.vaultsync.toml`: discovery, the fast reader, the pydantic schema."""
