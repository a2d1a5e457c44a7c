#!/usr/bin/env bash
# One-shot set-up on a fresh machine: virtualenv, PyTorch, transferkit with its offline weights and
# datasets, and the Debian Fashion-MNIST package. Safe to re-run: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
# The torch/torchvision releases served from local disk on the project's machines; any torch >= 2.4 works.
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

if ! "$VENV/bin/python" -c "import torch, torchvision" 2>/dev/null; then
  echo "[setup] installing $TORCH_SPEC"
  # shellcheck disable=SC2086
  "${PIP[@]}" install $TORCH_SPEC
fi

stamp="$VENV/.transferkit-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[setup] installing transferkit with offline weights, datasets and dev tools"
  "${PIP[@]}" install -e ".[offline,dev]"
  touch "$stamp"
fi

FMNIST=/usr/share/datasets/fashion-mnist
if [ -z "${TRANSFERKIT_FASHION_MNIST_DIR:-}" ] && [ ! -f "$FMNIST/t10k-images-idx3-ubyte.gz" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
    echo "[setup] installing the Debian package dataset-fashion-mnist"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
  else
    echo "[setup] Fashion-MNIST is missing and apt-get is not usable here." >&2
    echo "        Install the Debian/Ubuntu package 'dataset-fashion-mnist', or download the four IDX .gz" >&2
    echo "        files of Fashion-MNIST into a folder and set TRANSFERKIT_FASHION_MNIST_DIR to it." >&2
    echo "        (Everything else works without it; the image demo and its tests need it.)" >&2
  fi
fi
echo "[setup] ready: $VENV/bin/transferkit"
