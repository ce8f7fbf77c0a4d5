#!/usr/bin/env bash
# Installs what tailflow needs (Debian 12 packages) and builds it into ./build.
#
#   scripts/setup.sh            # install missing packages (as root), configure, build
#   BUILD_DIR=out scripts/setup.sh
#
# As a normal user it prints the apt-get command to run instead of installing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config ccache
  openmpi-bin libopenmpi-dev            # MPI
  libhdf5-openmpi-dev hdf5-tools        # parallel HDF5
  libeigen3-dev                         # linear algebra
  libtorch-dev                          # LibTorch (CPU)
  libboost-program-options-dev libfmt-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
  googletest libgtest-dev               # tests
  dataset-fashion-mnist                 # product photos for the default shop
  python3 python3-h5py python3-numpy python3-matplotlib   # reading outputs, charts
  python3-sklearn                       # t-SNE maps (scripts/plots falls back to numpy without it)
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "setup: built $BUILD_DIR/jobs/tailflow"
