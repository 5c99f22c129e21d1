"""Layer 5: the vault as a whole: the loaded vault, index and resolution, backlinks, sections."""
