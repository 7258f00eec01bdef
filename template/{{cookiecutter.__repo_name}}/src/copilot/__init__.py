"""Manufacturing Copilot: maintenance RAG, inspection vision and analysis jobs behind one audited API."""

__version__ = "1.0.0"
