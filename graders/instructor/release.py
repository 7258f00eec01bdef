"""Where students' repositories install the graders from: the kit's repository at this release's tag.

The Classroom workflow and ``make grade`` of a generated repository install exactly this requirement
into an environment of their own, so a course release and its graders move together. Version and
repository URL are read from the kit checkout's own ``pyproject.toml`` (``version``, ``[project.urls]
Repository``), not from installed package metadata: the build renders what the checkout says, so a
URL set there counts at the next ``capstone build`` without a reinstall, and the template committed at
tag ``vX`` names ``vX``. ``release_problems`` is what makes that true: a build of a tagged checkout
whose tag, version or URL disagree is refused.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from graders import __version__
from graders.instructor.layout import KIT_ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DISTRIBUTION = "capstone-kit"
REFERENCE_DISTRIBUTION = "manufacturing-copilot"  # reference_solution/pyproject.toml: the students' dependency set
PYPROJECT = "pyproject.toml"
VERSION_FILE = "graders/__init__.py"
# Used until the kit's pyproject.toml names its repository under [project.urls] (key "Repository").
PLACEHOLDER_REPOSITORY = "https://github.com/your-course-org/capstone-kit"
# What pip's ``git+URL@TAG`` requirements accept: a forge over https or ssh, or a local mirror (file://,
# e.g. a course team's offline copy of the kit).
PIP_GIT_SCHEMES = ("https://", "ssh://", "file://")
URL_KEYS = ("repository", "source", "source code")
EXAMPLE_URL = 'Repository = "https://github.com/<org>/<kit>"'
# The checkout being built: the generated files (Classroom workflow, pin, student README) that call the
# functions below without a kit root name the release of the kit `capstone build` is building.
_BUILDING: ContextVar[Path] = ContextVar("building_kit", default=KIT_ROOT)


@contextlib.contextmanager
def building(kit_root: Path) -> Iterator[None]:
    """Within this block, the release functions read ``kit_root`` by default."""
    token = _BUILDING.set(kit_root)
    try:
        yield
    finally:
        _BUILDING.reset(token)


@dataclass(frozen=True)
class KitRelease:
    """The kit's version and repository as its checkout declares them."""

    version: str
    repository: str

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def placeholder(self) -> bool:
        return self.repository == PLACEHOLDER_REPOSITORY

    @property
    def requirement(self) -> str:
        """The pip requirement of the graders at this release, e.g. ``capstone-kit @ git+https://...@v0.1.0``."""
        return f"{DISTRIBUTION} @ git+{self.repository}@{self.tag}"

    @property
    def student_requirement(self) -> str:
        """The students' dependency set at this release: the reference solution's package, from the same tag."""
        return f"{REFERENCE_DISTRIBUTION}[dev] @ git+{self.repository}@{self.tag}#subdirectory=reference_solution"


def _project(kit_root: Path) -> dict[str, object]:
    path = kit_root / PYPROJECT
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    project = data.get("project")
    return project if isinstance(project, dict) else {}


def read_release(kit_root: Path | None = None) -> KitRelease:
    """Version and repository URL from ``kit_root/pyproject.toml`` (package version, placeholder URL when unset)."""
    project = _project(kit_root or _BUILDING.get())
    version = str(project.get("version") or __version__)
    urls = project.get("urls")
    repository = PLACEHOLDER_REPOSITORY
    if isinstance(urls, dict):
        for label, url in urls.items():
            if str(label).strip().lower() in URL_KEYS and str(url).strip():
                repository = str(url).strip().removesuffix("/").removesuffix(".git")
                break
    return KitRelease(version, repository)


def kit_repository(kit_root: Path | None = None) -> str:
    return read_release(kit_root).repository


def release_tag(version: str | None = None, kit_root: Path | None = None) -> str:
    return f"v{version}" if version else read_release(kit_root).tag


def student_requirement(kit_root: Path | None = None) -> str:
    """The pip requirement of the students' environment at this release (what their `make setup` installs)."""
    return read_release(kit_root).student_requirement


def grader_requirement(version: str | None = None, kit_root: Path | None = None) -> str:
    """The pip requirement of the graders pinned to this release (``version`` overrides the checkout's)."""
    release = read_release(kit_root)
    return KitRelease(version or release.version, release.repository).requirement


def head_release_tags(kit_root: Path) -> list[str]:
    """The ``v*`` tags on the checkout's HEAD (empty when untagged or not a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "tag", "--points-at", "HEAD", "--list", "v*"],
            cwd=kit_root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(listed.stdout.split()) if listed.returncode == 0 else []


def _package_version(kit_root: Path) -> str | None:
    """``__version__`` as written in the checkout's graders/__init__.py (None when absent)."""
    try:
        text = (kit_root / VERSION_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"""(?m)^__version__\s*=\s*["']([^"']+)["']""", text)
    return found.group(1) if found else None


def release_problems(kit_root: Path | None = None) -> tuple[list[str], list[str]]:
    """(problems that refuse the build, warnings) for the checkout at ``kit_root``.

    A checkout whose HEAD carries a ``v*`` tag is a release: its tag must be ``v{version}`` and its
    repository URL must be set, since every student repository rendered from it installs the graders
    from exactly that URL and tag. An untagged checkout only warns about the placeholder URL.
    """
    kit_root = kit_root or _BUILDING.get()
    release = read_release(kit_root)
    tags = head_release_tags(kit_root)
    set_url = (
        f"set [project.urls] {EXAMPLE_URL} in {PYPROJECT} (the kit's own git repository, which students' "
        "repositories install the graders from)"
    )
    if not tags:
        warnings = []
        if release.placeholder:
            warnings.append(
                f"{PYPROJECT}: no repository URL, so the graders' pin names the placeholder {release.repository}; "
                f"{set_url} before tagging a release"
            )
        return [], warnings
    problems = []
    if release.tag not in tags:
        problems.append(
            f'{PYPROJECT}: version = "{release.version}" but HEAD is tagged {", ".join(tags)}: a release\'s tag '
            f"must be v<version>; set version in {PYPROJECT} (and __version__ in {VERSION_FILE}) to the release, "
            "commit, and tag that commit"
        )
    package = _package_version(kit_root)
    if package is not None and package != release.version:
        problems.append(
            f'{VERSION_FILE}: __version__ = "{package}" but {PYPROJECT} says version = "{release.version}": '
            "set both to the release"
        )
    if release.placeholder:
        problems.append(
            f"{PYPROJECT}: [project.urls] Repository is not set (the placeholder {release.repository}); {set_url}"
        )
    elif not release.repository.startswith(PIP_GIT_SCHEMES):
        problems.append(
            f'{PYPROJECT}: [project.urls] Repository = "{release.repository}" is not a URL that pip can install '
            f"from with git+ ({', '.join(PIP_GIT_SCHEMES)}); {set_url}"
        )
    return problems, []
