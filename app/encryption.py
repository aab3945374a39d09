"""Encryption at rest for tenant shared secrets and API keys (Fernet: AES-128-CBC with HMAC-SHA256)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from app.errors import AppError


class DecryptionError(AppError):
    """A stored secret cannot be read with the current DTG_SECRET_KEY."""


class SecretBox:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError("A stored secret cannot be decrypted: was DTG_SECRET_KEY changed?") from exc
