"""Safe, read-only access to a student's submission.

The submission is data, never code: every read goes through :class:`Submission`, which keeps paths
inside the submission (no ``..``, no symlinks that leave it), caps file sizes before reading, and
turns undecodable text, broken YAML/JSON and alias bombs into :class:`SubmissionFileError`, whose
message names the file and the fix. The engine reports that error as the failing check's feedback.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from graders.sdk import safe_yaml

DEFAULT_MAX_BYTES = 2_000_000
# Folders that hold tool output or environments, never graded content.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".terraform",
        "mlruns",
        ".ipynb_checkpoints",
        ".tox",
        ".nox",
        "build",
        "dist",
    }
)
MAX_WALK_FILES = 20_000


class SubmissionFileError(Exception):
    """A file in the submission cannot be used as it is; the message tells the student what to fix."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line

    @property
    def location(self) -> str | None:
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line else self.path


class Submission:
    """A student's capstone repository, opened read-only."""

    def __init__(self, root: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).absolute()
        self._real_root = Path(os.path.realpath(self.root))
        self.max_bytes = max_bytes
        # Parsed files are cached per Submission: several checks read the same compose file.
        self._cache: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        return f"Submission({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------------------
    def _relative(self, rel: str | Path) -> str:
        text = str(rel).replace("\\", "/")
        if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
            raise SubmissionFileError(f"{text}: expected a path inside the repository, got an absolute path", text)
        parts = [p for p in text.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise SubmissionFileError(f"{text}: paths may not leave the repository with '..'", text)
        return "/".join(parts)

    def path(self, rel: str | Path) -> Path:
        """Absolute path of ``rel``, refusing anything that resolves outside the submission."""
        clean = self._relative(rel)
        candidate = self.root / clean
        real = Path(os.path.realpath(candidate))
        if real != self._real_root and self._real_root not in real.parents:
            raise SubmissionFileError(
                f"{clean} is a symbolic link to {real}, outside the repository; commit the file itself "
                "instead of a link to it",
                clean,
            )
        return candidate

    def exists(self, rel: str | Path) -> bool:
        try:
            return self.path(rel).exists()
        except SubmissionFileError:
            return False

    def is_file(self, rel: str | Path) -> bool:
        try:
            return self.path(rel).is_file()
        except SubmissionFileError:
            return False

    def location(self, rel: str, line: int | None = None) -> str:
        return f"{rel}:{line}" if line else rel

    # -- reading ---------------------------------------------------------------------------
    def read_bytes(self, rel: str | Path, max_bytes: int | None = None) -> bytes:
        clean = self._relative(rel)
        p = self.path(clean)
        limit = max_bytes or self.max_bytes
        if not p.exists():
            raise SubmissionFileError(f"{clean} is missing: create it (see the lab's deliverables)", clean)
        if p.is_dir():
            raise SubmissionFileError(f"{clean} is a folder, but a file was expected", clean)
        if not p.is_file():
            raise SubmissionFileError(f"{clean} is not a regular file", clean)
        size = p.stat().st_size
        if size > limit:
            raise SubmissionFileError(
                f"{clean} is {size / 1e6:.1f} MB, over the grader's limit of {limit / 1e6:.1f} MB for this file; "
                "keep large data out of the repository (DVC or Cloud Storage)",
                clean,
            )
        with p.open("rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:  # the file grew while we read it
            raise SubmissionFileError(f"{clean} is over the grader's size limit", clean)
        return data

    def read_text(self, rel: str | Path, max_bytes: int | None = None) -> str:
        clean = self._relative(rel)
        key = ("text", clean)
        if key in self._cache and max_bytes is None:
            cached: str = self._cache[key]
            return cached
        data = self.read_bytes(clean, max_bytes)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise SubmissionFileError(
                f"{clean}:{line} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "re-save the file with UTF-8 encoding",
                clean,
                line,
            ) from None
        if "\x00" in text:
            raise SubmissionFileError(f"{clean} contains NUL bytes: it looks binary, but text was expected", clean)
        if max_bytes is None:
            self._cache[key] = text
        return text

    def read_lines(self, rel: str | Path) -> list[str]:
        return self.read_text(rel).splitlines()

    def load_yaml(self, rel: str | Path) -> Any:
        """One YAML document; syntax errors and alias bombs become SubmissionFileError with file:line."""
        clean = self._relative(rel)
        key = ("yaml", clean)
        if key not in self._cache:
            self._cache[key] = self._parse_yaml(clean, all_docs=False)
        return self._cache[key]

    def load_yaml_all(self, rel: str | Path) -> list[Any]:
        clean = self._relative(rel)
        key = ("yaml_all", clean)
        if key not in self._cache:
            self._cache[key] = self._parse_yaml(clean, all_docs=True)
        docs: list[Any] = self._cache[key]
        return docs

    def _parse_yaml(self, clean: str, all_docs: bool) -> Any:
        text = self.read_text(clean)
        try:
            return safe_yaml.load_all(text, clean) if all_docs else safe_yaml.load(text, clean)
        except safe_yaml.ERRORS as exc:
            message, line = safe_yaml.explain(exc, clean)
            raise SubmissionFileError(message, clean, line) from None

    def yaml_line(self, rel: str | Path, path: list[str | int]) -> int | None:
        """Line of a key path in a YAML file (for ``file:line`` feedback); None when unknown."""
        clean = self._relative(rel)
        try:
            node = safe_yaml.compose(self.read_text(clean), clean)
        except (yaml.YAMLError, SubmissionFileError, ValueError):
            return None
        return safe_yaml.line_of(node, path)

    def load_json(self, rel: str | Path) -> Any:
        clean = self._relative(rel)
        key = ("json", clean)
        if key not in self._cache:
            text = self.read_text(clean)
            try:
                self._cache[key] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SubmissionFileError(
                    f"{clean}:{exc.lineno} is not valid JSON ({exc.msg} at column {exc.colno})", clean, exc.lineno
                ) from None
            except RecursionError:
                raise SubmissionFileError(f"{clean} is nested too deeply to be read", clean) from None
        return self._cache[key]

    def find_line(self, rel: str | Path, needle: str) -> int | None:
        """First 1-based line containing ``needle`` (for feedback locations)."""
        try:
            for number, line in enumerate(self.read_lines(rel), start=1):
                if needle in line:
                    return number
        except SubmissionFileError:
            return None
        return None

    # -- listing ---------------------------------------------------------------------------
    def walk(self, under: str = "") -> Iterator[str]:
        """Relative paths of regular files under ``under`` (sorted, tool folders skipped, links kept inside)."""
        start = self.path(under) if under else self.root
        if not start.is_dir():
            return
        count = 0
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(self.root).as_posix()
                if full.is_symlink():
                    real = Path(os.path.realpath(full))
                    if self._real_root not in real.parents:
                        continue
                count += 1
                if count > MAX_WALK_FILES:
                    raise SubmissionFileError(
                        f"the repository has more than {MAX_WALK_FILES:,} files under '{under or '.'}'; "
                        "remove generated files and environments from it"
                    )
                yield rel

    def glob(self, pattern: str, under: str = "") -> list[str]:
        """Relative paths matching a glob pattern (``**`` crosses folders), e.g. ``k8s/**/*.yaml``."""
        return [p for p in self.walk(under) if _glob_match(p, pattern)]

    def copy_folder_to(self, under: str, dest: Path) -> Path:
        """Copy the files under one folder (e.g. ``scripts``) into ``dest``, read through the size cap.

        Student programs run there, never in the submission: what they write cannot touch the student's files.
        """
        for rel in self.walk(under):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_bytes(rel))
        return dest

    def copy_to(self, dest: Path, ignore: frozenset[str] = IGNORED_DIRS) -> Path:
        """Copy the submission into ``dest`` (a scratch copy that student programs may write to).

        Symbolic links that point outside the submission are not copied.
        """
        real_root = self._real_root

        def _ignore(directory: str, names: list[str]) -> set[str]:
            skipped = {n for n in names if n in ignore}
            for n in names:
                full = Path(directory) / n
                if full.is_symlink():
                    real = Path(os.path.realpath(full))
                    if real != real_root and real_root not in real.parents:
                        skipped.add(n)
            return skipped

        shutil.copytree(self.root, dest, symlinks=True, ignore=_ignore, dirs_exist_ok=True)
        return dest


def _glob_match(path: str, pattern: str) -> bool:
    # docker-py's translation of moby's patterns: ``*`` and ``?`` stay in one folder, ``**`` spans
    # folders. Imported here: the ``docker`` package costs about 0.2 s to import, paid only by a glob.
    from docker.utils.fnmatch import fnmatchcase

    return bool(fnmatchcase(path, pattern))
