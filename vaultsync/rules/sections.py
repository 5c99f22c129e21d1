"""Generated-section rules S001-S004 (filled in by the sections work)."""
