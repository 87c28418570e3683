"""`python -m bot` is the same as the `ladder` command."""

from bot.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    raise SystemExit(main())
