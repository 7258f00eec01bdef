"""Token minting and verification."""

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from copilot.security.tokens import InvalidToken, decode_token, mint_token

SECRET = "unit-test-secret-unit-test-secret-0123"


def test_round_trip(plant: str) -> None:
    token = mint_token(SECRET, sub="jr", role="plant_manager", plants=[plant])
    principal = decode_token(token, SECRET)
    assert (principal.sub, principal.role, principal.plants) == ("jr", "plant_manager", (plant,))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert set(claims) == {"sub", "role", "plants", "iat", "exp"}


def test_expired_token_is_reported_as_expired(plant: str) -> None:
    token = mint_token(SECRET, "jr", "operator", [plant], now=datetime.now(timezone.utc) - timedelta(days=1))
    with pytest.raises(InvalidToken) as excinfo:
        decode_token(token, SECRET, leeway_s=0)
    assert excinfo.value.expired


def test_none_algorithm_is_refused(plant: str) -> None:
    unsigned = jwt.encode(
        {"sub": "x", "role": "admin", "plants": [plant], "exp": datetime.now(timezone.utc) + timedelta(hours=1)},
        key=None,
        algorithm="none",
    )
    with pytest.raises(InvalidToken):
        decode_token(unsigned, SECRET)


@pytest.mark.parametrize(("role", "plants"), [("root", ["<plant>"]), ("engineer", []), ("engineer", ["nope"])])
def test_mint_refuses_bad_roles_and_plants(role: str, plants: list[str], plant: str) -> None:
    with pytest.raises(ValueError):
        mint_token(SECRET, "jr", role, [plant if p == "<plant>" else p for p in plants])
