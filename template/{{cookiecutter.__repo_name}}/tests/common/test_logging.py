"""Structured JSON logs carry the correlation id of the request or job they belong to."""

import io
import json
import logging

import pytest

from common.logging import configure_logging, correlation_scope, get_logger


def test_json_lines_with_correlation_id() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    with correlation_scope("req-42"):
        get_logger("copilot.test").info("answered", citations=3)
    logging.getLogger("uvicorn.error").warning("from the standard library")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "answered" and lines[0]["correlation_id"] == "req-42" and lines[0]["citations"] == 3
    assert lines[0]["level"] == "info" and "timestamp" in lines[0]
    assert lines[1]["event"] == "from the standard library" and "correlation_id" not in lines[1]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        configure_logging("INFO", "xml")
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        configure_logging("LOUD", "json")
