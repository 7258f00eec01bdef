"""Running a student's Manufacturing Copilot for the labs that drive its API (lab02, lab04, lab06).

The service runs from a scratch copy of the submission, in a subprocess under the usual limits
(:func:`graders.sdk.server.serve`): ``python -m uvicorn copilot.main:app`` with the environment
contract of the capstone (``COPILOT_ENV=test``, a signing secret chosen by the grader, a temporary
SQLite ``DATABASE_URL``, the in-process job queue). Tokens are minted here with PyJWT from the
same secret; no student code is ever imported into the grader.

With ``probes=True`` the served app is ``copilot.main:app`` plus two routes the grader needs to see
failure paths through the student's own middleware: ``GET /__grader__/fault`` raises an unhandled
exception and ``GET /__grader__/slow?ms=N`` answers after N milliseconds. Both authenticate through
the app's own ``CurrentPrincipal`` dependency when it exists, so the caller is known to the
middleware exactly as on a real route. A question containing ``GENERATION_FAULT`` makes the answer
generator (course code, ``copilot.rag``) fail with ``GeneratorUnavailable`` after its first piece,
so a stream's failure path can be seen; ``GET /__grader__/probes`` says whether that hook is in.
The probe module lives in the grader's scratch folder, never in the submission, and is left out
of the OpenAPI document.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import jwt

from graders.sdk.checks import CheckFailed
from graders.sdk.server import RunningService, free_port, serve
from graders.sdk.submission import Submission, SubmissionFileError

APP = "copilot.main:app"
PROBE_MODULE = "_capstone_grader_probes"
PROFILE = "config/plant.yaml"
STARTUP_TIMEOUT_S = 90.0
# torch maps a lot of address space at import; the default 4 GiB cap is too tight for it.
MEMORY_MB = 8192
REQUEST_TIMEOUT_S = 15.0

PROBES_SOURCE = '''
"""Grader probes: the student's app plus routes that exercise failure paths (written by the grader)."""
import asyncio

from copilot.main import app

try:  # authenticate like every real route, so the middleware knows the caller
    from copilot.api.deps import CurrentPrincipal as _Caller
except Exception:  # an app without the dependency still gets the probes, unauthenticated
    _Caller = None

if _Caller is not None:

    async def _fault(caller: _Caller) -> dict:
        raise RuntimeError("fault injected by the grader")

    async def _slow(caller: _Caller, ms: int = 200) -> dict:
        await asyncio.sleep(min(ms, 5000) / 1000)
        return {"slept_ms": ms}

else:

    async def _fault() -> dict:
        raise RuntimeError("fault injected by the grader")

    async def _slow(ms: int = 200) -> dict:
        await asyncio.sleep(min(ms, 5000) / 1000)
        return {"slept_ms": ms}


app.add_api_route("/__grader__/fault", _fault, methods=["GET"], include_in_schema=False)
app.add_api_route("/__grader__/slow", _slow, methods=["GET"], include_in_schema=False)

# Generation that fails midway: a question holding GENERATION_FAULT gets one piece of its answer, then
# GeneratorUnavailable, from whichever generator the app uses (the course's code, not the student's).
GENERATION_FAULT = "grader-generation-fault"
_fault_installed = False
try:
    from copilot.rag import extractive as _extractive, generation as _generation  # noqa: F401

    try:
        from copilot.rag import openai_compat as _openai_compat  # noqa: F401
    except Exception:
        pass

    def _failing(stream):
        async def _stream(self, question, passages):
            async for piece in stream(self, question, passages):
                yield piece
                if GENERATION_FAULT in str(question):
                    raise _generation.GeneratorUnavailable("generation fault injected by the grader")
            if GENERATION_FAULT in str(question):
                raise _generation.GeneratorUnavailable("generation fault injected by the grader")

        return _stream

    def _subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from _subclasses(sub)

    for _cls in set(_subclasses(_generation.AnswerGenerator)):
        if "stream" in vars(_cls):
            _cls.stream = _failing(vars(_cls)["stream"])
            _fault_installed = True
except Exception:
    _fault_installed = False


async def _probes() -> dict:
    return {"generation_fault": _fault_installed}


app.add_api_route("/__grader__/probes", _probes, methods=["GET"], include_in_schema=False)
'''
GENERATION_FAULT = "grader-generation-fault"


class ServiceClient(httpx.Client):
    """An HTTP client whose network failures are the student's service failing, not the grader.

    A request that times out or whose connection breaks raises CheckFailed naming the request, so
    the check fails with feedback instead of erroring as if the grader had a bug.
    """

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            return super().send(request, **kwargs)
        except httpx.TimeoutException:
            raise CheckFailed(
                f"the service did not answer {request.method} {request.url.path} within "
                f"{self.timeout.read or REQUEST_TIMEOUT_S:g} s; make sure no request blocks the event loop "
                "or waits forever"
            ) from None
        except httpx.TransportError as exc:
            raise CheckFailed(
                f"the connection broke during {request.method} {request.url.path} ({type(exc).__name__}); "
                "did the service crash? Its log shows why"
            ) from None


@dataclass(frozen=True)
class PlantInfo:
    """The plants a submission declares in ``config/plant.yaml``."""

    code: str
    others: tuple[str, ...]
    lines: tuple[str, ...] = ()


def read_plants(submission: Submission) -> PlantInfo:
    """The capstone plant and the group's other plants; SubmissionFileError naming the field otherwise."""
    profile = submission.load_yaml(PROFILE)
    if not isinstance(profile, dict):
        profile = {}
    plant = profile.get("plant")
    if not isinstance(plant, dict):
        plant = {}
    code = plant.get("code")
    if not isinstance(code, str) or not code:
        raise SubmissionFileError(f"{PROFILE}: 'plant.code' is missing; it names the capstone's plant", PROFILE)
    listed = profile.get("plants")
    others = tuple(
        str(p["code"]) for p in (listed or []) if isinstance(p, dict) and p.get("code") and p.get("code") != code
    )
    lines = tuple(str(line) for line in (plant.get("production_lines") or []) if isinstance(line, str))
    return PlantInfo(code=code, others=others, lines=lines)


@dataclass
class CopilotService:
    """A running student Copilot and what the grader needs to talk to it."""

    base_url: str
    secret: str
    plants: PlantInfo
    repo: Path
    database_path: Path
    running: RunningService
    probes: bool = False
    _clients: list[httpx.Client] = field(default_factory=list)

    # -- identity ------------------------------------------------------------------------------
    def token(
        self,
        role: str = "engineer",
        plants: Sequence[str] | None = None,
        sub: str = "grader",
        ttl_s: int = 900,
        secret: str | None = None,
        **claims: Any,
    ) -> str:
        """A bearer token like the plant's identity provider issues (``secret`` forges one)."""
        now = datetime.now(timezone.utc)
        payload = {
            "sub": sub,
            "role": role,
            "plants": list(plants if plants is not None else [self.plants.code]),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
            **claims,
        }
        return jwt.encode(payload, secret or self.secret, algorithm="HS256")

    def headers(self, request_id: str | None = None, **token_args: Any) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token(**token_args)}"}
        if request_id:
            out["X-Request-ID"] = request_id
        return out

    def admin_headers(self) -> dict[str, str]:
        """An administrator of every plant the submission declares (for the audit API)."""
        return self.headers(role="admin", plants=[self.plants.code, *self.plants.others], sub="grader-admin")

    # -- HTTP ----------------------------------------------------------------------------------
    def client(self, timeout: float = REQUEST_TIMEOUT_S) -> ServiceClient:
        client = ServiceClient(base_url=self.base_url, timeout=timeout)
        self._clients.append(client)
        return client

    def async_client(self, timeout: float = REQUEST_TIMEOUT_S, connections: int = 100) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout, limits=limits)

    def wait_ready(self, timeout_s: float = 60.0) -> httpx.Response | None:
        """Poll ``/readyz`` until it answers 200 (the model loads in the background); the last answer."""
        deadline = time.monotonic() + timeout_s
        last: httpx.Response | None = None
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    last = client.get("/readyz")
                    if last.status_code == 200:
                        return last
                if time.monotonic() > deadline or self.running.process.poll() is not None:
                    return last
                time.sleep(0.2)

    def log_tail(self, lines: int = 20) -> str:
        return self.running.log_tail(lines)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def copilot_env(
    repo: Path, workdir: Path, secret: str, database: Path, extra: Mapping[str, str] | None
) -> dict[str, str]:
    """The capstone's environment contract, pointed at the scratch copy."""
    pythonpath = [str(repo / "src"), str(repo)]
    env = {
        "PYTHONPATH": os.pathsep.join(pythonpath),
        "COPILOT_ENV": "test",
        "COPILOT_JWT_SECRET": secret,
        "DATABASE_URL": f"sqlite:///{database}",
        "COPILOT_DATA_DIR": str(repo / "data"),
        "COPILOT_QUEUE_BACKEND": "inprocess",
        "COPILOT_SECRETS_DIR": str(workdir / "no-secrets"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    if extra:
        env.update(extra)
    return env


@contextlib.contextmanager
def start_copilot(
    submission: Submission,
    python: str,
    workdir: Path,
    *,
    env: Mapping[str, str] | None = None,
    probes: bool = False,
    uvicorn_args: Sequence[str] = (),
    startup_timeout: float = STARTUP_TIMEOUT_S,
    memory_mb: int = MEMORY_MB,
) -> Iterator[CopilotService]:
    """Copy the submission, start its Copilot on a free port and yield it; stopped on exit.

    Raises CheckFailed (with the service's own log lines) when it does not start, and
    SubmissionFileError when ``config/plant.yaml`` is missing or unusable.
    """
    plants = read_plants(submission)
    workdir.mkdir(parents=True, exist_ok=True)
    repo = submission.copy_to(workdir / "repo")
    if not (repo / "src" / "copilot" / "main.py").is_file():
        raise CheckFailed(
            "src/copilot/main.py is missing: the Copilot service (copilot.main:app) is what this lab runs",
            "src/copilot/main.py",
        )
    secret = secrets.token_urlsafe(48)
    database = workdir / "copilot.db"
    environment = copilot_env(repo, workdir, secret, database, env)
    target = APP
    if probes:
        probe_dir = workdir / "probes"
        probe_dir.mkdir(exist_ok=True)
        (probe_dir / f"{PROBE_MODULE}.py").write_text(textwrap.dedent(PROBES_SOURCE), encoding="utf-8")
        environment["PYTHONPATH"] = os.pathsep.join([environment["PYTHONPATH"], str(probe_dir)])
        target = f"{PROBE_MODULE}:app"
    port = free_port()
    command = [python, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port), *uvicorn_args]
    with serve(
        command,
        cwd=repo,
        port=port,
        ready_path="/healthz",
        startup_timeout=startup_timeout,
        env=environment,
        memory_mb=memory_mb,
    ) as running:
        service = CopilotService(
            base_url=running.base_url,
            secret=secret,
            plants=plants,
            repo=repo,
            database_path=database,
            running=running,
            probes=probes,
        )
        try:
            yield service
        finally:
            service.close()
