"""Layer 1: immutable records, errors and text helpers every layer shares (docs/architecture.md)."""
