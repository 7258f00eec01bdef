"""Utilities shared by the Copilot service, the lab notebooks and the benchmarks.

``config`` (the plant profile), ``logging`` (structured JSON logs with correlation ids),
``evaluation`` (retrieval and groundedness metrics) and ``progress`` (the capstone progress tracker).
"""
