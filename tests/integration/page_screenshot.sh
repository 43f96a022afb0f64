#!/bin/sh
# Renders a status page (HTML written by sloe, e.g. GET / or the page unit test with
# SLOE_PAGE_OUT=FILE) to a PNG with headless Chromium, for a look at the layout.
#   tests/integration/page_screenshot.sh PAGE.html OUT.png [WIDTH,HEIGHT]
# Needs Debian's chromium (apt-get install -y chromium). Network access is off: the page
# must be self-contained.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 PAGE.html OUT.png [WIDTH,HEIGHT]" >&2
    exit 2
fi
page=$1
png=$2
size=${3:-1280,2000}
command -v chromium >/dev/null 2>&1 || {
    echo "$0: chromium not found (apt-get install -y chromium)" >&2
    exit 1
}
case $page in /*) ;; *) page=$(pwd)/$page ;; esac
case $png in /*) ;; *) png=$(pwd)/$png ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size="$size" --screenshot="$png" \
    "file://$page" 2>/dev/null
test -s "$png"
echo "$png"
