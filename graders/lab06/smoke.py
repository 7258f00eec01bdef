"""Running the student's smoke test against the stand-in Copilot, healthy and with each fault.

The smoke test is student code: it runs with the student's interpreter through ``graders.sdk.run``
(timeout, memory cap, scrubbed environment), told where the Copilot is and which token to use by
``COPILOT_BASE_URL``, ``COPILOT_TOKEN`` and ``COPILOT_PLANT``. Each scenario gets its own stand-in,
so the runs cannot disturb each other and can go in parallel.
"""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from graders.lab06 import standin
from graders.lab06.plant_data import PlantData
from graders.sdk import ProcessResult, Submission, run

SCRIPT = "scripts/smoke_test.py"
RUN_TIMEOUT_S = 45.0
FAILURE_LINE = re.compile(r"fail|error|✗|✘|\bnot ok\b|assert|exception|broken|unhealthy", re.I)


@dataclass(frozen=True)
class Scenario:
    fault: str | None
    description: str  # what is broken, for the feedback
    step_words: tuple[str, ...] = ()  # words of which one names the failing step in the smoke test's output
    endpoint: str = ""  # the path whose behaviour is broken
    hint: str = ""  # what a smoke test does to notice it
    weight: float = 1.0  # missing an open door (auth disabled) costs more than missing an outage


SCENARIOS = (
    Scenario(None, "the healthy Copilot"),
    Scenario(
        standin.READINESS_FAILING,
        "readiness failing (GET /readyz answers 503, the model is still loading)",
        ("readiness", "readyz", "ready"),
        "/readyz",
        "expect 200 and status 'ready' from GET /readyz",
    ),
    Scenario(
        standin.RAG_500,
        "the RAG endpoint failing (POST /v1/rag/query answers 500)",
        ("rag", "query"),
        "/v1/rag/query",
        "expect status 200 from the authenticated query",
    ),
    Scenario(
        standin.AUTH_DISABLED,
        "authentication disabled (a request without a token gets 200)",
        ("auth", "token", "401", "unauthenticated", "unauthorized", "unauthorised"),
        "/v1/rag/query",
        "send one query without a token and expect 401",
        weight=1.5,
    ),
    Scenario(
        standin.WRONG_ANSWER,
        "a wrong answer (200, well-formed, but the answer and citations of another question)",
        ("answer", "rag", "citation", "cite", "known", "expected"),
        "/v1/rag/query",
        "compare the answer with the known one: its answer keyword (e.g. a part number) and the cited document ids",
    ),
    Scenario(
        standin.VISION_UNAVAILABLE,
        "vision classification failing (POST /v1/vision/classify answers 503)",
        ("vision", "classif", "image", "inspection"),
        "/v1/vision/classify",
        "classify an inspection image and expect 200 with a known label",
    ),
)


@dataclass
class SmokeRun:
    scenario: Scenario
    result: ProcessResult
    requests: list[standin.Request]

    @property
    def exit_ok(self) -> bool:
        return self.result.returncode == 0 and not self.result.timed_out

    def names_the_step(self) -> bool:
        """The output's failure lines (or last lines) mention the broken step."""
        lines = [line for line in self.result.output.splitlines() if line.strip()]
        failing = [line for line in lines if FAILURE_LINE.search(line)] or lines[-3:]
        text = "\n".join(failing).lower()
        return any(word in text for word in self.scenario.step_words)

    def called(self, path: str) -> list[standin.Request]:
        return [r for r in self.requests if r.path == path]


def run_scenario(submission: Submission, python: str, data: PlantData, scenario: Scenario) -> SmokeRun:
    server = standin.StandIn(data, scenario.fault)
    with tempfile.TemporaryDirectory(prefix="capstone-smoke-") as scratch, standin.running(server) as base_url:
        workdir = submission.copy_folder_to("scripts", Path(scratch))  # the script runs outside the submission
        result = run(
            [python, SCRIPT],
            cwd=workdir,
            env={"COPILOT_BASE_URL": base_url, "COPILOT_TOKEN": server.mint_token(), "COPILOT_PLANT": data.plant},
            timeout=RUN_TIMEOUT_S,
            raise_on_timeout=False,
            label=f"python {SCRIPT} (against {scenario.description})",
        )
    return SmokeRun(scenario, result, list(server.requests))


def run_all(submission: Submission, python: str, data: PlantData, scenarios: tuple[Scenario, ...]) -> list[SmokeRun]:
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        return list(pool.map(lambda s: run_scenario(submission, python, data, s), scenarios))
