"""The audit trail: one record per request, written off the request path to SQL storage."""

from copilot.audit.context import AuditContext, audit_context
from copilot.audit.records import AuditQuery, AuditRecord
from copilot.audit.store import AuditStore
from copilot.audit.writer import AuditWriter

__all__ = ["AuditContext", "AuditQuery", "AuditRecord", "AuditStore", "AuditWriter", "audit_context"]
