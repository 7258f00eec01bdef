"""Service performance and quality of the reference Copilot, measured: prints the numbers its goals are judged by.

    python benchmarks/service_bench.py [--seconds S] [--chunks N] [--skip-http] [--skip-100k]

1. ``GET /healthz`` requests/s of the Copilot (answered and audited by ``copilot.api.liveness`` before
   routing, every probe one audit record) as a ratio to a bare FastAPI app with the same endpoint,
   both served by uvicorn in a subprocess and driven by the same client in the same run, one server
   at a time, alternating (best of three rounds each). Goal: ratio >= 0.7.
2. RAG latency p50/p95 (retrieval + extractive answer) over the evaluation questions, on the shipped
   corpus and on a synthetic corpus of N chunks (default 100,000). Goal: p95 <= 50 ms at 100k.
3. Vision latency per image: one request at a time, and 32 concurrent requests coalesced into
   batches (per image = wall time / images); on CUDA when available, else CPU.
4. Retrieval quality on data/eval/rag_eval.jsonl: recall@5 and MRR.
5. Held-out accuracy of the committed vision model on images from a seed it never saw. Goal: >= 95%.

Results go to stdout and ``benchmarks/results/service_bench.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference_solution"
RESULTS = ROOT / "benchmarks" / "results"
sys.path[:0] = [str(REFERENCE / "src"), str(REFERENCE)]

BARE_APP = textwrap.dedent(
    """
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}
    """
)


def bench_settings(database_dir: str, **overrides: Any) -> Any:
    """Settings of the reference service, whatever the working directory."""
    from copilot.core.config import Settings

    return Settings(
        env="test",
        database_url=f"sqlite:///{database_dir}/bench.db",
        data_dir=str(REFERENCE / "data"),
        plant_config=REFERENCE / "config" / "plant.yaml",
        model_uri=str(REFERENCE / "models" / "inspection-cnn.pt"),
        log_level="WARNING",
        **overrides,
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- 1. /healthz throughput ---------------------------------------------------------------------------
def serve(target: str, cwd: Path, env: dict[str, str], ready: str = "/healthz") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + ready, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not answer {ready} within 60 s")


async def hammer(url: str, seconds: float, concurrency: int, pid: int | None = None) -> tuple[float, float]:
    """``(requests/s, requests per CPU-second of the server)`` of GET /healthz over ``concurrency`` connections.

    The second number divides by the CPU time the server process spent, so it holds still on a shared
    machine where wall-clock throughput swings with whatever else runs. aiohttp's client keeps up with
    uvicorn; httpx's async pool slows down as concurrency grows and would measure the client instead.
    """
    import aiohttp
    import psutil

    server = psutil.Process(pid) if pid else None

    def cpu_s() -> float:
        if server is None:
            return 0.0
        times = server.cpu_times()
        return float(times.user + times.system)

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as session:
        warm_until = time.perf_counter() + min(1.0, seconds / 3)
        stop = warm_until + seconds
        counts = [0] * concurrency
        window: dict[str, float] = {}

        async def meter() -> None:
            await asyncio.sleep(max(0.0, warm_until - time.perf_counter()))
            window["cpu0"] = cpu_s()
            await asyncio.sleep(max(0.0, stop - time.perf_counter()))
            window["cpu1"] = cpu_s()

        async def worker(i: int) -> None:
            while True:
                now = time.perf_counter()
                if now > stop:
                    return
                async with session.get("/healthz") as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"/healthz answered {response.status}")
                if now > warm_until:
                    counts[i] += 1

        await asyncio.gather(meter(), *(worker(i) for i in range(concurrency)))
    total = sum(counts)
    used = window.get("cpu1", 0.0) - window.get("cpu0", 0.0)
    return total / seconds, (total / used if used > 0 else 0.0)


def healthz_ratio(seconds: float, concurrency: int, rounds: int = 3) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="service-bench-"))
    (scratch / "bare_app.py").write_text(BARE_APP)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("COPILOT_", "DATABASE_URL"))}
    bare_env = {**base_env, "PYTHONPATH": str(scratch)}
    copilot_env = {
        **base_env,
        "PYTHONPATH": os.pathsep.join([str(REFERENCE / "src"), str(REFERENCE)]),
        "COPILOT_ENV": "test",
        "DATABASE_URL": f"sqlite:///{scratch / 'copilot.db'}",
        "LOG_LEVEL": "WARNING",
    }
    targets = {
        "bare": ("bare_app:app", scratch, bare_env, "/healthz"),
        # /readyz: measure after the model has loaded, not while torch is importing in the background.
        "copilot": ("copilot.main:app", REFERENCE, copilot_env, "/readyz"),
    }
    rates: dict[str, list[float]] = {"bare": [], "copilot": []}
    per_cpu: dict[str, list[float]] = {"bare": [], "copilot": []}
    # One server at a time, so neither pays for the other's background work (the audit writer).
    for _ in range(rounds):
        for name, (target, cwd, env, ready) in targets.items():
            proc, url = serve(target, cwd, env, ready)
            try:
                rps, rps_cpu = asyncio.run(hammer(url, seconds, concurrency, proc.pid))
                rates[name].append(rps)
                per_cpu[name].append(rps_cpu)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    bare, copilot = max(rates["bare"]), max(rates["copilot"])
    bare_cpu, copilot_cpu = statistics.median(per_cpu["bare"]), statistics.median(per_cpu["copilot"])
    return {
        "bare_rps": round(bare, 1),
        "copilot_rps": round(copilot, 1),
        "ratio": round(copilot / bare, 3),
        "bare_requests_per_cpu_s": round(bare_cpu, 1),
        "copilot_requests_per_cpu_s": round(copilot_cpu, 1),
        "ratio_per_cpu_s": round(copilot_cpu / bare_cpu, 3) if bare_cpu else None,
        "rounds": {k: [round(v, 1) for v in vs] for k, vs in rates.items()},
        "concurrency": concurrency,
        "seconds_per_round": seconds,
    }


def healthz_in_process(requests: int = 5000) -> dict[str, Any]:
    """The same comparison without network or client: the per-request cost of app and middleware alone.

    The ASGI app is called directly (an HTTP client in the same process would dominate the numbers).
    """
    from copilot.main import create_app
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/healthz",
            "raw_path": b"/healthz",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"bench")],
            "client": ("127.0.0.1", 1),
            "server": ("bench", 80),
            "state": {},
        }

    async def run(app: Any) -> float:
        for _ in range(300):
            await app(scope(), receive, send)
        started = time.perf_counter()
        for _ in range(requests):
            await app(scope(), receive, send)
        return requests / (time.perf_counter() - started)

    async def both() -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(bench_settings(tmp))
            async with app.router.lifespan_context(app):
                await app.state.services.vision.wait_loaded(120)  # no model loading during the measurement
                copilot_rps = await run(app)
                await app.state.audit_writer.flush()
        return await run(bare), copilot_rps

    bare_rps, copilot_rps = asyncio.run(both())
    return {"bare_rps": round(bare_rps), "copilot_rps": round(copilot_rps), "ratio": round(copilot_rps / bare_rps, 3)}


# -- 2. RAG latency ----------------------------------------------------------------------------------
def synthetic_corpus(real: Any, size: int, seed: int = 7) -> Any:
    """``size`` chunks whose words follow the real corpus's word frequencies (realistic postings)."""
    from copilot.rag.corpus import Chunk, Corpus

    rng = np.random.default_rng(seed)
    words: list[str] = []
    for chunk in real.chunks:
        words.extend(chunk.text.split())
    vocabulary, counts = np.unique(np.asarray(words), return_counts=True)
    probabilities = counts / counts.sum()
    plants = sorted({c.plant for c in real.chunks})
    equipment = sorted({e for c in real.chunks for e in c.equipment})
    chunks = list(real.chunks)
    batch = 10_000
    while len(chunks) < size:
        n = min(batch, size - len(chunks))
        lengths = rng.integers(80, 200, size=n)
        sampled = rng.choice(vocabulary, size=int(lengths.sum()), p=probabilities)
        offset = 0
        for length in lengths:
            i = len(chunks)
            text = " ".join(sampled[offset : offset + length])
            offset += length
            chunks.append(
                Chunk(
                    id=f"syn-{i}#1",
                    doc_id=f"syn-{i // 3}",
                    title=f"Synthetic record {i // 3}",
                    section="Findings",
                    text=text,
                    plant=plants[i % len(plants)],
                    doc_type="maintenance_log",
                    equipment=(equipment[i % len(equipment)],),
                )
            )
    return Corpus(documents=list(real.documents), chunks=chunks[:size])


def rag_latency(retriever: Any, questions: list[Any], repeats: int = 3) -> dict[str, Any]:
    from copilot.rag.extractive import ExtractiveGenerator
    from copilot.rag.generation import Passage

    generator = ExtractiveGenerator()
    samples: list[float] = []
    for _ in range(repeats):
        for item in questions:
            started = time.perf_counter()
            found = retriever.search(item.question, item.plant, item.equipment, 5)
            passages = [
                Passage(i, s.chunk.doc_id, s.chunk.title, s.chunk.section, s.chunk.text, s.score)
                for i, s in enumerate(found, 1)
            ]
            generator.compose(item.question, passages)
            samples.append((time.perf_counter() - started) * 1000)
    return {
        "chunks": len(retriever),
        "queries": len(samples),
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
    }


def rag_api_latency(questions: list[Any]) -> dict[str, Any]:
    """POST /v1/rag/query through the whole app (auth, validation, audit) in process."""
    from copilot.main import create_app
    from copilot.security.tokens import mint_token

    secret = "bench-secret-bench-secret-bench-secret-0123"

    async def run() -> list[float]:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(bench_settings(tmp, jwt_secret=secret))
            samples = []
            async with app.router.lifespan_context(app):
                plants = list(app.state.services.profile.plant_codes)
                headers = {"Authorization": f"Bearer {mint_token(secret, 'bench', 'engineer', plants)}"}
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                    for item in questions * 2:
                        body = {"question": item.question, "plant": item.plant, "equipment": item.equipment}
                        started = time.perf_counter()
                        response = await client.post("/v1/rag/query", json=body, headers=headers)
                        samples.append((time.perf_counter() - started) * 1000)
                        response.raise_for_status()
        return samples

    samples = asyncio.run(run())
    return {
        "requests": len(samples),
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
    }


# -- 3. vision latency, 5. accuracy ----------------------------------------------------------------------
def vision_latency(weights: Path) -> dict[str, Any]:
    from copilot.vision.classifier import VisionClassifier
    from copilot.vision.synthetic import generate

    images, _ = generate(16, seed=99)

    async def run() -> dict[str, Any]:
        classifier = VisionClassifier(str(weights), max_batch=32, batch_wait_ms=2)
        await classifier.start()
        try:
            if not await classifier.wait_loaded(120):
                raise RuntimeError(f"model did not load: {classifier.error}")
            for image in images[:8]:
                await classifier.classify(image)  # warm-up
            single = []
            for image in images:
                started = time.perf_counter()
                await classifier.classify(image)
                single.append((time.perf_counter() - started) * 1000)
            batched = []
            for _ in range(5):
                started = time.perf_counter()
                await asyncio.gather(*(classifier.classify(img) for img in np.concatenate([images, images])))
                batched.append((time.perf_counter() - started) * 1000 / (2 * len(images)))
            batches_before = classifier.batches
            await asyncio.gather(*(classifier.classify(img) for img in np.concatenate([images, images])))
            return {
                "device": classifier.device,
                "single_p50_ms": round(percentile(single, 50), 3),
                "batched_per_image_p50_ms": round(percentile(batched, 50), 3),
                "concurrent_requests": 2 * len(images),
                "batches_for_32_requests": classifier.batches - batches_before,
            }
        finally:
            await classifier.close()

    return asyncio.run(run())


def vision_accuracy(weights: Path, per_class: int = 250, seed: int = 424_242) -> dict[str, Any]:
    from copilot.vision.model import load_bundle
    from copilot.vision.synthetic import generate
    from copilot.vision.train import evaluate

    bundle = load_bundle(weights)
    images, labels = generate(per_class, seed=seed)
    return {"images": len(images), "seed": seed, "heldout_accuracy": round(evaluate(bundle.model, images, labels), 4)}


# -- main ------------------------------------------------------------------------------------------------
def timed(label: str, func: Callable[[], Any]) -> Any:
    print(f"... {label}", flush=True)
    started = time.perf_counter()
    result = func()
    print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each /healthz round")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--chunks", type=int, default=100_000, help="size of the synthetic corpus")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-100k", action="store_true")
    args = parser.parse_args()

    import logging

    from common.evaluation import load_eval_set
    from copilot.rag.corpus import load_corpus
    from copilot.rag.evaluate import evaluate
    from copilot.rag.retriever import Bm25Retriever
    from copilot.storage import LocalDocumentStore

    logging.disable(logging.INFO)
    weights = REFERENCE / "models" / "inspection-cnn.pt"
    corpus = load_corpus(LocalDocumentStore(REFERENCE / "data"))
    questions = load_eval_set(REFERENCE / "data" / "eval" / "rag_eval.jsonl")
    retriever = Bm25Retriever(corpus)
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
    }
    if not args.skip_http:
        report["healthz_http"] = timed(
            "healthz over HTTP (uvicorn)", lambda: healthz_ratio(args.seconds, args.concurrency)
        )
    report["healthz_in_process"] = timed("healthz in process (ASGI)", healthz_in_process)
    report["rag_shipped"] = timed("RAG latency, shipped corpus", lambda: rag_latency(retriever, questions))
    report["rag_api_shipped"] = timed("RAG API latency, shipped corpus", lambda: rag_api_latency(questions))
    if not args.skip_100k:
        big = timed(f"building a {args.chunks:,}-chunk corpus", lambda: synthetic_corpus(corpus, args.chunks))
        started = time.perf_counter()
        big_retriever = timed("indexing it", lambda: Bm25Retriever(big))
        index_s = time.perf_counter() - started
        report["rag_synthetic"] = timed("RAG latency, synthetic corpus", lambda: rag_latency(big_retriever, questions))
        report["rag_synthetic"]["index_build_s"] = round(index_s, 1)
    report["retrieval_quality"] = timed("recall@5 and MRR", lambda: evaluate(retriever, questions, k=5))
    report["vision_latency"] = timed("vision latency", lambda: vision_latency(weights))
    report["vision_accuracy"] = timed("vision held-out accuracy", lambda: vision_accuracy(weights))
    report["machine"]["load_avg_after"] = os.getloadavg()

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "service_bench.json").write_text(json.dumps(report, indent=2) + "\n")
    quality = report["retrieval_quality"]
    lines = [
        "",
        "Manufacturing Copilot service benchmark",
        f"  machine: {os.cpu_count()} CPUs, load average before/after {report['machine']['load_avg'][0]:.1f}/"
        f"{report['machine']['load_avg_after'][0]:.1f}",
    ]
    if "healthz_http" in report:
        h = report["healthz_http"]
        lines.append(
            f"  /healthz over HTTP: copilot {h['copilot_rps']:.0f} req/s, bare FastAPI {h['bare_rps']:.0f} req/s, "
            f"ratio {h['ratio']:.2f} (goal >= 0.7)"
        )
        lines.append(
            f"  /healthz per CPU-second of the server: copilot {h['copilot_requests_per_cpu_s']:.0f}, bare "
            f"{h['bare_requests_per_cpu_s']:.0f}, ratio {h['ratio_per_cpu_s']:.2f} (load-independent)"
        )
    p = report["healthz_in_process"]
    lines.append(
        f"  /healthz in process: copilot {p['copilot_rps']} req/s, bare {p['bare_rps']} req/s, ratio {p['ratio']:.2f}"
    )
    s = report["rag_shipped"]
    lines.append(f"  RAG ({s['chunks']} chunks): p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms")
    a = report["rag_api_shipped"]
    lines.append(f"  RAG API in process ({s['chunks']} chunks): p50 {a['p50_ms']} ms, p95 {a['p95_ms']} ms")
    if "rag_synthetic" in report:
        b = report["rag_synthetic"]
        lines.append(
            f"  RAG ({b['chunks']:,} chunks): p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms (goal p95 <= 50 ms); "
            f"index built in {b['index_build_s']} s"
        )
    v = report["vision_latency"]
    lines.append(
        f"  vision on {v['device']}: single p50 {v['single_p50_ms']} ms/image, batched p50 "
        f"{v['batched_per_image_p50_ms']} ms/image ({v['concurrent_requests']} concurrent requests in "
        f"{v['batches_for_32_requests']} batches)"
    )
    lines.append(
        f"  retrieval: recall@5 {quality['recall@5']}, MRR {quality['mrr']} over {quality['questions']} questions"
    )
    acc = report["vision_accuracy"]
    lines.append(f"  vision held-out accuracy {acc['heldout_accuracy']:.2%} on {acc['images']} images (goal >= 95%)")
    print("\n".join(lines))
    print(f"\nwritten to {RESULTS / 'service_bench.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
