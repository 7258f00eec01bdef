"""The lab06 stand-in Copilot cannot drift from the real service.

The reference smoke test must pass against both the stand-in and the real reference Copilot (started
with graders.sdk.copilot, as the lab02/lab04 graders start a student's), the two must answer the same
requests with the same status codes, and every stand-in body must match the reference OpenAPI document.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from graders.lab06 import smoke, standin
from graders.lab06.plant_data import load_plant_data
from graders.sdk import Submission, run
from graders.sdk.copilot import CopilotService, start_copilot
from tests.labs.conftest import REFERENCE

OPENAPI = json.loads((REFERENCE / "docs" / "openapi.json").read_text(encoding="utf-8"))
KNOWN_QUESTION = "Which spare part number is the encoder cable for connector X12?"


@pytest.fixture(scope="module")
def reference() -> Submission:
    return Submission(REFERENCE)


@pytest.fixture(scope="module")
def real_copilot(reference: Submission, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CopilotService]:
    with start_copilot(reference, sys.executable, tmp_path_factory.mktemp("lab06-real")) as service:
        ready = service.wait_ready(90)
        assert ready is not None and ready.status_code == 200, service.log_tail()
        yield service


@pytest.fixture(scope="module")
def standin_copilot(reference: Submission) -> Iterator[tuple[str, standin.StandIn]]:
    server = standin.StandIn(load_plant_data(reference))
    with standin.running(server) as base_url:
        yield base_url, server


def _smoke(base_url: str, token: str) -> tuple[int, list[str]]:
    result = run(
        [sys.executable, smoke.SCRIPT],
        cwd=REFERENCE,
        env={"COPILOT_BASE_URL": base_url, "COPILOT_TOKEN": token},
        timeout=60,
    )
    return result.returncode, [
        line.split(":")[0] for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))
    ]


@pytest.mark.slow
def test_reference_smoke_test_passes_against_both(
    real_copilot: CopilotService, standin_copilot: tuple[str, standin.StandIn]
) -> None:
    real = _smoke(real_copilot.base_url, real_copilot.token())
    base_url, server = standin_copilot
    double = _smoke(base_url, server.mint_token())
    assert real[0] == 0 and double[0] == 0, (real, double)
    assert real[1] == double[1] == ["PASS liveness", "PASS readiness", "PASS authentication", "PASS rag", "PASS vision"]


def _image(content_type: str = "image/png") -> dict[str, Any]:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 200, 200)).save(buffer, "PNG")
    return {"image": ("probe.png", buffer.getvalue(), content_type)}


def _requests(token: Any, plant: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, method, path, httpx arguments): the same calls sent to both services."""
    good = {"Authorization": f"Bearer {token()}"}
    return [
        ("liveness", "GET", "/healthz", {}),
        ("readiness", "GET", "/readyz", {}),
        ("no token", "POST", "/v1/rag/query", {"json": {"question": KNOWN_QUESTION, "plant": plant}}),
        (
            "forged token",
            "POST",
            "/v1/rag/query",
            {"json": {"question": KNOWN_QUESTION, "plant": plant}, "headers": {"Authorization": "Bearer not.a.token"}},
        ),
        (
            "expired token",
            "POST",
            "/v1/rag/query",
            {
                "json": {"question": KNOWN_QUESTION, "plant": plant},
                "headers": {"Authorization": f"Bearer {token(ttl_s=-3600)}"},
            },
        ),
        (
            "known answer",
            "POST",
            "/v1/rag/query",
            {"json": {"question": KNOWN_QUESTION, "plant": plant}, "headers": good},
        ),
        (
            "other plant",
            "POST",
            "/v1/rag/query",
            {"json": {"question": KNOWN_QUESTION, "plant": "MTY02"}, "headers": good},
        ),
        (
            "extra field",
            "POST",
            "/v1/rag/query",
            {"json": {"question": KNOWN_QUESTION, "plant": plant, "x": 1}, "headers": good},
        ),
        ("short question", "POST", "/v1/rag/query", {"json": {"question": "?", "plant": plant}, "headers": good}),
        ("stream", "GET", "/v1/rag/stream", {"params": {"question": KNOWN_QUESTION, "plant": plant}, "headers": good}),
        ("classify", "POST", "/v1/vision/classify", {"files": _image(), "data": {"plant": plant}, "headers": good}),
        (
            "classify text",
            "POST",
            "/v1/vision/classify",
            {"files": _image("text/plain"), "data": {"plant": plant}, "headers": good},
        ),
        ("classify no image", "POST", "/v1/vision/classify", {"data": {"plant": plant}, "headers": good}),
        ("unknown path", "GET", "/v1/nothing-here", {}),
        ("wrong method", "GET", "/v1/rag/query", {"headers": good}),
    ]


def _call(base_url: str, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=20) as client:
        return client.request(method, path, **kwargs)


@pytest.mark.slow
def test_standin_answers_with_the_real_status_codes(
    real_copilot: CopilotService, standin_copilot: tuple[str, standin.StandIn]
) -> None:
    base_url, server = standin_copilot
    plant = real_copilot.plants.code
    real = {
        n: _call(real_copilot.base_url, m, p, kw).status_code
        for n, m, p, kw in _requests(lambda **a: real_copilot.token(**a), plant)
    }
    double = {
        n: _call(base_url, m, p, kw).status_code
        for n, m, p, kw in _requests(lambda ttl_s=3600: server.mint_token(ttl_s=ttl_s), plant)
    }
    assert double == real


def _response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    operation = OPENAPI["paths"][path][method.lower()]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": OPENAPI["components"]}


@pytest.mark.parametrize(
    "name",
    ["liveness", "readiness", "no token", "known answer", "other plant", "extra field", "classify", "classify text"],
)
def test_standin_bodies_match_the_reference_openapi(standin_copilot: tuple[str, standin.StandIn], name: str) -> None:
    base_url, server = standin_copilot
    [(method, path, kwargs)] = [
        (m, p, kw)
        for n, m, p, kw in _requests(lambda ttl_s=3600: server.mint_token(ttl_s=ttl_s), server.data.plant)
        if n == name
    ]
    response = _call(base_url, method, path, kwargs)
    jsonschema.validate(response.json(), _response_schema(path, method, response.status_code))


def test_readiness_fault_body_matches_the_openapi(reference: Submission) -> None:
    server = standin.StandIn(load_plant_data(reference), standin.READINESS_FAILING)
    with standin.running(server) as base_url:
        response = _call(base_url, "GET", "/readyz", {})
    assert response.status_code == 503
    jsonschema.validate(response.json(), _response_schema("/readyz", "GET", 503))


@pytest.mark.parametrize("scenario", smoke.SCENARIOS[1:], ids=lambda s: s.fault)
def test_reference_smoke_test_catches_and_names_every_fault(reference: Submission, scenario: smoke.Scenario) -> None:
    result = smoke.run_scenario(reference, sys.executable, load_plant_data(reference), scenario)
    assert result.result.returncode == 1, result.result.output
    assert result.names_the_step(), result.result.output


def test_wrong_answer_shares_nothing_with_the_right_one(reference: Submission) -> None:
    data = load_plant_data(reference)
    for case in data.cases.values():
        other = data.unrelated_case(case)
        assert other is not None, case.id
        assert not set(other.doc_ids) & set(case.doc_ids)
        answer = standin.StandIn(data, standin.WRONG_ANSWER).answer(
            {"question": case.question, "plant": case.plant, "equipment": None, "top_k": 5}
        )
        assert not any(k.casefold() in answer["answer"].casefold() for k in case.keywords), case.id


def test_every_known_answer_quotes_its_keywords(reference: Submission) -> None:
    data = load_plant_data(reference)
    server = standin.StandIn(data)
    for case in data.cases.values():
        answer = server.answer({"question": case.question, "plant": case.plant, "equipment": None, "top_k": 5})
        assert all(k.casefold() in answer["answer"].casefold() for k in case.keywords), case.id
        assert [c["document_id"] for c in answer["citations"]] == list(case.doc_ids)


def _raw_status(base_url: str, head: str, body: bytes = b"") -> int:
    """Send bytes no well-behaved client would send; the status of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = sock.recv(4096).decode("latin-1")
    return int(answer.split(" ", 2)[1])


def test_hostile_requests_get_errors_not_hangs(standin_copilot: tuple[str, standin.StandIn]) -> None:
    base_url, server = standin_copilot
    auth = f"Authorization: Bearer {server.mint_token()}\n"
    too_big = f"POST /v1/rag/query HTTP/1.1\nHost: x\n{auth}Content-Length: {standin.MAX_BODY_BYTES + 1}\n"
    assert _raw_status(base_url, too_big, b"{}") == 413
    assert _raw_status(base_url, f"POST /v1/rag/query HTTP/1.1\nHost: x\n{auth}Content-Length: x\n") == 400
    good = {"Authorization": f"Bearer {server.mint_token()}"}
    with httpx.Client(base_url=base_url, timeout=5) as client:
        assert client.post("/v1/rag/query", headers=good, content=b"{not json").status_code == 422
        bad_multipart = {**good, "Content-Type": "multipart/form-data; boundary=zz"}
        assert client.post("/v1/vision/classify", headers=bad_multipart, content=b"--zz\r\ngarbage").status_code == 422
    unknown = server.answer(
        {"question": "What is the meaning of life", "plant": "RVB01", "equipment": None, "top_k": 5}
    )
    assert unknown["citations"] == [] and unknown["answer"] == standin.NOT_FOUND_ANSWER


def test_connection_flood_is_refused_then_served(reference: Submission, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(standin, "MAX_CONNECTIONS", 2)
    server = standin.StandIn(load_plant_data(reference))
    with standin.running(server) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(2)]
        time.sleep(0.2)
        assert httpx.get(base_url + "/healthz", timeout=2).status_code == 503
        for sock in idle:
            sock.close()
        time.sleep(0.2)
        assert httpx.get(base_url + "/healthz", timeout=2).status_code == 200


def test_missing_evaluation_set_is_reported(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "plant.yaml").write_text("plant: {code: MTY02}\nplants: [{code: MTY02}]\n")
    data = load_plant_data(Submission(tmp_path))
    assert data.plant == "MTY02" and data.cases == {}
    assert any("data/eval/rag_eval.jsonl is missing" in p for p in data.problems)
