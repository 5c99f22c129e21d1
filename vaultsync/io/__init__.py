"""Layer 2: the disk: which files make the vault, the atomic writer, state files."""
