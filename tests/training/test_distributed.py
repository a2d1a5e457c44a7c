"""The one loop under DDP: 2 CPU processes over gloo reach the metrics of 1 process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    """A port no one listens on now (a fixed one collided when two suites ran on one machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _train(tmp_path: Path, processes: int, strategy: str) -> dict[str, float]:
    out = tmp_path / f"{strategy}-{processes}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    script = [str(ROOT / "tests/training/ddp_script.py"), str(out), strategy]
    if processes == 1:
        cmd = [sys.executable, *script]
    else:  # accelerate's torchrun launcher; on a machine without GPUs the Trainer uses gloo on the CPU
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
               str(_free_port()), *script]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.integration
@pytest.mark.parametrize("strategy", ["gradual"])
def test_two_processes_reach_the_single_process_metrics(tmp_path: Path, strategy: str) -> None:
    one = _train(tmp_path, 1, strategy)
    two = _train(tmp_path, 2, strategy)
    assert one["processes"] == 1 and two["processes"] == 2
    # each process sees half the data per step (global batch doubles), so results agree within tolerance
    assert abs(one["accuracy"] - two["accuracy"]) <= 0.05
    assert abs(one["val_accuracy"] - two["val_accuracy"]) <= 0.05
    assert one["accuracy"] >= 0.75 and two["accuracy"] >= 0.75
