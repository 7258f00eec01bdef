#!/usr/bin/env bash
# Installs the system tools the graders and integration tests call, when this is a Debian/Ubuntu
# machine and we are root; otherwise prints exactly what to install. Idempotent.
set -euo pipefail

# tool binary -> Debian package
declare -A PACKAGES=(
  [promtool]=prometheus
  [redis-server]=redis-server
  [shellcheck]=shellcheck
  [sshd]=openssh-server
)

missing=()
for tool in "${!PACKAGES[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    missing+=("${PACKAGES[$tool]}")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system tools: all present (promtool, redis-server, shellcheck, sshd)"
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "system tools: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "system tools: missing ${missing[*]}."
  echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}"
  echo "  macOS (Homebrew): brew install prometheus redis shellcheck"
  echo "  The checks that need them are reported as skipped, with this hint, until they are installed."
fi
