"""Grading speed and memory, measured: prints the numbers the kit's speed goals are judged by.

    python benchmarks/grading_bench.py [--repeat N] [--alone LAB]... [--batch N] [--jobs J] [--cold-batch]
                                       [--machines 1,4,10] [--class-size 300] [--skip-memory] [--skip-batch]

1. The unavoidable floor: a bare `python -c 'import checkov.main, mlflow'`.
2. All eight labs of the reference solution in one `capstone grade` process, ``--repeat`` times
   (median and range): wall time, peak RSS of the grader process and of its whole process tree
   (student programs included), ratio to the floor.
3. Each lab alone (`--lab labNN`; ``--alone`` picks which): wall time.
4. `capstone grade-batch` over N submission folders (reference copies, rendered starters, mutants,
   broken and hostile submissions): wall time per submission and peak memory, with warm workers and
   (``--cold-batch``, the same class right after) with a fresh `capstone grade` process per
   submission, the way batches were graded before warm workers; then the time a class of
   ``--class-size`` would take on this machine and on each of ``--machines`` (shards).

On a shared machine every figure moves with the load of whatever else runs: compare the warm and cold
batches of one run, never figures of different runs.

Goals: all labs < 20 s, one lab < 5 s, peak memory < 1.5 GB. Memory is reported two ways:
summed RSS (counts the pages two student programs share once per program, and every page a forked
program shares with the warm interpreter it forked from) and summed PSS (counts each page once,
split among the processes that share it).

The scratch copies the graders make (lab01, lab02, lab04 copy the submission, 1,450 files) go to the
temporary folder, so the time to create a file there is printed too: on a disk busy discarding
deleted blocks it has been seen to vary from 0.02 to 1 ms, which moves the totals by seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference_solution"
CAPSTONE = [sys.executable, "-m", "graders.cli"]
RESULTS = ROOT / "benchmarks" / "results"


@dataclass
class Measured:
    wall_s: float
    peak_rss_mb: float  # the command's own process
    peak_tree_mb: float  # the command and every process it started, RSS summed at each sample
    peak_tree_pss_mb: float  # the same, as PSS: pages shared between them (libtorch, ...) counted once
    returncode: int
    stdout: str
    cpu_s: float = 0.0  # user + system time of the command and every descendant it (or they) waited for


def _pss(process: psutil.Process) -> int:
    """Proportional set size (Linux); RSS where the platform has no PSS."""
    try:
        return int(getattr(process.memory_full_info(), "pss", 0)) or process.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0


def measure(cmd: list[str], cwd: Path = ROOT, timeout: float = 1800, pss: bool = False) -> Measured:
    """Run ``cmd`` and sample its memory (own, and the whole process tree as RSS) every 50 ms.

    With ``pss``, the tree's PSS too, every 250 ms: reading ``smaps`` of a process that mapped torch
    costs tens of milliseconds of CPU, which would slow the command it measures on a 2-core machine,
    so timings come from runs without it.

    Summed RSS counts a shared page once per process that maps it (two programs that import torch
    count libtorch twice); PSS divides each shared page among its processes, so the tree's PSS sum is
    the memory the tree really holds.
    """
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak_own = peak_tree = peak_pss = 0.0
    stop = threading.Event()
    every = 5 if pss else 0  # PSS on every 5th sample

    def sample() -> None:
        nonlocal peak_own, peak_tree, peak_pss
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        sample_no = 0
        while not stop.is_set():
            proportional = 0
            try:
                processes = [root, *root.children(recursive=True)]
                own = root.memory_info().rss
                tree = own + sum(c.memory_info().rss for c in processes[1:])
                if every and sample_no % every == 0:
                    proportional = sum(_pss(p) for p in processes)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                tree = own = 0
            peak_own, peak_tree = max(peak_own, own / 2**20), max(peak_tree, tree / 2**20)
            peak_pss = max(peak_pss, proportional / 2**20)
            sample_no += 1
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate(timeout=timeout)
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(time.perf_counter() - started, peak_own, peak_tree, peak_pss, proc.returncode, out, cpu)


def import_floor(runs: int = 3) -> float:
    times = [measure([sys.executable, "-c", "import checkov.main, mlflow"]).wall_s for _ in range(runs)]
    return statistics.median(times)


def grade_all(pss: bool = False) -> tuple[Measured, dict]:
    m = measure([*CAPSTONE, "grade", str(REFERENCE), "--format", "json"], pss=pss)
    return m, json.loads(m.stdout) if m.returncode == 0 else {}


def file_create_ms(files: int = 300) -> float:
    """Milliseconds to create (and write a little to) one file in the temporary folder."""
    with tempfile.TemporaryDirectory(prefix="capstone-bench-probe-") as tmp:
        started = time.perf_counter()
        for i in range(files):
            (Path(tmp) / f"{i}.png").write_bytes(b"x" * 2048)
        return (time.perf_counter() - started) / files * 1000


def grade_each(lab_ids: list[str], pss: bool = False) -> dict[str, Measured]:
    command = [*CAPSTONE, "grade", str(REFERENCE), "--format", "json", "--lab"]
    return {lab: measure([*command, lab], pss=pss) for lab in lab_ids}


def build_class(dest: Path, size: int) -> None:
    """A class of ``size`` submissions: references, starters, mutants, broken and empty folders."""
    from graders.engine import mutants
    from graders.engine.labs import load_catalog

    starter = dest.parent / "starter-template"
    rendered = subprocess.run([*CAPSTONE, "new", str(starter)], cwd=ROOT, capture_output=True, text=True)
    makers: list[str] = []
    all_mutants = [(lab, m) for lab in load_catalog() for m in mutants.load_mutants(lab)]
    for i in range(size):
        kind = i % 5
        folder = dest / f"student-{i:02d}"
        if kind == 0 or (kind == 1 and rendered.returncode != 0):
            mutants.copy_reference(REFERENCE, folder)
            makers.append("reference")
        elif kind == 1:
            shutil.copytree(starter, folder)
            makers.append("starter")
        elif kind in (2, 3) and all_mutants:
            lab, mutant = all_mutants[i % len(all_mutants)]
            mutants.copy_reference(REFERENCE, folder)
            mutants.apply(mutant, folder)
            makers.append(f"mutant {lab.id}/{mutant.id}")
        else:
            folder.mkdir(parents=True)
            (folder / "docker-compose.yml").write_text("services: [unclosed\n")
            (folder / "README.md").write_bytes(b"caf\xe9\n")
            makers.append("broken")


def grade_class(klass: Path, gradebook: Path, jobs: int, extra: list[str], pss: bool = True) -> dict[str, Any]:
    """One `capstone grade-batch` over ``klass``: wall time, time per submission, memory, statuses."""
    m = measure(
        [*CAPSTONE, "grade-batch", str(klass), "--output", str(gradebook), "--jobs", str(jobs), "--quiet", *extra],
        pss=pss,
    )
    rows = list(csv.DictReader(gradebook.open())) if gradebook.exists() else []
    per = [float(r["duration_s"]) for r in rows]
    return {
        "submissions": len(rows),
        "jobs": jobs,
        "wall_s": round(m.wall_s, 1),
        "per_submission_s": round(m.wall_s / len(rows), 1) if rows else None,
        # With `jobs` gradings side by side: the class's time per submission once the workers are warm,
        # and what the batch spent besides (starting and warming the workers, the last stragglers).
        "steady_per_submission_s": round(sum(per) / len(per) / jobs, 2) if per else 0.0,
        "fixed_s": round(max(0.0, m.wall_s - sum(per) / jobs), 1),
        "cpu_per_submission_s": round(m.cpu_s / len(rows), 1) if rows else None,
        "grading_median_s": round(statistics.median(per), 1) if per else None,
        "grading_max_s": round(max(per), 1) if per else None,
        "peak_tree_mb": round(m.peak_tree_mb),
        "peak_tree_pss_mb": round(m.peak_tree_pss_mb),
        "statuses": {s: sum(1 for r in rows if r["status"] == s) for s in sorted({r["status"] for r in rows})},
        "totals": {r["submission"]: r["total"] for r in rows},
    }


def grade_one_submission(args: argparse.Namespace, floor: float, results: dict[str, Any]) -> None:
    """All labs of the reference in one process, then each lab alone."""
    runs = [grade_all() for _ in range(max(1, args.repeat))]
    walls = sorted(m.wall_s for m, _ in runs)
    report = runs[-1][1]
    median = statistics.median(walls)
    memory = runs[-1][0] if args.skip_memory else grade_all(pss=True)[0]  # one more run, for the tree's PSS
    results["all_labs"] = {
        "wall_s": round(median, 2),
        "wall_s_runs": [round(w, 2) for w in walls],
        "ratio_to_floor": round(median / floor, 1),
        "peak_rss_mb": round(max(m.peak_rss_mb for m, _ in runs)),
        "peak_tree_mb": round(max(m.peak_tree_mb for m, _ in runs)),
        "peak_tree_pss_mb": round(memory.peak_tree_pss_mb),
        "score": report.get("score"),
        "max_score": report.get("max_score"),
        "lab_durations_s": {lab["id"]: lab["duration_s"] for lab in report.get("labs", [])},
    }
    every = results["all_labs"]
    print(
        f"all labs, one process ({len(walls)} runs): median {median:.1f} s wall ({median / floor:.1f}x the floor), "
        f"range {walls[0]:.1f}-{walls[-1]:.1f} s; peak RSS {every['peak_rss_mb']} MB (grader), "
        f"{every['peak_tree_mb']} MB (with student programs; {every['peak_tree_pss_mb']} MB as PSS); "
        f"score {report.get('score')} / {report.get('max_score')}"
    )

    lab_ids = args.alone or [lab["id"] for lab in report.get("labs", [])]
    each = grade_each(lab_ids)
    each_memory = each if args.skip_memory else grade_each(lab_ids, pss=True)
    results["one_lab"] = {
        lab: {
            "wall_s": round(m.wall_s, 2),
            "peak_tree_mb": round(m.peak_tree_mb),
            "peak_tree_pss_mb": round(each_memory[lab].peak_tree_pss_mb),
        }
        for lab, m in each.items()
    }
    for lab, m in each.items():
        print(
            f"  {lab} alone: {m.wall_s:5.1f} s, peak {m.peak_tree_mb:.0f} MB RSS, "
            f"{each_memory[lab].peak_tree_pss_mb:.0f} MB PSS"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="all-labs gradings to take the median of (default 3)")
    parser.add_argument("--batch", type=int, default=20, help="submissions in the batch run (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="grade-batch --jobs (default 2)")
    parser.add_argument("--alone", action="append", metavar="LAB", help="labs to time alone (default: every lab)")
    parser.add_argument("--cold-batch", action="store_true", help="also grade the class the old way (--cold)")
    parser.add_argument("--batch-lab", action="append", metavar="LAB", help="labs the batch grades (default: all)")
    parser.add_argument("--class-size", type=int, default=300, help="class size of the estimate (default 300)")
    parser.add_argument("--machines", default="1,4,10", help="machine counts of the estimate (default 1,4,10)")
    parser.add_argument("--skip-memory", action="store_true", help="no extra runs for PSS (faster)")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--only-batch", action="store_true", help="just the batch figures (and the floor)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30)}}

    floor = import_floor()
    results["import_floor_s"] = round(floor, 2)
    print(f"import floor (python -c 'import checkov.main, mlflow'): {floor:.2f} s")

    create_ms = file_create_ms()
    results["temp_folder"] = {"path": tempfile.gettempdir(), "file_create_ms": round(create_ms, 3)}
    print(f"temporary folder {tempfile.gettempdir()}: {create_ms:.3f} ms to create a file")

    if not args.only_batch:
        grade_one_submission(args, floor, results)

    if not args.skip_batch:
        machines = [int(m) for m in args.machines.split(",") if m.strip()]
        with tempfile.TemporaryDirectory(prefix="capstone-bench-") as tmp:
            klass = Path(tmp) / "class"
            klass.mkdir()
            build_class(klass, args.batch)
            labs = [arg for lab in args.batch_lab or [] for arg in ("--lab", lab)]
            modes = [("warm", labs)] + ([("cold", [*labs, "--cold"])] if args.cold_batch else [])
            for mode, extra in modes:
                gradebook = Path(tmp) / f"{mode}.csv"
                results[f"batch_{mode}"] = grade_class(klass, gradebook, args.jobs, extra, pss=not args.skip_memory)
                batch = results[f"batch_{mode}"]
                print(
                    f"grade-batch ({mode}): {batch['submissions']} submissions, --jobs {args.jobs}: "
                    f"{batch['wall_s']} s wall, {batch['per_submission_s']} s per submission "
                    f"(steady {batch['steady_per_submission_s']} s + {batch['fixed_s']} s start-up) "
                    f"({batch['cpu_per_submission_s']} s of CPU) "
                    f"(each grading: median {batch['grading_median_s']} s, max {batch['grading_max_s']} s); "
                    f"peak {batch['peak_tree_mb']} MB RSS, {batch['peak_tree_pss_mb']} MB PSS; "
                    f"statuses {batch['statuses']}"
                )
                # Start-up (imports of the warm workers) once per machine, then the steady rate.
                estimate = {
                    m: round((batch["fixed_s"] + -(-args.class_size // m) * batch["steady_per_submission_s"]) / 60, 1)
                    for m in machines
                }
                batch["class_estimate_min"] = {"class_size": args.class_size, "by_machines": estimate}
                print(
                    f"  a class of {args.class_size} ({mode}): "
                    + ", ".join(f"{minutes} min on {m} machine(s) like this one" for m, minutes in estimate.items())
                )

    (RESULTS / "grading.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS / 'grading.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
