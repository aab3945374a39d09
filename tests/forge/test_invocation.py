"""The Forge Invocation Token verifier against real tokens and forgeries (keys served by a JWKS over HTTP)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.datastructures import Headers

from app.connect.verifiers import AuthenticationError
from app.forge.invocation import InvocationTokenVerifier
from app.forge.keys import ForgeKeySet, ForgeKeysUnavailableError
from app.forge.tokens import oauth_tokens
from app.sandbox.forge.signing import ForgeInstallation, ForgeSigner, SigningKey

pytestmark = [pytest.mark.unit, pytest.mark.forge]

APP_ID = "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"
JWKS_URL = "https://forge.example.test/.well-known/jwks.json"
SITE = ForgeInstallation(
    installation_id="ari:cloud:ecosystem::installation/aaaa",
    cloud_id="cloud-1",
    site_url="https://acme.atlassian.net",
    api_base_url="https://api.atlassian.com/ex/jira/cloud-1",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class JwksServer:
    """Serves the signer's JWKS and counts how often it was fetched."""

    def __init__(self, signer: ForgeSigner) -> None:
        self.signer = signer
        self.requests = 0
        self.fail = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json=self.signer.jwks())


@pytest.fixture
def signer() -> ForgeSigner:
    return ForgeSigner(APP_ID)


@pytest.fixture
def server(signer: ForgeSigner) -> JwksServer:
    return JwksServer(signer)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(server: JwksServer, clock: Clock) -> InvocationTokenVerifier:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    return InvocationTokenVerifier(app_id=APP_ID, keys=ForgeKeySet(JWKS_URL, http, min_refetch_seconds=30, clock=clock))


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def _claims(signer: ForgeSigner) -> dict[str, Any]:
    return jwt.decode(signer.invocation_token(SITE), options={"verify_signature": False})


@pytest.mark.anyio
async def test_a_valid_token_names_the_installation_site_and_user(
    signer: ForgeSigner, verifier: InvocationTokenVerifier
) -> None:
    token = signer.invocation_token(SITE, account_id="user-1", extension={"project": {"key": "DRU"}})

    invocation = await verifier.verify(token)

    assert invocation.installation_id == SITE.installation_id
    assert invocation.api_base_url == SITE.api_base_url
    assert invocation.cloud_id == "cloud-1"
    assert invocation.site_url == "https://acme.atlassian.net"
    assert invocation.account_id == "user-1"
    assert invocation.context["extension"] == {"project": {"key": "DRU"}}


@pytest.mark.anyio
async def test_alg_none_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": signer.current.kid}, _claims(signer))
    with pytest.raises(AuthenticationError, match="RS256"):
        await verifier.verify(token)


@pytest.mark.anyio
async def test_hs256_signed_with_the_public_key_is_refused(
    signer: ForgeSigner, verifier: InvocationTokenVerifier
) -> None:
    # The classic confusion attack: HMAC keyed with the public key a verifier might pass to "any algorithm".
    public_pem = signer.current.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": signer.current.kid}, _claims(signer))[:-1]
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError, match="RS256"):
        await verifier.verify(token)


@pytest.mark.anyio
async def test_a_token_for_another_app_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    token = signer.invocation_token(SITE, aud="ari:cloud:ecosystem::app/someone-else")
    with pytest.raises(AuthenticationError, match="not valid"):
        await verifier.verify(token)


@pytest.mark.anyio
async def test_a_wrong_issuer_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    with pytest.raises(AuthenticationError, match="not valid"):
        await verifier.verify(signer.invocation_token(SITE, iss="connect/invocation-token"))


@pytest.mark.anyio
async def test_an_expired_token_is_refused_after_the_skew(
    signer: ForgeSigner, verifier: InvocationTokenVerifier
) -> None:
    just_expired = signer.invocation_token(SITE, now=time.time() - 28)  # 25 s life, 3 s ago: inside the 5 s skew
    assert (await verifier.verify(just_expired)).installation_id == SITE.installation_id
    with pytest.raises(AuthenticationError, match="expired"):
        await verifier.verify(signer.invocation_token(SITE, now=time.time() - 40))


@pytest.mark.anyio
async def test_a_token_not_yet_valid_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    with pytest.raises(AuthenticationError, match="not valid"):
        await verifier.verify(signer.invocation_token(SITE, nbf=int(time.time()) + 60))


@pytest.mark.anyio
async def test_a_token_without_kid_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    token = jwt.encode(_claims(signer), signer.current.private_key, algorithm="RS256")
    with pytest.raises(AuthenticationError, match="kid"):
        await verifier.verify(token)


@pytest.mark.anyio
async def test_a_key_the_jwks_does_not_hold_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    stranger = SigningKey.generate()
    token = jwt.encode(_claims(signer), stranger.private_key, algorithm="RS256", headers={"kid": stranger.kid})
    with pytest.raises(AuthenticationError, match="unknown"):
        await verifier.verify(token)


@pytest.mark.anyio
async def test_a_known_kid_with_another_keys_signature_is_refused(
    signer: ForgeSigner, verifier: InvocationTokenVerifier
) -> None:
    stranger = SigningKey.generate()
    token = jwt.encode(_claims(signer), stranger.private_key, algorithm="RS256", headers={"kid": signer.current.kid})
    with pytest.raises(AuthenticationError, match="not valid"):
        await verifier.verify(token)


@pytest.mark.anyio
async def test_tokens_from_announced_and_unannounced_keys_after_rotations_are_accepted(
    signer: ForgeSigner, server: JwksServer, verifier: InvocationTokenVerifier, clock: Clock
) -> None:
    await verifier.verify(signer.invocation_token(SITE))
    signer.rotate()  # the key announced in the JWKS we hold: no fetch needed
    await verifier.verify(signer.invocation_token(SITE))
    assert server.requests == 1
    signer.rotate()  # a key published after our fetch: one refetch, once the interval has passed
    clock.now += 31

    await verifier.verify(signer.invocation_token(SITE))
    await verifier.verify(signer.invocation_token(SITE))

    assert server.requests == 2


@pytest.mark.anyio
async def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval(
    signer: ForgeSigner, server: JwksServer, verifier: InvocationTokenVerifier, clock: Clock
) -> None:
    await verifier.verify(signer.invocation_token(SITE))
    for _ in range(20):
        forged = jwt.encode(_claims(signer), signer.current.private_key, algorithm="RS256", headers={"kid": "made-up"})
        with pytest.raises(AuthenticationError):
            await verifier.verify(forged)
    assert server.requests == 1  # the first fetch was under 30 s ago
    clock.now += 31
    with pytest.raises(AuthenticationError):
        await verifier.verify(forged)
    assert server.requests == 2


@pytest.mark.anyio
async def test_an_unreachable_key_server_is_a_retryable_error(
    signer: ForgeSigner, server: JwksServer, verifier: InvocationTokenVerifier
) -> None:
    server.fail = True
    with pytest.raises(ForgeKeysUnavailableError):
        await verifier.verify(signer.invocation_token(SITE))


@pytest.mark.anyio
async def test_isolated_cloud_tokens_are_refused_unless_their_keys_are_configured(
    signer: ForgeSigner, server: JwksServer, verifier: InvocationTokenVerifier
) -> None:
    token = signer.invocation_token(SITE, icLabel="ic-gov")
    with pytest.raises(AuthenticationError, match="Isolated Cloud"):
        await verifier.verify(token)

    isolated_signer = ForgeSigner(APP_ID)
    isolated_http = httpx.AsyncClient(transport=httpx.MockTransport(JwksServer(isolated_signer)))
    default_http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    configured = InvocationTokenVerifier(
        app_id=APP_ID,
        keys=ForgeKeySet(JWKS_URL, default_http),
        isolated_cloud_keys=ForgeKeySet("https://ic.example.test/jwks.json", isolated_http),
    )
    assert (await configured.verify(isolated_signer.invocation_token(SITE, icLabel="ic-gov"))).cloud_id == "cloud-1"
    with pytest.raises(AuthenticationError, match="unknown"):  # signed with the commercial key, claims Isolated Cloud
        await configured.verify(token)


@pytest.mark.anyio
async def test_a_token_without_installation_is_refused(signer: ForgeSigner, verifier: InvocationTokenVerifier) -> None:
    with pytest.raises(AuthenticationError, match="installation"):
        await verifier.verify(signer.invocation_token(SITE, app={"id": APP_ID, "apiBaseUrl": SITE.api_base_url}))


def test_the_oauth_headers_give_each_token_with_its_expiry(signer: ForgeSigner) -> None:
    now = time.time()
    system = signer.oauth_token(SITE, now=now)
    user = signer.oauth_token(SITE, account_id="user-1", now=now, ttl_seconds=600)

    tokens = oauth_tokens(Headers({"x-forge-oauth-system": system, "x-forge-oauth-user": user}))

    assert tokens.system is not None and tokens.system.value == system
    assert tokens.system.expires_at == int(now) + 4 * 3600
    assert tokens.user is not None and tokens.user.expires_at == int(now) + 600
    assert tokens.user.valid_for(500, now=now) and not tokens.user.valid_for(700, now=now)
    assert oauth_tokens(Headers({"x-forge-oauth-system": "not-a-jwt"})).system is None
    assert oauth_tokens(Headers({})).user is None
