#!/usr/bin/env bash
# Prints a fresh folder for `make test`'s temporary files (TMPDIR): in memory (/dev/shm) when that is
# a tmpfs with room, where programs may run, else under the usual temporary folder.
#
# The suites create and delete hundreds of thousands of files (a scratch copy of a submission per
# grading, two virtual environments, git repositories, SQLite stores that fsync): on a virtual
# machine's disk they wait on I/O a quarter of the time. Nothing they prove depends on the disk.
set -euo pipefail
min_free_kb=$((12 * 1024 * 1024)) # the venvs and copies the suites keep until they end, with room to spare
shm=/dev/shm
available_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0; }
if [ -d "$shm" ] && [ -w "$shm" ] && [ "$(stat -f -c %T "$shm" 2>/dev/null)" = tmpfs ] &&
  [ "$(available_kb)" -ge "$min_free_kb" ] &&
  [ "$(df -Pk "$shm" | awk 'NR==2 {print $4}')" -ge "$min_free_kb" ]; then
  dir=$(mktemp -d "$shm/ck.XXXXXX") # short: unix socket paths under it must stay within 107 bytes
  chmod 1777 "$dir"                  # like /tmp: servers the tests start as other users (postgres) reach it
  printf '#!/bin/sh\nexit 0\n' >"$dir/probe"
  chmod +x "$dir/probe"
  if "$dir/probe" 2>/dev/null; then # not mounted noexec: the suites run programs from their venvs
    rm -f "$dir/probe"
    echo "$dir"
    exit 0
  fi
  rm -rf "$dir"
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ck.XXXXXX")
chmod 1777 "$dir"
echo "$dir"
