"""A stand-in of the Manufacturing Copilot that the student's smoke test is run against.

It serves the Copilot's HTTP contract (``/healthz``, ``/readyz``, ``/v1/rag/query``, ``/v1/rag/stream``,
``/v1/vision/classify``; HS256 bearer tokens with plant scopes; FastAPI's error shapes) from the
grader's own process, answers the plant's evaluation questions with their known answers, and can be
started with one fault switched on. It is instructor code: the student's smoke test is the only
student code involved, and it runs in a subprocess (see :mod:`graders.lab06.smoke`). A kit test runs
the reference smoke test against this stand-in and against the real reference service, and checks
the stand-in's responses against the reference OpenAPI document, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from graders.lab06.plant_data import KnownCase, PlantData, evidence

READINESS_FAILING = "readiness-failing"
RAG_500 = "rag-500"
AUTH_DISABLED = "auth-disabled"
WRONG_ANSWER = "wrong-answer"
VISION_UNAVAILABLE = "vision-unavailable"
FAULTS = (READINESS_FAILING, RAG_500, AUTH_DISABLED, WRONG_ANSWER, VISION_UNAVAILABLE)

MAX_BODY_BYTES = 6 * 1024 * 1024
SOCKET_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 32
EQUIPMENT_ID = re.compile(r"^[A-Z]{3}[0-9]{2}-[A-Z]{2,5}-[0-9]{2,4}$")
PLANT_CODE = re.compile(r"^[A-Z]{3}[0-9]{2}$")
IMAGE_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
ROLES = ("operator", "engineer", "plant_manager", "admin")
MODEL_VERSION = "inspection-cnn-1"
GENERATOR_VERSION = "extractive-v1"
INDEX_VERSION = "bm25s-standin"
PROBABILITIES = {"ok": 0.8290, "scratch": 0.0667, "dent": 0.0838, "corrosion": 0.0205}
NOT_FOUND_ANSWER = "The plant's documents do not answer this question."


class HttpError(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(detail))
        self.status, self.detail, self.headers = status, detail, headers or {}


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
            raise HttpError(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
        try:
            claims = jwt.decode(
                token.strip(), self.secret, algorithms=["HS256"], leeway=10, options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise HttpError(401, "Token expired", {"WWW-Authenticate": "Bearer"}) from None
        except jwt.PyJWTError:
            raise HttpError(401, "Invalid token", {"WWW-Authenticate": "Bearer"}) from None
        plants = claims.get("plants")
        if (
            claims.get("role") not in ROLES
            or not isinstance(plants, list)
            or not all(isinstance(p, str) for p in plants)
        ):
            raise HttpError(401, "Invalid token", {"WWW-Authenticate": "Bearer"})
        return Principal(str(claims["sub"]), str(claims["role"]), tuple(plants))

    def authorize(self, principal: Principal, plant: str, equipment: str | None, source: str) -> None:
        if plant not in principal.plants:
            raise HttpError(403, "Plant access denied")
        if plant not in self.data.plants:
            raise HttpError(422, [_error("value_error", (source, "plant"), "Unknown plant", plant)])
        if equipment is not None and not equipment.startswith(plant + "-"):
            raise HttpError(403, "Equipment access denied")

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


# -- request validation (FastAPI's 422 shape) ----------------------------------------------------------------
def _error(kind: str, loc: tuple[str, ...], msg: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "loc": list(loc), "msg": msg, "input": value}


def validate_query(raw: Any, source: str) -> dict[str, Any]:
    """A RagQuery as the real service validates it (extra fields forbidden)."""
    if not isinstance(raw, dict):
        raise HttpError(422, [_error("model_attributes_type", (source,), "Input should be a valid dictionary", raw)])
    errors = []
    question = raw.get("question")
    if not isinstance(question, str) or not 3 <= len(question.strip()) <= 2000:
        errors.append(_error("string_type", (source, "question"), "question must be 3 to 2000 characters", question))
    plant = raw.get("plant")
    if not isinstance(plant, str) or not PLANT_CODE.match(plant):
        errors.append(_error("string_pattern_mismatch", (source, "plant"), "String should match pattern", plant))
    equipment = raw.get("equipment")
    if equipment is not None and (not isinstance(equipment, str) or not EQUIPMENT_ID.match(equipment)):
        errors.append(
            _error("string_pattern_mismatch", (source, "equipment"), "String should match pattern", equipment)
        )
    top_k = raw.get("top_k", 5)
    try:
        top_k = int(top_k)
    except (TypeError, ValueError):
        top_k = 0
    if not 1 <= top_k <= 20:
        errors.append(_error("less_than_equal", (source, "top_k"), "top_k must be between 1 and 20", raw.get("top_k")))
    for extra in sorted(set(raw) - {"question", "plant", "equipment", "top_k"}):
        errors.append(_error("extra_forbidden", (source, extra), "Extra inputs are not permitted", raw[extra]))
    if errors:
        raise HttpError(422, errors)
    return {"question": question.strip(), "plant": plant, "equipment": equipment, "top_k": top_k}  # type: ignore[union-attr]


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Form fields and files (name -> (content type, bytes)) of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = (part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files


# -- HTTP ------------------------------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    server: StandInServer
    server_version = "uvicorn"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the grader reports, not the server
        return

    @property
    def standin(self) -> StandIn:
        return self.server.standin

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        routes = {
            "/healthz": ("GET", self._healthz),
            "/readyz": ("GET", self._readyz),
            "/v1/rag/query": ("POST", self._rag_query),
            "/v1/vision/classify": ("POST", self._classify),
        }
        self._authorized = False
        try:
            if url.path == "/v1/rag/stream":
                if method not in ("GET", "POST"):
                    raise HttpError(405, "Method Not Allowed")
                self._rag_stream(method, url.query)
                return
            route = routes.get(url.path)
            if route is None:
                raise HttpError(404, "Not Found")
            if route[0] != method:
                raise HttpError(405, "Method Not Allowed")
            status, body = route[1]()
            self._json(status, body)
        except HttpError as exc:
            self._json(exc.status, {"detail": exc.detail}, exc.headers)
        except (ValueError, KeyError, TypeError):
            self._json(400, {"detail": "Bad request"})

    # -- plumbing --
    def _record(self, status: int) -> None:
        self.standin.requests.append(Request(self.command, urlsplit(self.path).path, status, self._authorized))

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self._send(status, data, "application/json", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self._record(status)
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise HttpError(400, "Invalid Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise HttpError(413, "Image too large")
        return self.rfile.read(length) if length > 0 else b""

    def _principal(self) -> Principal:
        principal = self.standin.authenticate(self.headers.get("Authorization"))
        self._authorized = True
        return principal

    def _json_body(self) -> Any:
        try:
            return json.loads(self._body() or b"null")
        except ValueError:
            raise HttpError(422, [_error("json_invalid", ("body",), "JSON decode error", None)]) from None

    # -- routes --
    def _healthz(self) -> tuple[int, Any]:
        return 200, {"status": "ok"}

    def _readyz(self) -> tuple[int, Any]:
        return self.standin.readiness()

    def _rag_query(self) -> tuple[int, Any]:
        principal = self._principal()
        query = validate_query(self._json_body(), "body")
        self.standin.authorize(principal, query["plant"], query["equipment"], "body")
        if self.standin.fault == RAG_500:
            raise _Crash
        return 200, self.standin.answer(query)

    def _rag_stream(self, method: str, query_string: str) -> None:
        principal = self._principal()
        if method == "GET":
            raw: Any = {k: v[-1] for k, v in parse_qs(query_string).items()}
            source = "query"
        else:
            raw, source = self._json_body(), "body"
        query = validate_query(raw, source)
        self.standin.authorize(principal, query["plant"], query["equipment"], source)
        if self.standin.fault == RAG_500:
            raise _Crash
        events = "".join(
            f"event: {name}\r\ndata: {json.dumps(data, separators=(',', ':'))}\r\nid: {i}\r\n\r\n"
            for i, (name, data) in enumerate(self.standin.stream_events(query))
        )
        self._send(200, events.encode(), "text/event-stream; charset=utf-8", {"Cache-Control": "no-store"})

    def _classify(self) -> tuple[int, Any]:
        principal = self._principal()
        content_type = self.headers.get("Content-Type") or ""
        if not content_type.lower().startswith("multipart/form-data"):
            raise HttpError(422, [_error("missing", ("body", "image"), "Field required", None)])
        fields, files = parse_multipart(content_type, self._body())
        missing = [
            _error("missing", ("body", name), "Field required", None)
            for name in ("image", "plant")
            if name not in (files if name == "image" else fields)
        ]
        if missing:
            raise HttpError(422, missing)
        plant, equipment = fields["plant"], fields.get("equipment") or None
        if not PLANT_CODE.match(plant):
            raise HttpError(
                422, [_error("string_pattern_mismatch", ("body", "plant"), "String should match pattern", plant)]
            )
        self.standin.authorize(principal, plant, equipment, "body")
        declared, data = files["image"]
        if declared not in IMAGE_TYPES:
            raise HttpError(415, "Unsupported image type")
        if not data.startswith(IMAGE_TYPES[declared]):
            raise HttpError(422, "Unreadable image")
        if self.standin.fault == VISION_UNAVAILABLE:
            raise HttpError(503, "Model unavailable")
        label = max(PROBABILITIES, key=lambda k: PROBABILITIES[k])
        body = {
            "label": label,
            "confidence": PROBABILITIES[label],
            "probabilities": dict(PROBABILITIES),
            "model_version": MODEL_VERSION,
            "plant": plant,
            "equipment": equipment,
        }
        return 200, body

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Crash:  # what an unhandled exception in a FastAPI route looks like to a client
            self._send(500, b"Internal Server Error", "text/plain; charset=utf-8")
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True


class _Crash(Exception):
    """Raised inside a route under the rag-500 fault."""


class StandInServer(ThreadingHTTPServer):
    """One thread per connection, at most MAX_CONNECTIONS at once: a smoke test that opens thousands of
    connections gets refused connections, not thousands of threads in the grader."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, standin: StandIn) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.standin = standin
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class running:
    """Serve ``standin`` on a free loopback port in a background thread for the duration of a ``with``."""

    def __init__(self, standin: StandIn) -> None:
        self.server = StandInServer(standin)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.server.base_url

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
