"""Known-wrong variants of the reference solution that a lab's grader must catch.

A lab ships ``mutants.yaml`` beside its checks. Each mutant is a small declarative edit of one or
more reference files (text replacement, regex, YAML/JSON key edits, whole-file write or delete),
or an ``overlay`` folder of whole files, plus the ids of the checks that must then fail. An edit
that no longer applies is an error, so a mutant cannot silently go stale when the reference changes.

The same overlay and edits describe a lab's correct variants (``graders.engine.variants``); this
module applies and grades both kinds of change.

Format::

    mutants:
      - id: latency-in-seconds
        description: The audit middleware records latency in seconds.
        edits:
          - file: src/copilot/audit.py
            replace: "* 1000"
            with: ""
        must_fail: [lab02.audit_latency_ms]
        requirement: audit-latency-in-ms    # the one requirement of requirements.yaml it violates
      - id: raw-path-route
        description: A whole middleware written another way, with the raw path as the route.
        overlay: mutants/raw-path-route     # relative to this file; its files replace the reference's
        must_fail: [lab02.audit_success_record]
        requirement: audit-route-template

``requirement`` names the entry of the lab's ``requirements.yaml`` (``graders.engine.requirements``)
that the mutant violates, and nothing else: ``capstone verify`` then requires the mutant to lose points
on a check of that requirement.

An overlay folder holds files at their repository paths (``<overlay>/src/copilot/audit/middleware.py``);
they are copied over the reference first, then ``edits`` apply.

A mutant is graded on its scope: the checks of ``must_fail`` and of its requirement, nothing else (the
engine's check selection). Those are the checks its verdict reads, and the other checks' fixtures
(a student API started, checkov run, six MLflow runs) would cost most of the grading. Without a
requirement that its lab's map defines, a mutant is graded on every check. A variant always is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import yaml

from graders.engine import requirements as reqs
from graders.engine.labs import Lab
from graders.engine.model import LabResult, Status, base_check_id
from graders.sdk import safe_yaml

if TYPE_CHECKING:
    from graders.engine.cache import GradeCache

EDIT_KINDS = ("replace", "regex", "write", "append", "delete", "yaml_set", "yaml_delete", "json_set", "json_delete")
# Reference-solution folders that are never needed to grade a mutant (fast copies).
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", "mlruns", ".mypy_cache", ".hypothesis"
)
# Never part of an overlay: interpreter caches an editor or a test run may leave in the folder.
OVERLAY_SKIP = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".DS_Store"})


class MutantError(Exception):
    """A mutant definition that is invalid or no longer applies; the message names mutant and edit."""


@dataclass(frozen=True)
class Edit:
    file: str
    kind: str
    args: dict[str, Any]


class Change(Protocol):
    """What a mutant and a variant share: whole files (``overlay``) and edits applied to the reference."""

    kind: ClassVar[str]

    @property
    def id(self) -> str: ...

    @property
    def lab(self) -> str: ...

    @property
    def edits(self) -> tuple[Edit, ...]: ...

    @property
    def overlay(self) -> Path | None: ...

    @property
    def scope(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Mutant:
    kind: ClassVar[str] = "mutant"
    id: str
    lab: str
    description: str
    edits: tuple[Edit, ...]
    must_fail: tuple[str, ...]
    overlay: Path | None = None
    requirement: str | None = None  # the requirement it violates (requirements.yaml id)
    scope: tuple[str, ...] = ()  # the checks it is graded on (base ids); empty: all of them


@dataclass
class MutantOutcome:
    mutant: Mutant
    caught: bool
    score: float
    baseline_score: float
    not_failed: list[str] = field(default_factory=list)
    message: str = ""
    result: LabResult | None = None  # the lab graded with the mutant applied


def mutants_file(lab: Lab) -> Path | None:
    directory = lab.grader_dir()
    if directory is None:
        return None
    path = directory / "mutants.yaml"
    return path if path.is_file() else None


def _parse_edit(raw: Any, where: str) -> Edit:
    if not isinstance(raw, dict) or "file" not in raw:
        raise MutantError(f"{where}: each edit needs a 'file' and one of {', '.join(EDIT_KINDS)}")
    kinds = [k for k in EDIT_KINDS if k in raw]
    if len(kinds) != 1:
        raise MutantError(f"{where}: give exactly one of {', '.join(EDIT_KINDS)} (found {kinds or 'none'})")
    args = {k: v for k, v in raw.items() if k != "file"}
    return Edit(file=str(raw["file"]), kind=kinds[0], args=args)


def overlay_files(overlay: Path) -> list[str]:
    """The repository paths (POSIX, sorted) of an overlay folder's files."""
    found = []
    for dirpath, dirnames, filenames in os.walk(overlay):
        dirnames[:] = sorted(d for d in dirnames if d not in OVERLAY_SKIP)
        for name in filenames:
            if name not in OVERLAY_SKIP and not name.endswith(".pyc"):
                found.append((Path(dirpath) / name).relative_to(overlay).as_posix())
    return sorted(found)


def _parse_overlay(value: Any, base: Path, where: str) -> Path:
    """``overlay:`` is a folder relative to the YAML file, inside the grader package, holding files."""
    if not isinstance(value, str) or not value.strip() or Path(value).is_absolute():
        raise MutantError(f"{where}: overlay must be a folder path relative to {base.name}'s folder")
    folder = (base.parent / value).resolve()
    if not folder.is_relative_to(base.parent.resolve()):
        raise MutantError(f"{where}: overlay {value!r} leaves the grader package")
    if not folder.is_dir():
        raise MutantError(f"{where}: overlay folder {value!r} does not exist (next to {base.name})")
    if not overlay_files(folder):
        raise MutantError(f"{where}: overlay folder {value!r} holds no files")
    return folder


def parse_changes(raw: dict[str, Any], base: Path, where: str) -> tuple[Path | None, tuple[Edit, ...]]:
    """The ``overlay`` and ``edits`` of one mutants.yaml or variants.yaml entry (at least one of them)."""
    overlay = _parse_overlay(raw["overlay"], base, where) if raw.get("overlay") is not None else None
    raw_edits = raw.get("edits") or []
    if not isinstance(raw_edits, list):
        raise MutantError(f"{where}: edits must be a list")
    edits = tuple(_parse_edit(e, f"{where} edits[{j}]") for j, e in enumerate(raw_edits))
    if overlay is None and not edits:
        raise MutantError(f"{where}: give an 'overlay' folder, 'edits' or both")
    return overlay, edits


def read_entries(path: Path, key: str) -> list[tuple[str, dict[str, Any]]]:
    """The entries under ``key`` with their location for messages; ids must be present and unique."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise MutantError(f"{path}: not valid YAML: {exc}") from None
    entries = data.get(key) if isinstance(data, dict) else None
    if entries is not None and not isinstance(entries, list):
        raise MutantError(f"{path}: '{key}' must be a list")
    result = []
    seen: set[str] = set()
    for i, raw in enumerate(entries or []):
        where = f"{path}: {key}[{i}]"
        if not isinstance(raw, dict) or not raw.get("id"):
            raise MutantError(f"{where}: each entry needs an 'id'")
        if raw["id"] in seen:
            raise MutantError(f"{where}: duplicate id {raw['id']!r}")
        seen.add(raw["id"])
        result.append((f"{where} ({raw['id']})", raw))
    return result


def _requirement_checks(lab: Lab) -> dict[str, tuple[str, ...]]:
    """Each requirement's checks; nothing when the lab has no valid map (the contract rules report it)."""
    try:
        found = reqs.load_requirements(lab)
    except reqs.RequirementError:
        return {}
    return {r.id: r.checks for r in found or []}


def _scope(must_fail: tuple[str, ...], requirement: str | None, checks: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if requirement is None or requirement not in checks:
        return ()
    return tuple(sorted({base_check_id(c) for c in must_fail} | set(checks[requirement])))


def load_mutants(lab: Lab) -> list[Mutant]:
    path = mutants_file(lab)
    if path is None:
        return []
    checks = _requirement_checks(lab)
    result = []
    for where, raw in read_entries(path, "mutants"):
        if not raw.get("must_fail") or not (raw.get("edits") or raw.get("overlay")):
            raise MutantError(f"{where}: a mutant needs 'id', 'description', 'edits' or 'overlay', and 'must_fail'")
        overlay, edits = parse_changes(raw, path, where)
        must_fail = tuple(str(c) for c in raw["must_fail"])
        bad = [c for c in must_fail if not c.startswith(lab.id + ".")]
        if bad:
            raise MutantError(f"{where}: must_fail ids must start with '{lab.id}.': {bad}")
        requirement = raw.get("requirement")
        if requirement is not None and (not isinstance(requirement, str) or not requirement.strip()):
            raise MutantError(f"{where}: requirement must be the id of one entry of requirements.yaml")
        description = str(raw.get("description", ""))
        scope = _scope(must_fail, requirement, checks)
        result.append(Mutant(str(raw["id"]), lab.id, description, edits, must_fail, overlay, requirement, scope))
    return result


# -- applying edits ---------------------------------------------------------------------------------
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _key_path(dotted: str) -> list[str | int]:
    return [int(idx) if idx else name for name, idx in _PATH_PART.findall(dotted)]


def _walk(doc: Any, path: list[str | int], create: bool) -> tuple[Any, str | int]:
    node = doc
    for part in path[:-1]:
        if isinstance(node, dict):
            if part not in node:
                if not create:
                    raise KeyError(part)
                node[part] = {}
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part]
        else:
            raise KeyError(part)
    return node, path[-1]


def _set(doc: Any, dotted: str, value: Any) -> None:
    parent, last = _walk(doc, _key_path(dotted), create=True)
    parent[last] = value


def _delete(doc: Any, dotted: str) -> None:
    parent, last = _walk(doc, _key_path(dotted), create=False)
    del parent[last]


def _matches(doc: Any, where: dict[str, Any]) -> bool:
    for dotted, expected in where.items():
        try:
            parent, last = _walk(doc, _key_path(dotted), create=False)
            if parent[last] != expected:
                return False
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _edit_structured(text: str, edit: Edit, loads: Any, dumps: Any) -> str:
    """Set or delete one key path in the first matching document (``where``/``doc`` choose it)."""
    docs = safe_yaml.load_all(text) if edit.kind.startswith("yaml") else [loads(text)]
    payload = edit.args[edit.kind]
    where = edit.args.get("where")
    if "doc" in edit.args:
        targets = [docs[int(edit.args["doc"])]]
    else:
        targets = [d for d in docs if where is None or _matches(d, where)]
    if not targets:
        raise MutantError(f"no document in {edit.file} matches {where}")
    if edit.kind.endswith("_set"):
        if not isinstance(payload, dict) or "path" not in payload:
            raise MutantError(f"{edit.kind} needs a mapping with 'path' and 'value'")
        _set(targets[0], str(payload["path"]), payload.get("value"))
    else:
        _delete(targets[0], str(payload))
    return str(dumps(docs))


def _dump_yaml(docs: list[Any]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _dump_json(docs: list[Any]) -> str:
    return json.dumps(docs[0], indent=2) + "\n"


def apply_edit(root: Path, edit: Edit) -> None:
    path = root / edit.file
    if edit.kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(edit.args["write"]), encoding="utf-8")
        return
    if not path.is_file():
        raise MutantError(f"{edit.file} does not exist in the reference solution")
    if edit.kind == "delete":
        path.unlink()
        return
    text = path.read_text(encoding="utf-8")
    if edit.kind == "replace":
        old, new = str(edit.args["replace"]), str(edit.args.get("with", ""))
        expected = int(edit.args.get("count", 1))
        found = text.count(old)
        if found != expected:
            raise MutantError(f"{edit.file}: expected {expected} occurrence(s) of {old!r}, found {found}")
        text = text.replace(old, new)
    elif edit.kind == "regex":
        text, n = re.subn(str(edit.args["regex"]), str(edit.args.get("with", "")), text, flags=re.MULTILINE)
        if n == 0:
            raise MutantError(f"{edit.file}: regex {edit.args['regex']!r} matched nothing")
    elif edit.kind == "append":
        text = text + str(edit.args["append"])
    elif edit.kind.startswith("yaml"):
        text = _edit_structured(text, edit, safe_yaml.load, _dump_yaml)
    else:
        text = _edit_structured(text, edit, json.loads, _dump_json)
    path.write_text(text, encoding="utf-8")


def apply_overlay(overlay: Path, root: Path) -> None:
    """Copy the overlay's files over ``root`` at their repository paths (replacing links too)."""
    for rel in overlay_files(overlay):
        dest = root / rel
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(overlay / rel, dest)


def apply(change: Change, root: Path) -> None:
    """Apply a mutant or variant to ``root``: its overlay first, then its edits in order."""
    label = f"{change.kind} {change.lab}/{change.id}"
    if change.overlay is not None:
        try:
            apply_overlay(change.overlay, root)
        except OSError as exc:
            raise MutantError(f"{label} overlay: {exc}") from None
    for i, edit in enumerate(change.edits):
        try:
            apply_edit(root, edit)
        except MutantError as exc:
            raise MutantError(f"{label} edit {i}: {exc}") from None
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MutantError(f"{label} edit {i} on {edit.file}: {exc!r}") from None


def copy_reference(reference: Path, dest: Path) -> Path:
    shutil.copytree(reference, dest, ignore=COPY_IGNORE, symlinks=True)
    return dest


def judge(mutant: Mutant, result: LabResult, baseline: LabResult) -> MutantOutcome:
    """Caught means: every named check did not pass, and the lab scored less than the baseline on the
    checks that were graded (the mutant's scope)."""
    baseline_score = baseline.restricted_to(result.selection).score
    statuses = {c.id: c.status for c in result.checks}
    unknown = [c for c in mutant.must_fail if c not in statuses]
    if unknown:
        return MutantOutcome(
            mutant,
            False,
            result.score,
            baseline_score,
            list(unknown),
            f"unknown check id(s) in must_fail: {', '.join(unknown)}",
            result,
        )
    not_failed = [c for c in mutant.must_fail if statuses[c] is Status.PASSED]
    dropped = result.score < baseline_score
    caught = not not_failed and dropped
    message = (
        "" if caught else (f"still passing: {', '.join(not_failed)}" if not_failed else "the lab score did not drop")
    )
    return MutantOutcome(mutant, caught, result.score, baseline_score, not_failed, message, result)


def fingerprint(change: Change) -> str:
    """What a mutant or variant changes, as text: equal for equal overlay contents and edits (the grade
    cache's key for its copy)."""
    edits = [{"file": e.file, "kind": e.kind, "args": e.args} for e in change.edits]
    overlay = (
        {rel: hashlib.sha256((change.overlay / rel).read_bytes()).hexdigest() for rel in overlay_files(change.overlay)}
        if change.overlay is not None
        else {}
    )
    described = {change.kind: f"{change.lab}/{change.id}", "overlay": overlay, "edits": edits}
    if change.scope:
        described["scope"] = list(change.scope)
    return json.dumps(described, sort_keys=True, default=str)


GIT_TIMEOUT_S = 20


def borrow_history(reference: Path, root: Path) -> bool:
    """Make the copy ``root`` a git repository whose HEAD is the reference's, sharing its objects.

    A copy is graded like a clone: checks that look commits up in the history (a release record's
    commit) then see the reference's. The objects are borrowed read-only (``objects/info/alternates``),
    so nothing is copied and the reference's repository is never written. False when the reference
    is not in a git repository or git is missing (the copy is then graded as a plain folder).
    """
    git = shutil.which("git")
    if git is None:
        return False
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [git, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )

    found = run("rev-parse", "--git-common-dir", "HEAD", cwd=reference)
    if found.returncode != 0 or len(found.stdout.split()) != 2:
        return False
    common, head = found.stdout.split()
    objects = (reference / common).resolve() / "objects"
    if not objects.is_dir() or run("init", "-q", "--template=", str(root), cwd=root).returncode != 0:
        return False
    (root / ".git" / "objects" / "info").mkdir(parents=True, exist_ok=True)
    (root / ".git" / "objects" / "info" / "alternates").write_text(f"{objects}\n", encoding="utf-8")
    return run("update-ref", "HEAD", head, cwd=root).returncode == 0


def _grade_copy(change: Change, reference: Path, lab: Lab, python: str | None) -> LabResult:
    from graders.engine import session  # local: session imports pytest machinery

    with tempfile.TemporaryDirectory(prefix=f"capstone-{change.kind}-{change.id}-") as tmp:
        root = copy_reference(reference, Path(tmp) / "submission")
        borrow_history(reference, root)
        apply(change, root)
        return session.grade_labs(root, [lab], python=python, checks=change.scope).lab(lab.id)


def cached_change(
    change: Change, reference: Path, lab: Lab, cache: GradeCache, python: str | None = None
) -> LabResult | None:
    """The cached grade of ``change``, or None when it was never graded with these inputs (nothing is graded)."""
    with cache.entry(cache.key(reference, lab, python, ignore=COPY_IGNORE, variant=fingerprint(change))) as entry:
        return cache.read(entry)


def grade_change(
    change: Change, reference: Path, lab: Lab, python: str | None = None, cache: GradeCache | None = None
) -> LabResult:
    """Apply a mutant or variant to a temporary copy of ``reference`` and grade its lab (on the change's
    ``scope`` of checks, see the module's docstring).

    With a ``cache`` (``graders.engine.cache``) the entry is looked up from the reference and the
    change's fingerprint before any copy is made: copying the reference costs more than a cached grade.
    """
    if cache is None:
        return _grade_copy(change, reference, lab, python)
    with cache.entry(cache.key(reference, lab, python, ignore=COPY_IGNORE, variant=fingerprint(change))) as entry:
        result = cache.read(entry)
        if result is None:
            result = _grade_copy(change, reference, lab, python)
            cache.write(entry, result)
    return result


grade_mutant = grade_change


def run_mutant(
    mutant: Mutant,
    reference: Path,
    lab: Lab,
    baseline: LabResult,
    python: str | None = None,
    cache: GradeCache | None = None,
) -> MutantOutcome:
    """Grade ``mutant`` (see ``grade_change``) and judge whether its lab's grader caught it against the
    ``baseline`` (the reference's grade of the lab)."""
    return judge(mutant, grade_change(mutant, reference, lab, python, cache), baseline)
