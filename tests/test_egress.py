"""The outbound URL guard: what a URL a tenant typed may reach, and that the call goes to the checked address only.

No test here sends traffic anywhere but 127.0.0.1: internal and metadata addresses are refused by resolution
(a resolver the test controls, or an IP literal), before any connection; the allowed path is shown with loopback
listed by the operator.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest

from app.egress import CheckedURL, EgressPolicy, EgressRefusedError, Resolver, check_url, pinned_client
from tests.support import LoopbackServer

pytestmark = [pytest.mark.unit, pytest.mark.ops, pytest.mark.anyio]

PUBLIC = "93.184.215.14"


def resolver(answers: dict[str, list[str]]) -> tuple[list[str], Resolver]:
    """A resolver answering from `answers`, and the list of host names it was asked for."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return answers[host]

    return asked, resolve


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(body=b'{"ok": true}') as running:
        yield running


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("https://metadata.google.internal/computeMetadata/v1", ["169.254.169.254"]),
        ("https://169.254.169.254/latest/meta-data", ["169.254.169.254"]),
        ("https://aws-v6-metadata.example/", ["fd00:ec2::254"]),
        ("https://10.0.0.1/v1", ["10.0.0.1"]),
        ("https://intranet.example/v1", ["192.168.1.20"]),
        ("https://carrier.example/v1", ["100.64.0.7"]),  # CGNAT
        ("https://mdns.example/v1", ["224.0.0.251"]),  # multicast
        ("https://zero.example/v1", ["0.0.0.0"]),
        ("https://mapped.example/v1", ["::ffff:10.0.0.1"]),
        ("https://nat64.example/v1", ["64:ff9b::7f00:1"]),
        ("https://redis.example:6379/", ["127.0.0.1"]),
        # One internal answer among public ones is enough: the client may not pick the address to call.
        ("https://mixed.example/v1", [PUBLIC, "10.1.2.3"]),
    ],
)
def test_internal_and_metadata_addresses_are_refused_by_resolution(url: str, addresses: list[str]) -> None:
    host = httpx.URL(url).host
    asked, resolve = resolver({host: addresses})

    with pytest.raises(EgressRefusedError, match="internal address") as refused:
        check_url(url, EgressPolicy(), resolve)

    assert asked == [host]  # resolved once, and refused without any connection (there is no client yet)
    assert "DTG_ALLOWED_LLM_HOSTS" in refused.value.message


@pytest.mark.parametrize(
    "url",
    ["https://127.1/v1", "https://0x7f000001/v1", "https://localhost/v1", "https://[::1]/v1", "https://2130706433/"],
)
def test_loopback_spellings_resolve_to_loopback_and_are_refused(url: str) -> None:
    with pytest.raises(EgressRefusedError, match="internal address"):
        check_url(url, EgressPolicy())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://llm.example/v1", "plain http is off"),
        ("file:///etc/passwd", "is not an https:// URL"),
        ("gopher://llm.example/", "is not an https:// URL"),
        ("https://user:pw@llm.example/v1", "no user name or password"),
        ("https://llm.example:99999/v1", "port"),
        ("https:///v1", "is not an https:// URL"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url: str, message: str) -> None:
    _, resolve = resolver({"llm.example": [PUBLIC]})
    with pytest.raises(EgressRefusedError, match=message):
        check_url(url, EgressPolicy(), resolve)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    def nothing(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(EgressRefusedError, match="could not be resolved"):
        check_url("https://nowhere.example/v1", EgressPolicy(), nothing)


def test_a_public_host_passes_with_its_checked_address() -> None:
    _, resolve = resolver({"api.example.com": [PUBLIC, "2606:4700::1"]})

    target = check_url("https://API.example.com/v1", EgressPolicy(), resolve)

    assert target == CheckedURL("https://API.example.com/v1", "https", "api.example.com", 443, PUBLIC)


def test_the_operator_allows_internal_hosts_by_name_or_network() -> None:
    _, resolve = resolver({"gpu.corp": ["10.20.0.5"], "other.corp": ["10.30.0.5"]})
    by_name = EgressPolicy(allowed_hosts=("*.corp",))
    by_network = EgressPolicy(allowed_hosts=("10.20.0.0/16",))

    assert check_url("https://gpu.corp/v1", by_name, resolve).address == "10.20.0.5"
    assert check_url("https://gpu.corp/v1", by_network, resolve).address == "10.20.0.5"
    with pytest.raises(EgressRefusedError):
        check_url("https://other.corp/v1", by_network, resolve)
    assert check_url("http://gpu.corp/v1", EgressPolicy(True, ("gpu.corp",)), resolve).scheme == "http"


async def test_the_client_connects_to_the_checked_address_whatever_dns_says_later(server: LoopbackServer) -> None:
    # `llm.test` resolves nowhere on this machine: the request can only have arrived through the checked address.
    asked, resolve = resolver({"llm.test": ["127.0.0.1"]})
    target = check_url(f"http://llm.test:{server.port}/v1", EgressPolicy(True, ("llm.test",)), resolve)

    async with pinned_client(target, timeout=5.0) as http:
        first = await http.get(f"http://llm.test:{server.port}/v1/models")
        second = await http.post(f"http://llm.test:{server.port}/v1/chat/completions", json={"n": 1})

    assert (first.status_code, second.status_code) == (200, 200)
    assert [(method, path, headers["Host"]) for method, path, headers, _ in server.requests] == [
        ("GET", "/v1/models", f"llm.test:{server.port}"),
        ("POST", "/v1/chat/completions", f"llm.test:{server.port}"),
    ]
    assert asked == ["llm.test"]  # resolved once, at the check


async def test_tls_keeps_the_host_name_for_sni_while_the_socket_goes_to_the_address() -> None:
    seen: list[httpx.Request] = []

    def network_answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    network = httpx.MockTransport(network_answer)
    target = CheckedURL("https://llm.example/v1", "https", "llm.example", 443, PUBLIC)

    async with pinned_client(target, timeout=5.0, transport=network) as http:
        await http.get("https://llm.example/v1/models")

    assert str(seen[0].url) == f"https://{PUBLIC}/v1/models"
    assert seen[0].headers["Host"] == "llm.example"
    assert seen[0].extensions["sni_hostname"] == "llm.example"  # httpcore checks the certificate against it


async def test_requests_to_another_origin_and_redirects_are_refused(server: LoopbackServer) -> None:
    target = check_url(server.url, EgressPolicy(True, ("127.0.0.1",)))
    server.status, server.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data"}

    async with pinned_client(target, timeout=5.0) as http:
        with pytest.raises(EgressRefusedError, match=r"Only 127\.0\.0\.1 may be called"):
            await http.get(f"http://127.0.0.1:{server.port + 1}/v1")
        with pytest.raises(EgressRefusedError, match=r"Only 127\.0\.0\.1 may be called"):
            await http.get("http://localhost/v1")
        assert server.requests == []
        with pytest.raises(EgressRefusedError, match=r"answered with a redirect \(302\); it is not followed"):
            await http.get(f"{server.url}/v1/models", follow_redirects=True)

    assert [path for _, path, _, _ in server.requests] == ["/v1/models"]
