#!/bin/sh
# Installs the Debian 12 packages Reel needs to build, run, test and demo.
# Idempotent: only missing packages are installed (apt-get update runs only
# then). Run as root, or with sudo available.
set -eu

PKGS="build-essential pkg-config
libluajit-5.1-dev luajit
ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
libopenimageio-dev openimageio-tools libopenexr-dev libxxhash-dev
opencv-doc python3-skimage python3-numpy python3-opencv python3-openimageio
python3-pyopencolorio python3-venv chromium"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "deps: all Debian packages present"
  exit 0
fi
echo "deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps: run as root, or install:$missing" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
