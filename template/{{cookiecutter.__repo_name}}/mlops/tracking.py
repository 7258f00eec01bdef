"""Where MLflow records runs and models: a local SQLite store by default, anything else by setting
``MLFLOW_TRACKING_URI`` (a tracking server in the plant's data centre, or a temporary store in tests).

With a SQLite store the artefacts live next to the database (``<store folder>/artifacts``), so one
folder holds everything and can be backed up or handed to an auditor as a whole. MLflow's usage
telemetry is switched off: plant networks allow no calls home.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DEFAULT_STORE = Path("var") / "mlflow" / "mlflow.db"
TRACKING_ENV = "MLFLOW_TRACKING_URI"


def tracking_uri(root: Path) -> str:
    """``$MLFLOW_TRACKING_URI``, else the repository's SQLite store (created on first use)."""
    explicit = os.environ.get(TRACKING_ENV)
    if explicit:
        return explicit
    store = (root / DEFAULT_STORE).resolve()
    store.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store}"


def artifact_location(uri: str) -> str | None:
    """``file://`` URI of the artefact folder next to a SQLite store; None (the server decides) otherwise."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite" or not parsed.path:
        return None
    database = Path(unquote(parsed.path[1:]))  # sqlite:///relative/path, sqlite:////absolute/path
    return (database.parent / "artifacts").resolve().as_uri()


def configure(root: Path) -> str:
    """Point MLflow at the tracking store and return its URI."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    uri = tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    return uri


def experiment_id(client: Any, name: str, uri: str) -> str:
    """The experiment's id, creating it (with its artefacts next to a SQLite store) when it is new."""
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    return str(client.create_experiment(name, artifact_location=artifact_location(uri)))
