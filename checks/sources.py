"""Turn raw bytes into a reviewable SourceFile, or a SkippedFile with a reason.

Bad input must never crash a review and never vanish silently: binaries, empty files and files
over the size cap are skipped with the reason in the report; bytes that are not UTF-8 are decoded
with replacement characters and reviewed, with a notice saying so.
"""

from __future__ import annotations

from checks.config import Config
from checks.context import SourceFile
from checks.model import SkippedFile
from checks.paths import classify

MAX_BYTES = 1_000_000


def prepare(path: str, data: bytes, config: Config) -> SourceFile | SkippedFile:
    if not data.strip():
        return SkippedFile(path, "empty file")
    if len(data) > MAX_BYTES:
        return SkippedFile(
            path, f"file is {len(data):,} bytes, over the {MAX_BYTES:,}-byte limit"
        )
    if b"\x00" in data[:8192]:
        return SkippedFile(path, "binary file (contains NUL bytes)")
    problem: str | None = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        problem = (
            f"not valid UTF-8 (first bad byte at offset {exc.start}); decoded with replacement"
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    kind = classify(
        path,
        migrations=config.paths.migrations,
        tests=config.paths.tests,
        test_support=config.paths.test_support,
        config=config.paths.config,
    )
    return SourceFile(path=path, kind=kind, text=text, decode_problem=problem)
