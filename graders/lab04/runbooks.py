"""Runbook Markdown: headings, their GitHub anchors, and the sections under them.

Alert rules link to runbooks with ``runbook_url: .../docs/runbooks/<file>.md#<anchor>``, where the
anchor is what GitHub generates for a heading. Headings are read with markdown-it-py (CommonMark),
so headings inside code fences or HTML comments do not count, just as GitHub renders them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from markdown_it import MarkdownIt
from markdown_it.token import Token

RUNBOOKS_DIR = "docs/runbooks/"
# github-slugger: lowercase, drop everything but letters, digits, '_', '-' and spaces, spaces -> '-'.
_NOT_SLUG = re.compile(r"[^\w\- ]", re.UNICODE)

# The parts of an incident runbook entry, each with the words a heading may use for it.
ENTRY_SECTIONS: dict[str, tuple[str, ...]] = {
    "Summary": ("summary", "overview", "what it means", "impact"),
    "Severity": ("severity",),
    "Detection": ("detection", "detect", "trigger"),
    "Diagnosis": ("diagnosis", "diagnose", "investigation", "investigate", "triage"),
    "Mitigation": ("mitigation", "mitigate", "remediation"),
    "Escalation": ("escalation", "escalate"),
    "Rollback": ("rollback", "roll back", "roll-back"),
    "Post-incident follow-up": (
        "post-incident",
        "post incident",
        "follow-up",
        "follow up",
        "postmortem",
        "post-mortem",
    ),
}
PLACEHOLDER = re.compile(r"^\s*(todo|tbd|fixme|\.\.\.|-|<[^>]*>)?\s*[.:]?\s*$", re.IGNORECASE)
MIN_SECTION_CHARS = 20
MIN_CODE_CHARS = 8


def github_slug(text: str) -> str:
    return _NOT_SLUG.sub("", text.strip().lower()).replace(" ", "-")


@dataclass
class Section:
    """A heading (or a bold label opening a paragraph) and the text and code under it."""

    title: str
    level: int
    line: int
    anchor: str = ""
    text: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    # Paragraphs under this heading that open with a bold label ("**Diagnosis**: ...").
    labels: list[Section] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n".join(self.text).strip()


def _text_of(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _bold_label(children: list[Token]) -> tuple[str, list[Token]] | None:
    """("Diagnosis", the rest) for an inline run that opens with **Diagnosis**; else None."""
    while children and children[0].type == "text" and not children[0].content.strip():
        children = children[1:]
    if not children or children[0].type != "strong_open":
        return None
    close = next((k for k, c in enumerate(children) if c.type == "strong_close"), None)
    if close is None:
        return None
    return _text_of(children[1:close]).strip(" :"), children[close + 1 :]


def parse_sections(markdown: str) -> list[Section]:
    """Every heading of the document in order, with GitHub anchors (duplicates get -1, -2 ...)."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    sections: list[Section] = []
    seen: dict[str, int] = {}
    current: Section | None = None
    label: Section | None = None
    for k, tok in enumerate(tokens):
        line = (tok.map[0] + 1) if tok.map else 0
        if tok.type == "heading_open":
            title = _text_of(tokens[k + 1].children or [])
            slug = github_slug(title)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            current = Section(title, int(tok.tag[1]), line, slug if count == 0 else f"{slug}-{count}")
            label = None
            sections.append(current)
            continue
        if current is None or (k > 0 and tokens[k - 1].type == "heading_open"):
            continue
        if tok.type == "inline":
            children = tok.children or []
            opened = _bold_label(children) if tokens[k - 1].type == "paragraph_open" else None
            if opened is not None:
                label = Section(opened[0], current.level + 1, line)
                current.labels.append(label)
                children = opened[1]
            text = _text_of(children)
            code = [c.content for c in children if c.type == "code_inline"]
        elif tok.type in ("fence", "code_block"):
            text, code = tok.content, [tok.content]
        else:
            continue
        for target in (current, label):
            if target is not None:
                target.text.append(text)
                target.code.extend(code)
    return sections


def anchors(markdown: str) -> dict[str, Section]:
    return {s.anchor: s for s in parse_sections(markdown)}


def entry_parts(markdown: str, anchor: str) -> list[Section] | None:
    """The parts of the entry under heading ``anchor``: its sub-headings, or its bold-labelled paragraphs.

    Returns None when no heading has that anchor.
    """
    sections = parse_sections(markdown)
    start = next((k for k, s in enumerate(sections) if s.anchor == anchor), None)
    if start is None:
        return None
    head = sections[start]
    parts = []
    for s in sections[start + 1 :]:
        if s.level <= head.level:
            break
        parts.append(s)
    return parts or head.labels


def classify(title: str) -> str | None:
    """Which required entry section a heading is, by its words (None: not one of them)."""
    lowered = title.lower()
    for name, words in ENTRY_SECTIONS.items():
        if any(w in lowered for w in words):
            return name
    return None


def is_placeholder(text: str) -> bool:
    stripped = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL).strip()
    return len(stripped) < MIN_SECTION_CHARS or bool(PLACEHOLDER.match(stripped))


@dataclass(frozen=True)
class RunbookLink:
    """Where a runbook_url points inside the repository."""

    file: str  # repository-relative, e.g. docs/runbooks/incident-response.md
    anchor: str


def resolve_runbook_url(url: str) -> RunbookLink | str:
    """The runbook file and anchor a runbook_url names, or a sentence saying what is wrong with it.

    Accepted: any URL or relative path whose path contains ``docs/runbooks/<file>.md`` and that
    ends in ``#<anchor>`` (e.g. a GitHub ``blob/main/docs/runbooks/...`` link).
    """
    if not isinstance(url, str) or not url.strip():
        return "it is empty"
    parsed = urlparse(url.strip())
    path = unquote(parsed.path)
    marker = path.find(RUNBOOKS_DIR)
    if marker < 0:
        return f"it does not point into {RUNBOOKS_DIR} of this repository"
    rel = path[marker:]
    if ".." in rel.split("/") or not rel.endswith(".md"):
        return f"it should name a Markdown file in {RUNBOOKS_DIR} (got {rel})"
    if not parsed.fragment:
        return "it has no #anchor naming the runbook section"
    return RunbookLink(rel, unquote(parsed.fragment).lower())
