"""The one guard for outbound calls to a URL a tenant typed (the OpenAI-compatible base URL, and any later one).

    policy = EgressPolicy.from_settings(settings)
    target = check_url(url, policy)                    # EgressRefusedError unless the URL is safe to call
    http = pinned_client(target, timeout=20.0)          # connects to target.address and nowhere else

An admin of any Jira site types these URLs and our server makes the call, so an unchecked one reaches the app's
own network (loopback, private ranges, the cloud metadata service) and turns the app into a proxy or a port
scanner. The rules: https only (http when the operator allows it); the host is resolved once and every address it
resolves to must be on the public internet, unless the operator lists the host or its network in
`DTG_ALLOWED_LLM_HOSTS`; the client then connects to that checked address, keeping the host name for the `Host`
header and for TLS (SNI and the certificate check), so a DNS answer that changes between check and call
(rebinding) changes nothing; a redirect is refused rather than followed, and a request for any other origin is
refused. Messages name the URL's host only, never what a server answered.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from urllib.parse import urlsplit

import httpx

from app.errors import AppError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to; tests pass their own, so nothing is looked up or reached.
Resolver = Callable[[str, int], Sequence[str]]
_DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 prefixes that carry an IPv4 address inside (NAT64's well-known prefix): judged by the address they carry.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class EgressRefusedError(AppError):
    """A URL a tenant typed points somewhere the app must not call; the message says why, in the admin's terms."""


@dataclass(frozen=True)
class EgressPolicy:
    """What the operator allows beyond https to the public internet."""

    allow_http: bool = False
    # Host names (`*` wildcards) or IP networks/addresses the operator trusts although they are not public.
    allowed_hosts: tuple[str, ...] = ()

    def allows_host(self, host: str) -> bool:
        return any(fnmatch(host, entry.lower()) for entry in self.allowed_hosts if _network(entry) is None)

    def allows_address(self, address: IPAddress) -> bool:
        return any(
            network is not None and address.version == network.version and address in network
            for network in map(_network, self.allowed_hosts)
        )


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed the guard, and the one address a client may connect to for it."""

    url: str
    scheme: str
    host: str
    port: int
    address: str


def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address the system's resolver gives for `host` (IP literals, `127.1` and `0x7f000001` included)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_url(url: str, policy: EgressPolicy, resolve: Resolver = system_resolver) -> CheckedURL:
    """The URL and the checked address to call it at.

    Raises: EgressRefusedError when the scheme is not allowed, the URL carries credentials, the host does not
    resolve, or any address it resolves to is not public and not allowed by the operator.
    """
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise EgressRefusedError(f"The address {url[:200]!r} is not an https:// URL.")
    if scheme == "http" and not policy.allow_http:
        raise EgressRefusedError(f"Use https:// for {host}: plain http is off on this server (DTG_LLM_ALLOW_HTTP).")
    if parts.username is not None or parts.password is not None:
        raise EgressRefusedError(f"Put no user name or password in the URL of {host}; use the API key field.")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise EgressRefusedError(f"The port in the URL of {host} is not a number from 1 to 65535.") from exc
    try:
        addresses = [ipaddress.ip_address(address.split("%")[0]) for address in resolve(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise EgressRefusedError(f"{host} could not be resolved to an address.") from exc
    if not addresses:
        raise EgressRefusedError(f"{host} could not be resolved to an address.")
    trusted_name = policy.allows_host(host)
    for address in addresses:
        if not (trusted_name or _is_public(address) or policy.allows_address(address)):
            raise EgressRefusedError(
                f"{host} points to an internal address ({address}), which this app does not call; the server's "
                "operator can allow it in DTG_ALLOWED_LLM_HOSTS."
            )
    return CheckedURL(url, scheme, host, port, str(addresses[0]))


def pinned_client(
    target: CheckedURL, *, timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client that sends only to `target`'s origin, connected to its checked address, following no redirect.

    `transport` is the real network underneath (tests may pass their own); the caller closes the client.
    """
    pinned = _PinnedTransport(target, transport or httpx.AsyncHTTPTransport(retries=0))
    return httpx.AsyncClient(transport=pinned, timeout=timeout, follow_redirects=False)


class _PinnedTransport(httpx.AsyncBaseTransport):
    def __init__(self, target: CheckedURL, inner: httpx.AsyncBaseTransport) -> None:
        self._target = target
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target, url = self._target, request.url
        if (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)) != (
            target.scheme,
            target.host,
            target.port,
        ):
            raise EgressRefusedError(f"Only {target.host} may be called with these settings.")
        # The Host header was set from the URL when the request was built and is kept; SNI and the certificate
        # check use the host name too, while the socket goes to the address that was checked.
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=target.address),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": target.host},
        )
        response = await self._inner.handle_async_request(pinned)
        if 300 <= response.status_code < 400:
            await response.aclose()
            raise EgressRefusedError(
                f"{target.host} answered with a redirect ({response.status_code}); it is not followed."
            )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _is_public(address: IPAddress) -> bool:
    """On the public internet: not loopback, private, link-local (metadata service), CGNAT, reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _is_public(embedded)
    return address.is_global and not address.is_multicast


def _network(entry: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return None
