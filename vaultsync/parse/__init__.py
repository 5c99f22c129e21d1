"""Layer 3: one note's text to a ParsedNote: scanner, frontmatter and YAML, links, markers."""
