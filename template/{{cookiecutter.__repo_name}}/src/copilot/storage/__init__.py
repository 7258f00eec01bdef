"""Where the plant's documents and registries live: a ``DocumentStore`` and its backends."""

from copilot.storage.base import DocumentStore, DocumentStoreError, open_document_store
from copilot.storage.local import LocalDocumentStore

__all__ = ["DocumentStore", "DocumentStoreError", "LocalDocumentStore", "open_document_store"]
