"""Lab 01 grader: MLOps fundamentals (MLflow tracking and registry, DVC data versions, release records,
audit documentation and the MLOps readiness scorecard)."""
