"""Loaders for public formats and our capture format, synthetic generators, and splits."""
