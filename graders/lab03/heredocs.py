"""BuildKit heredocs (``RUN <<EOF`` ... ``EOF``) in Dockerfiles, for the tools that do not read them all.

Heredocs are valid Dockerfile syntax since ``# syntax=docker/dockerfile:1.4``, but neither tool the
grader uses reads every form of them: dockerfile-parse takes each body line for an instruction of
its own, and hadolint 2.15's parser rejects (DL1000) a heredoc whose terminator is followed directly
by the next instruction, ``<<-EOF`` (tab-stripped) and quoted markers (``<<"EOF"``). A tool that
cannot parse valid input is the grader's problem, so this module rewrites a Dockerfile into an
equivalent that the tool reads, keeping a map back to the student's line numbers.

The rules are BuildKit's: a ``RUN``, ``COPY`` or ``ADD`` instruction line may open one or more
heredocs (``<<WORD``, ``<<-WORD``, ``<<"WORD"``, ``<<'WORD'``); each body ends at a line that is the
word alone (after leading tabs with ``<<-``). An unterminated heredoc is left as it is, for the
tools to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEREDOC_INSTRUCTION = re.compile(r"^\s*(RUN|COPY|ADD)\s", re.IGNORECASE)
# ``<<WORD`` but not the shell's here-string ``<<<`` (nor ``1<<2`` arithmetic: a word starts with a letter).
MARKER = re.compile(r"(?<![<\w])<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2(?!\w)")


@dataclass(frozen=True)
class Heredoc:
    """One heredoc: the instruction line that opens it, its body lines and its terminator (0-based)."""

    opener: int
    word: str
    strip_tabs: bool
    body: range
    end: int


def _terminates(line: str, word: str, strip_tabs: bool) -> bool:
    return (line.lstrip("\t") if strip_tabs else line).rstrip() == word


def find(lines: list[str]) -> list[Heredoc]:
    """Every terminated heredoc, in order."""
    found: list[Heredoc] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        markers = MARKER.findall(line) if HEREDOC_INSTRUCTION.match(line) else []
        if not markers:
            i += 1
            continue
        cursor, docs = i + 1, []
        for dash, _, word in markers:
            end = next((j for j in range(cursor, len(lines)) if _terminates(lines[j], word, bool(dash))), None)
            if end is None:
                break
            docs.append(Heredoc(i, word, bool(dash), range(cursor, end), end))
            cursor = end + 1
        else:
            found.extend(docs)
            i = cursor
            continue
        i += 1
    return found


def uses_heredocs(text: str) -> bool:
    return bool(find(text.splitlines()))


def without_bodies(text: str) -> str:
    """The Dockerfile with heredoc bodies and terminators turned into comments (same line numbers).

    What dockerfile-parse then reads is each instruction as written on its first line, so no body
    line (a shell command, a config file's contents) is mistaken for an instruction.
    """
    lines = text.splitlines()
    for doc in find(lines):
        for j in [*doc.body, doc.end]:
            lines[j] = "# (heredoc)"
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def for_hadolint(text: str) -> tuple[str, list[int]]:
    """The Dockerfile in the heredoc syntax hadolint 2.15 parses, and each new line's original line (1-based).

    Markers lose their quotes and ``-`` (tabs are stripped from the body instead), and a blank line
    follows each instruction's last terminator. The shell in ``RUN`` bodies stays, so hadolint still
    lints it. Several heredocs in one instruction stay beyond hadolint (see ``placeholders``).
    """
    lines = text.splitlines()
    docs = find(lines)
    by_opener: dict[int, list[Heredoc]] = {}
    for doc in docs:
        by_opener.setdefault(doc.opener, []).append(doc)
    stripped = {j for doc in docs if doc.strip_tabs for j in [*doc.body, doc.end]}
    ends = {group[-1].end for group in by_opener.values()}  # a blank line between two bodies breaks hadolint
    out: list[str] = []
    origin: list[int] = []
    for j, line in enumerate(lines):
        if j in by_opener:
            line = MARKER.sub(lambda m: "<<" + m.group(3), line)
        elif j in stripped:
            line = line.lstrip("\t")
        out.append(line)
        origin.append(j + 1)
        if j in ends:
            out.append("")
            origin.append(j + 1)
    return "\n".join(out) + "\n", origin


def placeholders(text: str) -> str:
    """The Dockerfile with every heredoc replaced by a placeholder (same line numbers): the last resort.

    ``RUN <<EOF`` becomes ``RUN true``, ``COPY <<EOF /etc/x`` becomes ``COPY EOF /etc/x``; bodies become
    comments. hadolint then lints every other instruction; the bodies go unlinted.
    """
    lines = text.splitlines()
    for doc in find(lines):
        opener = MARKER.sub(lambda m: m.group(3), lines[doc.opener])
        if re.fullmatch(r"\s*RUN(\s+--\S+)*(\s+[A-Za-z_][A-Za-z0-9_]*)*\s*", opener, re.IGNORECASE):
            opener = re.sub(r"(\s+[A-Za-z_][A-Za-z0-9_]*)*\s*$", " true", opener, count=1)
        lines[doc.opener] = opener
        for j in [*doc.body, doc.end]:
            lines[j] = "# (heredoc)"
    return "\n".join(lines) + "\n"
