#!/usr/bin/env bash
# Check the command-line tools of docs/tooling.md: present, and at least the pinned version.
# Prints one line per tool; exits 1 when a tool is missing or older than its pin.
# Usage: scripts/check_tools.sh [--quiet]    (--quiet: print only the problems)
set -euo pipefail

QUIET=0
if [[ "${1:-}" == "--quiet" ]]; then
  QUIET=1
fi

# tool, pinned version, command whose output holds the version
TOOLS=(
  "docker|28.2.0|docker --version"
  "gcloud|528.0.0|gcloud version"
  "terraform|1.11.4|terraform version"
  "kubectl|1.32.4|kubectl version --client"
  "helm|3.17.3|helm version --short"
)

# The first x.y.z (or x.y) in the text, without a leading "v".
first_version() {
  grep -Eo '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1
}

# True when version $1 is at least version $2.
at_least() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" == "$2" ]]
}

problems=0
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r tool pinned command <<<"$entry"
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "MISSING  $tool (want $pinned or later): see docs/tooling.md#$tool"
    problems=$((problems + 1))
    continue
  fi
  found="$($command 2>/dev/null | first_version || true)"
  if [[ -z "$found" ]]; then
    echo "UNKNOWN  $tool: could not read a version from '$command'"
    problems=$((problems + 1))
  elif at_least "$found" "$pinned"; then
    if [[ "$QUIET" == 0 ]]; then
      echo "OK       $tool $found (pinned $pinned)"
    fi
  else
    echo "OLD      $tool $found is older than the pinned $pinned: see docs/tooling.md#$tool"
    problems=$((problems + 1))
  fi
done

if [[ "$problems" -gt 0 ]]; then
  echo "$problems tool(s) need attention; the Python labs and the graders work without them."
  exit 1
fi
