"""The egress policy: where the server itself may send a request (NGSI-LD notifications, model
deployments, an OIDC provider's keys).

A URL must be http(s) with a host; the host is resolved and every address it resolves to must be
public: loopback, link-local, private, unspecified, multicast and reserved addresses are refused
(so are their decimal, octal and hex spellings, which resolve to the same addresses) unless the
host or the address is on `egress_allow` (a host name, an address or a CIDR range). The check
runs when the URL is accepted and again when each request is sent (`EgressTransport`), so a name
that later resolves somewhere private is refused then. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx

from aicity.core.config import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressDenied(Exception):
    """The URL may not be called; the message says why without echoing anything fetched."""


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
        raise EgressDenied(f"主机无法解析 host '{host}' does not resolve") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_url(url: Any) -> str:
    """`url` when the server may call it, else `EgressDenied` (scheme, host, every resolved address)."""
    if not isinstance(url, str):
        raise EgressDenied("URL 必须是字符串 the URL must be a string")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise EgressDenied("URL 无效 the URL is not valid") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressDenied("只允许带主机名的 http(s) URL / only http(s) URLs with a host")
    host = parts.hostname
    if _allowed(host, None):
        return url
    for address in _resolve(host, port):
        if _internal(address) and not _allowed(host, address):
            raise EgressDenied(f"不允许访问内部地址 '{host}' resolves to a non-public address ({address}); "
                               "add it to egress_allow to permit it")
    return url


class EgressTransport(httpx.HTTPTransport):
    """An httpx transport that checks the policy when each request is sent."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            check_url(str(request.url))
        except EgressDenied as exc:
            raise httpx.ConnectError(str(exc), request=request) from None
        return super().handle_request(request)


def client(**kwargs: Any) -> httpx.Client:
    """An httpx client under the policy; redirects are never followed."""
    return httpx.Client(transport=EgressTransport(limits=kwargs.pop("limits", httpx.Limits())),
                        follow_redirects=False, **kwargs)
