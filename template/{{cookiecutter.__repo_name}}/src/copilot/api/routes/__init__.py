"""One router module per resource; ``ROUTERS`` is what ``create_app`` includes."""

from copilot.api.routes import analyses, audit, health, rag, vision

ROUTERS = (health.router, rag.router, vision.router, analyses.router, audit.router)
