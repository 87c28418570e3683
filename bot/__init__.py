"""Ladder's front ends: the `ladder` CLI and the GitHub App service."""

__version__ = "0.1.0"
