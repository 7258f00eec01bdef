"""Lab 02 grader: FastAPI serving for RAG and vision agents, and the audit trail middleware.

The student's Copilot is started once per grading run (``conftest.copilot``) and driven over HTTP;
the checks read its answers, its Server-Sent Events and, through the admin audit API, the audit
records its middleware wrote.
"""
