"""Skip the Hugging Face hub's retries when the hub cannot be reached at all.

Offline, the hub client retries each request with a growing back-off (about 23 s per file, about a
minute before a timm or transformers model gives up), and only then falls back to its local cache or
fails. When the hub's host name does not even resolve (no network, no DNS), those retries cannot
succeed: :func:`offline_when_unreachable` then runs the download in the hub's offline mode, which
answers from the local cache at once or fails at once. Behind a proxy (``HTTPS_PROXY`` or ``ALL_PROXY``,
unless ``NO_PROXY`` exempts the hub) the proxy resolves names, so the question becomes whether the proxy
itself can be reached: a proxy whose name does not resolve, or that refuses the connection, gets the
same treatment; a proxy that is slow to answer does not (the hub client decides). Nothing is decided
when offline mode is already on.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

#: Environment variables that decide whether requests go through a proxy (which resolves host names itself).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                   "NO_PROXY", "no_proxy")

#: Seconds to wait for a TCP connection to the proxy before leaving the decision to the hub client.
PROXY_TIMEOUT_S = 3.0

#: Connection errors that say the proxy is not there (others, and timeouts, may pass).
_DEFINITE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH}

_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080, "socks4": 1080}


def hub_proxy(host: str) -> str | None:
    """The proxy that HTTPS requests to ``host`` go through, from the environment as ``httpx`` and
    ``requests`` read it (``HTTPS_PROXY``, else ``ALL_PROXY``; None when ``NO_PROXY`` exempts ``host``)."""
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    if proxies.get("no") and urllib.request.proxy_bypass(host):  # NO_PROXY (the environment's on Linux)
        return None
    return proxies.get("https") or proxies.get("all") or None


def proxy_unreachable(proxy: str) -> str | None:
    """Why ``proxy`` (a URL) cannot be reached (its name does not resolve, it refuses connections, no
    route to it), or None when it answers or is merely slow. The reason names ``host:port`` only, never
    credentials in the URL."""
    parsed = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    try:
        port = parsed.port or _DEFAULT_PORTS.get(parsed.scheme, 80)
    except ValueError:  # a port that is not a number: the hub client reports the bad URL itself
        return None
    if not parsed.hostname:
        return None
    where = f"the proxy {parsed.hostname}:{port}"
    try:
        with socket.create_connection((parsed.hostname, port), timeout=PROXY_TIMEOUT_S):
            return None
    except socket.gaierror as exc:
        return f"{where} does not resolve: {exc.strerror or exc}"
    except OSError as exc:  # a timeout has no errno: slow, not gone
        if exc.errno not in _DEFINITE_ERRNOS:
            return None
        return f"{where} cannot be reached: {exc.strerror or exc}"


def host_unreachable(url: str) -> str | None:
    """Why ``url``'s host cannot be reached over HTTPS (``"download.pytorch.org does not resolve: ..."``),
    or None when it may be: the name resolves, or a proxy that applies to it answers (or is merely slow)."""
    host = urlparse(url).hostname
    if not host:
        return None
    proxy = hub_proxy(host)
    if proxy is not None:
        return proxy_unreachable(proxy)
    try:
        socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:  # a definite answer: no such name, or no name server answers
        return f"{host} does not resolve: {exc.strerror or exc}"
    except OSError:
        return None
    return None


def hub_unreachable() -> str | None:
    """Why the hub cannot be reached (``"huggingface.co does not resolve: ..."``), or None when it may be:
    the name resolves, a proxy answers, offline mode is already on, or ``huggingface_hub`` is missing."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    if constants.HF_HUB_OFFLINE:
        return None
    return host_unreachable(constants.ENDPOINT)


@contextlib.contextmanager
def offline_when_unreachable() -> Iterator[str | None]:
    """Run the block in the hub's offline mode when :func:`hub_unreachable` says why it cannot be
    reached; yields that reason (None: the block runs as it would have)."""
    reason = hub_unreachable()
    if reason is None:
        yield None
        return
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True  # read at call time by huggingface_hub and transformers (is_offline_mode)
    try:
        yield reason
    finally:
        constants.HF_HUB_OFFLINE = before
