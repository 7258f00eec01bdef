"""``capstone verify``: prove the graders against the reference, a fresh starter and every known mistake.

Passing means, for every lab whose grader exists: the reference solution gets full marks, the
freshly rendered starter fails at least one of the lab's ``assignment=True`` checks, every mutant
in the lab's ``mutants.yaml`` is caught and every variant in its ``variants.yaml`` (a correct answer
in another form) gets full marks; and the starter scores under 15% overall. Labs whose
grader does not exist yet are listed as such (they fail only with ``require_all``).

Each lab's requirement map (``graders/labNN/requirements.yaml``, see ``graders.engine.requirements``)
must cover the lab: every requirement has a check and a mutant, every check and mutant belongs to a
requirement, each mutant loses points on a check of its own requirement and a security or data-loss
mistake costs at least 5 of 100 points. A lab without a map fails ("no requirement map").

Mutants and variants are graded side by side by a pool of ``jobs`` worker processes, each importing
the grading stack once and grading many changes in-process; through a ``GradeCache`` every result
whose inputs did not change (see ``graders.engine.cache``) is read instead of graded again.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from graders.engine import mutants, variants
from graders.engine import requirements as reqs
from graders.engine.cache import GradeCache, cached_grade
from graders.engine.labs import Lab, load_catalog, select
from graders.engine.model import LabResult, Status
from graders.instructor import build as build_mod
from graders.instructor import render

STARTER_LIMIT = 0.15
# What each pool worker imports before its first change (the grading stack every lab uses).
WARM_MODULES = ("pytest", "graders.engine.plugin", "graders.engine.session")
Progress = Callable[[str], None]


def silent(_line: str) -> None:
    """The default progress sink: verify's callers that want no progress lines."""


@dataclass
class MutantVerdict:
    id: str
    caught: bool
    message: str = ""
    requirement: str | None = None
    points_lost: dict[str, float] = field(default_factory=dict)  # per check (base id), against the reference
    graded: bool = False  # False when the mutant could not be applied


@dataclass
class VariantVerdict:
    id: str
    full_marks: bool
    score: float = 0.0
    max_score: float = 0.0
    message: str = ""


@dataclass
class LabVerdict:
    id: str
    title: str
    has_grader: bool
    reference_score: float = 0.0
    max_score: float = 0.0
    starter_score: float = 0.0
    assignment_checks: list[str] = field(default_factory=list)
    assignment_failed_by_starter: list[str] = field(default_factory=list)
    mutants: list[MutantVerdict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    variants: list[VariantVerdict] = field(default_factory=list)
    requirements: str = ""  # the coverage line: "requirements: 23/23 with a check and a mutant"

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "has_grader": self.has_grader,
            "reference_score": self.reference_score,
            "starter_score": self.starter_score,
            "max_score": self.max_score,
            "assignment_checks": self.assignment_checks,
            "assignment_failed_by_starter": self.assignment_failed_by_starter,
            "mutants": [
                {
                    "id": m.id,
                    "caught": m.caught,
                    "message": m.message,
                    "requirement": m.requirement,
                    "points_lost": m.points_lost,
                }
                for m in self.mutants
            ],
            "variants": [dataclasses.asdict(v) for v in self.variants],
            "requirements": self.requirements,
            "problems": self.problems,
            "ok": self.ok,
        }


@dataclass
class Verification:
    labs: list[LabVerdict]
    problems: list[str] = field(default_factory=list)  # not tied to one lab (build, render, starter total)
    starter_score: float = 0.0
    max_score: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(lab.ok for lab in self.labs)

    @property
    def variants_at_full_marks(self) -> tuple[int, int]:
        """(variants at full marks, variants graded) over every lab."""
        graded = [v for lab in self.labs for v in lab.variants]
        return sum(v.full_marks for v in graded), len(graded)

    def to_dict(self) -> dict[str, Any]:
        full, total = self.variants_at_full_marks
        return {
            "ok": self.ok,
            "variants": {"full_marks": full, "total": total},
            "starter_score": self.starter_score,
            "max_score": self.max_score,
            "starter_limit": STARTER_LIMIT,
            "problems": self.problems,
            "labs": [lab.to_dict() for lab in self.labs],
        }


def _literal(node: ast.expr | None) -> object:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def assignment_checks(lab: Lab) -> list[str]:
    """Ids of the lab's checks declared with ``@check(..., assignment=True)``.

    Read from the grader modules' syntax, not by importing them: importing a suite outside its own
    pytest run would register its markers in the wrong session.
    """
    directory = lab.grader_dir()
    if directory is None:
        return []
    found = []
    for module_file in sorted(directory.glob("test_*.py")):
        tree = ast.parse(module_file.read_text(encoding="utf-8"), str(module_file))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if not isinstance(decorator, ast.Call):
                    continue
                func = decorator.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name != "check":
                    continue
                keywords = {k.arg: k.value for k in decorator.keywords}
                if _literal(keywords.get("assignment")) is True:
                    check_id = _literal(keywords.get("id")) or node.name.removeprefix("test_")
                    found.append(f"{lab.id}.{check_id}")
    return sorted(set(found))


def _mutant_verdict(mutant: mutants.Mutant, result: LabResult, baseline: LabResult) -> MutantVerdict:
    outcome = mutants.judge(mutant, result, baseline)
    lost = reqs.points_lost(result, baseline)
    return MutantVerdict(mutant.id, outcome.caught, outcome.message, mutant.requirement, lost, graded=True)


def _variant_verdict(variant: variants.Variant, result: LabResult) -> VariantVerdict:
    outcome = variants.judge(variant, result)
    return VariantVerdict(variant.id, outcome.full_marks, outcome.score, outcome.max_score, outcome.message)


def _run_mutant(
    mutant: mutants.Mutant, reference: Path, lab: Lab, baseline: LabResult, cache: GradeCache | None
) -> MutantVerdict:
    try:
        result = mutants.grade_change(mutant, reference, lab, cache=cache)
    except mutants.MutantError as exc:
        return MutantVerdict(mutant.id, False, str(exc), mutant.requirement)
    return _mutant_verdict(mutant, result, baseline)


def _run_variant(variant: variants.Variant, reference: Path, lab: Lab, cache: GradeCache | None) -> VariantVerdict:
    try:
        result = mutants.grade_change(variant, reference, lab, cache=cache)
    except mutants.MutantError as exc:
        return VariantVerdict(variant.id, False, message=str(exc))
    return _variant_verdict(variant, result)


def _cached_verdict(
    change: mutants.Mutant | variants.Variant, reference: Path, lab: Lab, baseline: LabResult, cache: GradeCache
) -> Any:
    """The verdict from the cache alone, or None when the change must be graded (or no longer applies)."""
    try:
        result = mutants.cached_change(change, reference, lab, cache)
    except (mutants.MutantError, OSError):
        return None
    if result is None:
        return None
    if isinstance(change, variants.Variant):
        return _variant_verdict(change, result)
    return _mutant_verdict(change, result, baseline)


def _run_change(
    change: mutants.Mutant | variants.Variant,
    reference: Path,
    lab: Lab,
    baseline: LabResult,
    cache: GradeCache | None = None,
) -> Any:
    """One unit of work for the pool: a mutant's verdict or a variant's."""
    if isinstance(change, variants.Variant):
        return _run_variant(change, reference, lab, cache)
    return _run_mutant(change, reference, lab, baseline, cache)


def _warm_worker() -> None:
    """Import the grading stack once per pool worker; the labs' own imports stay warm after a first grade."""
    for name in WARM_MODULES:
        importlib.import_module(name)


def _judge_lab(verdict: LabVerdict, reference: LabResult, starter: LabResult) -> None:
    verdict.reference_score, verdict.max_score, verdict.starter_score = (
        reference.score,
        reference.max_score,
        starter.score,
    )
    verdict.problems.extend(f"reference: {note}" for note in reference.notes)
    if reference.max_score and reference.score < reference.max_score:
        lost = [f"{c.id} ({c.status.value}: {c.feedback})" for c in reference.checks if c.score < c.max_score]
        verdict.problems.append("the reference does not get full marks: " + "; ".join(lost))
    if not verdict.assignment_checks:
        verdict.problems.append("the grader declares no assignment=True check")
        return
    wanted = set(verdict.assignment_checks)
    failed = [c.id for c in starter.checks if reqs.base_id(c.id) in wanted and c.status is not Status.PASSED]
    verdict.assignment_failed_by_starter = failed
    if not failed:
        verdict.problems.append("the starter passes every assignment check: the lab leaves nothing to do")


def verify(
    kit_root: Path = build_mod.KIT_ROOT,
    lab_ids: list[str] | None = None,
    jobs: int = 1,
    require_all: bool = False,
    run_mutants: bool = True,
    run_variants: bool = True,
    cache: GradeCache | None = None,
    progress: Progress = silent,
) -> Verification:
    """Run every verification and collect the verdicts (never raises for a failed expectation).

    ``cache`` answers for every tree graded before with the same inputs; ``progress`` receives one
    line per step (the reference and starter, then each mutant and variant as it finishes).
    """
    labs = select(load_catalog(kit_root / "labs"), lab_ids)
    verdicts = {lab.id: LabVerdict(lab.id, lab.title, lab.grader_dir() is not None) for lab in labs}
    result = Verification(list(verdicts.values()))
    graded = [lab for lab in labs if verdicts[lab.id].has_grader]
    for lab in labs:
        if not verdicts[lab.id].has_grader and require_all:
            verdicts[lab.id].problems.append(f"no grader suite yet ({lab.grader})")
    try:
        built = build_mod.build(kit_root)
    except build_mod.BuildError as exc:
        result.problems.append(f"the template does not build: {exc}")
        return result
    reference_root = kit_root / "reference_solution"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="capstone-verify-") as tmp, render.staged_source(kit_root, built) as src:
        starter_root = render.render_copier(src, Path(tmp) / "starter", {})  # as a student gets it, git included
        render.record_source(starter_root, kit_root)  # as `capstone new` leaves it: the same tree every run
        if not graded:
            return result
        progress(f"grading the reference and a fresh starter: {', '.join(lab.id for lab in graded)}")
        reference_report = cached_grade(cache, reference_root, graded, jobs=jobs)
        starter_report = cached_grade(cache, starter_root, graded, jobs=jobs)
    progress(f"reference and starter graded ({time.monotonic() - started:.1f} s)")
    for lab in graded:
        verdict = verdicts[lab.id]
        verdict.assignment_checks = assignment_checks(lab)
        _judge_lab(verdict, reference_report.lab(lab.id), starter_report.lab(lab.id))
    result.starter_score = starter_report.score
    result.max_score = starter_report.max_score
    if result.max_score and result.starter_score >= STARTER_LIMIT * result.max_score:
        result.problems.append(
            f"the starter scores {result.starter_score:g} of {result.max_score:g} "
            f"({100 * result.starter_score / result.max_score:.0f}%), not under {STARTER_LIMIT:.0%}"
        )
    maps = {lab.id: _check_requirement_map(lab, verdicts[lab.id], reference_report.lab(lab.id)) for lab in graded}
    if run_mutants or run_variants:
        _verify_changes(
            graded, verdicts, reference_root, reference_report, jobs, run_mutants, run_variants, cache, progress
        )
    if run_mutants:
        for lab in graded:
            _check_graded_mutants(verdicts[lab.id], maps[lab.id], reference_report.lab(lab.id).max_score)
    return result


def _mutant_refs(lab: Lab) -> list[reqs.MutantRef]:
    try:
        return [reqs.MutantRef(m.id, m.requirement) for m in mutants.load_mutants(lab)]
    except mutants.MutantError:
        return []  # reported by _load_changes


def _check_requirement_map(lab: Lab, verdict: LabVerdict, reference: LabResult) -> dict[str, reqs.Requirement]:
    """Rules 1, 2 and 5 of the lab's requirement map, and its coverage line; the map by requirement id."""
    checks = [c.id for c in reference.checks]
    refs = _mutant_refs(lab)
    try:
        loaded = reqs.load_requirements(lab)
    except reqs.RequirementError as exc:
        verdict.requirements = "requirements: invalid map"
        verdict.problems.append(str(exc))
        return {}
    verdict.requirements = reqs.summary(loaded, checks, refs)
    if loaded is None:
        verdict.problems.append(f"no requirement map (graders/{lab.id}/{reqs.FILE_NAME})")
        return {}
    verdict.problems.extend(reqs.static_problems(loaded, checks, refs))
    return {r.id: r for r in loaded}


def _check_graded_mutants(verdict: LabVerdict, by_id: dict[str, reqs.Requirement], max_score: float) -> None:
    """Rules 3 and 4 over the lab's graded mutants."""
    for mutant in verdict.mutants:
        if mutant.graded:
            ref = reqs.MutantRef(mutant.id, mutant.requirement)
            verdict.problems.extend(reqs.graded_problems(ref, by_id, mutant.points_lost, max_score))


def _load_changes(lab: Lab, verdict: LabVerdict, run_mutants: bool, run_variants: bool) -> list[Any]:
    found: list[Any] = []
    for wanted, load in ((run_mutants, mutants.load_mutants), (run_variants, variants.load_variants)):
        if wanted:
            try:
                found.extend(load(lab))
            except mutants.MutantError as exc:
                verdict.problems.append(str(exc))
    return found


def _grade_all(
    work: list[tuple[Any, Lab, LabResult]],
    reference_root: Path,
    jobs: int,
    cache: GradeCache | None,
    progress: Progress,
) -> list[Any]:
    """Every change's verdict, in the order of ``work``; side by side in ``jobs`` warm workers."""
    outcomes: list[Any] = [None] * len(work)
    started = time.monotonic()

    def report(index: int) -> None:
        done = sum(o is not None for o in outcomes)
        change, lab, _ = work[index]
        outcome = outcomes[index]
        ok = outcome.caught if isinstance(outcome, MutantVerdict) else outcome.full_marks
        word = ("caught" if ok else "NOT CAUGHT") if isinstance(outcome, MutantVerdict) else (
            "full marks" if ok else "NOT AT FULL MARKS"
        )
        width = len(str(len(work)))
        progress(
            f"[{done:>{width}}/{len(work)}] {lab.id} {change.kind} {change.id}: {word} "
            f"({time.monotonic() - started:.0f} s)"
        )

    if cache is not None:  # answered here, so a run with nothing to grade starts no worker
        for i, (change, lab, baseline) in enumerate(work):
            outcomes[i] = _cached_verdict(change, reference_root, lab, baseline, cache)
            if outcomes[i] is not None:
                report(i)
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if jobs > 1 and len(todo) > 1:
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)), mp_context=get_context("spawn"), initializer=_warm_worker
        ) as pool:
            futures: dict[Future[Any], int] = {
                pool.submit(_run_change, work[i][0], reference_root, work[i][1], work[i][2], cache): i for i in todo
            }
            for future in as_completed(futures):
                outcomes[futures[future]] = future.result()
                report(futures[future])
    else:
        for i in todo:
            change, lab, baseline = work[i]
            outcomes[i] = _run_change(change, reference_root, lab, baseline, cache)
            report(i)
    return outcomes


def _verify_changes(
    labs: list[Lab],
    verdicts: dict[str, LabVerdict],
    reference_root: Path,
    report: Any,
    jobs: int,
    run_mutants: bool = True,
    run_variants: bool = True,
    cache: GradeCache | None = None,
    progress: Progress = silent,
) -> None:
    """Grade every mutant (caught?) and every variant (full marks?) of the labs, in one pool."""
    work: list[tuple[Any, Lab, LabResult]] = []
    for lab in sorted(labs, key=lambda lab: -lab.grading_cost):  # the costliest labs start first
        changes = _load_changes(lab, verdicts[lab.id], run_mutants, run_variants)
        work.extend((change, lab, report.lab(lab.id)) for change in changes)
    outcomes = _grade_all(work, reference_root, jobs, cache, progress)
    for (_, lab, _), outcome in zip(work, outcomes, strict=True):
        verdict = verdicts[lab.id]
        if isinstance(outcome, VariantVerdict):
            verdict.variants.append(outcome)
            if not outcome.full_marks:
                verdict.problems.append(f"variant {outcome.id} not at full marks: {outcome.message}")
        else:
            verdict.mutants.append(outcome)
            if not outcome.caught:
                verdict.problems.append(f"mutant {outcome.id} not caught: {outcome.message}")
    for lab in labs if run_mutants else []:
        if not verdicts[lab.id].mutants and not any("mutant" in p for p in verdicts[lab.id].problems):
            verdicts[lab.id].problems.append("no mutants.yaml: no known mistake proves the checks can fail")


def render_table(result: Verification) -> str:
    """One row per lab, then every problem."""
    head = (
        f"  {'lab':<6} {'grader':<8} {'reference':>11} {'starter':>9} {'assignment':>12} {'mutants':>9} "
        f"{'variants':>9}  verdict"
    )
    lines = ["capstone verify", "", head]
    for lab in result.labs:
        if not lab.has_grader:
            lines.append(
                f"  {lab.id:<6} {'missing':<8} {'-':>11} {'-':>9} {'-':>12} {'-':>9} {'-':>9}  "
                + ("FAIL" if lab.problems else "no grader yet")
            )
            continue
        reference = f"{lab.reference_score:g}/{lab.max_score:g}"
        starter = f"{100 * lab.starter_score / lab.max_score:.0f}%" if lab.max_score else "-"
        assignment = f"{len(lab.assignment_failed_by_starter)} failing" if lab.assignment_checks else "none"
        caught = sum(m.caught for m in lab.mutants)
        mutant_cell = f"{caught}/{len(lab.mutants)}"
        variant_cell = f"{sum(v.full_marks for v in lab.variants)}/{len(lab.variants)}"
        lines.append(
            f"  {lab.id:<6} {'yes':<8} {reference:>11} {starter:>9} {assignment:>12} {mutant_cell:>9} "
            f"{variant_cell:>9}  "
            + ("ok" if lab.ok else "FAIL")
        )
    if result.max_score:
        share = 100 * result.starter_score / result.max_score
        lines += [
            "",
            f"  starter total: {result.starter_score:g} / {result.max_score:g} ({share:.0f}%, limit "
            f"{STARTER_LIMIT:.0%})",
        ]
    full, total = result.variants_at_full_marks
    if total:
        lines.append(f"  variants: {full}/{total} at full marks")
    coverage = [f"  {lab.id} {lab.requirements}" for lab in result.labs if lab.requirements]
    if coverage:
        lines += ["", *coverage]
    problems = [f"  {p}" for p in result.problems] + [f"  {lab.id}: {p}" for lab in result.labs for p in lab.problems]
    if problems:
        lines += ["", "Problems:", *problems]
    lines += ["", "verify: " + ("all expectations hold" if result.ok else "FAILED")]
    return "\n".join(lines) + "\n"
