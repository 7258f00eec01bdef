"""Bearer tokens: HS256 JWTs carrying who the caller is, their role and the plants they may see.

Claims: ``sub`` (user id), ``role`` (operator | engineer | plant_manager | admin), ``plants``
(list of plant codes) and ``exp``. The signing secret comes from the settings; tokens are minted
by the plant's identity provider in production and by ``python -m copilot.security mint-token``
for local work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Literal, get_args

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.config import PLANT_CODE_PATTERN

ALGORITHM = "HS256"
Role = Literal["operator", "engineer", "plant_manager", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
DEFAULT_TTL = timedelta(hours=8)


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or carries invalid claims."""

    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


class Principal(BaseModel):
    """The authenticated caller, as proven by a verified token."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1, max_length=128)
    role: Role
    plants: tuple[str, ...] = Field(max_length=64)

    def can_access_plant(self, plant: str) -> bool:
        return plant in self.plants


_PLANT = re.compile(PLANT_CODE_PATTERN)


def mint_token(
    secret: str,
    sub: str,
    role: str,
    plants: Sequence[str],
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> str:
    """Sign a token for ``sub``; refuses unknown roles and malformed plant codes."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    bad = [p for p in plants if not _PLANT.match(p)]
    if bad or not plants:
        raise ValueError(f"plants must be plant codes like the ones in config/plant.yaml, got {list(plants)}")
    issued = now or datetime.now(timezone.utc)
    claims = {
        "sub": sub,
        "role": role,
        "plants": list(plants),
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, leeway_s: int = 10) -> Principal:
    """Verify signature and expiry, then validate the claims; raise InvalidToken otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            leeway=leeway_s,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired", expired=True) from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"token rejected: {exc}") from None
    try:
        principal = Principal.model_validate(claims)
    except ValidationError as exc:
        raise InvalidToken(f"token claims rejected: {exc.errors()[0]['msg']}") from None
    if any(not _PLANT.match(p) for p in principal.plants):
        raise InvalidToken("token claims rejected: malformed plant code")
    return principal
