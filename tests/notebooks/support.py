"""Reading and running the lab notebooks for the notebook tests.

A notebook runs the way a student runs it: inside a capstone repository (here a temporary copy of
``reference_solution/`` with the files ``capstone build`` generates), from its ``notebooks/`` folder,
top to bottom on a fresh kernel. Network access is blocked in two layers:

* the kernel's environment points every proxy variable at a closed local port (so HTTP clients in
  the kernel and in the tools it starts fail fast instead of reaching out), drops the cloud and
  MLflow endpoints a student may have configured and turns off terraform's version check;
* a first cell, injected before the notebook's own cells and removed from nothing on disk, installs
  an audit hook (``sys.addaudithook``, which cannot be removed again) that refuses every socket
  connection and name lookup that is not local. In-process calls (httpx's ASGI transport) and Unix
  sockets are unaffected; the kernel's own ZeroMQ channels live below Python and are never audited.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml
from markdown_it import MarkdownIt

from graders.engine.labs import Lab, load_catalog
from graders.instructor import kit_files

KIT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = KIT_ROOT / "reference_solution"
LABS = KIT_ROOT / "labs"
SHARED = LABS / "_shared"
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there
# Left out of the repository copy: run-time state and caches (the template build leaves them out too).
COPY_IGNORE = shutil.ignore_patterns(
    "var",
    "mlruns",
    "mlartifacts",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    # "*.csv.lock": the progress sheet's lock file; dvc.lock is repository content (Lab 01) and is copied.
    ".hypothesis",
    ".ipynb_checkpoints",
    "*.csv.lock",
    "notebooks",
)
# Environment variables that would point a kernel at a real service, or at another plant profile.
SCRUBBED_ENV = (
    "COPILOT_PLANT_CONFIG",
    "DATABASE_URL",
    "REDIS_URL",
    "COPILOT_LLM_BASE_URL",
    "MLFLOW_TRACKING_URI",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "PUBSUB_EMULATOR_HOST",
    "KUBECONFIG",
    "NO_PROXY",
    "no_proxy",
)

NETWORK_GUARD = """\
# Injected by tests/notebooks: no network. Local sockets and in-process calls stay allowed.
import ipaddress as _ipaddress
import socket as _socket
import sys as _sys


def _local(host):
    if host in (None, "", "localhost") or isinstance(host, bytes) and host == b"localhost":
        return True
    try:
        return _ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host)).is_loopback
    except ValueError:
        return False


def _no_network(event, args):
    if event == "socket.connect":
        sock, address = args
        if sock.family in (_socket.AF_INET, _socket.AF_INET6) and not _local(address[0]):
            raise PermissionError(f"network access is blocked in the notebook tests: connect to {address}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        if not _local(args[0]):
            raise PermissionError(f"network access is blocked in the notebook tests: name lookup of {args[0]}")


_sys.addaudithook(_no_network)
"""


def catalog() -> dict[str, Lab]:
    return {lab.id: lab for lab in load_catalog()}


def blueprint() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SHARED / "blueprint.yaml").read_text(encoding="utf-8"))
    return data


def cast() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SHARED / "cast.yaml").read_text(encoding="utf-8"))
    return data


def written_labs() -> list[Lab]:
    """The labs whose notebook exists (all eight once every lab is written)."""
    return [lab for lab in catalog().values() if lab.notebook_path.is_file()]


def read_notebook(lab: Lab) -> Any:
    return nbformat.read(str(lab.notebook_path), as_version=4)


def shared_cell(name: str, lab_id: str) -> str:
    return (SHARED / name).read_text(encoding="utf-8").rstrip("\n").replace('"labNN"', f'"{lab_id}"')


# -- structure ------------------------------------------------------------------------------------
@dataclass
class Heading:
    level: int
    text: str
    cell: int


_MD = MarkdownIt("commonmark").enable("table")


def headings(notebook: Any) -> list[Heading]:
    """Every Markdown heading of the notebook, in order (headings inside code fences are not headings)."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        tokens = _MD.parse(cell.source)
        for i, token in enumerate(tokens):
            if token.type == "heading_open":
                found.append(Heading(int(token.tag[1]), tokens[i + 1].content.strip(), index))
    return found


def sections(notebook: Any) -> dict[str, list[Any]]:
    """Level-2 section title -> the cells from its heading up to the next level-2 heading."""
    h2 = [h for h in headings(notebook) if h.level == 2]
    result: dict[str, list[Any]] = {}
    for position, heading in enumerate(h2):
        end = h2[position + 1].cell if position + 1 < len(h2) else len(notebook.cells)
        result[heading.text] = notebook.cells[heading.cell : end]
    return result


# -- execution -------------------------------------------------------------------------------------
def student_repo(destination: Path) -> Path:
    """A capstone repository like a student's: the reference, its generated files and an empty notebooks/."""
    shutil.copytree(REFERENCE, destination, ignore=COPY_IGNORE, symlinks=True)
    for rel, content in kit_files.generated_reference_files(load_catalog()).items():
        target = destination / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    (destination / "notebooks").mkdir()
    return destination


def kernel_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV and not k.startswith("PYTEST_")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env[name] = CLOSED_PORT_PROXY
    env.update({"CHECKPOINT_DISABLE": "1", "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"})
    # The tools the notebooks start (promtool, kubectl, terraform, ruff) come from the same PATH as here,
    # this environment's scripts first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@dataclass
class Execution:
    notebook: Any
    seconds: float
    repo: Path


def execute(notebook_file: Path, repo: Path, cell_timeout: float = 60) -> Execution:
    """Run ``notebook_file`` from ``repo/notebooks`` on a fresh kernel, network blocked; raise on any error."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    target = repo / "notebooks" / notebook_file.name
    if target.resolve() != notebook_file.resolve():
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(notebook_file, target)
    home = repo.parent / "home"
    home.mkdir(exist_ok=True)
    # The kernel of this environment, whatever kernels the user has installed elsewhere: only this
    # interpreter's kernel folder is searched, and its "python3" kernel runs sys.executable.
    specs = KernelSpecManager(kernel_dirs=[str(Path(sys.prefix) / "share" / "jupyter" / "kernels")])

    def run() -> Any:
        notebook = nbformat.read(str(target), as_version=4)
        notebook.cells.insert(0, nbformat.v4.new_code_cell(NETWORK_GUARD))
        NotebookClient(
            notebook,
            km=KernelManager(kernel_name="python3", kernel_spec_manager=specs),
            timeout=cell_timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(target.parent)}},
            allow_errors=False,
        ).execute(env=kernel_env(home))
        return notebook

    started = time.monotonic()
    try:
        notebook = run()
    except RuntimeError as exc:
        # jupyter_client picks the kernel's five ports by binding to port 0 and letting go: on a busy
        # test machine another process can take one first and the new kernel dies before it answers.
        # That is a start-up race, not the notebook: a fresh kernel gets one more try (a notebook that
        # kills its kernel fails in a cell, with CellExecutionError, never here).
        if "before replying to kernel_info" not in str(exc) and "respond to heartbeats" not in str(exc):
            raise
        notebook = run()
    return Execution(notebook, time.monotonic() - started, repo)


def output_text(notebook: Any) -> str:
    """Everything the executed notebook printed (streams and plain-text results)."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text") or str(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)
