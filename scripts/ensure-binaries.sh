#!/usr/bin/env bash
# Make sure the real Prometheus, Alertmanager and Pushgateway binaries exist (tests and the demo run them
# on loopback).
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1; }
prom="${MLCALL_PROMETHEUS_BIN:-prometheus}"
am="${MLCALL_ALERTMANAGER_BIN:-}"
pgw="${MLCALL_PUSHGATEWAY_BIN:-}"
am_ok() { if [ -n "$am" ]; then have "$am"; else have alertmanager || have prometheus-alertmanager; fi; }
pgw_ok() { if [ -n "$pgw" ]; then have "$pgw"; else have pushgateway || have prometheus-pushgateway; fi; }
tools_ok() { have promtool && have amtool && have tmux; }  # tmux: the typed-burst tests read its screen
if have "$prom" && am_ok && pgw_ok && tools_ok; then exit 0; fi
if [ "$(id -u)" = 0 ] && have apt-get; then
  echo "Installing prometheus, prometheus-alertmanager and prometheus-pushgateway with apt-get…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager prometheus-pushgateway tmux >/dev/null
  # Debian's packages try to start services; this project starts its own servers on loopback.
  exit 0
fi
cat >&2 <<'MSG'
mlcall-tui needs the Prometheus, Alertmanager and Pushgateway binaries (with promtool and amtool).
On Debian/Ubuntu:  sudo apt-get install --no-install-recommends prometheus prometheus-alertmanager prometheus-pushgateway
Elsewhere: install them from your package manager and put them on PATH, or point
MLCALL_PROMETHEUS_BIN / MLCALL_ALERTMANAGER_BIN / MLCALL_PUSHGATEWAY_BIN at them.
MSG
exit 1
