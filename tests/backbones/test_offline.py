"""When the hub's host name does not resolve, downloads run in the hub's offline mode (the local cache
at once) instead of waiting out the hub client's retries; nothing changes otherwise."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from huggingface_hub import constants

from transferkit.backbones import _offline, _providers
from transferkit.errors import WeightsUnavailableError


def _no_dns(*args: object, **kwargs: object) -> None:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Offline mode off (the suite turns it on) and no proxy, as on a user's machine."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    for name in _offline.PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_providers, "_failures", {})
    return monkeypatch


def test_an_unresolvable_hub_runs_the_download_offline_and_says_so(online: pytest.MonkeyPatch) -> None:
    online.setattr(socket, "getaddrinfo", _no_dns)
    seen = []

    def download() -> None:
        seen.append(constants.HF_HUB_OFFLINE)
        raise OSError("cannot find the requested files in the local cache")

    with pytest.raises(WeightsUnavailableError) as info:
        _providers.fetch("hf:x", download, "remedy")
    assert seen == [True]  # offline mode during the download ...
    assert constants.HF_HUB_OFFLINE is False  # ... and restored after it
    assert "(the hub is unreachable, huggingface.co does not resolve: Name or service not known; only the " \
           "local cache was tried): cannot find" in str(info.value)


def test_a_resolvable_hub_a_proxy_or_a_non_hub_download_is_left_alone(online: pytest.MonkeyPatch) -> None:
    online.setattr(socket, "getaddrinfo", lambda *a, **k: [("resolved",)])
    assert _offline.hub_unreachable() is None
    assert _providers.fetch("hf:ok", lambda: constants.HF_HUB_OFFLINE, "remedy") is False
    online.setattr(socket, "getaddrinfo", _no_dns)
    assert _offline.hub_unreachable() is not None
    assert _providers.fetch("torchvision:x", lambda: constants.HF_HUB_OFFLINE, "remedy", hub=False) is False
    assert _providers.fetch("local", lambda: constants.HF_HUB_OFFLINE, "remedy", remember=False) is False
    online.setenv("HTTPS_PROXY", "http://proxy.example:3128")  # the proxy resolves names, not this machine
    online.setattr(socket, "create_connection", lambda *a, **k: _Answering())  # ... and it answers
    assert _offline.hub_unreachable() is None
    assert _providers.fetch("hf:via-proxy", lambda: constants.HF_HUB_OFFLINE, "remedy") is False


class _Answering:
    def __enter__(self) -> _Answering:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _closed_port() -> int:
    with socket.socket() as s:  # bound, never listening, then closed: connections are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_proxy_that_refuses_or_does_not_resolve_is_treated_like_an_unresolvable_hub(
        online: pytest.MonkeyPatch) -> None:
    """Behind a dead proxy the hub client's retries cannot succeed either; the reason names the proxy's
    host and port, never credentials from its URL."""
    port = _closed_port()
    online.setenv("HTTPS_PROXY", f"http://user:secret@127.0.0.1:{port}")
    reason = _offline.hub_unreachable()
    assert reason is not None and reason.startswith(f"the proxy 127.0.0.1:{port} cannot be reached: ")
    assert "secret" not in reason
    seen = []

    def download() -> None:
        seen.append(constants.HF_HUB_OFFLINE)
        raise OSError("cannot find the requested files in the local cache")

    with pytest.raises(WeightsUnavailableError, match=f"the hub is unreachable, the proxy 127.0.0.1:{port}"):
        _providers.fetch("hf:dead-proxy", download, "remedy")
    assert seen == [True] and constants.HF_HUB_OFFLINE is False
    online.delenv("HTTPS_PROXY")
    online.setenv("ALL_PROXY", "socks5://proxy.invalid")  # ALL_PROXY counts too; its default port
    online.setattr(socket, "getaddrinfo", _no_dns)
    assert _offline.hub_unreachable() == "the proxy proxy.invalid:1080 does not resolve: Name or service not known"


def test_a_slow_proxy_an_exempted_hub_or_an_http_only_proxy_leaves_the_decision_to_the_client(
        online: pytest.MonkeyPatch) -> None:
    def slow(*args: object, **kwargs: object) -> None:
        raise TimeoutError("timed out")

    online.setattr(socket, "create_connection", slow)
    online.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert _offline.hub_unreachable() is None  # slow is not gone
    online.setenv("NO_PROXY", "localhost,huggingface.co")  # the hub is reached directly: its name counts
    online.setattr(socket, "getaddrinfo", _no_dns)
    assert _offline.hub_unreachable() == "huggingface.co does not resolve: Name or service not known"
    online.delenv("NO_PROXY")
    online.delenv("HTTPS_PROXY")
    online.setenv("HTTP_PROXY", "http://proxy.example:3128")  # plain-HTTP requests only; the hub is HTTPS
    assert _offline.hub_unreachable() == "huggingface.co does not resolve: Name or service not known"


def test_offline_mode_already_on_is_not_second_guessed(online: pytest.MonkeyPatch) -> None:
    online.setattr(constants, "HF_HUB_OFFLINE", True)
    online.setattr(socket, "getaddrinfo", _no_dns)
    assert _offline.hub_unreachable() is None
    with _offline.offline_when_unreachable() as reason:
        assert reason is None and constants.HF_HUB_OFFLINE is True
    assert constants.HF_HUB_OFFLINE is True


def test_a_model_in_the_local_cache_loads_at_once_when_the_hub_does_not_resolve(
        online: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The point of it: a cached model loads without the network (it took over a minute of retries)."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from transferkit.backbones import create_backbone

    repo = tmp_path / "hub" / "models--local-test--tiny-bert"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32)
    BertModel(config).save_pretrained(snapshot)
    vocab = snapshot / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]))
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(snapshot)
    online.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    online.setattr(socket, "getaddrinfo", _no_dns)
    start = time.perf_counter()
    backbone = create_backbone("hf:local-test/tiny-bert")
    assert backbone.num_features == 16
    assert time.perf_counter() - start < 20  # the hub client's retries alone take about a minute


class _FakeTorchvisionWeights:
    url = "https://download.pytorch.org/models/tiny-0123abcd.pth"

    def __init__(self) -> None:
        self.downloads = 0

    def get_state_dict(self, progress: bool) -> dict[str, int]:
        self.downloads += 1
        return {"weight": 1}


def test_torchvision_weights_not_cached_behind_an_unresolvable_host_fail_before_any_download(
        online: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    import torch.hub

    online.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    online.setattr(socket, "getaddrinfo", _no_dns)
    weights = _FakeTorchvisionWeights()
    with pytest.raises(WeightsUnavailableError) as info:
        _providers.fetch("torchvision:tiny", lambda: _providers._torchvision_state(weights), "remedy", hub=False)
    assert weights.downloads == 0  # torch.hub neither announced nor attempted a download
    assert capfd.readouterr().err == ""
    message = str(info.value)
    assert "torchvision:tiny: download.pytorch.org does not resolve: Name or service not known" in message
    assert str(tmp_path / "checkpoints" / "tiny-0123abcd.pth") in message and message.endswith("remedy")


def test_torchvision_weights_in_the_cache_or_behind_a_resolvable_host_load(
        online: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch.hub

    online.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    online.setattr(socket, "getaddrinfo", _no_dns)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "tiny-0123abcd.pth").write_bytes(b"cached")
    weights = _FakeTorchvisionWeights()
    assert _providers._torchvision_state(weights) == {"weight": 1}  # from the cache: no DNS question asked
    (tmp_path / "checkpoints" / "tiny-0123abcd.pth").unlink()
    online.setattr(socket, "getaddrinfo", lambda *a, **k: [("resolved",)])
    assert _providers._torchvision_state(weights) == {"weight": 1}  # not cached, reachable: downloaded
    assert weights.downloads == 2
