"""Benchmark harness: data generator, bare reference app and runner (see README.md)."""
