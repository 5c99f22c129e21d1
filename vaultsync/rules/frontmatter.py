"""Frontmatter rules F001-F006 (filled in by the frontmatter work)."""
