"""Ladder's reviewers: pure functions from parsed Elixir files to findings.

This package never imports `bot`, aiohttp or gidgethub (tests/test_architecture.py enforces it),
so the same rules serve the CLI, the GitHub App and the tests.
"""
