"""Which files of the reference solution go into the template.

Git decides what is ignored (``git ls-files --cached --others --exclude-standard``), so the build
sees exactly what a commit would hold; outside a git checkout the ``.gitignore`` files are applied
with pathspec. Caches, virtual environments and run-time output are left out in every case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pathspec

# Never part of a template, whatever the ignore files say.
ALWAYS_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        ".terraform",
        "mlruns",
        "node_modules",
        ".hypothesis",
    }
)
ALWAYS_EXCLUDED_TOP = frozenset({"var"})  # run-time state of the service (SQLite, queue, index)
ALWAYS_EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")


def excluded(rel: PurePosixPath) -> bool:
    if any(part in ALWAYS_EXCLUDED_DIRS or part.endswith(".egg-info") for part in rel.parts[:-1]):
        return True
    if rel.parts and rel.parts[0] in ALWAYS_EXCLUDED_TOP and len(rel.parts) > 1:
        return True
    return rel.name in ALWAYS_EXCLUDED_DIRS or rel.name.endswith(ALWAYS_EXCLUDED_SUFFIXES)


def _git_files(root: Path) -> list[str] | None:
    if shutil.which("git") is None:
        return None
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"], cwd=root, capture_output=True, text=True, timeout=30
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=root,
            capture_output=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return sorted({p for p in listed.stdout.decode("utf-8").split("\0") if p})


def _walk_files(root: Path) -> list[str]:
    specs: list[tuple[PurePosixPath, pathspec.GitIgnoreSpec]] = []
    found = []
    for current, dirs, files in os.walk(root):
        rel_dir = PurePosixPath(Path(current).relative_to(root).as_posix())
        ignore_file = Path(current) / ".gitignore"
        if ignore_file.is_file():
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
            specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))

        def ignored(rel: PurePosixPath, is_dir: bool) -> bool:
            for base, spec in specs:
                if base == PurePosixPath(".") or base in rel.parents:
                    sub = rel.relative_to(base) if base != PurePosixPath(".") else rel
                    if spec.match_file(str(sub) + ("/" if is_dir else "")):
                        return True
            return False

        dirs[:] = sorted(d for d in dirs if not excluded(rel_dir / d / "x") and not ignored(rel_dir / d, True))
        for name in sorted(files):
            rel = rel_dir / name
            if not ignored(rel, False):
                found.append(str(rel))
    return found


def reference_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files under ``root`` that belong in the template, sorted."""
    listed = _git_files(root)
    if listed is None:
        listed = _walk_files(root)
    return sorted(
        p for p in listed if not excluded(PurePosixPath(p)) and ((root / p).is_file() or (root / p).is_symlink())
    )
