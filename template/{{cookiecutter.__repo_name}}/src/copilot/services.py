"""The composition root: builds every component the API (and a worker process) needs, once.

``open_services`` is an async context manager: it loads the plant profile, the equipment registry
and the corpus, builds (or reuses) the retrieval index, connects the database, starts the vision
model loading in the background and the audit writer and job consumers, and closes all of it in
reverse order - draining the audit queue last, so no record is lost at shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial

import anyio
from sqlalchemy import Engine

from common.config import PlantProfile, load_plant_profile
from common.logging import get_logger
from copilot.audit.store import AuditStore
from copilot.audit.writer import AuditWriter
from copilot.core.config import Settings
from copilot.core.database import create_db_engine, describe_url
from copilot.equipment import EquipmentRegistry
from copilot.jobs.analysis import AnalysisContext, run_analysis
from copilot.jobs.base import JobQueue, create_queue
from copilot.jobs.runner import JobRunner
from copilot.jobs.service import JobService
from copilot.jobs.store import JobStore
from copilot.observability.metrics import set_model_info
from copilot.rag.corpus import Corpus, load_corpus
from copilot.rag.extractive import ExtractiveGenerator
from copilot.rag.generation import AnswerGenerator
from copilot.rag.pipeline import RagPipeline
from copilot.rag.retriever import Bm25Retriever, build_retriever
from copilot.storage import DocumentStore, open_document_store
from copilot.vision.classifier import VisionClassifier

log = get_logger(__name__)


@dataclass
class Services:
    settings: Settings
    profile: PlantProfile
    documents: DocumentStore
    registry: EquipmentRegistry
    corpus: Corpus
    pipeline: RagPipeline
    vision: VisionClassifier
    engine: Engine
    audit_store: AuditStore
    job_store: JobStore
    jobs: JobService


def build_generator(settings: Settings) -> AnswerGenerator:
    """The extractive generator, or the OpenAI-compatible one when ``COPILOT_LLM_BASE_URL`` is set."""
    if not settings.llm_base_url:
        return ExtractiveGenerator()
    from copilot.rag.openai_compat import OpenAICompatibleGenerator

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return OpenAICompatibleGenerator(settings.llm_base_url, settings.llm_model, key, settings.llm_timeout_s)


def load_knowledge(settings: Settings) -> tuple[DocumentStore, EquipmentRegistry, Corpus, Bm25Retriever]:
    """Registry, corpus and index (blocking: run in a worker thread)."""
    documents = open_document_store(settings.data_dir)
    registry = EquipmentRegistry.load(documents)
    corpus = load_corpus(documents)
    retriever = build_retriever(corpus)
    log.info(
        "knowledge loaded",
        documents=len(corpus.documents),
        chunks=len(corpus.chunks),
        skipped=len(corpus.skipped),
        equipment=len(registry),
        index=retriever.version,
    )
    return documents, registry, corpus, retriever


@contextlib.asynccontextmanager
async def open_services(settings: Settings, audit_writer: AuditWriter | None = None) -> AsyncIterator[Services]:
    profile = load_plant_profile(settings.plant_config)
    documents, registry, corpus, retriever = await anyio.to_thread.run_sync(load_knowledge, settings)
    generator = build_generator(settings)
    pipeline = RagPipeline(retriever, generator)
    set_model_info("rag", generator.model_version, retriever.version)  # Lab 04: copilot_model_info
    engine = create_db_engine(settings.database_url)
    audit_store, job_store = AuditStore(engine), JobStore(engine)
    await anyio.to_thread.run_sync(audit_store.create_schema)
    await anyio.to_thread.run_sync(job_store.create_schema)
    queue: JobQueue = create_queue(settings)
    analysis_context = AnalysisContext(corpus=corpus, registry=registry, pipeline=pipeline)
    runner = JobRunner(job_store, partial(run_analysis, context=analysis_context))
    jobs = JobService(job_store, queue, runner)
    vision = VisionClassifier(
        settings.model_uri,
        device=settings.vision_device,
        max_batch=settings.vision_max_batch,
        batch_wait_ms=settings.vision_batch_wait_ms,
    )
    services = Services(
        settings=settings,
        profile=profile,
        documents=documents,
        registry=registry,
        corpus=corpus,
        pipeline=pipeline,
        vision=vision,
        engine=engine,
        audit_store=audit_store,
        job_store=job_store,
        jobs=jobs,
    )
    await vision.start()
    if audit_writer is not None:
        await audit_writer.start(audit_store)
    if settings.run_inprocess_worker:
        jobs.start_consumers(settings.job_workers)
        await jobs.recover()
    log.info("services started", env=settings.env, database=describe_url(settings.database_url), queue=queue.backend)
    try:
        yield services
    finally:
        await jobs.close()
        await vision.close()
        await generator.aclose()
        if audit_writer is not None:
            await audit_writer.close()
        engine.dispose()
        log.info("services stopped")
