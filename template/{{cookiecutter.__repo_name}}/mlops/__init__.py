"""Model lifecycle tooling of the Copilot (Lab 01): versioned data, MLflow tracking and registry,
release records and the MLOps readiness scorecard.

Entry points: ``python -m mlops.train_register`` (train, log, register, guard the champion alias),
``python -m mlops.release`` (the audit record of a release), ``python -m mlops.data_version`` (DVC
hashes of the data in the repository) and ``python -m mlops.scorecard`` (validate and render the
readiness scorecard).
"""
