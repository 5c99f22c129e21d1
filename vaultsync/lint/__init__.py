"""Layer 8: checking a vault (engine.py) and its strategies and speed machinery (only here)."""
