"""Smoke test of a running Copilot with the standard library only (urllib): stops at the first broken step.

    COPILOT_BASE_URL=https://canary---... COPILOT_TOKEN=... python scripts/smoke_test.py

Prints ``PASS <step>`` or ``FAIL <step>: <what it saw>`` per step; exit 0 only when every step passed.
"""

import json
import os
import struct
import sys
import urllib.error
import urllib.request
import uuid
import zlib

BASE_URL = os.environ.get("COPILOT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
TOKEN = os.environ.get("COPILOT_TOKEN", "")
PLANT = os.environ.get("COPILOT_PLANT", "RVB01")
# Question q005 of data/eval/rag_eval.jsonl: its answer is only in the servo manuals.
QUESTION = "Which spare part number is the encoder cable for connector X12?"
ANSWER = "KR-EC-0712"
SOURCES = {"man-press-servo-alarms", "man-press-kst2500-maintenance"}


class Broken(Exception):
    pass


def call(method, path, body=None, content_type="application/json", token=None):
    """(status, parsed JSON or None) of one request; HTTP errors are answers too."""
    headers = {"Content-Type": content_type} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(BASE_URL + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise Broken(f"{method} {path} could not connect: {exc}") from None
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def expect(condition, message):
    if not condition:
        raise Broken(message)


def liveness():
    status, body = call("GET", "/healthz")
    expect(status == 200 and isinstance(body, dict) and body.get("status") == "ok", f"/healthz gave {status} {body}")


def readiness():
    status, body = call("GET", "/readyz")
    expect(status == 200 and isinstance(body, dict) and body.get("status") == "ready", f"/readyz gave {status} {body}")


def query():
    return json.dumps({"question": QUESTION, "plant": PLANT}).encode()


def authentication():
    status, _ = call("POST", "/v1/rag/query", query())
    expect(status == 401, f"a query without a token got {status}, not 401")


def rag():
    status, body = call("POST", "/v1/rag/query", query(), token=TOKEN)
    expect(status == 200 and isinstance(body, dict), f"the known question got {status}")
    expect(ANSWER in str(body.get("answer", "")), f"the answer lacks {ANSWER}: {body.get('answer')!r}")
    cited = {c.get("document_id") for c in body.get("citations") or [] if isinstance(c, dict)}
    expect(cited & SOURCES, f"the answer cites {sorted(map(str, cited))}, none of {sorted(SOURCES)}")


def png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress((b"\x00" + b"\x90\x90\x90" * 32) * 32)
    header = struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def vision():
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="plant"\r\n\r\n{PLANT}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="part.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + png() + f"\r\n--{boundary}--\r\n".encode()
    status, result = call("POST", "/v1/vision/classify", body, f"multipart/form-data; boundary={boundary}", TOKEN)
    expect(status == 200 and isinstance(result, dict), f"the classification got {status} {result}")
    expect(result.get("label") in ("ok", "scratch", "dent", "corrosion"), f"unknown label {result.get('label')!r}")
    expect(0 <= float(result.get("confidence", -1)) <= 1, f"confidence {result.get('confidence')!r}")


def main():
    for step in (liveness, readiness, authentication, rag, vision):
        try:
            step()
        except Broken as exc:
            print(f"FAIL {step.__name__}: {exc}")
            return 1
        print(f"PASS {step.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
