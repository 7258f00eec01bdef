"""Every lab notebook runs top to bottom with nbclient, offline.

Twice: in a copy of the reference solution (every hands-on cell succeeds and the lab is recorded as
done), and in the student repository rendered from the template (the answers stripped: every cell
still runs, the exercises are reported as open and the lab is recorded as in progress). How the
network is blocked is explained in ``support.py``. How long each takes (the course's goal: under a
minute) is measured by ``benchmarks/notebook_bench.py``; a cell that hangs fails at the cell timeout.
"""

from __future__ import annotations

import csv
import shutil
import socket
import threading
from datetime import date
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from graders.engine.labs import Lab

from . import support

pytestmark = pytest.mark.slow
WRITTEN = [pytest.param(lab, id=lab.id) for lab in support.written_labs()]


def progress_row(repo: Path, lab_id: str) -> dict[str, str]:
    with (repo / "capstone-progress.csv").open(encoding="utf-8", newline="") as fh:
        return {row["lab"]: row for row in csv.DictReader(fh)}[lab_id]


@pytest.mark.parametrize("lab", WRITTEN)
def test_runs_on_the_reference_solution(lab: Lab, tmp_path: Path) -> None:
    reference_sheet = (support.REFERENCE / "capstone-progress.csv").read_bytes()
    repo = support.student_repo(tmp_path / "capstone")
    run = support.execute(lab.notebook_path, repo)
    printed = support.output_text(run.notebook)
    row = progress_row(repo, lab.id)
    assert row["status"] == "done", f"{lab.notebook} left items open on the reference:\n{printed[-2000:]}"
    assert row["date"] == date.today().isoformat() and row["outputs"]
    assert "still open" not in printed
    assert (support.REFERENCE / "capstone-progress.csv").read_bytes() == reference_sheet, "wrote outside its copy"


@pytest.mark.parametrize("lab", WRITTEN)
def test_runs_in_the_student_repository(lab: Lab, student_template: Path, tmp_path: Path) -> None:
    repo = tmp_path / "capstone"
    shutil.copytree(student_template, repo)
    notebook = repo / "notebooks" / lab.notebook
    assert notebook.is_file(), f"the template does not ship notebooks/{lab.notebook}"
    run = support.execute(notebook, repo)
    printed = support.output_text(run.notebook)
    assert progress_row(repo, lab.id)["status"] == "in-progress"
    assert "still open: " in printed and f"{lab.id}: " in printed  # the stripped exercise is reported, not raised


# -- the network guard itself ---------------------------------------------------------------------
def _guarded_run(tmp_path: Path, *cells: str) -> nbformat.NotebookNode:
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = repo / "notebooks" / "guard.ipynb"
    nbformat.write(nb, str(path))
    return support.execute(path, repo, cell_timeout=30).notebook


def test_the_network_guard_blocks_remote_hosts_and_allows_local_ones(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        threading.Thread(target=lambda: server.accept()[0].close(), daemon=True).start()
        nb = _guarded_run(
            tmp_path,
            "import socket, urllib.request\n"
            "for attempt in (lambda: socket.create_connection(('203.0.113.7', 80), timeout=2),\n"
            "                lambda: socket.getaddrinfo('pypi.org', 443)):\n"
            "    try:\n"
            "        attempt()\n"
            "    except PermissionError as exc:\n"
            "        print('blocked:', exc)\n",
            "try:\n"
            "    urllib.request.urlopen('http://example.org/', timeout=5)\n"
            "except OSError as exc:\n"
            "    print('proxy refused:', type(exc).__name__)\n",
            f"socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\nprint('local ok')\n",
        )
    printed = support.output_text(nb)
    assert printed.count("blocked: network access is blocked in the notebook tests") == 2
    assert "proxy refused: URLError" in printed
    assert "local ok" in printed


def test_a_notebook_that_reaches_out_fails_its_test(tmp_path: Path) -> None:
    with pytest.raises(CellExecutionError, match="network access is blocked in the notebook tests"):
        _guarded_run(tmp_path, "import socket\nsocket.getaddrinfo('files.pythonhosted.org', 443)\n")
