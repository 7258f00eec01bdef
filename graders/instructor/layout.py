"""The kit's folders and the build's result: the data the build, its output and the renderers share."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]


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
