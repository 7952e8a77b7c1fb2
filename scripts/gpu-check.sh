#!/usr/bin/env bash
# `npm run gpu-check`: on a machine with an NVIDIA GPU, benchmark the Grad-CAM engine on the GPU
# execution providers and check CAM parity against CPU. Prints figures; exits non-zero with one
# clear line where there is no GPU.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to check" >&2
  exit 1
fi
nvidia-smi -L
# ORT's bundled WebGPU provider needs the Vulkan loader (Debian: libvulkan1).
if ! ldconfig -p | grep -q libvulkan.so.1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1) >/dev/null 2>&1 ||
    echo "gpu-check: could not install libvulkan1 (no Debian mirror reachable?)"
fi
[ -f services/cli/dist/main.js ] || npx tsc -b
node scripts/gpu-check.mjs
