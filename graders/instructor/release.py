"""Where students' repositories install the graders from: this kit's repository at this release's tag.

The Classroom workflow and ``make grade`` of a generated repository install exactly this
requirement into an environment of their own, so a course release and its graders move together.
"""

from __future__ import annotations

from importlib import metadata

from graders import __version__

DISTRIBUTION = "capstone-kit"
# Used until the kit's pyproject.toml names its repository under [project.urls] (key "Repository").
PLACEHOLDER_REPOSITORY = "https://github.com/your-course-org/capstone-kit"


def kit_repository() -> str:
    """The kit's git repository URL from the installed package metadata (placeholder when absent)."""
    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return PLACEHOLDER_REPOSITORY
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("repository", "source", "source code") and url.strip():
            return url.strip().removesuffix(".git")
    return PLACEHOLDER_REPOSITORY


def release_tag(version: str = __version__) -> str:
    return f"v{version}"


def grader_requirement(version: str = __version__) -> str:
    """The pip requirement of the graders pinned to this release, e.g. ``capstone-kit @ git+https://...@v0.1.0``."""
    return f"{DISTRIBUTION} @ git+{kit_repository()}@{release_tag(version)}"
