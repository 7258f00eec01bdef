"""What kind of file a path is: its comment syntax (for solution markers) and how to check it still parses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class FileType:
    """``comment``: "hash" (``#`` lines), "markdown" (``<!-- -->``) or None (no markers possible).
    ``syntax``: the parser that must accept the stripped file ("python", "yaml", "json", "hcl",
    "toml", "notebook") or None."""

    comment: str | None
    syntax: str | None = None


HASH_SUFFIXES = {
    ".py": "python",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".tf": "hcl",
    ".tfvars": "hcl",
    ".hcl": "hcl",
    ".toml": "toml",
    ".sh": None,
    ".bash": None,
    ".rego": None,
    ".cfg": None,
    ".ini": None,
    ".conf": None,
    ".env": None,
    ".dockerfile": None,
    ".mk": None,
    ".gitignore": None,
    ".dockerignore": None,
}
HASH_NAMES = {"Dockerfile", "Makefile", "Containerfile", ".env", ".gitignore", ".dockerignore", "CODEOWNERS"}
HASH_PREFIXES = ("Dockerfile.", "Containerfile.", ".env.", "requirements")
MARKDOWN_SUFFIXES = {".md", ".markdown", ".html"}
STRUCTURED_SUFFIXES = {".json": "json", ".ipynb": "notebook"}


def file_type(path: str | PurePosixPath) -> FileType:
    """The file type of ``path`` (by name; unknown files have no comment syntax)."""
    p = PurePosixPath(path)
    name, suffix = p.name, p.suffix.lower()
    if name in HASH_NAMES or name.startswith(HASH_PREFIXES):
        return FileType("hash", None)
    if suffix in HASH_SUFFIXES:
        return FileType("hash", HASH_SUFFIXES[suffix])
    if suffix in MARKDOWN_SUFFIXES:
        return FileType("markdown", None)
    if suffix in STRUCTURED_SUFFIXES:
        return FileType(None, STRUCTURED_SUFFIXES[suffix])
    return FileType(None, None)
