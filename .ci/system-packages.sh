#!/usr/bin/env bash
# System packages the tests use, each installed only when missing (CI runs as root):
#   redis-server, redis-cli  every Redis test starts its own throwaway servers and a small Cluster
#   chromium                 the API site and dashboard browser tests (Debian's build; the tests
#                            never run `playwright install`, which would download a browser)
#   promtool (prometheus)    `promtool check metrics` on the /metrics output
# Off CI, without root, it names the apt-get command and fails instead of installing.
set -euo pipefail

missing=()
{ command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "redis-server, chromium and promtool are installed"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "the tests need: ${missing[*]} (sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
