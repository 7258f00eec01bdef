"""Running the lab notebooks, measured: prints how long each takes top to bottom (goal: under 60 s).

    python benchmarks/notebook_bench.py [--lab lab01 ...]

Each notebook runs the way tests/notebooks/test_execution.py runs it (a copy of the reference solution,
a fresh kernel, the network blocked) and the wall time of its cells is printed. The tests check what
the notebooks do; this script is where their speed is judged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.notebooks import support  # noqa: E402  (the kit's checkout first on the path)

RESULTS = ROOT / "benchmarks" / "results"
GOAL_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lab", action="append", help="only this lab (repeatable; default: every written lab)")
    args = parser.parse_args()
    labs = [lab for lab in support.written_labs() if not args.lab or lab.id in args.lab]
    seconds_by_lab: dict[str, float] = {}
    over = []
    for lab in labs:
        with tempfile.TemporaryDirectory(prefix="capstone-notebook-bench-") as tmp:
            repo = support.student_repo(Path(tmp) / "capstone")
            seconds = support.execute(lab.notebook_path, repo).seconds
        seconds_by_lab[lab.id] = round(seconds, 2)
        flag = "" if seconds < GOAL_S else f"  OVER the {GOAL_S:g} s goal"
        over += [lab.id] if flag else []
        print(f"{lab.id} {lab.notebook}: {seconds:.1f} s{flag}", flush=True)
    results = {"cpus": os.cpu_count(), "goal_s": GOAL_S, "seconds": seconds_by_lab}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "notebooks.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'notebooks.json'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
