"""Skip the Hugging Face hub's retries when the hub cannot be reached at all.

Offline, the hub client retries each request with a growing back-off (about 23 s per file, about a
minute before a timm or transformers model gives up), and only then falls back to its local cache or
fails. When the hub's host name does not even resolve (no network, no DNS), those retries cannot
succeed: :func:`offline_when_unreachable` then runs the download in the hub's offline mode, which
answers from the local cache at once or fails at once. Behind a proxy (``HTTPS_PROXY`` and friends) the
proxy resolves names, so nothing is decided here; likewise when offline mode is already on.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

#: Environment variables that route requests through a proxy (which resolves host names itself).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def hub_unreachable() -> str | None:
    """Why the hub cannot be reached (``"huggingface.co does not resolve: ..."``), or None when it may be:
    the name resolves, a proxy is set, offline mode is already on, or ``huggingface_hub`` is missing."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return None
    if constants.HF_HUB_OFFLINE or any(os.environ.get(v) for v in PROXY_VARIABLES):
        return None
    host = urlparse(constants.ENDPOINT).hostname
    if not host:
        return None
    try:
        socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:  # a definite answer: no such name, or no name server answers
        return f"{host} does not resolve: {exc.strerror or exc}"
    except OSError:
        return None
    return None


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
