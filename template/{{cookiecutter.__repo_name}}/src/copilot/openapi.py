"""Export or check the committed OpenAPI contract (``docs/openapi.json``).

``python -m copilot.openapi --out docs/openapi.json`` writes it; ``--check docs/openapi.json``
exits 1 when the code's contract differs from the committed one (CI runs it, so an API change is
always a reviewed change of the document too).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def current_schema() -> dict[str, Any]:
    from copilot.core.config import Settings
    from copilot.main import create_app

    schema: dict[str, Any] = create_app(Settings(env="test")).openapi()
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m copilot.openapi", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out", type=Path, help="write the contract here")
    group.add_argument("--check", type=Path, help="fail when this committed contract is out of date")
    args = parser.parse_args(argv)
    text = render(current_schema())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
        return 0
    committed = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
    if committed != text:
        print(f"{args.check} is out of date: run `make openapi` and commit the result", file=sys.stderr)
        return 1
    print(f"{args.check} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
