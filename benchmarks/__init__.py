"""vaultsync benchmarks (not part of the default test run; see README.md)."""
