"""Layer 7: rendering diagnostics: text, json, SARIF, GitHub, graph, baseline, diffs."""
