#!/bin/sh
# Compresses the built front end's scripts, styles and SVGs once, beside themselves (x.js.gz);
# spur-app serves them to clients that take gzip (StaticOptions::precompressed).
set -eu
find "$1" -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' \) -exec gzip -9 -k -f {} +
