"""Smoke-test a running Copilot: the checks that decide whether a new revision may take traffic.

Usage:
    COPILOT_TOKEN=$(make -s token) python scripts/smoke_test.py --base-url http://127.0.0.1:8000
    python scripts/smoke_test.py --base-url "https://canary---mfgcp-prod-euw4-api-abc123-ez.a.run.app"

The base URL and the bearer token come from ``--base-url``/``--token`` or the environment
(``COPILOT_BASE_URL``, ``COPILOT_TOKEN``). Behind Cloud Run's IAM check, set ``COPILOT_ID_TOKEN``
(``gcloud auth print-identity-token``): it is sent as ``X-Serverless-Authorization``, which Cloud
Run verifies and strips, so the Copilot's own ``Authorization`` header stays free for its token.

Every step runs, each prints ``PASS <step>: ...`` or ``FAIL <step>: ...``, and the exit code is 0
only when all passed (1 when one failed, 2 for a usage error), so a deploy pipeline stops on it.
"""

from __future__ import annotations

import argparse
import math
import os
import struct
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_TIMEOUT_S = 20.0
LABELS = ("ok", "scratch", "dent", "corrosion")
# A known answer from the plant's evaluation set (data/eval/rag_eval.jsonl, q005): the part number
# only appears in the documents listed, so a wrong index, a stale corpus or a broken generator fails it.
KNOWN_QUESTION = "Which spare part number is the encoder cable for connector X12?"
KNOWN_PLANT = "RVB01"
KNOWN_ANSWER = "KR-EC-0712"
KNOWN_SOURCES = ("man-press-servo-alarms", "man-press-kst2500-maintenance")


class StepFailed(Exception):
    """A smoke-test step did not get what it expected; the message says what it got."""


@dataclass(frozen=True)
class Context:
    client: httpx.Client
    token: str
    plant: str


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Context], str]  # returns what it verified; raises StepFailed


def expect_status(response: httpx.Response, expected: int, what: str) -> Any:
    """The JSON body of a response with the expected status, or StepFailed naming what came back."""
    if response.status_code != expected:
        body = response.text.strip().replace("\n", " ")[:200]
        raise StepFailed(f"{what} answered {response.status_code}, expected {expected} ({body or 'empty body'})")
    try:
        return response.json()
    except ValueError:
        raise StepFailed(f"{what} answered {expected} but its body is not JSON") from None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def check_liveness(ctx: Context) -> str:
    body = expect_status(ctx.client.get("/healthz"), 200, "GET /healthz")
    if not isinstance(body, dict) or body.get("status") != "ok":
        raise StepFailed(f'GET /healthz answered {body!r}, expected {{"status": "ok"}}')
    return "GET /healthz is ok"


# BEGIN SOLUTION lab06: add the readiness, no-token, RAG known-answer and vision steps (see the lab notebook)
def check_readiness(ctx: Context) -> str:
    response = ctx.client.get("/readyz")
    if response.status_code != 200:
        try:
            checks = response.json().get("checks")
        except (ValueError, AttributeError):
            checks = None
        raise StepFailed(f"GET /readyz answered {response.status_code}, expected 200 (checks: {checks})")
    body = expect_status(response, 200, "GET /readyz")
    if not isinstance(body, dict) or body.get("status") != "ready":
        raise StepFailed(f"GET /readyz answered {body!r}, expected status 'ready'")
    return "GET /readyz is ready (" + ", ".join(f"{k}: {v}" for k, v in (body.get("checks") or {}).items()) + ")"


def rag_request(plant: str) -> dict[str, Any]:
    return {"question": KNOWN_QUESTION, "plant": plant, "top_k": 5}


def check_rejects_missing_token(ctx: Context) -> str:
    response = ctx.client.post("/v1/rag/query", json=rag_request(ctx.plant))
    if response.status_code != 401:
        raise StepFailed(
            f"POST /v1/rag/query without a token answered {response.status_code}, expected 401: "
            "authentication is not enforced"
        )
    return "a request without a token is refused with 401"


def check_rag_known_answer(ctx: Context) -> str:
    response = ctx.client.post("/v1/rag/query", json=rag_request(ctx.plant), headers=bearer(ctx.token))
    body = expect_status(response, 200, "POST /v1/rag/query")
    answer = body.get("answer") if isinstance(body, dict) else None
    if not isinstance(answer, str) or KNOWN_ANSWER.lower() not in answer.lower():
        raise StepFailed(f"the answer does not contain the known answer {KNOWN_ANSWER!r}: {str(answer)[:160]!r}")
    cited = [c.get("document_id") for c in body.get("citations") or [] if isinstance(c, dict)]
    if not set(cited) & set(KNOWN_SOURCES):
        raise StepFailed(f"the answer cites {cited or 'nothing'}, expected one of {', '.join(KNOWN_SOURCES)}")
    return f"the known question is answered with {KNOWN_ANSWER}, citing {', '.join(c for c in cited if c)}"


def inspection_png(size: int = 64, grey: int = 200) -> bytes:
    """A small, clean grey surface as a PNG (built with the standard library, no image package needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes([grey, grey, grey]) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(row * size)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def check_vision(ctx: Context) -> str:
    response = ctx.client.post(
        "/v1/vision/classify",
        files={"image": ("smoke-test.png", inspection_png(), "image/png")},
        data={"plant": ctx.plant},
        headers=bearer(ctx.token),
    )
    body = expect_status(response, 200, "POST /v1/vision/classify")
    label, confidence = body.get("label"), body.get("confidence")
    if label not in LABELS:
        raise StepFailed(f"the classification label is {label!r}, expected one of {', '.join(LABELS)}")
    if not isinstance(confidence, (int, float)) or not 0.0 <= confidence <= 1.0:
        raise StepFailed(f"the confidence is {confidence!r}, expected a number between 0 and 1")
    probabilities = body.get("probabilities") or {}
    total = sum(v for v in probabilities.values() if isinstance(v, (int, float)))
    if not math.isclose(total, 1.0, abs_tol=0.01):
        raise StepFailed(f"the class probabilities add up to {total:.3f}, expected 1")
    return f"the inspection image is classified as {label} ({confidence:.2f}, model {body.get('model_version')})"


STEPS: list[Step] = [
    Step("liveness", check_liveness),
    Step("readiness", check_readiness),
    Step("authentication", check_rejects_missing_token),
    Step("rag", check_rag_known_answer),
    Step("vision", check_vision),
]
# STARTER
# STEPS: list[Step] = [
#     Step("liveness", check_liveness),
# ]
# END SOLUTION


def run_steps(ctx: Context, steps: Sequence[Step], out: Any = None) -> list[str]:
    """Run every step, print one line each (to ``out``, default stdout), and return the failed ones' names."""
    out = out or sys.stdout
    failed = []
    for step in steps:
        started = time.perf_counter()
        try:
            detail = step.run(ctx)
        except StepFailed as exc:
            failed.append(step.name)
            print(f"FAIL {step.name}: {exc}", file=out)
            continue
        except httpx.HTTPError as exc:
            failed.append(step.name)
            print(f"FAIL {step.name}: request failed: {type(exc).__name__}: {exc}", file=out)
            continue
        print(f"PASS {step.name}: {detail} ({(time.perf_counter() - started) * 1000:.0f} ms)", file=out)
    return failed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("COPILOT_BASE_URL"), help="default: $COPILOT_BASE_URL")
    parser.add_argument("--token", default=os.environ.get("COPILOT_TOKEN"), help="default: $COPILOT_TOKEN")
    parser.add_argument("--plant", default=os.environ.get("COPILOT_PLANT", KNOWN_PLANT), help="plant code to query")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.base_url or not args.token:
        print("error: give --base-url and --token (or set COPILOT_BASE_URL and COPILOT_TOKEN)", file=sys.stderr)
        return 2
    headers = {"User-Agent": "copilot-smoke-test"}
    id_token = os.environ.get("COPILOT_ID_TOKEN")
    if id_token:
        headers["X-Serverless-Authorization"] = f"Bearer {id_token}"
    with httpx.Client(base_url=args.base_url.rstrip("/"), timeout=args.timeout, headers=headers) as client:
        failed = run_steps(Context(client, args.token, args.plant), STEPS)
    if failed:
        print(f"smoke test FAILED: {', '.join(failed)} ({len(failed)} of {len(STEPS)} steps)")
        return 1
    print(f"smoke test passed: {len(STEPS)} steps against {args.base_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
