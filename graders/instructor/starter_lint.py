"""Keep stripped Python lint-clean with ruff itself, under the reference solution's own ruff settings.

Stripping a solution leaves names only the solution used: imports (F401), locals (F841). Ruff adds
``# noqa`` directives for what stripping broke (the reference itself is lint-clean: the kit's lint
checks it), so the imports and variables stay as hints for the student, and ruff's RUF100 tells them
to drop a directive once they use the name. Then ruff removes the directives that only the solution
needed. Running the real linter keeps the starter exactly as clean as the student's ``make lint``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml")


class StarterLintError(Exception):
    """Ruff could not run over the starter files."""


def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped,unused-ignore]

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
        if found is None:
            raise StarterLintError("ruff is needed to build the template: install the kit's dev extras") from None
        return found


def _ruff(args: list[str], cwd: Path) -> None:
    result = subprocess.run(
        [ruff_binary(), "check", "--no-cache", "--quiet", "--exit-zero", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise StarterLintError(f"ruff failed ({' '.join(args[:4])} ...): {result.stderr.strip()[-500:]}")


def lint_starters(files: dict[str, str], reference: Path) -> dict[str, str]:
    """``files`` (relative path -> stripped Python) after ruff's noqa additions and removals."""
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="capstone-starter-lint-") as tmp:
        root = Path(tmp)
        for name in CONFIG_FILES:
            if (reference / name).is_file():
                shutil.copy2(reference / name, root / name)
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        paths = sorted(files)
        _ruff(["--add-noqa", *paths], root)
        _ruff(["--extend-select", "RUF100", "--fixable", "RUF100", "--fix", *paths], root)
        return {rel: (root / rel).read_text(encoding="utf-8") for rel in files}
