"""Webhooks: which callback_url targets are allowed, Standard Webhooks signatures, and
the retry schedule of a delivery (consumers/callbacks.py delivers).

Signing follows the Standard Webhooks specification: the secret is ``whsec_`` and the
base64 of the key; a delivery carries ``webhook-id``, ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature: v1,<base64 of HMAC-SHA256(key, "id.timestamp.body")>``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import functools
import hashlib
import hmac
import ipaddress
import random
import socket
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Final

from shared.errors import InvalidInputError

FIELD: Final = "callback_url"
# Longest callback_url accepted: what browsers and most servers take without complaint.
MAX_URL_LENGTH: Final = 2048
SECRET_PREFIX: Final = "whsec_"

# Seconds to wait before each retry of a delivery that failed: the first try goes out when
# the job ends, then one retry after each delay. Standard Webhooks' example schedule (5 s to
# 10 h, ~27.5 h in all) shortened to the "up to 24 h": these add up to ~23.7 h.
RETRY_DELAYS_S: Final = (5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800)
# Each delay is shortened by up to this fraction, at random: receivers that were down
# together are not retried together, and the schedule never grows past its total.
JITTER: Final = 0.1


class UnresolvedTargetError(InvalidInputError):
    """The callback_url's host does not resolve. Refused at submit; at delivery it may be
    a passing DNS failure, so the delivery is retried rather than given up."""


def _refuse(message: str) -> InvalidInputError:
    return InvalidInputError(message, field=FIELD)


def check_callback_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL with a host and no user info;
    InvalidInputError (field callback_url) naming what is wrong otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"callback_url is longer than {MAX_URL_LENGTH} characters")
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        raise _refuse("callback_url may not hold spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # an unclosed [IPv6] host
        raise _refuse("callback_url is not a URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _refuse("callback_url must be an absolute http:// or https:// URL")
    if "@" in parts.netloc:
        # user:password@ would travel in every delivery and in logs.
        raise _refuse("callback_url may not hold user info (user:password@)")
    if not parts.hostname:
        raise _refuse("callback_url has no host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:  # urlsplit takes 0, which no server listens on
        raise _refuse("callback_url has a port outside 1-65535 (or not a number)")
    return url


# Callback hosts are looked up on threads of their own, never more than these at once,
# each for at most RESOLVE_SECONDS: a client's URLs naming a resolver that never answers
# must not hold up the event loop's default threads (which resolve Redis's host).
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="callback-dns")
RESOLVE_SECONDS = 5.0

# NAT64's well-known prefix: its addresses reach the IPv4 address in their last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# What makes an address no target, most telling first (240.0.0.0/4 is private too).
_KINDS = ("loopback", "link_local", "multicast", "unspecified", "reserved", "private")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for and is routed to (mapped ::ffff:a.b.c.d,
    6to4 2002::/16, NAT64 64:ff9b::/96); None for an IPv6 address of its own."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def private_reason(address: str) -> str | None:
    """What makes the IP ``address`` no target for a callback (loopback, private...);
    None for a public one. An IPv6 form of an IPv4 address is judged as that address;
    ``is_global`` alone passes multicast and site-local addresses."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = private_reason(str(embedded))
            return None if reason is None else f"{reason}, as {embedded}"
        if ip.is_site_local:
            return "site-local"
    for kind in _KINDS:
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "not public"  # 100.64.0.0/10, shared by carrier-grade NAT
    return None


async def check_target(url: str, *, allow_private: bool) -> None:
    """InvalidInputError if ``url``'s host is, or resolves to, an address that is not
    public (private, loopback, link-local, multicast, reserved), unless ``allow_private``;
    UnresolvedTargetError if it does not resolve. ``url`` passed check_callback_url."""
    await target_addresses(url, allow_private=allow_private)


async def target_addresses(url: str, *, allow_private: bool) -> list[str]:
    """The addresses of ``url``'s host, checked as check_target does. A delivery connects
    to one of these, not to what a second look-up says: a name that resolves to a public
    address for the check and to 127.0.0.1 for the request (DNS rebinding) gets nowhere."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = await _resolve(
            host, parts.port or (443 if parts.scheme.lower() == "https" else 80)
        )
    if allow_private:
        return addresses
    for address in addresses:
        reason = private_reason(address)
        if reason is not None:
            raise _refuse(
                f"callback_url's host {host} is {address} ({reason}): only public addresses"
                " may be called back (CALLBACK_ALLOW_PRIVATE=1 allows others)"
            )
    return addresses


async def _resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6: a client may try any)."""
    loop = asyncio.get_running_loop()
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.run_in_executor(_RESOLVER, lookup)
    except TimeoutError:
        raise UnresolvedTargetError(
            f"callback_url's host {host} did not resolve within {RESOLVE_SECONDS:g} s",
            field=FIELD,
        ) from None
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        raise UnresolvedTargetError(
            f"callback_url's host {host} does not resolve ({exc})", field=FIELD
        ) from None
    # In the resolver's order, once each (one per socket type and protocol otherwise).
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnresolvedTargetError(f"callback_url's host {host} does not resolve", field=FIELD)
    return addresses


def _key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (shared.settings checked its form)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` of a message: ``v1,`` and the base64 of its HMAC-SHA256."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of a message."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``body`` with ``headers`` (any case) is a message signed with ``secret``,
    sent within ``tolerance`` seconds of ``now`` (default: the clock). The signature
    header may hold several space-separated signatures; one valid v1 is enough."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    raw_timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and raw_timestamp.isdigit() and signatures):
        return False
    timestamp = int(raw_timestamp)
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode()
    return any(
        hmac.compare_digest(expected, candidate.encode())
        for candidate in signatures.split(" ")
        if candidate.startswith("v1,")
    )


def delay_after(attempts: int, delays: Sequence[float] = RETRY_DELAYS_S) -> float | None:
    """Seconds until the next try of a delivery after ``attempts`` failed tries (with
    jitter); None when ``delays`` is used up: the delivery has failed."""
    if attempts > len(delays):
        return None
    if attempts < 1:
        return 0.0
    return delays[attempts - 1] * (1 - JITTER * random.random())
