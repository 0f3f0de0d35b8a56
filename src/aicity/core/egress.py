"""The egress policy: where the server itself may send a request (NGSI-LD notifications, model
deployments, an OIDC provider's keys).

A URL must be http(s) with a host; the host is resolved and every address it resolves to must be
public: loopback, link-local, private, unspecified, multicast and reserved addresses are refused
(so are their decimal, octal and hex spellings, which resolve to the same addresses) unless the
host or the address is on `egress_allow` (a host name, an address or a CIDR range). The check
runs when the URL is accepted and again for every connection the server opens (`EgressTransport`):
the name is resolved once, every address is checked, and the connection goes to the address that
was checked (TLS still verifies the certificate for the name), so a name that resolves somewhere
public when checked and somewhere private a moment later (DNS rebinding) cannot slip between the
check and the connection. Redirects are never followed; proxies from the environment are not used
(they would open the connection instead).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from aicity.core.config import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressDenied(Exception):
    """The URL may not be called; the message says why without echoing anything fetched."""


class Unresolved(EgressDenied):
    """The URL's host does not resolve (now): nothing can be called, though nothing forbids it."""


def _allowed(host: str, address: Address | None) -> bool:
    for entry in settings().egress_allow:
        entry = entry.strip().lower()
        if entry == host.lower():
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:  # a host name entry
                continue
    return False


def _internal(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):  # an IPv4 address inside (::ffff:a.b.c.d, 2002:AABB:CCDD::)
        address = address.ipv4_mapped or address.sixtofour or address
    return (address.is_loopback or address.is_link_local or address.is_private or address.is_unspecified
            or address.is_multicast or address.is_reserved or not address.is_global)


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolved(f"主机无法解析 host '{host}' does not resolve") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def checked_address(host: str, port: int) -> str:
    """The address to connect to for `host`: resolved once, every address it resolves to checked
    (`EgressDenied` when one is not public and not allowed); the first is returned. A host name on
    `egress_allow` is connected to by name."""
    if _allowed(host, None):
        return host
    addresses = _resolve(host, port)
    for address in addresses:
        if _internal(address) and not _allowed(host, address):
            raise EgressDenied(f"不允许访问内部地址 '{host}' resolves to a non-public address ({address}); "
                               "add it to egress_allow to permit it")
    if not addresses:
        raise Unresolved(f"主机无法解析 host '{host}' does not resolve")
    return str(addresses[0])


def _host_and_port(url: Any) -> tuple[str, int]:
    """The host and port of an http(s) URL, else `EgressDenied`."""
    if not isinstance(url, str):
        raise EgressDenied("URL 必须是字符串 the URL must be a string")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise EgressDenied("URL 无效 the URL is not valid") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressDenied("只允许带主机名的 http(s) URL / only http(s) URLs with a host")
    return parts.hostname, port


def check_url(url: Any) -> str:
    """`url` when the server may call it, else `EgressDenied` (scheme, host, every resolved address).
    For accepting a URL; requests themselves are checked as they connect (`client`)."""
    checked_address(*_host_and_port(url))
    return str(url)


class _PinnedBackend(httpcore.SyncBackend):
    """Opens every connection to the address the policy checked, never to a second lookup of the
    name; TLS is then started for the name (SNI and the certificate check use it)."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            address = checked_address(host, port)
        except EgressDenied as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class EgressTransport(httpx.HTTPTransport):
    """An httpx transport under the policy: the URL's scheme is checked when each request is sent,
    and each connection goes to the address checked when it is opened (`_PinnedBackend`)."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx has no public hook for the network backend: the pool it built is replaced by the
        # same pool over the pinned backend (tests/security/test_redteam.py checks the behaviour)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            _host_and_port(str(request.url))
        except EgressDenied as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        return super().handle_request(request)


def client(**kwargs: Any) -> httpx.Client:
    """An httpx client under the policy; redirects are never followed, environment proxies unused."""
    return httpx.Client(transport=EgressTransport(limits=kwargs.pop("limits", httpx.Limits())),
                        follow_redirects=False, trust_env=False, **kwargs)
