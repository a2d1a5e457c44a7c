"""An allocation that fails (an absurd --image-size, a batch too large for the machine) is one line naming
the cause and the options that lower it, not a torch traceback; nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tests.helpers import run_cli

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
    code, text = run_cli("fit", tmp_path / "imgs", "-b", "tiny-cnn", "-s", "linear", "--image-size", "1000000",
                         "--no-cache", "-o", tmp_path / "m")
    assert code == 1 and "Error: out of memory: an allocation of" in text and "lower --batch-size" in text, text
    assert "Traceback" not in text and not (tmp_path / "m").exists()
