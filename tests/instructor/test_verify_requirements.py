"""Requirement coverage (``graders.engine.requirements``) and how ``capstone verify`` reports it, on
hand-made maps and results; the progress lines and cache options of ``capstone verify``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graders.cli import main
from graders.engine import mutants
from graders.engine import requirements as reqs
from graders.engine.labs import Lab, load_catalog
from graders.engine.model import CheckResult, LabResult, Status
from graders.instructor import verify

LAB = next(lab for lab in load_catalog() if lab.id == "lab04")
GOOD = """\
requirements:
  - id: alert-waits-before-paging
    text: Every alert has a `for:` so one bad scrape never pages.
    source: "Alert rules"
    consequence: outage
    checks: [lab04.alert_metadata]
  - id: secrets-stay-out-of-config
    text: The webhook URL is read from a secret file, never written inline.
    source: "Routing"
    consequence: security
    checks: [lab04.alertmanager_routing]
"""


@pytest.fixture
def write_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    path = tmp_path / "requirements.yaml"
    monkeypatch.setattr(reqs, "requirements_file", lambda _lab: path)

    def _write(text: str) -> Path:
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def test_a_valid_map_loads(write_map: Callable[[str], Path]) -> None:
    write_map(GOOD)
    loaded = reqs.load_requirements(LAB)
    assert loaded is not None and [r.id for r in loaded] == ["alert-waits-before-paging", "secrets-stay-out-of-config"]
    assert loaded[1].severe and not loaded[0].severe


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("consequence: outage", "consequence: annoying", "requirements[0].consequence: 'annoying' is not one of"),
        ("checks: [lab04.alert_metadata]", "checks: lab04.alert_metadata", "requirements[0].checks: required"),
        ("checks: [lab04.alert_metadata]", "checks: [lab05.x]", "requirements[0].checks: ids must start with"),
        ("id: secrets-stay-out-of-config", "id: alert-waits-before-paging", "requirements[1].id: duplicate id"),
        ("id: alert-waits-before-paging", "id: Alert_Waits", "requirements[0].id: 'Alert_Waits' is not kebab-case"),
        ('    source: "Alert rules"\n', "", "requirements[0].source: required"),
        ("    consequence: outage\n", "    consequence: outage\n    owner: me\n", "requirements[0]: unknown field"),
    ],
)
def test_an_invalid_map_is_refused_naming_file_and_field(
    write_map: Callable[[str], Path], old: str, new: str, where: str
) -> None:
    path = write_map(GOOD.replace(old, new, 1))
    with pytest.raises(reqs.RequirementError) as raised:
        reqs.load_requirements(LAB)
    assert str(raised.value).startswith(f"{path}: ") and where in str(raised.value)


def test_a_lab_without_a_map_has_none(write_map: Callable[[str], Path], tmp_path: Path) -> None:
    assert not (tmp_path / "requirements.yaml").exists()
    assert reqs.requirements_file(LAB) == tmp_path / "requirements.yaml"
    assert reqs.summary(None, [], []) == "requirements: no requirement map"


def _requirement(req_id: str, checks: tuple[str, ...], consequence: str = "outage") -> reqs.Requirement:
    return reqs.Requirement(req_id, "text", "section", consequence, checks)


def test_static_rules_list_every_gap() -> None:
    requirements = [
        _requirement("covered", ("lab04.a",)),
        _requirement("no-mutant", ("lab04.b[case-1]",)),
        _requirement("no-check", ("lab04.gone",)),
    ]
    refs = [
        reqs.MutantRef("m1", "covered"),
        reqs.MutantRef("m2", None),
        reqs.MutantRef("m3", "nowhere"),
        reqs.MutantRef("m4", "no-check"),
    ]
    problems = reqs.static_problems(requirements, ["lab04.a", "lab04.b[case-1]", "lab04.b[case-2]", "lab04.c"], refs)
    assert problems == [
        "requirement no-mutant has no mutant",
        "requirement no-check names checks that do not exist: lab04.gone",
        "requirement no-check has no check",
        "mutant m2 names no requirement",
        "mutant m3 names an unknown requirement 'nowhere'",
        "check lab04.c is in no requirement",
    ]
    summary = reqs.summary(requirements, ["lab04.a", "lab04.b"], refs)
    assert summary == "requirements: 1/3 with a check and a mutant"


def _result(*checks: tuple[str, float, float]) -> LabResult:
    return LabResult(
        "lab04",
        "Monitoring",
        [CheckResult(i, i, m, s, Status.PASSED if s == m else Status.FAILED) for i, s, m in checks],
    )


def test_points_lost_are_per_check_against_the_reference() -> None:
    reference = _result(("lab04.a", 6, 6), ("lab04.b[x]", 2, 2), ("lab04.b[y]", 2, 2), ("lab04.c", 90, 90))
    mutant = _result(("lab04.a", 6, 6), ("lab04.b[x]", 0, 2), ("lab04.b[y]", 1, 2), ("lab04.c", 90, 90))
    assert reqs.points_lost(mutant, reference) == {"lab04.b": 3}


def test_a_mutant_caught_only_outside_its_requirement_is_listed() -> None:
    by_id = {"r": _requirement("r", ("lab04.a",))}
    problems = reqs.graded_problems(reqs.MutantRef("m", "r"), by_id, {"lab04.b": 4.0}, 100)
    assert problems == [
        "mutant m loses no points on a check of its requirement r (lab04.a); caught only by lab04.b (-4)"
    ]
    assert reqs.graded_problems(reqs.MutantRef("m", "r"), by_id, {"lab04.a": 1.0}, 100) == []


def test_a_security_mistake_must_cost_five_of_a_hundred_points() -> None:
    by_id = {"s": _requirement("s", ("lab04.a",), "security"), "d": _requirement("d", ("lab04.a",), "data-loss")}
    cheap = reqs.graded_problems(reqs.MutantRef("m", "s"), by_id, {"lab04.a": 4.0}, 100)
    assert cheap == [
        "mutant m (security requirement s) loses 4 of 100 points, under 5: weigh its checks by the consequence"
    ]
    assert reqs.graded_problems(reqs.MutantRef("m", "d"), by_id, {"lab04.a": 5.0}, 100) == []
    assert reqs.graded_problems(reqs.MutantRef("m", "d"), by_id, {"lab04.a": 2.0}, 40) == []  # 5 of 100


def test_mutants_yaml_reads_the_requirement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mutants.yaml").write_text(
        "mutants:\n"
        "  - {id: a, description: d, edits: [{file: x, write: y}], must_fail: [lab04.x], requirement: r-1}\n"
        "  - {id: b, description: d, edits: [{file: x, write: y}], must_fail: [lab04.x]}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(mutants, "mutants_file", lambda _lab: tmp_path / "mutants.yaml")
    assert [(m.id, m.requirement) for m in mutants.load_mutants(LAB)] == [("a", "r-1"), ("b", None)]
    (tmp_path / "mutants.yaml").write_text(
        "mutants:\n  - {id: a, edits: [{file: x, write: y}], must_fail: [lab04.x], requirement: [r]}\n",
        encoding="utf-8",
    )
    with pytest.raises(mutants.MutantError, match=r"mutants\[0\] \(a\): requirement must be"):
        mutants.load_mutants(LAB)


# -- how verify reports it -------------------------------------------------------------------------
def _lab_without_map(monkeypatch: pytest.MonkeyPatch) -> Lab:
    monkeypatch.setattr(reqs, "requirements_file", lambda _lab: None)
    return LAB


def test_a_lab_without_a_map_fails_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    lab = _lab_without_map(monkeypatch)
    verdict = verify.LabVerdict(lab.id, lab.title, True)
    verify._check_requirement_map(lab, verdict, _result(("lab04.a", 1, 1)))
    assert verdict.problems == ["no requirement map (graders/lab04/requirements.yaml)"] and not verdict.ok
    assert verdict.requirements == "requirements: no requirement map"


def test_graded_mutants_are_judged_against_their_requirement() -> None:
    verdict = verify.LabVerdict("lab04", "Monitoring", True)
    verdict.mutants = [
        verify.MutantVerdict("ok", True, "", "s", {"lab04.a": 6.0}, graded=True),
        verify.MutantVerdict("elsewhere", True, "", "s", {"lab04.b": 6.0}, graded=True),
        verify.MutantVerdict("stale", False, "edit 0: no match", "s", {}, graded=False),
    ]
    verify._check_graded_mutants(verdict, {"s": _requirement("s", ("lab04.a",), "security")}, 100)
    assert verdict.problems == [
        "mutant elsewhere loses no points on a check of its requirement s (lab04.a); caught only by lab04.b (-6)"
    ]


def test_the_table_has_a_coverage_line_per_lab() -> None:
    lab = verify.LabVerdict("lab04", "Monitoring", True, 100, 100, 0, ["lab04.a"], ["lab04.a"])
    lab.requirements = "requirements: 23/23 with a check and a mutant"
    table = verify.render_table(verify.Verification([lab], starter_score=0, max_score=100))
    assert "  lab04 requirements: 23/23 with a check and a mutant" in table
    assert verify.Verification([lab]).to_dict()["labs"][0]["requirements"] == lab.requirements


def test_each_graded_change_is_a_progress_line(monkeypatch: pytest.MonkeyPatch) -> None:
    mutant = mutants.Mutant("m", LAB.id, "d", (), (f"{LAB.id}.x",))
    monkeypatch.setattr(verify, "_run_change", lambda c, *_: verify.MutantVerdict(c.id, c.id == "m"))
    lines: list[str] = []
    baseline = _result(("lab04.x", 1, 1))
    other = mutants.Mutant("n", LAB.id, "d", (), (f"{LAB.id}.x",))
    work = [(mutant, LAB, baseline), (other, LAB, baseline)]
    outcomes = verify._grade_all(work, Path("."), 1, None, lines.append)
    assert [o.id for o in outcomes] == ["m", "n"]
    assert lines[0].startswith("[1/2] lab04 mutant m: caught (")
    assert lines[1].startswith("[2/2] lab04 mutant n: NOT CAUGHT (")


def test_cache_dir_and_no_cache_exclude_each_other(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["verify", "--no-cache", "--cache-dir", str(tmp_path)]) == 1
    assert "--cache-dir and --no-cache exclude each other" in capsys.readouterr().err
