"""Benchmarks: `make bench` runs every `bench/<name>.py` module's `main()`."""
