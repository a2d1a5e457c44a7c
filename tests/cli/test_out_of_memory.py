"""An allocation that fails (an absurd --image-size, a batch too large for the machine) is one line naming
the cause and the options that lower it, not a torch traceback; nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from transferkit.cli._commands import out_of_memory


def test_out_of_memory_messages_are_recognised() -> None:
    cpu = RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                       "you tried to allocate 3000000000000 bytes. Error code 12 (Cannot allocate memory)")
    cuda = RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.2 GiB total capacity)")
    assert out_of_memory(cpu) == "an allocation of 3000000000000 bytes failed"
    assert out_of_memory(cuda) == "an allocation of 20.00 GiB failed"
    assert out_of_memory(MemoryError()) == "an allocation failed"
    assert out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) == ""


def test_an_absurd_image_size_is_one_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "imgs" / cls / f"{i}.png")
    # in a process of its own: a failed 3 TB allocation leaves glibc's main heap non-contiguous for the rest of
    # the process, which changes how later tests' freed memory is reused (tests/test_malloc.py)
    done = subprocess.run([sys.executable, "-m", "transferkit", "fit", str(tmp_path / "imgs"), "-b", "tiny-cnn", "-s",
                           "linear", "--image-size", "1000000", "--no-cache", "-o", str(tmp_path / "m")],
                          capture_output=True, text=True, timeout=300)
    text = done.stdout + done.stderr
    assert done.returncode == 1 and "Error: out of memory: an allocation of" in text, text
    assert "lower --batch-size" in text and "Traceback" not in text and not (tmp_path / "m").exists()
