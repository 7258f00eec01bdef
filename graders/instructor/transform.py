"""One file on its way into the template: binary or text, solutions stripped, variables in.

Pure functions of a path and its content; problems raise :class:`BuildError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from graders.instructor import markers, syntax_check, variables
from graders.instructor.copier_config import TEMPLATE_SUFFIX
from graders.instructor.filetypes import file_type
from graders.instructor.layout import BuildError


def is_binary(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def check_path(rel: str, shown: str) -> None:
    if rel.endswith(TEMPLATE_SUFFIX):
        raise BuildError([f"{shown}: a file name may not end in {TEMPLATE_SUFFIX} (the template suffix)"])
    if any(opener in rel for opener in (*variables.JINJA_OPENERS, "}}")):
        raise BuildError([f"{shown}: a path may not hold template braces ({{{{ }}}}, {{% %}}, {{# #}}); rename it"])


def strip_text(text: str, rel: str, shown: str, known_labs: set[str]) -> str:
    """``text`` with its solutions stripped; a file that parsed before must still parse."""
    ftype = file_type(rel)
    if ftype.comment is None:
        return text
    result = markers.strip_detailed(text, ftype.comment, shown, known_labs, python=ftype.syntax == "python")
    if result.text == text:
        return text
    if ftype.syntax and syntax_check.parse_error(ftype.syntax, text) is None:
        problem = syntax_check.parse_error(ftype.syntax, result.text)
        if problem is not None:
            line, message = problem
            region = result.region_near(line or 1)
            where = region.begin + 1 if region else "?"
            raise BuildError(
                [
                    f"{shown}:{where}: once this region is stripped the file no longer parses as {ftype.syntax} "
                    f"({message}, line {line or '?'} of the stripped file); give the region a STARTER part "
                    "that keeps the file valid"
                ]
            )
    return result.text


def template_file(rel: str, data: bytes, shown: str) -> tuple[str, bytes, bool]:
    """The template path and content of one payload file, and whether it holds variables."""
    path = variables.templatize_path(rel)
    if is_binary(data):
        return path, data, False
    text = data.decode("utf-8")
    templated, used = variables.templatize(text, rel)
    if not used:
        return path, data, False
    if "\r" in text:
        raise BuildError([f"{shown}: holds example values but uses CRLF line endings; convert it to LF"])
    return path + TEMPLATE_SUFFIX, templated.encode("utf-8"), True


def strip_notebook(path: Path, shown: str, known_labs: set[str]) -> str:
    """A lab notebook with its solution regions stripped cell by cell (outputs of changed cells cleared)."""
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several JSON and schema errors
        raise BuildError([f"{shown}: not a readable notebook ({exc}); open and save it in Jupyter"]) from None
    for index, cell in enumerate(notebook.cells, start=1):
        comment = {"code": "hash", "markdown": "markdown"}.get(cell.cell_type)
        if comment is None:
            continue
        stripped, _ = markers.strip(
            cell.source, comment, f"{shown} cell {index}", known_labs, python=cell.cell_type == "code"
        )
        if stripped != cell.source:
            cell.source = stripped
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
    return str(nbformat.writes(notebook)) + "\n"
