"""Headings of notebooks/lab01_mlops_fundamentals.ipynb that each check points students to."""

LIFECYCLE = "End-to-end lifecycle: Data Ingestion to Monitoring"
VERSIONING = "Versioning strategy: Git, DVC and the MLflow Model Registry"
AUDIT = "Audit readiness for ISO 9001"
TOOLING = "Tooling comparison: MLflow, Vertex AI and Azure ML"
MLFLOW = "Hands-on: an MLflow experiment and a registered model"
REGISTRY = "Hands-on: tagging by plant and line, and a guarded champion alias"
LAB = "Lab: MLOps readiness scorecard"
