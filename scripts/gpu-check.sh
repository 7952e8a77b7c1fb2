#!/usr/bin/env bash
# `npm run gpu-check`: on a machine with an NVIDIA GPU, the engine and issue 11's fast-engine
# pipeline case on each execution provider (cpu, webgpu, cuda), with CAM parity against CPU
# (scripts/gpu-check.mjs). Prints figures and writes gpu-check.json to $GPU_CHECK_OUT, else $OUT,
# else .camflow; exits non-zero with one clear line where there is no GPU.
#
# Two ways to run: from a repository with node_modules and a built dist/, or from the bundle
# that `npm run gpu-bundle` builds (.camflow/gpu-bundle/payload.tar.xz: node, the code, ONNX
# Runtime, libvips, the Vulkan loader's .deb, models and inputs) on a machine with neither Node.js
# nor network. The bundle wins when present (GPU_CHECK_BUNDLE=0: use the repository).
# CUDA: onnxruntime-node's CUDA provider libraries (libonnxruntime_providers_cuda.so and
# libonnxruntime_providers_shared.so, for the same ONNX Runtime version) are not in the npm
# package; point ORT_CUDA_PROVIDER_DIR at them to have them copied next to libonnxruntime, else
# the cuda line reports its fallback to CPU.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  if [ "${GPU_CHECK_ALLOW_NO_GPU:-0}" != 1 ]; then
    echo "gpu-check: no NVIDIA GPU on this machine (nvidia-smi finds none); nothing to check" >&2
    exit 1
  fi
  echo "gpu-check: no GPU; running anyway (GPU_CHECK_ALLOW_NO_GPU=1: the GPU providers fall back to cpu)"
else
  nvidia-smi -L
fi

bundle=.camflow/gpu-bundle/payload.tar.xz
if [ -f "$bundle" ] && [ "${GPU_CHECK_BUNDLE:-1}" != 0 ]; then
  dir="${TMPDIR:-/tmp}/camflow-gpu-check"
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xJf "$bundle" -C "$dir" || { echo "gpu-check: cannot unpack $bundle" >&2; exit 1; }
  node="$dir/bin/node"
  script="$dir/gpu-check.mjs"
  export GPU_CHECK_DATA="$dir"
  ortlib=$(ls -d "$dir"/node_modules/onnxruntime-node/bin/napi-v*/linux/x64 | head -1)
else
  command -v node >/dev/null || { echo "gpu-check: no node and no bundle ($bundle)" >&2; exit 1; }
  [ -f services/worker/dist/index.js ] || npx tsc -b
  node=node
  script=scripts/gpu-check.mjs
  ortlib=$(ls -d node_modules/onnxruntime-node/bin/napi-v*/linux/x64 | head -1)
  dir="${TMPDIR:-/tmp}/camflow-gpu-check"
  mkdir -p "$dir"
fi

# ORT's bundled WebGPU provider needs the Vulkan loader; unpack Debian's into a private prefix
# when the machine has none (no root changes, no apt).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  debs=$(ls "$dir"/debs/*.deb 2>/dev/null || true)
  if [ -z "$debs" ] && command -v apt-get >/dev/null; then
    (cd "$dir" && mkdir -p debs && cd debs && apt-get download libvulkan1 >/dev/null 2>&1) || true
    debs=$(ls "$dir"/debs/*.deb 2>/dev/null || true)
  fi
  for deb in $debs; do dpkg-deb -x "$deb" "$dir/vulkan" 2>/dev/null || dpkg -x "$deb" "$dir/vulkan"; done
  if [ -d "$dir/vulkan/usr/lib/x86_64-linux-gnu" ]; then
    export LD_LIBRARY_PATH="$dir/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    echo "gpu-check: no Vulkan loader (libvulkan1): webgpu will fall back to cpu"
  fi
fi
# The NVIDIA driver's Vulkan ICD, where the loader would not look by itself.
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
fi
if [ -n "${ORT_CUDA_PROVIDER_DIR:-}" ]; then
  cp "$ORT_CUDA_PROVIDER_DIR"/libonnxruntime_providers_*.so "$ortlib"/ &&
    echo "gpu-check: CUDA provider libraries from $ORT_CUDA_PROVIDER_DIR"
fi
echo "gpu-check: node $("$node" --version), VK_DRIVER_FILES=${VK_DRIVER_FILES:-(loader default)}"
exec "$node" "$script"
