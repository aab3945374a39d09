"""An app on a fresh SQLite database with a fake install-key server behind an httpx MockTransport."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from app.connect.qsh import CONTEXT_QSH
from app.connect.tokens import sign_request_token
from app.container import Services, build_services
from app.db.migrate import upgrade
from app.main import create_app
from tests.support import RecordingQueue, make_settings, remember_secret

BASE_URL = "https://dtg.test"
KEYS_URL = "https://keys.test"
KID = "test-kid-1"


class KeyServer:
    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.requests = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if request.url.path == f"/{KID}":
            return httpx.Response(200, text=self.pem)
        return httpx.Response(404, text="not found")


@dataclass
class Jira:
    """Plays a Jira site: signs lifecycle callbacks and iframe URLs the way Jira does."""

    client: TestClient
    keys: KeyServer
    client_key: str = field(default_factory=lambda: f"jira:{uuid.uuid4()}")
    shared_secret: str = field(default_factory=lambda: remember_secret(uuid.uuid4().hex + uuid.uuid4().hex))
    base_url: str = "https://tenant-a.atlassian.net"

    def payload(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "key": "drupal-ticket-generator",
            "clientKey": self.client_key,
            "sharedSecret": self.shared_secret,
            "baseUrl": self.base_url,
            "displayUrl": self.base_url,
            "productType": "jira",
            "description": "Atlassian JIRA at " + self.base_url,
            "eventType": "installed",
        }
        return {**body, **overrides}

    def install_token(self, path: str = "/installed", **overrides: Any) -> str:
        from app.connect.qsh import query_string_hash

        now = int(time.time())
        claims = {
            "iss": self.client_key,
            "aud": BASE_URL,
            "iat": now,
            "exp": now + 180,
            "qsh": query_string_hash("POST", BASE_URL + path, BASE_URL),
            "sub": "557058:admin",
        }
        headers = {"kid": overrides.pop("kid", KID)}
        claims.update(overrides)
        return jwt.encode(claims, self.keys.private_key, algorithm="RS256", headers=headers)

    def post_lifecycle(self, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(
            path,
            content=json.dumps(body if body is not None else self.payload()),
            headers={"Authorization": f"JWT {token}", "Content-Type": "application/json"},
        )

    def install(self) -> None:
        response = self.post_lifecycle("/installed", self.install_token())
        assert response.status_code == 204, response.text

    def signed_path(self, path: str, *, method: str = "GET", secret: str | None = None, **claims: Any) -> str:
        token = sign_request_token(
            issuer=self.client_key,
            secret=secret or self.shared_secret,
            method=method,
            url=BASE_URL + path,
            base_url=BASE_URL,
            sub="5b10ac8d82e05b22cc7d4ef5",
            **claims,
        )
        return f"{path}{'&' if '?' in path else '?'}jwt={token}"

    def context_token(self, *, secret: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.client_key, "iat": now, "exp": now + 900, "qsh": CONTEXT_QSH, "sub": "5b10ac8d8"}
        payload.update(claims)
        return jwt.encode(payload, secret or self.shared_secret, algorithm="HS256")


@dataclass
class AppUnderTest:
    client: TestClient
    services: Services
    queue: RecordingQueue
    keys: KeyServer

    def jira(self, **kwargs: Any) -> Jira:
        return Jira(self.client, self.keys, **kwargs)

    def tenant_rows(self) -> list[tuple[Any, ...]]:
        with self.services.engine.connect() as connection:
            from sqlalchemy import text

            return [tuple(row) for row in connection.execute(text("SELECT * FROM tenants ORDER BY id"))]


@pytest.fixture
def app_under_test(tmp_path: Path) -> Iterator[AppUnderTest]:
    settings = make_settings(tmp_path, DTG_BASE_URL=BASE_URL, DTG_CONNECT_INSTALL_KEYS_URL=KEYS_URL)
    upgrade(settings.database_url)
    keys = KeyServer()
    queue = RecordingQueue()
    services = build_services(settings, queue, http=httpx.AsyncClient(transport=httpx.MockTransport(keys.handle)))
    app = create_app(settings, queue, services=services)
    with TestClient(app, base_url=BASE_URL) as client:
        yield AppUnderTest(client, services, queue, keys)
    services.engine.dispose()
