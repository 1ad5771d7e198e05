#!/usr/bin/env bash
# Make sure the Debian packages the project needs are present: install them when we are root
# with apt-get, otherwise say exactly what to run. Usage: ensure-system-packages.sh PACKAGE...
set -euo pipefail

present() {
  case "$1" in
    dataset-fashion-mnist) ls /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte* >/dev/null 2>&1 ;;
    chromium) command -v chromium >/dev/null 2>&1 ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for package in "$@"; do
  present "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get install -y "${missing[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  if [[ " ${missing[*]} " == *" dataset-fashion-mnist "* ]]; then
    echo "(or set data/fashion_mnist_dir in config/config.yaml to a folder holding the four Fashion-MNIST idx files)" >&2
  fi
  exit 1
fi
