#!/bin/sh
# Runs inside the user-mode-Linux guest (see init.sh): the ipvs kernel suite.
repo=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$repo" || exit 2
exec node dist/test/kernel/ipvs/guest-suite.js
