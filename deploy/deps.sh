#!/usr/bin/env bash
#   Installs what Hearth needs to build and test, from Debian's packages.
#   Idempotent: installs only what is missing, so a second run is quick and
#   needs no network.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libzmq3-dev libczmq-dev libmsgpack-dev libyaml-dev libjansson-dev
    python3 python3-zmq python3-msgpack python3-pytest python3-mypy
    python3-pip python3-setuptools
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "hearth: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
