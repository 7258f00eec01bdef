"""The document store interface: what the Copilot needs from a place that holds its documents.

Keys are POSIX-style relative paths (``documents/sop-press-die-change.md``). The local filesystem
backend serves laptops and containers with a mounted volume; Lab 06 adds a Cloud Storage backend
(``gs://bucket/prefix``) behind the same four methods, chosen by :func:`open_document_store`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path

# URI scheme -> "module:Class" of the backend; a backend module is imported only when used.
BACKENDS = {
    "gs": "copilot.storage.gcs:GcsDocumentStore",
}


class DocumentStoreError(Exception):
    """A key that cannot be read or written; the message names the store and the key."""


class DocumentStore(ABC):
    """Read and write documents by key."""

    uri: str

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix``, sorted."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The document's bytes; DocumentStoreError when it does not exist."""

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None:
        """Create or replace a document."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    def read_text(self, key: str) -> str:
        try:
            return self.read_bytes(key).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentStoreError(f"{self.uri}/{key} is not UTF-8 text: {exc}") from None


def open_document_store(location: str | Path) -> DocumentStore:
    """The store for a folder path or a ``scheme://`` URI registered in ``BACKENDS``."""
    text = str(location)
    scheme, sep, _ = text.partition("://")
    if not sep:
        from copilot.storage.local import LocalDocumentStore

        return LocalDocumentStore(Path(text))
    target = BACKENDS.get(scheme)
    if target is None:
        raise DocumentStoreError(f"no document store for {scheme}:// URIs (known: {', '.join(BACKENDS)})")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DocumentStoreError(f"{text}: the {scheme}:// backend ({module_name}) is not available: {exc}") from None
    store: DocumentStore = getattr(module, class_name).from_uri(text)
    return store
