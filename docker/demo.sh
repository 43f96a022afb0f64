#!/bin/sh
# make demo: sloe with Prometheus, Alertmanager and a synthetic workload on loopback, over
# 30 days of generated history. See docker/demo.py for what it starts; Ctrl-C stops it all.
# Run from anywhere; needs root only when `make deps` has packages to install.
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory deps
make --no-print-directory
exec python3 docker/demo.py "$@"
