"""Known-wrong variants of the reference solution that a lab's grader must catch.

A lab ships ``mutants.yaml`` beside its checks. Each mutant is a small declarative edit of one or
more reference files (text replacement, regex, YAML/JSON key edits, whole-file write or delete)
plus the ids of the checks that must then fail. An edit that no longer applies is an error, so a
mutant cannot silently go stale when the reference changes.

Format::

    mutants:
      - id: latency-in-seconds
        description: The audit middleware records latency in seconds.
        edits:
          - file: src/copilot/audit.py
            replace: "* 1000"
            with: ""
        must_fail: [lab02.audit_latency_ms]
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graders.engine.labs import Lab
from graders.engine.model import LabResult, Status
from graders.sdk import safe_yaml

EDIT_KINDS = ("replace", "regex", "write", "append", "delete", "yaml_set", "yaml_delete", "json_set", "json_delete")
# Reference-solution folders that are never needed to grade a mutant (fast copies).
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", "mlruns", ".mypy_cache")


class MutantError(Exception):
    """A mutant definition that is invalid or no longer applies; the message names mutant and edit."""


@dataclass(frozen=True)
class Edit:
    file: str
    kind: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Mutant:
    id: str
    lab: str
    description: str
    edits: tuple[Edit, ...]
    must_fail: tuple[str, ...]


@dataclass
class MutantOutcome:
    mutant: Mutant
    caught: bool
    score: float
    baseline_score: float
    not_failed: list[str] = field(default_factory=list)
    message: str = ""


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


def load_mutants(lab: Lab) -> list[Mutant]:
    path = mutants_file(lab)
    if path is None:
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("mutants") or []):
        where = f"{path}: mutants[{i}]"
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("edits") or not raw.get("must_fail"):
            raise MutantError(f"{where}: a mutant needs 'id', 'description', 'edits' and 'must_fail'")
        if raw["id"] in seen:
            raise MutantError(f"{where}: duplicate mutant id {raw['id']!r}")
        seen.add(raw["id"])
        edits = tuple(_parse_edit(e, f"{where} ({raw['id']}) edits[{j}]") for j, e in enumerate(raw["edits"]))
        must_fail = tuple(str(c) for c in raw["must_fail"])
        bad = [c for c in must_fail if not c.startswith(lab.id + ".")]
        if bad:
            raise MutantError(f"{where} ({raw['id']}): must_fail ids must start with '{lab.id}.': {bad}")
        result.append(Mutant(raw["id"], lab.id, str(raw.get("description", "")), edits, must_fail))
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


def apply(mutant: Mutant, root: Path) -> None:
    for i, edit in enumerate(mutant.edits):
        try:
            apply_edit(root, edit)
        except MutantError as exc:
            raise MutantError(f"mutant {mutant.lab}/{mutant.id} edit {i}: {exc}") from None
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MutantError(f"mutant {mutant.lab}/{mutant.id} edit {i} on {edit.file}: {exc!r}") from None


def copy_reference(reference: Path, dest: Path) -> Path:
    shutil.copytree(reference, dest, ignore=COPY_IGNORE, symlinks=True)
    return dest


def judge(mutant: Mutant, result: LabResult, baseline_score: float) -> MutantOutcome:
    """Caught means: every named check did not pass, and the lab scored less than the baseline."""
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
        )
    not_failed = [c for c in mutant.must_fail if statuses[c] is Status.PASSED]
    dropped = result.score < baseline_score
    caught = not not_failed and dropped
    message = (
        "" if caught else (f"still passing: {', '.join(not_failed)}" if not_failed else "the lab score did not drop")
    )
    return MutantOutcome(mutant, caught, result.score, baseline_score, not_failed, message)


def fingerprint(mutant: Mutant) -> str:
    """What a mutant changes, as text: equal for equal edits (the grade cache's key for its copy)."""
    edits = [{"file": e.file, "kind": e.kind, "args": e.args} for e in mutant.edits]
    return json.dumps({"mutant": f"{mutant.lab}/{mutant.id}", "edits": edits}, sort_keys=True, default=str)


def _grade_copy(mutant: Mutant, reference: Path, lab: Lab, python: str | None) -> LabResult:
    from graders.engine.session import grade_labs  # local: session imports pytest machinery

    with tempfile.TemporaryDirectory(prefix=f"capstone-mutant-{mutant.id}-") as tmp:
        root = copy_reference(reference, Path(tmp) / "submission")
        apply(mutant, root)
        return grade_labs(root, [lab], python=python).lab(lab.id)


def grade_mutant(mutant: Mutant, reference: Path, lab: Lab, python: str | None = None) -> LabResult:
    """Apply ``mutant`` to a temporary copy of ``reference`` and grade its lab.

    Under the kit's test cache (``graders.engine.cache``) the entry is looked up from the reference and
    the mutant's edits before any copy is made: copying the reference costs more than a cached grade.
    """
    from graders.engine.cache import GradeCache

    cache = GradeCache.from_env()
    if cache is None:
        return _grade_copy(mutant, reference, lab, python)
    with cache.entry(cache.key(reference, lab, python, ignore=COPY_IGNORE, variant=fingerprint(mutant))) as entry:
        result = cache.read(entry)
        if result is None:
            result = _grade_copy(mutant, reference, lab, python)
            cache.write(entry, result)
    return result


def run_mutant(
    mutant: Mutant, reference: Path, lab: Lab, baseline_score: float, python: str | None = None
) -> MutantOutcome:
    """Grade ``mutant`` (see ``grade_mutant``) and judge whether its lab's grader caught it."""
    return judge(mutant, grade_mutant(mutant, reference, lab, python), baseline_score)
