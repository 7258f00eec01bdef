"""Solution markers: find the regions of a reference file that students write, and strip them.

A region opens with ``# BEGIN SOLUTION labNN: prompt`` (``<!-- BEGIN SOLUTION labNN: prompt -->`` in
Markdown), may hold a ``# STARTER`` part whose commented lines the student starts from (``<!-- STARTER``
... ``-->`` in Markdown), and closes with ``# END SOLUTION`` (``<!-- END SOLUTION -->``). Stripping
replaces a region by a ``TODO(labNN): prompt`` line and the uncommented starter; a Python region that
ends a function's block without a starter gets ``raise NotImplementedError("labNN: prompt")``.
All functions are pure: they return new text or raise :class:`MarkerError` naming file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field

DEFAULT_PROMPT = "complete this part (see the lab notebook)"
_LAB = r"(?P<lab>lab[0-9]{2})"
_PROMPT = r"(?::[ \t]*(?P<prompt>.*?))?"


@dataclass(frozen=True)
class Syntax:
    """The marker lines of one comment syntax."""

    begin: re.Pattern[str]
    starter: re.Pattern[str]
    end: re.Pattern[str]
    loose: re.Pattern[str]  # anything that looks like a marker: a strict mismatch is an error
    starter_close: re.Pattern[str] | None  # Markdown closes its STARTER block with "-->"
    example: str


HASH = Syntax(
    begin=re.compile(rf"^(?P<indent>[ \t]*)# BEGIN SOLUTION {_LAB}{_PROMPT}[ \t]*$"),
    starter=re.compile(r"^[ \t]*# STARTER[ \t]*$"),
    end=re.compile(r"^[ \t]*# END SOLUTION[ \t]*$"),
    loose=re.compile(r"^[ \t]*#+[ \t]*(BEGIN|END)[ \t_-]*SOLUTION", re.IGNORECASE),
    starter_close=None,
    example="# BEGIN SOLUTION lab02: what to write ... # END SOLUTION",
)
MARKDOWN = Syntax(
    begin=re.compile(rf"^(?P<indent>[ \t]*)<!-- BEGIN SOLUTION {_LAB}{_PROMPT}[ \t]*-->[ \t]*$"),
    starter=re.compile(r"^[ \t]*<!-- STARTER[ \t]*$"),
    end=re.compile(r"^[ \t]*<!-- END SOLUTION[ \t]*-->[ \t]*$"),
    loose=re.compile(r"^[ \t]*<!--[ \t]*(BEGIN|END)[ \t_-]*SOLUTION", re.IGNORECASE),
    starter_close=re.compile(r"^[ \t]*-->[ \t]*$"),
    example="<!-- BEGIN SOLUTION lab06: what to write --> ... <!-- END SOLUTION -->",
)
SYNTAXES = {"hash": HASH, "markdown": MARKDOWN}


class MarkerError(Exception):
    """A marker problem; the message starts with ``file:line:``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@dataclass
class Region:
    lab: str
    prompt: str
    indent: str
    begin: int  # 0-based line index of the BEGIN marker
    end: int = -1  # 0-based line index of the END marker
    starter_at: int | None = None  # 0-based line index of the STARTER marker
    starter_close: int | None = None  # Markdown: the "-->" closing the STARTER block


@dataclass
class Parsed:
    lines: list[str]
    regions: list[Region] = field(default_factory=list)

    @property
    def labs(self) -> set[str]:
        return {r.lab for r in self.regions}


def parse(text: str, comment: str, path: str, known_labs: Collection[str]) -> Parsed:
    """Find the regions of ``text``; raise MarkerError for an unbalanced, nested or unknown marker."""
    syntax = SYNTAXES[comment]
    lines = text.splitlines(keepends=True)
    parsed = Parsed(lines)
    open_region: Region | None = None
    in_md_starter = False
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        where = i + 1
        if in_md_starter and open_region is not None:
            if syntax.starter_close is not None and syntax.starter_close.match(line):
                open_region.starter_close = i
                in_md_starter = False
            elif syntax.end.match(line) or syntax.begin.match(line):
                raise MarkerError(
                    path,
                    where,
                    f"the STARTER block opened at line {(open_region.starter_at or 0) + 1} is not closed with --> "
                    "before this marker",
                )
            continue
        begin, end, starter = syntax.begin.match(line), syntax.end.match(line), syntax.starter.match(line)
        if begin:
            if open_region is not None:
                raise MarkerError(
                    path,
                    where,
                    f"BEGIN SOLUTION inside the region opened at line {open_region.begin + 1}; regions never "
                    "nest: close that one with END SOLUTION first",
                )
            lab = begin.group("lab")
            if lab not in known_labs:
                raise MarkerError(
                    path, where, f"marker names {lab}, which is not a lab (known: {', '.join(sorted(known_labs))})"
                )
            prompt = (begin.group("prompt") or "").strip() or DEFAULT_PROMPT
            open_region = Region(lab, prompt, begin.group("indent"), i)
        elif end:
            if open_region is None:
                raise MarkerError(path, where, "END SOLUTION without a BEGIN SOLUTION before it")
            open_region.end = i
            parsed.regions.append(open_region)
            open_region = None
        elif starter and open_region is not None:
            if open_region.starter_at is not None:
                raise MarkerError(
                    path, where, f"second STARTER in the region opened at line {open_region.begin + 1}; use one"
                )
            open_region.starter_at = i
            in_md_starter = syntax.starter_close is not None
        elif starter:
            raise MarkerError(path, where, "STARTER outside a BEGIN SOLUTION ... END SOLUTION region")
        elif syntax.loose.match(line):
            raise MarkerError(path, where, f"malformed solution marker {line.strip()!r}; expected {syntax.example}")
    if open_region is not None:
        raise MarkerError(path, open_region.begin + 1, "BEGIN SOLUTION has no END SOLUTION after it (unbalanced)")
    if in_md_starter:
        raise MarkerError(path, len(lines), "the STARTER block is not closed with -->")
    return parsed


def _uncomment(raw: str, indent: str, path: str, where: int) -> str:
    """One STARTER line with its ``# `` removed (blank lines stay blank)."""
    body = raw.rstrip("\r\n")
    newline = raw[len(body) :]
    if not body.strip():
        return raw
    stripped = body.lstrip(" \t")
    lead = body[: len(body) - len(stripped)]
    if not stripped.startswith("#"):
        raise MarkerError(path, where, "STARTER lines must be commented with '# ' (the build removes one '# ')")
    rest = stripped[2:] if stripped.startswith("# ") else stripped[1:]
    return lead + rest + newline


_YIELD = re.compile(r"^\s*(?!#).*\byield\b")
RAISE_WIDTH = 110  # the generated line stays under the 120 columns of ruff's line-length


def _raise_lines(indent: str, lab: str, prompt: str) -> list[str]:
    """``raise NotImplementedError("labNN: prompt")``, wrapped over string pieces when it is long."""
    message = f"{lab}: {prompt}"
    one = f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
    if len(one) <= RAISE_WIDTH:
        return [one]
    room = max(RAISE_WIDTH - len(indent) - 6, 40)
    pieces: list[str] = []
    current = ""
    for word in message.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(json.dumps(candidate, ensure_ascii=False)) > room:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    body = [f"{indent}    {json.dumps(piece, ensure_ascii=False)}" for piece in pieces]
    return [f"{indent}raise NotImplementedError(", *body, f"{indent})"]


def _todo_lines(indent: str, lab: str, prompt: str) -> list[str]:
    """``# TODO(labNN): prompt``, continued on ``#   `` lines when longer than the line length allows."""
    head = f"{indent}# TODO({lab}): "
    words = prompt.split()
    lines: list[str] = []
    current = head
    for word in words:
        if current not in (head, f"{indent}#  ") and len(current) + 1 + len(word) > RAISE_WIDTH:
            lines.append(current)
            current = f"{indent}#  "
        current = current + word if current in (head, f"{indent}#  ") else current + " " + word
    lines.append(current)
    return lines


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _code_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _python_filler(lines: list[str], region: Region) -> str | None:
    """``raise`` (in functions) or ``pass`` (elsewhere) when stripping leaves a Python block needing one."""
    width = len(region.indent.expandtabs())
    if width == 0:
        return None
    after = next((ln for ln in lines[region.end + 1 :] if _code_line(ln)), None)
    ends_block = after is None or _indent_of(after.expandtabs()) < width
    if not ends_block:
        return None
    before = [ln for ln in lines[: region.begin] if _code_line(ln)]
    opens_block = bool(before) and _indent_of(before[-1].expandtabs()) < width
    in_function = False
    level = width
    for ln in reversed(before):
        ind = _indent_of(ln.expandtabs())
        if ind < level:
            level = ind
            if ln.lstrip().startswith(("def ", "async def ")):
                in_function = True
                break
            if ln.lstrip().startswith("class "):
                break
    if in_function:
        return "raise"
    return "pass" if opens_block else None


@dataclass
class Stripped:
    text: str
    labs: set[str]
    # (0-based line of the TODO in the stripped text, the region it replaced), in order
    placed: list[tuple[int, Region]] = field(default_factory=list)

    def region_near(self, stripped_line: int) -> Region | None:
        """The region whose replacement is at or just above ``stripped_line`` (1-based)."""
        before = [region for at, region in self.placed if at + 1 <= stripped_line]
        return before[-1] if before else (self.placed[0][1] if self.placed else None)


def strip(
    text: str, comment: str, path: str, known_labs: Collection[str], python: bool = False
) -> tuple[str, set[str]]:
    """``text`` with every solution region replaced by its TODO prompt and starter; also the labs seen."""
    result = strip_detailed(text, comment, path, known_labs, python)
    return result.text, result.labs


def strip_detailed(text: str, comment: str, path: str, known_labs: Collection[str], python: bool = False) -> Stripped:
    """Like :func:`strip`, also telling where each region's replacement landed (for error messages)."""
    parsed = parse(text, comment, path, known_labs)
    if not parsed.regions:
        return Stripped(text, set())
    lines = parsed.lines
    placed: list[tuple[int, Region]] = []
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    out: list[str] = []
    cursor = 0
    for region in parsed.regions:
        out.extend(lines[cursor : region.begin])
        placed.append((len(out), region))
        ind = region.indent
        if comment == "markdown":
            out.append(f"{ind}**TODO({region.lab}):** {region.prompt}{newline}")
            if region.starter_at is not None and region.starter_close is not None:
                out.extend(lines[region.starter_at + 1 : region.starter_close])
        else:
            out.extend(line + newline for line in _todo_lines(ind, region.lab, region.prompt))
            if region.starter_at is not None:
                for j in range(region.starter_at + 1, region.end):
                    out.append(_uncomment(lines[j], ind, path, j + 1))
            elif python:
                filler = _python_filler(lines, region)
                if filler == "raise":
                    out.extend(line + newline for line in _raise_lines(ind, region.lab, region.prompt))
                    if any(_YIELD.search(ln) for ln in lines[region.begin + 1 : region.end]):
                        out.append(f"{ind}yield  # unreachable: keeps this function a generator{newline}")
                elif filler == "pass":
                    out.append(f"{ind}pass{newline}")
        cursor = region.end + 1
    out.extend(lines[cursor:])
    text_out = "".join(out)
    if not lines[-1].endswith("\n") and parsed.regions[-1].end == len(lines) - 1:
        text_out = text_out.removesuffix(newline)  # the region ended the text: so does its replacement
    return Stripped(text_out, parsed.labs, placed)
