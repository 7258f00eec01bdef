"""``python -m copilot.security mint-token --sub USER --role ROLE --plants A,B``: a token for local use.

The token is signed with the configured secret (``COPILOT_JWT_SECRET``, ``.env`` or a secret
file), so it is accepted by a service started with the same settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from copilot.security.tokens import ROLES, mint_token


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m copilot.security", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint-token", help="print a signed bearer token")
    mint.add_argument("--sub", required=True, help="user id (e.g. an employee number)")
    mint.add_argument("--role", required=True, choices=ROLES)
    mint.add_argument("--plants", required=True, help="comma-separated plant codes, e.g. the code in config/plant.yaml")
    mint.add_argument("--ttl-minutes", type=int, default=480, help="lifetime (default 8 hours)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from copilot.core.config import Settings  # settings errors are reported below, not as a traceback

    try:
        settings = Settings()
        plants = [p.strip() for p in args.plants.split(",") if p.strip()]
        token = mint_token(
            settings.jwt_secret.get_secret_value(),
            sub=args.sub,
            role=args.role,
            plants=plants,
            ttl=timedelta(minutes=args.ttl_minutes),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
