"""``python -m copilot.security mint-token``."""

import subprocess
import sys

from copilot.security.__main__ import main
from copilot.security.tokens import decode_token
from tests.conftest import REPO


def test_mint_token_prints_a_token_the_service_accepts(capsys, monkeypatch, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    secret = "cli-test-secret-cli-test-secret-0123456"
    monkeypatch.setenv("COPILOT_JWT_SECRET", secret)
    assert main(["mint-token", "--sub", "jr", "--role", "admin", "--plants", f"{plant},{other_plant}"]) == 0
    token = capsys.readouterr().out.strip()
    assert decode_token(token, secret).plants == (plant, other_plant)


def test_bad_plant_is_a_clear_error(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COPILOT_ENV", "test")
    assert main(["mint-token", "--sub", "jr", "--role", "engineer", "--plants", "nowhere"]) == 2
    assert "plants must be plant codes" in capsys.readouterr().err


def test_runs_as_a_module(plant) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-m", "copilot.security", "mint-token", "--sub", "u", "--role", "operator", "--plants", plant],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COPILOT_ENV": "test", "PYTHONPATH": f"{REPO / 'src'}:{REPO}"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(".") == 2
