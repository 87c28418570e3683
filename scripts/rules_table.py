"""Print (or write into README.md) the table of every rule, from the registry itself.

    python scripts/rules_table.py            # print the Markdown table
    python scripts/rules_table.py --write    # replace the table between the README markers

tests/test_readme.py fails when the README's table and the registry disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from checks.model import LEVEL_TITLES
from checks.registry import all_rules

START, END = "<!-- rules:start -->", "<!-- rules:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def table() -> str:
    rows = ["| Rule | Level | Severity | What it flags | Overlaps |", "|---|---|---|---|---|"]
    for rule in all_rules():
        overlap = ", ".join(
            [
                *(f"credo {c}" for c in rule.credo),
                *(f"sobelow {s}" for s in rule.sobelow),
                *(f"excellent_migrations `{e}`" for e in rule.excellent_migrations),
            ]
        )
        title = rule.title.replace("|", "\\|")
        level = f"L{rule.level} {LEVEL_TITLES[rule.level]}"
        rows.append(f"| `{rule.id}` | {level} | {rule.severity.value} | {title} | {overlap} |")
    return "\n".join(rows)


def replace_table(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main() -> None:
    if "--write" in sys.argv:
        README.write_text(replace_table(README.read_text()))
    else:
        print(table())


if __name__ == "__main__":
    main()
