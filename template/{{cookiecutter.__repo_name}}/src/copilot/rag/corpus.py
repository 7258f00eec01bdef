"""Loading the plant's documents and cutting them into retrievable chunks.

A document is Markdown with YAML front matter (``id, title, doc_type, equipment, plant, line,
revision, effective_date``) and ``##`` sections. A section is the natural unit of an answer in
manuals and SOPs; long sections are cut into overlapping word windows so no chunk drowns its best
sentence in unrelated text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from common.logging import get_logger
from copilot.storage import DocumentStore, DocumentStoreError

# libyaml's loader is ~10x faster; the pure-Python one is the fallback where it is missing.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

log = get_logger(__name__)

DOCUMENTS_PREFIX = "documents"
DOC_TYPES = ("manual", "sop", "maintenance_log", "work_order", "safety_bulletin", "quality_report")
MAX_CHUNK_WORDS = 200
OVERLAP_WORDS = 40
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_SECTION = re.compile(r"^##\s+(.+?)\s*#*\s*$", re.MULTILINE)


class CorpusError(ValueError):
    """A document that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    doc_type: str
    plant: str
    body: str
    equipment: tuple[str, ...] = ()
    line: str | None = None
    revision: str | None = None
    effective_date: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    title: str
    section: str
    text: str
    plant: str
    doc_type: str
    equipment: tuple[str, ...] = ()
    line: str | None = None

    @property
    def index_text(self) -> str:
        """What BM25 sees: the title and heading carry the vocabulary questions use."""
        return f"{self.title}. {self.section}. {' '.join(self.equipment)}. {self.text}"


@dataclass
class Corpus:
    documents: list[Document]
    chunks: list[Chunk]
    skipped: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks:
            digest.update(chunk.id.encode())
            digest.update(b"\0")
            digest.update(chunk.index_text.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def document(self, doc_id: str) -> Document | None:
        return next((d for d in self.documents if d.id == doc_id), None)


def parse_document(text: str, source: str) -> Document:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise CorpusError(f"{source}: missing YAML front matter (a '---' block with id, title, doc_type, plant)")
    try:
        meta = yaml.load(match.group(1), Loader=SafeLoader) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{source}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{source}: front matter must be a mapping")
    missing = [k for k in ("id", "title", "doc_type", "plant") if not meta.get(k)]
    if missing:
        raise CorpusError(f"{source}: front matter lacks {', '.join(missing)}")
    if meta["doc_type"] not in DOC_TYPES:
        raise CorpusError(f"{source}: doc_type {meta['doc_type']!r} is not one of {', '.join(DOC_TYPES)}")
    equipment = meta.get("equipment") or []
    if isinstance(equipment, str):
        equipment = [equipment]
    return Document(
        id=str(meta["id"]),
        title=str(meta["title"]),
        doc_type=str(meta["doc_type"]),
        plant=str(meta["plant"]),
        body=text[match.end() :],
        equipment=tuple(str(e) for e in equipment),
        line=str(meta["line"]) if meta.get("line") else None,
        revision=str(meta["revision"]) if meta.get("revision") is not None else None,
        effective_date=str(meta["effective_date"]) if meta.get("effective_date") else None,
        source=source,
    )


def sections(body: str) -> list[tuple[str, str]]:
    """``(heading, text)`` pairs; text before the first ``##`` heading is the 'Overview'."""
    out: list[tuple[str, str]] = []
    matches = list(_SECTION.finditer(body))
    intro = body[: matches[0].start()] if matches else body
    intro = re.sub(r"^#\s+.*$", "", intro, flags=re.MULTILINE).strip()
    if intro:
        out.append(("Overview", intro))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        text = body[m.end() : end].strip()
        if text:
            out.append((m.group(1).strip(), text))
    return out


def _windows(words: list[str], size: int, overlap: int) -> Iterable[list[str]]:
    if len(words) <= size:
        yield words
        return
    step = size - overlap
    for start in range(0, len(words), step):
        window = words[start : start + size]
        if len(window) < overlap and start > 0:
            break
        yield window
        if start + size >= len(words):
            break


def chunk_document(doc: Document, max_words: int = MAX_CHUNK_WORDS, overlap: int = OVERLAP_WORDS) -> list[Chunk]:
    chunks = []
    for heading, text in sections(doc.body):
        words = " ".join(line.strip() for line in text.splitlines() if line.strip()).split()
        for window in _windows(words, max_words, overlap):
            chunks.append(
                Chunk(
                    id=f"{doc.id}#{len(chunks) + 1}",
                    doc_id=doc.id,
                    title=doc.title,
                    section=heading,
                    text=" ".join(window),
                    plant=doc.plant,
                    doc_type=doc.doc_type,
                    equipment=doc.equipment,
                    line=doc.line,
                )
            )
    return chunks


def load_corpus(store: DocumentStore, prefix: str = DOCUMENTS_PREFIX) -> Corpus:
    """Every ``*.md`` document under ``prefix``; unusable files are skipped and reported, not fatal."""
    documents: list[Document] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for key in store.list(prefix):
        if not key.endswith(".md") or key.rsplit("/", 1)[-1].lower() == "readme.md":
            continue
        try:
            doc = parse_document(store.read_text(key), key)
        except (CorpusError, DocumentStoreError) as exc:
            log.warning("document skipped", reason=str(exc))
            skipped.append(str(exc))
            continue
        if doc.id in seen:
            skipped.append(f"{key}: duplicate document id {doc.id!r}")
            continue
        seen.add(doc.id)
        documents.append(doc)
    chunks = [chunk for doc in documents for chunk in chunk_document(doc)]
    return Corpus(documents=documents, chunks=chunks, skipped=skipped)
