"""Configure the service's logs from its settings (JSON lines for ELK/OpenSearch by default)."""

from __future__ import annotations

import logging

from common.logging import configure_logging
from copilot.core.config import Settings

QUIET_LOGGERS = ("httpx", "httpcore", "sqlalchemy.engine", "PIL", "multipart", "bm25s")


def configure_service_logging(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
