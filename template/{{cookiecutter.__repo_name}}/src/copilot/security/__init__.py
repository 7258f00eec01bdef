"""Identity (bearer JWTs) and plant-level role-based access control."""

from copilot.security.tokens import ROLES, InvalidToken, Principal, Role, decode_token, mint_token

__all__ = ["ROLES", "InvalidToken", "Principal", "Role", "decode_token", "mint_token"]
