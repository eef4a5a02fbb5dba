#!/bin/sh
# Runs inside the user-mode-Linux guest (test/kernel/uml/init.sh): the ipvs benchmark.
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 2
exec node dist/bench/ipvs/guest-main.js
