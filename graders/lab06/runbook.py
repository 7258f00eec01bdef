"""The deployment runbook as data: its headed sections and the code blocks inside them.

Markdown is read with markdown-it-py (CommonMark), so headings and code blocks are what GitHub
renders: a ``#`` line inside a code fence or an HTML comment is not a heading. A section runs from
its heading to the next heading of the same or a higher level, so a rollback section's subsections
(``### API``, ``### Worker``) belong to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

RUNBOOK = "docs/runbooks/deploy-cloud-run.md"
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'_./=-]*")


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    line: int  # 1-based line of the heading
    body: str  # everything under the heading, subsections included
    blocks: tuple[tuple[int, str], ...] = field(default=())  # (1-based first code line, code) in the section

    @property
    def words(self) -> int:
        return len(WORD.findall(HTML_COMMENT.sub("", self.body)))

    def code_blocks(self) -> list[tuple[int, str]]:
        return list(self.blocks)


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    pattern: re.Pattern[str]
    exclude: re.Pattern[str] | None = None

    def matches(self, title: str) -> bool:
        return bool(self.pattern.search(title)) and not (self.exclude and self.exclude.search(title))


PRE_DEPLOY = re.compile(r"pre[- ]?deploy|pre[- ]?flight|before (you )?deploy|prerequisite|pre[- ]?release", re.I)
REQUIRED = (
    Requirement("pre-deploy", "Pre-deploy checks", PRE_DEPLOY),
    Requirement("deploy", "Deploy", re.compile(r"\bdeploy", re.I), PRE_DEPLOY),
    Requirement("smoke", "Smoke tests", re.compile(r"smoke", re.I)),
    Requirement("canary", "Canary analysis", re.compile(r"canary", re.I)),
    Requirement("rollback", "Rollback", re.compile(r"roll(?:ing|ed|s)?[\s_-]?back", re.I)),
    Requirement("communication", "Communication and escalation", re.compile(r"communicat|escalat", re.I)),
)


def sections(text: str) -> list[Section]:
    tokens = MarkdownIt("commonmark").parse(text)
    lines = text.splitlines()
    headings = [
        (tok.map[0], int(tok.tag[1]), tokens[i + 1].content.strip())
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.map is not None
    ]
    code = [(tok.map[0], tok.map[1], tok.content) for tok in tokens if tok.type in ("fence", "code_block") and tok.map]
    found = []
    for index, (start, level, title) in enumerate(headings):
        end = len(lines)
        for later_start, later_level, _ in headings[index + 1 :]:
            if later_level <= level:
                end = later_start
                break
        blocks = tuple(
            (first + (2 if lines[first].lstrip().startswith(("```", "~~~")) else 1), content.rstrip("\n"))
            for first, last, content in code
            if start < first and last <= end
        )
        found.append(Section(title, level, start + 1, "\n".join(lines[start + 1 : end]), blocks))
    return found


def find(found: list[Section], requirement: Requirement) -> Section | None:
    """The first section whose heading matches (the shallowest, when several do).

    A heading that names only this requirement beats one that also names another ("Canary analysis"
    beats "Smoke testing the canary" for the canary section). The document title (a single level-1
    heading above ``##`` sections) is never a section: its body is the whole runbook.
    """
    titled = len([s for s in found if s.level == 1]) == 1 and any(s.level > 1 for s in found)
    candidates = [s for s in found if not (titled and s.level == 1)]
    matching = [s for s in candidates if requirement.matches(s.title)]
    only_this = [s for s in matching if not any(r.matches(s.title) for r in REQUIRED if r.key != requirement.key)]
    pool = only_this or matching
    return min(pool, key=lambda s: (s.level, s.line)) if pool else None
