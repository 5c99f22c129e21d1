"""Layer 9: changing notes: the fix loop, mv, backlinks around fixed notes."""
