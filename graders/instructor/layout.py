"""The kit's folders and the build's result: the data the build, its output and the renderers share."""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

# The checkout this package was installed from (editable install); `find_kit` prefers the one around the
# current folder, so an instructor with two checkouts builds the one they stand in.
KIT_ROOT = Path(__file__).resolve().parents[2]
KIT_PROJECT_NAME = "capstone-kit"
_PROJECT_NAME = re.compile(r'^name\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


def _project_name(pyproject: Path) -> str | None:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if tomllib is None:
        match = _PROJECT_NAME.search(text)
        return match.group(1) if match else None
    try:
        name = tomllib.loads(text).get("project", {}).get("name")
    except tomllib.TOMLDecodeError:
        return None
    return name if isinstance(name, str) else None


def is_kit(folder: Path) -> bool:
    """A checkout of this kit: pyproject.toml naming capstone-kit, with reference_solution/ and labs/."""
    return (
        (folder / "reference_solution").is_dir()
        and (folder / "labs").is_dir()
        and _project_name(folder / "pyproject.toml") == KIT_PROJECT_NAME
    )


def find_kit(start: Path) -> Path | None:
    """The kit checkout that contains ``start`` (the nearest one at or above it), or None."""
    here = start.absolute().resolve()
    return next((folder for folder in [here, *here.parents] if is_kit(folder)), None)


def locate_kit(start: Path | None = None) -> tuple[Path | None, str]:
    """The kit checkout the instructor commands act on, and why that one (for the line they print).

    The checkout around ``start`` (default: the current folder), else the one this package was
    installed from; None when neither is a kit checkout (an installed wheel outside a checkout).
    """
    around = find_kit(start if start is not None else Path.cwd())
    if around is not None:
        return around, "contains the current folder"
    if is_kit(KIT_ROOT):
        return KIT_ROOT, "capstone is installed from it; the current folder is in no kit checkout"
    return None, "the current folder is in no kit checkout, and capstone is not installed from one"


class BuildError(Exception):
    """The build cannot produce a template; each line names a file (and line) and the fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KitPaths:
    root: Path

    @property
    def reference(self) -> Path:
        return self.root / "reference_solution"

    @property
    def template(self) -> Path:
        return self.root / "template"

    @property
    def hooks(self) -> Path:
        return self.root / "hooks"

    @property
    def labs(self) -> Path:
        return self.root / "labs"

    @property
    def copier_yml(self) -> Path:
        return self.root / "copier.yml"


@dataclass(frozen=True)
class OutFile:
    content: bytes
    executable: bool = False


@dataclass
class BuildResult:
    """The template tree (paths relative to ``template/``), copier.yml and the reference's generated files."""

    files: dict[str, OutFile]
    copier_yml: str
    generated_reference: dict[str, str]
    rendered: list[str] = field(default_factory=list)  # payload files that hold variables
    warnings: list[str] = field(default_factory=list)  # problems that do not stop the build


def is_executable(path: Path) -> bool:
    return path.is_file() and bool(path.stat().st_mode & stat.S_IXUSR)
