"""Liveness and readiness."""

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_healthz_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_every_dependency(client: httpx.AsyncClient, app) -> None:  # type: ignore[no-untyped-def]
    await app.state.services.vision.wait_loaded()
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"index", "model", "database", "queue", "audit"}
    assert all(value.startswith("ok") for value in body["checks"].values())


async def test_readyz_is_503_while_the_model_is_missing(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from copilot.main import create_app

    broken = settings.model_copy(update={"model_uri": str(tmp_path / "missing.pt")})
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        await app.state.services.vision.wait_loaded()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    assert "not found" in response.json()["checks"]["model"]
