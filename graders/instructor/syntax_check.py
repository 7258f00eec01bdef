"""Does a file still parse after its solutions were stripped? One parser per syntax, real ones only."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

import yaml


def _python(text: str) -> None:
    compile(text, "<stripped>", "exec", dont_inherit=True)


def _yaml(text: str) -> None:
    for _ in yaml.safe_load_all(text):
        pass


def _json(text: str) -> None:
    json.loads(text)


def _hcl(text: str) -> None:
    import hcl2  # python-hcl2; imported here because it is slow to import and only HCL files need it

    hcl2.load(io.StringIO(text))


def _toml(text: str) -> None:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10: use tomli when present, else the check cannot run
        try:
            import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ModuleNotFoundError:
            return
    tomllib.loads(text)


def _notebook(text: str) -> None:
    import nbformat

    nbformat.validate(nbformat.reads(text, as_version=4))


PARSERS: dict[str, Callable[[str], None]] = {
    "python": _python,
    "yaml": _yaml,
    "json": _json,
    "hcl": _hcl,
    "toml": _toml,
    "notebook": _notebook,
}
_LINE = re.compile(r"line (\d+)", re.IGNORECASE)


def parse_error(syntax: str | None, text: str) -> tuple[int | None, str] | None:
    """``(line, message)`` when ``text`` does not parse as ``syntax``; None when it does (or no parser)."""
    parser = PARSERS.get(syntax or "")
    if parser is None:
        return None
    try:
        parser(text)
    except SyntaxError as exc:
        return exc.lineno, exc.msg
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return (mark.line + 1 if mark else None), str(exc.problem or exc).strip()
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.msg
    except Exception as exc:  # each parser has its own error types (lark for HCL, tomllib, nbformat)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        found = _LINE.search(str(exc))
        return (int(found.group(1)) if found else None), message
    return None
