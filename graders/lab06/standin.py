"""A stand-in of the Manufacturing Copilot that the student's smoke test is run against.

It serves the Copilot's HTTP contract (``/healthz``, ``/readyz``, ``/v1/rag/query``, ``/v1/rag/stream``,
``/v1/vision/classify``; HS256 bearer tokens with plant scopes) as a FastAPI app run by uvicorn in a
thread of the grader's process, so validation (422), unknown paths and methods (404, 405), multipart
forms and the HTTP protocol are the framework's own, exactly as the real service gives them. It
answers the plant's evaluation questions with their known answers and can be started with one fault
switched on. It is instructor code: the student's smoke test is the only
student code involved, and it runs in a subprocess (see :mod:`graders.lab06.smoke`). A kit test runs
the reference smoke test against this stand-in and against the real reference service, and checks
the stand-in's responses against the reference OpenAPI document, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, File, Form, Header, HTTPException, Query, UploadFile
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from graders.lab06.plant_data import KnownCase, PlantData, evidence

READINESS_FAILING = "readiness-failing"
RAG_500 = "rag-500"
AUTH_DISABLED = "auth-disabled"
WRONG_ANSWER = "wrong-answer"
VISION_UNAVAILABLE = "vision-unavailable"
FAULTS = (READINESS_FAILING, RAG_500, AUTH_DISABLED, WRONG_ANSWER, VISION_UNAVAILABLE)

MAX_BODY_BYTES = 6 * 1024 * 1024
KEEP_ALIVE_S = 10
START_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 32
EQUIPMENT_ID = r"^[A-Z]{3}[0-9]{2}-[A-Z]{2,5}-[0-9]{2,4}$"
PLANT_CODE = r"^[A-Z]{3}[0-9]{2}$"
IMAGE_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
ROLES = ("operator", "engineer", "plant_manager", "admin")
MODEL_VERSION = "inspection-cnn-1"
GENERATOR_VERSION = "extractive-v1"
INDEX_VERSION = "bm25s-standin"
PROBABILITIES = {"ok": 0.8290, "scratch": 0.0667, "dent": 0.0838, "corrosion": 0.0205}
NOT_FOUND_ANSWER = "The plant's documents do not answer this question."


BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    plants: tuple[str, ...]


@dataclass
class Request:
    method: str
    path: str
    status: int
    authorized: bool


@dataclass
class StandIn:
    """The stand-in's state: what it knows, its signing secret, its fault and what it was asked."""

    data: PlantData
    fault: str | None = None
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    requests: list[Request] = field(default_factory=list)

    def mint_token(self, plants: list[str] | None = None, ttl_s: int = 3600, role: str = "engineer") -> str:
        now = int(time.time())
        claims = {"sub": "grader-lab06", "role": role, "plants": plants or [self.data.plant], "iat": now}
        claims["exp"] = now + ttl_s
        return jwt.encode(claims, self.secret, algorithm="HS256")

    # -- authentication ------------------------------------------------------------------------------
    def authenticate(self, header: str | None) -> Principal:
        if self.fault == AUTH_DISABLED:
            return Principal("anonymous", "admin", tuple(sorted(self.data.plants)))
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "Not authenticated", BEARER)
        try:
            claims = jwt.decode(
                token.strip(), self.secret, algorithms=["HS256"], leeway=10, options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise HTTPException(401, "Token expired", BEARER) from None
        except jwt.PyJWTError:
            raise HTTPException(401, "Invalid token", BEARER) from None
        plants = claims.get("plants")
        if (
            claims.get("role") not in ROLES
            or not isinstance(plants, list)
            or not all(isinstance(p, str) for p in plants)
        ):
            raise HTTPException(401, "Invalid token", BEARER)
        return Principal(str(claims["sub"]), str(claims["role"]), tuple(plants))

    def authorize(self, principal: Principal, plant: str, equipment: str | None, source: str) -> None:
        if plant not in principal.plants:
            raise HTTPException(403, "Plant access denied")
        if plant not in self.data.plants:
            raise HTTPException(
                422, [{"type": "value_error", "loc": [source, "plant"], "msg": "Unknown plant", "input": plant}]
            )
        if equipment is not None and not equipment.startswith(plant + "-"):
            raise HTTPException(403, "Equipment access denied")

    # -- readiness -----------------------------------------------------------------------------------
    def readiness(self) -> tuple[int, dict[str, Any]]:
        chunks = sum(len(d.sections) for d in self.data.documents.values())
        checks = {
            "index": f"ok ({chunks} chunks)",
            "model": "loading" if self.fault == READINESS_FAILING else f"ok ({MODEL_VERSION} on cpu)",
            "database": "ok",
            "queue": "ok",
            "audit": "ok",
        }
        ready = all(v.startswith("ok") for v in checks.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not_ready", "checks": checks}

    # -- RAG -------------------------------------------------------------------------------------------
    def answer(self, query: dict[str, Any]) -> dict[str, Any]:
        case = self.data.case_for(query["question"])
        if case is not None and self.fault == WRONG_ANSWER:
            case = self.data.unrelated_case(case)
        text, citations = self._compose(case, query["top_k"]) if case is not None else (NOT_FOUND_ANSWER, [])
        return {
            "answer": text,
            "citations": citations,
            "groundedness": 1.0 if citations else 0.0,
            "model_version": GENERATOR_VERSION,
            "index_version": INDEX_VERSION,
            "plant": query["plant"],
            "equipment": query.get("equipment"),
        }

    def _compose(self, case: KnownCase, top_k: int) -> tuple[str, list[dict[str, Any]]]:
        sentences: list[str] = []
        citations: list[dict[str, Any]] = []
        for doc_id in case.doc_ids[:top_k]:
            document = self.data.documents.get(doc_id)
            number = len(citations) + 1
            found = [evidence(document, k) for k in case.keywords] if document else []
            hits = [f for f in found if f is not None]
            section = hits[0][0].heading if hits else "Overview"
            snippet = hits[0][0].text if hits else ""
            citations.append(
                {
                    "number": number,
                    "document_id": doc_id,
                    "title": document.title if document else doc_id,
                    "section": section,
                    "snippet": snippet[:250] + (" ..." if len(snippet) > 250 else ""),
                    "score": round(12.0 - 1.5 * number, 4),
                }
            )
            for _, sentence in hits:
                if sentence not in sentences:
                    sentences.append(f"{sentence} [{number}]")
        text = " ".join(sentences)
        missing = [k for k in case.keywords if k.casefold() not in text.casefold()]
        if missing:  # the student's documents lack the quote: state the known answer plainly
            text = (text + " " if text else "") + "; ".join(missing) + " [1]."
        return text, citations

    def stream_events(self, query: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        body = self.answer(query)
        yield "retrieval", {"status": "searching"}
        yield "retrieval", {"document_ids": [c["document_id"] for c in body["citations"]]}
        for piece in re.split(r"(?<=\s)", body["answer"]):
            if piece:
                yield "token", {"text": piece}
        yield "done", body


# -- the HTTP contract, as the real service declares it -------------------------------------------------------
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
PlantCode = Annotated[str, StringConstraints(pattern=PLANT_CODE)]
EquipmentId = Annotated[str, StringConstraints(pattern=EQUIPMENT_ID)]


class RagQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Question
    plant: PlantCode
    equipment: EquipmentId | None = None
    top_k: int = Field(5, ge=1, le=20)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RECORD = "capstone.standin.request"


class Recorder:
    """ASGI middleware: every answered request is recorded (the grader reports what the smoke test asked),
    and a body over MAX_BODY_BYTES is refused before it is read."""

    def __init__(self, app: ASGIApp, standin: StandIn) -> None:
        self.app, self.standin = app, standin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = Request(scope["method"], scope["path"], 0, False)
        scope[RECORD] = record

        async def recording(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                self.standin.requests.append(record)
            await send(message)

        length = dict(scope["headers"]).get(b"content-length", b"0")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await JSONResponse({"detail": "Image too large"}, 413)(scope, receive, recording)
            return
        await self.app(scope, receive, recording)


def _standin(request: HttpRequest) -> StandIn:
    return request.app.state.standin


def _principal(request: HttpRequest, authorization: Annotated[str | None, Header()] = None) -> Principal:
    found = _standin(request).authenticate(authorization)
    request.scope[RECORD].authorized = True
    return found


Caller = Annotated[Principal, Depends(_principal)]
Server = Annotated[StandIn, Depends(_standin)]
router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
CRASH = "Internal Server Error"  # what an unhandled exception in a FastAPI route looks like to a client


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(standin: Server) -> JSONResponse:
    status, body = standin.readiness()
    return JSONResponse(body, status)


@router.post("/v1/rag/query")
def rag_query(body: RagQuery, caller: Caller, standin: Server) -> Any:
    standin.authorize(caller, body.plant, body.equipment, "body")
    if standin.fault == RAG_500:
        return PlainTextResponse(CRASH, 500)
    return standin.answer(body.model_dump())


def _stream(standin: StandIn, query: RagQuery, caller: Principal, source: str) -> Response:
    standin.authorize(caller, query.plant, query.equipment, source)
    if standin.fault == RAG_500:
        return PlainTextResponse(CRASH, 500)
    events = (
        f"event: {name}\r\ndata: {json.dumps(data, separators=(',', ':'))}\r\nid: {i}\r\n\r\n"
        for i, (name, data) in enumerate(standin.stream_events(query.model_dump()))
    )
    return StreamingResponse(events, media_type="text/event-stream; charset=utf-8", headers=NO_STORE)


@router.get("/v1/rag/stream")
def stream_get(params: Annotated[RagQuery, Query()], caller: Caller, standin: Server) -> Response:
    return _stream(standin, params, caller, "query")


@router.post("/v1/rag/stream")
def stream_post(body: RagQuery, caller: Caller, standin: Server) -> Response:
    return _stream(standin, body, caller, "body")


@router.post("/v1/vision/classify")
async def classify(
    image: Annotated[UploadFile, File()],
    plant: Annotated[PlantCode, Form()],
    caller: Caller,
    standin: Server,
    equipment: Annotated[EquipmentId | None, Form()] = None,
) -> dict[str, Any]:
    standin.authorize(caller, plant, equipment, "body")
    declared = image.content_type or ""
    if declared not in IMAGE_TYPES:
        raise HTTPException(415, "Unsupported image type")
    if not (await image.read()).startswith(IMAGE_TYPES[declared]):
        raise HTTPException(422, "Unreadable image")
    if standin.fault == VISION_UNAVAILABLE:
        raise HTTPException(503, "Model unavailable")
    label = max(PROBABILITIES, key=lambda k: PROBABILITIES[k])
    return {
        "label": label,
        "confidence": PROBABILITIES[label],
        "probabilities": dict(PROBABILITIES),
        "model_version": MODEL_VERSION,
        "plant": plant,
        "equipment": equipment,
    }


def create_app(standin: StandIn) -> FastAPI:
    """The stand-in as an ASGI app: the routes above, serving ``standin`` and recording its requests."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.standin = standin
    app.include_router(router)
    app.add_middleware(Recorder, standin=standin)
    return app


class running:
    """Serve ``standin`` on a free loopback port with uvicorn in a background thread, for a ``with``.

    uvicorn's ``limit_concurrency`` answers 503 beyond MAX_CONNECTIONS connections and tasks, so a
    smoke test that opens thousands of connections meets refusals, not an unbounded grader.
    """

    def __init__(self, standin: StandIn) -> None:
        config = uvicorn.Config(
            create_app(standin),
            log_config=None,
            log_level="critical",
            access_log=False,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=1,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.server.started:
            self.__exit__()
            raise RuntimeError("the stand-in Copilot did not start")
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.socket.close()
