"""Rego policies evaluated with conftest's conventions, by whichever engine is installed.

conftest is the reference: it evaluates a namespace (``main`` by default) per input file and
reports the messages of rules named ``deny``/``violation`` (with an optional ``_suffix``) as
failures and of ``warn`` rules as warnings; a message is a string or an object with ``msg``.
``conftest verify`` runs the ``test_*`` rules of every package. This module gives the same
results from ``conftest`` or ``opa`` when one is on PATH, and otherwise from the embedded
``regorus`` engine, so grading never depends on a binary students may not have.
"""

from __future__ import annotations

import json
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.sdk import find_tool, run_tool

DENY_RULE = re.compile(r"^(deny|violation)(_[a-zA-Z0-9]+)*$")
WARN_RULE = re.compile(r"^warn(_[a-zA-Z0-9]+)*$")
TEST_RULE = re.compile(r"^test_")
SKIPPED_TEST_RULE = re.compile(r"^todo_test_")
DEFAULT_NAMESPACE = "main"
TOOL_TIMEOUT_S = 60.0


class PolicyError(Exception):
    """Policies that cannot be loaded or evaluated; the message names the file (and line) and the fix."""


@dataclass(frozen=True)
class PolicyFile:
    """A ``.rego`` file: its path as shown in messages, and its text."""

    path: str
    text: str


@dataclass
class Verdict:
    """What the policies say about one input: failure and warning messages, sorted."""

    input_name: str
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TestOutcome:
    """One ``test_*`` rule: passed, failed (with why) or skipped (``todo_test_*``)."""

    package: str
    name: str
    status: str  # "passed", "failed", "skipped"
    detail: str = ""


class RegoEngine(ABC):
    """Evaluates policies the way conftest does."""

    name: str

    @abstractmethod
    def evaluate(
        self, policies: Sequence[PolicyFile], inputs: Sequence[tuple[str, Any]], namespace: str = DEFAULT_NAMESPACE
    ) -> list[Verdict]:
        """One verdict per ``(name, document)`` input, in order."""

    @abstractmethod
    def run_tests(self, policies: Sequence[PolicyFile]) -> list[TestOutcome]:
        """Run every ``test_*`` rule, like ``conftest verify``."""


def default_engine() -> RegoEngine:
    """conftest when installed, then opa, then the embedded regorus engine."""
    conftest = find_tool("conftest")
    if conftest:
        return ConftestEngine(conftest)
    opa = find_tool("opa")
    if opa:
        return OpaEngine(opa)
    return RegorusEngine()


def messages(rule_value: Any, rule: str) -> list[str]:
    """The messages of one deny/warn rule's value, as conftest reports them."""
    if rule_value is None or rule_value is False:
        return []
    if rule_value is True:
        return [f"{rule} is true"]
    if isinstance(rule_value, str):
        return [rule_value]
    if isinstance(rule_value, dict):
        msg = rule_value.get("msg")
        return [msg if isinstance(msg, str) else json.dumps(rule_value, sort_keys=True)]
    if isinstance(rule_value, (list, set, frozenset, tuple)):
        found: list[str] = []
        for item in rule_value:
            found.extend(messages(item, rule))
        return found
    return [json.dumps(rule_value, sort_keys=True, default=str)]


def verdict_from_rules(input_name: str, rules: dict[str, Any]) -> Verdict:
    """Apply conftest's rule-name conventions to the values of a namespace's rules."""
    verdict = Verdict(input_name)
    for rule, value in rules.items():
        if DENY_RULE.match(rule):
            verdict.failures.extend(messages(value, rule))
        elif WARN_RULE.match(rule):
            verdict.warnings.extend(messages(value, rule))
    verdict.failures.sort()
    verdict.warnings.sort()
    return verdict


def _clean_error(exc: BaseException) -> str:
    """regorus errors carry a Rust backtrace; keep the located message only."""
    text = str(exc).split("Stack backtrace:", 1)[0]
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines) or type(exc).__name__


# -- regorus (embedded) --------------------------------------------------------------------------
def _ref_path(node: Any) -> list[str]:
    """A package path or rule head from regorus' AST JSON (``Var``/``RefDot``/``RefBrack``)."""
    if not isinstance(node, dict) or not node:
        return []
    kind, body = next(iter(node.items()))
    if kind == "Var":
        return [str(body.get("value"))]
    if kind == "RefDot":
        field_part = body.get("field")
        name = field_part[1] if isinstance(field_part, list) and len(field_part) > 1 else field_part
        return [*_ref_path(body.get("refr")), str(name)]
    if kind == "RefBrack":
        index = body.get("index", {})
        value = index.get("String", {}).get("value") if isinstance(index, dict) else None
        return [*_ref_path(body.get("refr")), str(value)] if value is not None else _ref_path(body.get("refr"))
    return []


@dataclass(frozen=True)
class _Rule:
    package: str
    name: str
    is_function: bool


def _rules_from_ast(ast_json: str) -> list[_Rule]:
    rules: list[_Rule] = []
    for module in json.loads(ast_json):
        ast = module.get("ast", {})
        package = ".".join(_ref_path(ast.get("package", {}).get("refr", {})))
        for rule in ast.get("rules", []):
            spec = rule.get("Spec") if isinstance(rule, dict) else None
            if spec is None:
                default = rule.get("Default") if isinstance(rule, dict) else None
                if default:
                    path = _ref_path(default.get("refr", {}))
                    if path:
                        rules.append(_Rule(package, path[0], False))
                continue
            head = spec.get("head", {})
            if not head:
                continue
            kind, body = next(iter(head.items()))
            path = _ref_path(body.get("refr", {}))
            if path:
                rules.append(_Rule(package, path[0], kind == "Func"))
    return rules


class RegorusEngine(RegoEngine):
    """The embedded engine (``regorus``, wheel ``gordon-to-regorus``): in process, no binary."""

    name = "regorus"

    def _load(self, policies: Sequence[PolicyFile]) -> tuple[Any, list[_Rule]]:
        try:
            import regorus
        except ImportError:  # pragma: no cover - a dependency of the kit
            raise PolicyError(
                "no Rego engine is available: install conftest or opa, or `pip install gordon-to-regorus`"
            ) from None
        if not policies:
            raise PolicyError("no .rego files were found")
        first_error: str | None = None
        for legacy_syntax in (False, True):  # Rego v1 first (OPA 1.x, conftest >= 0.56), then v0
            engine = regorus.Engine()
            if legacy_syntax:
                engine.set_rego_v0(True)
            try:
                for policy in policies:
                    engine.add_policy(policy.path, policy.text)
                return engine, _rules_from_ast(engine.get_ast_as_json())
            except RuntimeError as exc:
                first_error = first_error or _clean_error(exc)
        raise PolicyError(f"the policies do not compile:\n{first_error}")

    def evaluate(
        self, policies: Sequence[PolicyFile], inputs: Sequence[tuple[str, Any]], namespace: str = DEFAULT_NAMESPACE
    ) -> list[Verdict]:
        """Query each deny/warn rule, as conftest does, with the rule names read from the AST.

        One ``eval_query("data.<namespace>")`` would return every rule's value, but regorus 0.13
        drops deny messages there that ``eval_rule`` returns (the reference policies' known cases
        in tests/labs/test_lab07_units.py fail open that way), so each rule is queried on its own.
        """
        engine, rules = self._load(policies)
        names = sorted(
            {
                r.name
                for r in rules
                if r.package == namespace and not r.is_function and (DENY_RULE.match(r.name) or WARN_RULE.match(r.name))
            }
        )
        verdicts = []
        for input_name, document in inputs:
            engine.set_input(document)
            values: dict[str, Any] = {}
            for rule in names:
                try:
                    values[rule] = engine.eval_rule(f"data.{namespace}.{rule}")
                except RuntimeError as exc:
                    raise PolicyError(
                        f"evaluating data.{namespace}.{rule} on {input_name} failed:\n{_clean_error(exc)}"
                    ) from None
            verdicts.append(verdict_from_rules(input_name, values))
        return verdicts

    def run_tests(self, policies: Sequence[PolicyFile]) -> list[TestOutcome]:
        engine, rules = self._load(policies)
        engine.set_input({})
        outcomes = []
        for rule in rules:
            if rule.is_function:
                continue
            if SKIPPED_TEST_RULE.match(rule.name):
                outcomes.append(TestOutcome(rule.package, rule.name, "skipped"))
                continue
            if not TEST_RULE.match(rule.name):
                continue
            try:
                value = engine.eval_rule(f"data.{rule.package}.{rule.name}")
            except RuntimeError as exc:
                outcomes.append(TestOutcome(rule.package, rule.name, "failed", _clean_error(exc)))
                continue
            passed = value is not None and value is not False
            outcomes.append(TestOutcome(rule.package, rule.name, "passed" if passed else "failed"))
        return _unique(outcomes)


def _unique(outcomes: Iterable[TestOutcome]) -> list[TestOutcome]:
    """A test defined in several bodies is one test (OPA reports it once)."""
    seen: dict[tuple[str, str], TestOutcome] = {}
    for outcome in outcomes:
        seen.setdefault((outcome.package, outcome.name), outcome)
    return list(seen.values())


# -- command-line engines ---------------------------------------------------------------------------
def _write_policies(policies: Sequence[PolicyFile], directory: Path) -> Path:
    root = directory / "policy"
    for index, policy in enumerate(policies):
        target = root / f"{index:04d}_{Path(policy.path).name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(policy.text, encoding="utf-8")
    return root


def _load_json_output(text: str, tool: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise PolicyError(f"`{tool}` did not produce JSON:\n{text.strip()[-1500:]}") from None


class OpaEngine(RegoEngine):
    """``opa eval`` per input and ``opa test``, with conftest's conventions applied here."""

    name = "opa"

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def evaluate(
        self, policies: Sequence[PolicyFile], inputs: Sequence[tuple[str, Any]], namespace: str = DEFAULT_NAMESPACE
    ) -> list[Verdict]:
        verdicts = []
        with tempfile.TemporaryDirectory(prefix="capstone-opa-") as tmp:
            root = _write_policies(policies, Path(tmp))
            for input_name, document in inputs:
                result = run_tool(
                    [
                        self.binary,
                        "eval",
                        "--format",
                        "json",
                        "--stdin-input",
                        "--data",
                        str(root),
                        f"data.{namespace}",
                    ],
                    cwd=tmp,
                    stdin=json.dumps(document),
                    timeout=TOOL_TIMEOUT_S,
                )
                if not result.ok:
                    raise PolicyError(f"opa eval failed on {input_name}:\n{result.tail()}")
                verdicts.append(verdict_from_rules(input_name, parse_opa_eval(result.stdout)))
        return verdicts

    def run_tests(self, policies: Sequence[PolicyFile]) -> list[TestOutcome]:
        with tempfile.TemporaryDirectory(prefix="capstone-opa-") as tmp:
            root = _write_policies(policies, Path(tmp))
            result = run_tool([self.binary, "test", "--format", "json", str(root)], cwd=tmp, timeout=TOOL_TIMEOUT_S)
        if not result.stdout.strip():
            raise PolicyError(f"opa test failed:\n{result.tail()}")
        return parse_opa_test(result.stdout)


def parse_opa_eval(stdout: str) -> dict[str, Any]:
    """The rules of the queried namespace from ``opa eval --format json data.<ns>``."""
    data = _load_json_output(stdout, "opa eval")
    try:
        value = data["result"][0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        return {}  # the namespace is undefined: no rules, nothing denied
    return value if isinstance(value, dict) else {}


def parse_opa_test(stdout: str) -> list[TestOutcome]:
    """``opa test --format json``: one object per test with ``fail``/``error``/``skip``."""
    outcomes = []
    for item in _load_json_output(stdout, "opa test") or []:
        package = str(item.get("package", "")).removeprefix("data.")
        name = str(item.get("name", ""))
        if item.get("skip"):
            status, detail = "skipped", ""
        elif item.get("error"):
            status, detail = "failed", str(item["error"].get("message", item["error"]))
        elif item.get("fail"):
            status, detail = "failed", ""
        else:
            status, detail = "passed", ""
        outcomes.append(TestOutcome(package, name, status, detail))
    return outcomes


class ConftestEngine(RegoEngine):
    """``conftest test`` on JSON inputs and ``conftest verify``: conftest itself."""

    name = "conftest"

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def evaluate(
        self, policies: Sequence[PolicyFile], inputs: Sequence[tuple[str, Any]], namespace: str = DEFAULT_NAMESPACE
    ) -> list[Verdict]:
        if not inputs:
            return []
        with tempfile.TemporaryDirectory(prefix="capstone-conftest-") as tmp:
            root = _write_policies(policies, Path(tmp))
            files = []
            for index, (_, document) in enumerate(inputs):
                path = Path(tmp) / "inputs" / f"{index:04d}.json"
                path.parent.mkdir(exist_ok=True)
                path.write_text(json.dumps(document), encoding="utf-8")
                files.append(str(path))
            result = run_tool(
                [
                    self.binary,
                    "test",
                    "--no-color",
                    "--output",
                    "json",
                    "--policy",
                    str(root),
                    "--namespace",
                    namespace,
                    *files,
                ],
                cwd=tmp,
                timeout=TOOL_TIMEOUT_S,
            )
        if result.returncode not in (0, 1) or not result.stdout.strip():
            raise PolicyError(f"conftest test failed:\n{result.tail()}")
        by_file = parse_conftest_test(result.stdout)
        return [Verdict(name, *by_file.get(f"{index:04d}.json", ([], []))) for index, (name, _) in enumerate(inputs)]

    def run_tests(self, policies: Sequence[PolicyFile]) -> list[TestOutcome]:
        with tempfile.TemporaryDirectory(prefix="capstone-conftest-") as tmp:
            root = _write_policies(policies, Path(tmp))
            result = run_tool(
                [self.binary, "verify", "--no-color", "--output", "json", "--policy", str(root)],
                cwd=tmp,
                timeout=TOOL_TIMEOUT_S,
            )
        if not result.stdout.strip():
            raise PolicyError(f"conftest verify failed:\n{result.tail()}")
        return parse_conftest_verify(result.stdout)


def parse_conftest_test(stdout: str) -> dict[str, tuple[list[str], list[str]]]:
    """``conftest test --output json``: failures and warnings per input file name."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for item in _load_json_output(stdout, "conftest test") or []:
        name = Path(str(item.get("filename", ""))).name
        failures = sorted(str(r.get("msg", "")) for r in item.get("failures") or [])
        warnings = sorted(str(r.get("msg", "")) for r in item.get("warnings") or [])
        previous = found.get(name, ([], []))
        found[name] = (sorted(previous[0] + failures), sorted(previous[1] + warnings))
    return found


def parse_conftest_verify(stdout: str) -> list[TestOutcome]:
    """``conftest verify --output json``: failed tests by name; successes are only counted."""
    outcomes = []
    for item in _load_json_output(stdout, "conftest verify") or []:
        package = str(item.get("namespace", ""))
        for failure in item.get("failures") or []:
            outcomes.append(TestOutcome(package, str(failure.get("msg", "")), "failed"))
        for skipped in item.get("skipped") or []:
            outcomes.append(TestOutcome(package, str(skipped.get("msg", "")), "skipped"))
        for index in range(int(item.get("successes") or 0)):
            outcomes.append(TestOutcome(package, f"{Path(str(item.get('filename', ''))).name}#{index + 1}", "passed"))
    return outcomes
