"""`make demo`: the kit's main job on its embedded defaults.

Renders a fresh student starter from the template, grades it, grades the reference solution, and
prints both score tables: what a student sees on day one, and what the finished capstone scores.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from graders.reports.formatting import points

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
STARTER = DEMO / "starter"
CAPSTONE = [sys.executable, "-m", "graders.cli"]


def run(title: str, args: list[str]) -> None:
    print(f"\n=== {title}\n$ capstone {' '.join(args)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run([*CAPSTONE, *args], cwd=ROOT, text=True)
    print(f"({time.perf_counter() - started:.1f} s)", flush=True)
    if result.returncode != 0:
        sys.exit(f"demo: `capstone {' '.join(args)}` failed with exit status {result.returncode}")


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    run("Render a student starter from the template (example answers)", ["new", str(STARTER)])
    run(
        "Grade the fresh starter: what a student sees on day one",
        ["grade", str(STARTER), "--also", f"json={DEMO / 'starter.json'}"],
    )
    run(
        "Grade the reference solution: the finished capstone",
        ["grade", str(ROOT / "reference_solution"), "--also", f"json={DEMO / 'reference.json'}"],
    )
    starter = json.loads((DEMO / "starter.json").read_text())
    reference = json.loads((DEMO / "reference.json").read_text())
    print("\n=== Summary")
    print(f"  starter:   {points(starter['score'])} / {points(starter['max_score'])} points")
    print(f"  reference: {points(reference['score'])} / {points(reference['max_score'])} points")
    print(f"  JSON reports: {DEMO.relative_to(ROOT)}/starter.json, {DEMO.relative_to(ROOT)}/reference.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
