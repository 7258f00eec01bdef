"""Headings of notebooks/lab02_fastapi_serving.ipynb that the feedback points to.

The notebook uses exactly these section titles; a check that does not pass names the one that
teaches what it grades.
"""

CONTRACT = "API design contract with OpenAPI"
DEPENDENCIES = "Dependency injection for retrieval and GPU-bound inference"
VALIDATION_RBAC = "Input validation and plant-level RBAC with Pydantic"
STREAMING = "Streaming long-running analyses with Server-Sent Events"
TESTING = "Integration testing with httpx.AsyncClient"
AUDIT = "Lab: audit trail middleware"
