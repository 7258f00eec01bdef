"""Authentication: bearer tokens, with short exact 401 details."""

from datetime import datetime, timedelta, timezone

import httpx
import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET

pytestmark = pytest.mark.anyio


def _query(plant: str) -> dict[str, object]:
    return {"question": "How is the die change done?", "plant": plant}


async def test_missing_token_is_401(client: httpx.AsyncClient, plant: str) -> None:
    response = await client.post("/v1/rag/query", json=_query(plant))
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_wrong_signature_is_401(client: httpx.AsyncClient, plant: str) -> None:
    forged = jwt.encode(
        {"sub": "mallory", "role": "admin", "plants": [plant], "exp": datetime.now(timezone.utc) + timedelta(hours=1)},
        "not-the-secret-" * 4,
        algorithm="HS256",
    )
    response = await client.post("/v1/rag/query", json=_query(plant), headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token"}


async def test_expired_token_is_401(client: httpx.AsyncClient, plant: str) -> None:
    expired = jwt.encode(
        {"sub": "u", "role": "engineer", "plants": [plant], "exp": datetime.now(timezone.utc) - timedelta(hours=1)},
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    response = await client.post("/v1/rag/query", json=_query(plant), headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired"}


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u", "role": "superuser", "plants": ["<plant>"]},
        {"sub": "u", "role": "engineer", "plants": "<plant>"},
        {"sub": "u", "role": "engineer", "plants": ["bad plant; drop"]},
        {"role": "engineer", "plants": ["<plant>"]},
    ],
    ids=["unknown-role", "plants-not-a-list", "malformed-plant", "no-sub"],
)
async def test_tokens_with_bad_claims_are_401(client: httpx.AsyncClient, plant: str, claims: dict) -> None:  # type: ignore[type-arg]
    filled = {k: ([plant] if v == ["<plant>"] else plant if v == "<plant>" else v) for k, v in claims.items()}
    claims = {**filled, "exp": datetime.now(timezone.utc) + timedelta(hours=1)}
    token = jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256")
    response = await client.post("/v1/rag/query", json=_query(plant), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token"}


async def test_non_bearer_scheme_is_401(client: httpx.AsyncClient, plant: str) -> None:
    response = await client.post("/v1/rag/query", json=_query(plant), headers={"Authorization": "Basic dTpw"})
    assert response.status_code == 401
