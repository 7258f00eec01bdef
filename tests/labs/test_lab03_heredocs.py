"""Lab 03: valid Dockerfile syntax that a tool cannot parse is the grader's problem, never a lint error.

BuildKit heredocs (``RUN <<EOF``) make hadolint 2.15 fail to parse (DL1000) and dockerfile-parse read
body lines as instructions; ``FROM ${IMAGE}`` with a pinned ARG default is reported unpinned by checkov.
"""

from __future__ import annotations

import pytest

from graders.lab03 import dockerfile, heredocs, linters
from graders.sdk import find_tool

needs_hadolint = pytest.mark.skipif(find_tool("hadolint") is None, reason="hadolint is not installed")

HEREDOC = """\
FROM python:3.11.11-slim-bookworm AS build
RUN <<EOF
set -e
pip install flask
EOF
FROM python:3.11.11-slim-bookworm
COPY --from=build /usr/local /usr/local
COPY <<-"CONF" /etc/app.conf
\tUSER root
\tCONF
USER 10001
HEALTHCHECK CMD python -c "print(1)" || exit 1
CMD ["python"]
"""


def test_heredocs_are_found_with_bodies_and_terminators() -> None:
    docs = heredocs.find(HEREDOC.splitlines())
    assert [(d.opener, d.word, d.strip_tabs, list(d.body), d.end) for d in docs] == [
        (1, "EOF", False, [2, 3], 4),
        (7, "CONF", True, [8], 9),
    ]


def test_unterminated_heredoc_is_left_for_the_tools() -> None:
    assert heredocs.find(["FROM x", "RUN <<EOF", "echo hi"]) == []
    assert heredocs.find(["FROM x", "RUN cat <<< hello", "RUN echo $((1<<2))"]) == []


def test_body_lines_are_not_instructions() -> None:
    parsed = dockerfile.parse(HEREDOC)
    keywords = [i.keyword for s in parsed.stages for i in s.instructions]
    assert keywords == ["RUN", "COPY", "COPY", "USER", "HEALTHCHECK", "CMD"]  # the body's "USER root" is text
    assert dockerfile.user_of(parsed.effective(parsed.final, "USER")) == "10001"  # type: ignore[arg-type]


def test_rewrite_for_hadolint_keeps_a_map_to_the_original_lines() -> None:
    text, origin = heredocs.for_hadolint(HEREDOC)
    lines = text.splitlines()
    assert lines[4:6] == ["EOF", ""]  # a blank line after the terminator
    assert lines[8] == "COPY <<CONF /etc/app.conf" and lines[9:11] == ["USER root", "CONF"]
    assert origin[lines.index("USER 10001")] == 11


@needs_hadolint
def test_heredocs_are_linted_not_reported_as_parse_errors() -> None:
    findings = linters.hadolint({"Dockerfile": HEREDOC})
    assert not [f for f in findings if f.code == linters.PARSE_ERROR]
    pip = [f for f in findings if f.code == "DL3013"]  # the body's unpinned pip install is still linted
    assert pip and pip[0].line == 2


@needs_hadolint
def test_heredocs_hadolint_cannot_read_are_skipped_with_a_note() -> None:
    text = "FROM python:3.11.11-slim-bookworm\nRUN <<A cat > /a && <<B cat > /b\na\nA\nb\nB\nUSER 10001\n"
    findings = linters.hadolint({"Dockerfile": text})
    assert not [f for f in findings if f.level == "error"]
    assert [f.level for f in findings if f.code == "heredoc"] == ["note"]


@needs_hadolint
def test_a_real_syntax_error_is_still_the_students() -> None:
    findings = linters.hadolint({"Dockerfile": "FROM python:3.11.11-slim-bookworm\nRUN <<EOF\nFRUM x\n"})
    assert [f.code for f in findings if f.level == "error"] == [linters.PARSE_ERROR]


@needs_hadolint
def test_shell_form_healthcheck_is_not_a_warning_but_shell_form_cmd_is() -> None:
    text = (
        "FROM python:3.11.11-slim-bookworm\nUSER 10001\n"
        "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\nCMD python app.py\n"
    )
    findings = linters.hadolint({"Dockerfile": text})
    assert [(f.code, f.line) for f in findings if f.code == "DL3025"] == [("DL3025", 4)]


def test_from_args_are_resolved_for_checkov() -> None:
    text = (
        "ARG BASE=python:3.11.11-slim-bookworm\nFROM ${BASE} AS build\n"
        "ARG BASE=ignored\nFROM $BASE\nFROM ${X:-alpine:3.20}\n"  # an ARG after the first FROM is the stage's
    )
    assert linters.with_from_args_resolved(text).splitlines() == [
        "ARG BASE=python:3.11.11-slim-bookworm",
        "FROM python:3.11.11-slim-bookworm AS build",
        "ARG BASE=ignored",
        "FROM python:3.11.11-slim-bookworm",
        "FROM alpine:3.20",
    ]
