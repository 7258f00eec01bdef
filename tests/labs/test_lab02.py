"""The Lab 02 grader, what is particular to it: feedback on known mistakes, clear feedback on broken
submissions, and the tricky parts of the grader's own logic (full marks for the reference and every
mutant caught: test_lab_grading.py, for every lab)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from graders.engine.model import LabResult, Status
from graders.engine.mutants import copy_reference
from graders.lab02.http_helpers import _parse_block
from graders.lab02.judgements import error_fields, leaks
from graders.lab02.plant_data import load_plant_data
from graders.sdk import Submission, SubmissionFileError
from graders.sdk.checks import CheckFailed
from graders.sdk.copilot import ServiceClient, read_plants
from tests.labs.conftest import failure_report, mutant_params

LAB = "lab02"


# -- broken submissions: feedback, never a crash or a hang -------------------------------------------
def test_a_service_that_does_not_start_gets_its_own_traceback(tmp_path: Path, reference_root: Path, grade_lab) -> None:  # type: ignore[no-untyped-def]
    root = copy_reference(reference_root, tmp_path / "submission")
    main = root / "src" / "copilot" / "main.py"
    main.write_text(main.read_text() + "\nraise RuntimeError('settings could not be loaded')\n")
    result = grade_lab(root, LAB)
    assert result.score == 0
    feedback = {c.feedback for c in result.checks}
    assert any("settings could not be loaded" in f for f in feedback), failure_report(result)
    assert all(c.status in (Status.FAILED, Status.ERROR) for c in result.checks)


def test_an_empty_repository_is_graded_with_feedback(tmp_path: Path, grade_lab) -> None:  # type: ignore[no-untyped-def]
    result = grade_lab(tmp_path, LAB)
    assert result.score == 0
    assert all(c.status is Status.FAILED for c in result.checks), failure_report(result)
    assert all("config/plant.yaml" in c.feedback for c in result.checks)


# -- grader logic ----------------------------------------------------------------------------------------
def test_sse_blocks_are_parsed_like_a_browser_does() -> None:
    event = _parse_block('event: token\nid: 3\ndata: {"text": "Lock "}', 0.1)
    assert event is not None and (event.event, event.data) == ("token", {"text": "Lock "})
    multi = _parse_block("data: first line\ndata: second line", 0.2)
    assert multi is not None and (multi.event, multi.data) == ("message", "first line\nsecond line")
    assert _parse_block(": ping - 2026-03-01", 0.3) is None
    assert _parse_block("event: done\ndata:{}", 0.4).data == {}  # type: ignore[union-attr]


def test_field_errors_are_read_from_fastapi_422_bodies() -> None:
    body = {"detail": [{"loc": ["body", "top_k"], "msg": "x"}, {"loc": ["query", "plant"]}, {"msg": "no loc"}]}
    assert error_fields(body) == ["top_k", "plant"]
    assert error_fields({"detail": "Not authenticated"}) == []
    assert error_fields(["not", "a", "dict"]) == []


def test_leak_detection(reference_root: Path) -> None:
    data = load_plant_data(Submission(reference_root))
    foreign_doc = sorted(data.other_plant_documents())[0]
    clean = httpx.Response(403, json={"detail": "Plant access denied"})
    assert leaks(clean, data) == []
    leaky = httpx.Response(403, json={"detail": f"denied; see {foreign_doc}", "citations": []})
    found = leaks(leaky, data)
    assert "'citations'" in found and f"document {foreign_doc}" in found
    named = httpx.Response(403, json={"detail": f"{data.other_equipment.name} belongs to {data.other_plant}"})
    assert leaks(named, data) == [f"the name of {data.other_equipment.id}"]


def test_plant_data_comes_from_the_submission(reference_root: Path) -> None:
    data = load_plant_data(Submission(reference_root))
    assert data.own_equipment.plant == data.plant != data.other_plant
    assert data.other_plant in data.plants.others
    assert data.doc_plants and set(data.doc_plants.values()) <= {data.plant, *data.plants.others}


def test_missing_second_plant_is_explained(tmp_path: Path, reference_root: Path) -> None:
    shutil.copytree(reference_root / "config", tmp_path / "config")
    (tmp_path / "data").mkdir()
    code = read_plants(Submission(reference_root)).code
    (tmp_path / "data" / "equipment.yaml").write_text(
        f"equipment:\n  - {{id: {code}-PRS-101, plant: {code}, name: Press}}\n"
    )
    with pytest.raises(SubmissionFileError, match="no equipment of another plant"):
        load_plant_data(Submission(tmp_path))


def test_plant_code_is_required(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "plant.yaml").write_text("plant: {name: Somewhere}\n")
    with pytest.raises(SubmissionFileError, match=r"plant\.code"):
        read_plants(Submission(tmp_path))


@pytest.mark.parametrize(
    ("error", "message"),
    [(httpx.ReadTimeout("slow"), "did not answer GET /v1/audit within 3 s"), (httpx.ConnectError("gone"), "crash")],
)
def test_a_hanging_or_crashed_service_fails_the_check_not_the_grader(error: Exception, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = ServiceClient(base_url="http://copilot.test", transport=httpx.MockTransport(handler), timeout=3)
    with pytest.raises(CheckFailed, match=message):
        client.get("/v1/audit")


# Phrases a mutant's feedback must contain (what was expected, where, how to fix it).
FEEDBACK = {
    "route-recorded-as-raw-path": (
        "lab02.audit_success_record",
        ["route='/v1/analyses/grader-no-such-job'", "route template /v1/analyses/{job_id}", "middleware.py"],
    ),
    "sse-no-error-event": (
        "lab02.sse_streaming",
        ["generation fails midway", "must end with an `error` event", "GeneratorUnavailable", "routes/rag.py"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("mutant", [p for p in mutant_params(LAB) if p.id in FEEDBACK])
def test_mutant_feedback_explains_the_mistake(mutant, graded_mutant: Callable[[str, str], LabResult]) -> None:  # type: ignore[no-untyped-def]
    result = graded_mutant(LAB, mutant.id)  # the grading of test_lab_grading.py, cached
    check_id, phrases = FEEDBACK[mutant.id]
    feedback = next(c.feedback for c in result.checks if c.id == check_id)
    assert all(phrase in feedback for phrase in phrases), feedback
    assert "lab02_fastapi_serving.ipynb" in feedback
