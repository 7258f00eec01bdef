"""Rendering a student starter, measured: prints the numbers the render-time goal is judged by.

    python benchmarks/render_bench.py [--runs N]

Each way a starter is made, N times into fresh folders (median, fastest, slowest wall time):
1. `capstone new DEST` (copier with its post-generation task: course data, progress tracker, git init);
2. a bare `copier copy --trust --defaults` of this checkout's template source (staged, as `capstone new`
   does, so copier renders the working tree and not the last tag);
3. the same with `--skip-tasks` (copier's own per-file work alone);
4. `cookiecutter --no-input` of template/ (its hooks included).

Goal: a starter renders in under 5 s on this machine (tests/instructor/test_render.py checks what
`capstone new` renders, not how fast).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    """The tool installed beside this interpreter (the kit's virtual environment), else on PATH."""
    beside = BIN / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def stage(dest: Path) -> Path:
    """copier.yml, template/ and hooks/ of this checkout in a folder of their own."""
    shutil.copytree(ROOT / "template", dest / "template")
    shutil.copy2(ROOT / "copier.yml", dest / "copier.yml")
    shutil.copytree(ROOT / "hooks", dest / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def timed(runs: int, command: Callable[[Path], list[str]], work: Path, label: str) -> dict[str, float]:
    """Run ``command(dest)`` ``runs`` times, each into a new folder; fail loudly if a run fails."""
    walls = []
    for i in range(runs):
        dest = work / f"{label}-{i}"
        started = time.perf_counter()
        done = subprocess.run(command(dest), cwd=work, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{label} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        shutil.rmtree(dest, ignore_errors=True)
    stats = {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls)}
    print(f"{label:>22}: median {stats['median_s']:.2f} s (fastest {stats['min_s']:.2f}, slowest {stats['max_s']:.2f})")
    return {k: round(v, 2) for k, v in stats.items()}


def count_files(root: Path) -> int:
    return sum(len(files) for _dir, _dirs, files in os.walk(root))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="renders per way (default 5)")
    args = parser.parse_args()
    copier, cookiecutter = _tool("copier"), _tool("cookiecutter")
    results: dict = {
        "cpus": os.cpu_count(),
        "runs": args.runs,
        "template_files": count_files(ROOT / "template"),
        "rendered_folder_files": count_files(ROOT / "template" / "{{cookiecutter.__repo_name}}"),
    }
    with tempfile.TemporaryDirectory(prefix="capstone-render-bench-") as tmp:
        work = Path(tmp)
        source = stage(work / "source")
        ways: dict[str, Callable[[Path], list[str]]] = {
            "capstone new": lambda d: [sys.executable, "-m", "graders.cli", "new", str(d)],
            "copier copy": lambda d: [copier, "copy", "--trust", "--defaults", "--quiet", str(source), str(d)],
            "copier --skip-tasks": lambda d: [
                *(copier, "copy", "--trust", "--defaults", "--quiet", "--skip-tasks"),
                *(str(source), str(d)),
            ],
            "cookiecutter": lambda d: [cookiecutter, "--no-input", "-o", str(d), str(source / "template")],
        }
        os.environ.setdefault("PYTHONPATH", str(ROOT))
        for label, command in ways.items():
            results[label] = timed(args.runs, command, work, label.replace(" ", "-").replace("--", ""))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'render.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
