"""Terraform files in conftest's input shape.

conftest reads a ``.tf`` or ``.tfvars`` file with tmccombs/hcl2json (``convert.Bytes``), and the
lab's Rego policies are written against that JSON. Python's HCL parsers produce a different
shape, so this module parses with the lark grammar that checkov's HCL package
(``bc-python-hcl2``) ships and converts the parse tree the way hcl2json converts HCL's syntax
tree:

* a block becomes a list of bodies under its type, nested one map level per label:
  ``resource "a" "b" {}`` -> ``{"resource": {"a": {"b": [{...}]}}}``, ``terraform {}`` ->
  ``{"terraform": [{...}]}``; repeated blocks append to the list;
* literals become JSON values (``-1`` too); a string without interpolation becomes its value;
  a template keeps its literal parts and writes every interpolation as ``${<source>}``; a string
  that is one interpolation (``"${var.x}"``) is converted as the expression inside;
* every other expression becomes ``${<source text>}``, except that source text starting with a
  type keyword (``string``, ``map(string)``, ``list(...)``...) is kept as it is;
* template directives (``%{if}``, ``%{for}``) are kept as written.

The parse tree comes from the dict-producing package's own parser because its dict output loses
the difference between a block and an object attribute. Parse errors become
:class:`HclSyntaxError` with the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graders.sdk import GraderError

TYPE_KEYWORDS = ("string", "number", "bool", "list", "set", "map", "object", "tuple")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_INT = re.compile(r"^-?[0-9]+$")
_FLOAT = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$")


class HclSyntaxError(Exception):
    """A file that is not valid HCL; ``line`` is 1-based when known."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(f"{path}{':' + str(line) if line else ''}: {message}")
        self.path = path
        self.line = line
        self.message = message

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class HclDocument:
    """One parsed file: conftest's JSON shape plus the line of every block and attribute."""

    path: str
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    def line(self, *address: str) -> int | None:
        """Line of a block or attribute, e.g. ``line("variable", "regions", "type")``."""
        return self.lines.get(tuple(address))

    def location(self, *address: str) -> str:
        found = self.line(*address)
        return f"{self.path}:{found}" if found else self.path


def _lark_parser() -> Any:
    try:
        from hcl2.parser import Hcl2
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise GraderError(
            "the HCL parser is not importable (checkov's bc-python-hcl2); "
            f"reinstall it with `pip install --force-reinstall bc-python-hcl2==0.4.3` ({exc})"
        ) from None
    parser = getattr(Hcl2, "lark_parser", None)
    if parser is None:  # pragma: no cover - python-hcl2 >= 5 overwrote checkov's package
        raise GraderError(
            "the installed `hcl2` package is not the one checkov ships; "
            "reinstall it with `pip install --force-reinstall bc-python-hcl2==0.4.3`"
        )
    return parser


def parse(text: str, path: str) -> HclDocument:
    """Parse HCL ``text`` (from ``path``, used in messages) into conftest's input shape."""
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = _lark_parser().parse(text + "\n")
    except UnexpectedInput as exc:
        unclosed = _unclosed_brace(text) if _at_end(exc) else None
        if unclosed is not None:
            raise HclSyntaxError(
                path, unclosed, "this block (or object) is never closed: a closing '}' is missing below it"
            ) from None
        raise HclSyntaxError(path, getattr(exc, "line", None) or None, _describe(exc)) from None
    except (LarkError, RecursionError) as exc:
        raise HclSyntaxError(path, None, f"could not be parsed ({type(exc).__name__})") from None
    converter = _Converter(text + "\n", path)
    body = next((c for c in tree.children if _is_tree(c, "body")), None)
    data = converter.body(body, ()) if body is not None else {}
    return HclDocument(path, data, converter.lines)


def _at_end(exc: Exception) -> bool:
    from lark.exceptions import UnexpectedEOF, UnexpectedToken

    return isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END")


def _unclosed_brace(text: str) -> int | None:
    """Line of the outermost '{' that is never closed (strings, comments and heredocs skipped)."""
    stack: list[int] = []
    line, i, n = 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    line += 1
                i += 1
        elif c == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        elif text.startswith("<<", i):
            match = re.match(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\n", text[i:])
            if match:
                close = re.compile(rf"^[ \t]*{re.escape(match.group(1))}[ \t]*$", re.M)
                found = close.search(text, i + match.end())
                end = found.end() if found else n
                line += text.count("\n", i, end)
                i = end
                continue
        elif c == "{":
            stack.append(line)
        elif c == "}" and stack:
            stack.pop()
        i += 1
    return stack[0] if stack else None


def _describe(exc: Exception) -> str:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    column = getattr(exc, "column", None)
    where = f" at column {column}" if isinstance(column, int) and column > 0 else ""
    if isinstance(exc, UnexpectedEOF):
        return "the file ends inside a block or expression: a closing brace, bracket or quote is missing"
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return "the file ends inside a block or expression: a closing brace, bracket or quote is missing"
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        shown = "end of line" if str(token).strip() == "" else repr(str(token))
        return f"unexpected {shown}{where}; check the line for a missing '=', quote, bracket or brace"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {exc.char!r}{where}; check quotes and brackets on this line"
    return f"invalid syntax{where}"


def _is_tree(node: Any, name: str | None = None) -> bool:
    from lark import Tree

    return isinstance(node, Tree) and (name is None or node.data == name)


class _Converter:
    """Tree to conftest shape; one instance per file (it collects the line index)."""

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path
        self.lines: dict[tuple[str, ...], int] = {}

    # -- structure ---------------------------------------------------------------------------
    def body(self, tree: Any, address: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        children = tree.children if tree is not None else []
        for child in children:
            if _is_tree(child, "block"):
                self.block(child, out, address)
        for child in children:
            if _is_tree(child, "attribute"):
                name = self.identifier(child.children[0])
                if (*address, name) in self.lines and name in out:
                    raise HclSyntaxError(
                        self.path,
                        child.meta.line,
                        f"attribute '{name}' is set twice in the same block (first on line "
                        f"{self.lines[(*address, name)]}); keep one",
                    )
                self.lines.setdefault((*address, name), child.meta.line)
                out[name] = self.expression(child.children[-1])
        return out

    def block(self, tree: Any, out: dict[str, Any], address: tuple[str, ...]) -> None:
        parts = list(tree.children)
        body = parts.pop() if parts and _is_tree(parts[-1], "body") else None
        names = [self.identifier(p) if _is_tree(p) else _unquote(str(p)) for p in parts]
        block_type, labels = names[0], names[1:]
        self.lines.setdefault((*address, *names), tree.meta.line)
        value = self.body(body, (*address, *names))
        current, key = out, block_type
        for label in labels:
            if key in current and not isinstance(current[key], dict):
                raise HclSyntaxError(
                    self.path,
                    tree.meta.line,
                    f"block {'.'.join(names)} cannot be converted: '{key}' is used as a block with and without labels",
                )
            current = current.setdefault(key, {})
            key = label
        existing = current.get(key)
        if isinstance(existing, list):
            existing.append(value)
        elif existing is None:
            current[key] = [value]
        else:
            raise HclSyntaxError(
                self.path, tree.meta.line, f"block {'.'.join(names)} repeats a name already used with more labels"
            )

    @staticmethod
    def identifier(node: Any) -> str:
        return str(node.children[0]) if _is_tree(node) else str(node)

    # -- expressions ---------------------------------------------------------------------------
    def text(self, node: Any) -> str:
        """Source text of an expression, without trailing newlines or comments."""
        from lark import Token

        if isinstance(node, Token):
            return str(node)
        last = _last_token(node)
        end = node.meta.end_pos
        if last is not None:
            # Closing brackets are anonymous tokens, missing from the tree: keep those that follow
            # the last token, drop the newlines and comments the rule also matched.
            kept = re.match(r"[\s)\]}]*", self.source[last.end_pos : end])
            end = last.end_pos + (len(kept.group(0).rstrip()) if kept else 0)
        return self.source[node.meta.start_pos : end].strip()

    def wrapped(self, node: Any) -> str:
        raw = self.text(node)
        if raw.startswith(TYPE_KEYWORDS):
            return raw
        return "${" + raw + "}"

    def expression(self, node: Any) -> Any:
        from lark import Token

        if isinstance(node, Token):
            if node.type == "STRING_LIT":
                return self.template(str(node)[1:-1], heredoc=False)
            return self.wrapped(node)
        kind = node.data
        if kind == "expr_term":
            inner = [c for c in node.children if not (isinstance(c, Token) and c.type in ("LPAR", "RPAR"))]
            if len(inner) == 1 and not self.text(node).startswith("("):
                return self.expression(inner[0])
            return self.wrapped(node)
        if kind == "int_lit" or kind == "float_lit":
            return _number("".join(str(c) for c in node.children))
        if kind == "identifier":
            name = self.identifier(node)
            if name in ("true", "false"):
                return name == "true"
            if name == "null":
                return None
            return self.wrapped(node)
        if kind == "unary_op":
            operand = self.expression(node.children[1])
            operator = str(node.children[0])
            if operator == "-" and isinstance(operand, (int, float)) and not isinstance(operand, bool):
                return -operand
            if operator == "!" and isinstance(operand, bool):
                return not operand
            return self.wrapped(node)
        if kind == "tuple":
            return [self.expression(c) for c in node.children if _is_tree(c) or _is_value_token(c)]
        if kind == "object":
            result: dict[str, Any] = {}
            for elem in node.children:
                if _is_tree(elem, "object_elem"):
                    key_node, value_node = elem.children[0], elem.children[-1]
                    result[self.object_key(key_node)] = self.expression(value_node)
            return result
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self.heredoc(str(node.children[0]), trim=kind == "heredoc_template_trim")
        return self.wrapped(node)

    def object_key(self, node: Any) -> str:
        """hcl2json: a traversal key is its source text, a literal or template its string value."""
        if _is_tree(node, "identifier"):
            return self.identifier(node)
        inner = node.children[0] if _is_tree(node, "expr_term") and len(node.children) == 1 else node
        if _is_tree(inner) and inner.data in ("get_attr_expr_term", "index_expr_term", "identifier"):
            return self.text(inner)
        value = self.expression(node)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float, str)):
            return str(value)
        return "${" + self.text(node) + "}"

    def heredoc(self, token: str, trim: bool) -> str:
        match = re.match(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\n(.*)\n[ \t]*\1$", token, re.S)
        if not match:
            return token
        content = match.group(2)
        lines = content.split("\n")
        if trim:
            widths = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
            cut = min(widths) if widths else 0
            lines = [line[cut:] for line in lines]
        return self.template("\n".join(lines) + "\n", heredoc=True)

    def template(self, inner: str, heredoc: bool) -> Any:
        parts = _split_template(inner)
        if len(parts) == 1 and parts[0][0] == "interp" and not heredoc:
            return self.single_interpolation(parts[0][1])
        out = []
        for kind, value in parts:
            if kind == "text":
                out.append(value if heredoc else _unescape(value))
            elif kind == "directive":
                out.append(value)
            else:
                expr = _strip_markers(value)
                literal = _literal_text(expr)
                out.append(literal if literal is not None else "${" + expr + "}")
        return "".join(out)

    def single_interpolation(self, value: str) -> Any:
        """A string that is only ``${expr}``: hcl2json converts the expression inside."""
        expr = _strip_markers(value)
        try:
            tree = _lark_parser().parse(f"__x = {expr}\n")
            body = next(c for c in tree.children if _is_tree(c, "body"))
            attribute = next(c for c in body.children if _is_tree(c, "attribute"))
        except Exception:  # an expression the grammar cannot read on its own: keep its text
            return "${" + expr + "}"
        return _Converter(f"__x = {expr}\n", self.path).expression(attribute.children[-1])


def _is_value_token(node: Any) -> bool:
    from lark import Token

    return isinstance(node, Token) and node.type == "STRING_LIT"


def _last_token(node: Any) -> Any:
    from lark import Token

    for child in reversed(node.children):
        if isinstance(child, Token):
            return child
        found = _last_token(child)
        if found is not None:
            return found
    return None


def _number(text: str) -> int | float:
    if _INT.match(text):
        return int(text)
    value = float(text)
    return int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return _unescape(text[1:-1])
    return text


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt in "uU":
                width = 4 if nxt == "u" else 8
                digits = text[i + 2 : i + 2 + width]
                if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                    try:
                        out.append(chr(int(digits, 16)))
                        i += 2 + width
                        continue
                    except (ValueError, OverflowError):
                        pass
        if text.startswith("$${", i) or text.startswith("%%{", i):
            out.append(text[i + 1 : i + 3])
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _split_template(inner: str) -> list[tuple[str, str]]:
    """Split a template into ("text", ...), ("interp", expr) and ("directive", raw) parts."""
    parts: list[tuple[str, str]] = []
    buf: list[str] = []
    i = 0
    while i < len(inner):
        if inner.startswith("$${", i) or inner.startswith("%%{", i):
            buf.append(inner[i : i + 3])
            i += 3
            continue
        if inner.startswith("${", i) or inner.startswith("%{", i):
            end = _closing_brace(inner, i + 2)
            if end is None:
                buf.append(inner[i:])
                break
            if buf:
                parts.append(("text", "".join(buf)))
                buf = []
            if inner[i] == "$":
                parts.append(("interp", inner[i + 2 : end]))
            else:
                parts.append(("directive", inner[i : end + 1]))
            i = end + 1
            continue
        if inner[i] == "\\" and i + 1 < len(inner):
            buf.append(inner[i : i + 2])
            i += 2
            continue
        buf.append(inner[i])
        i += 1
    if buf:
        parts.append(("text", "".join(buf)))
    return parts or [("text", "")]


def _closing_brace(text: str, start: int) -> int | None:
    depth = 1
    i = start
    in_string = False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _strip_markers(expr: str) -> str:
    expr = expr.strip()
    if expr.startswith("~"):
        expr = expr[1:]
    if expr.endswith("~"):
        expr = expr[:-1]
    return expr.strip()


def _literal_text(expr: str) -> str | None:
    """hcl2json writes a literal inside a template as its text (``"a${1}"`` -> ``"a1"``)."""
    if expr in ("true", "false"):
        return expr
    if _FLOAT.match(expr):
        return expr
    if expr == "null":
        return ""
    if (
        len(expr) >= 2
        and expr[0] == '"'
        and expr[-1] == '"'
        and "${" not in expr
        and '"' not in expr[1:-1].replace('\\"', "")
    ):
        return _unescape(expr[1:-1])
    return None
