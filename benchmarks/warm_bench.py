"""A warm run against a cold one, measured: prints what a run forked from `WarmPython` costs.

    python benchmarks/warm_bench.py [--runs N] [--preload numpy,decimal]

A tiny module that imports the preloaded packages runs N times from a fork server that imported them
once, and N times as a fresh `python -m` (median wall time of each, and the server's import time).
The tests check that a warm run behaves like a cold one; this script is where its speed is judged.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graders.sdk import process  # noqa: E402  (the kit's checkout first on the path)
from graders.sdk.warm import WarmPython  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--preload", default="numpy,decimal", help="comma-separated modules (default numpy,decimal)")
    args = parser.parse_args()
    preload = [name for name in args.preload.split(",") if name]
    with tempfile.TemporaryDirectory(prefix="capstone-warm-bench-") as tmp:
        project = Path(tmp)
        (project / "probe.py").write_text("".join(f"import {name}\n" for name in preload), encoding="utf-8")
        env = {"PYTHONPATH": str(project)}
        started = time.perf_counter()
        with WarmPython(sys.executable, preload) as server:
            warm = [server.run_module("probe", cwd=project, env=env, timeout=60).duration_s for _ in range(args.runs)]
            server_s = time.perf_counter() - started
        cold = []
        for _ in range(args.runs):
            run = process.run([sys.executable, "-m", "probe"], cwd=project, env=env, timeout=60)
            cold.append(run.duration_s)
    results = {
        "cpus": os.cpu_count(),
        "preload": preload,
        "runs": args.runs,
        "warm_median_s": round(statistics.median(warm), 3),
        "cold_median_s": round(statistics.median(cold), 3),
        "server_imports_s": round(server.import_seconds or 0.0, 3),
        "warm_server_total_s": round(server_s, 3),
        "cold_fallbacks": server.cold_runs,
    }
    print(f"warm run: median {results['warm_median_s']:.3f} s; cold run: median {results['cold_median_s']:.3f} s")
    print(f"fork server imports: {results['server_imports_s']:.2f} s; fallbacks to cold: {server.cold_runs or 'none'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "warm.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS / 'warm.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
