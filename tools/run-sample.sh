#!/bin/sh
# make run: encode + decode the bundled sample with the shipped model and
# print size, bpp, PSNR and time.
set -e
LWC=$1; SAMPLE=$2; Q=${3:-50}
OUT=${TMPDIR:-/tmp}/lwc-sample.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT
"$LWC" info --model >/dev/null 2>&1 || { "$LWC" info --model; exit 1; }
"$LWC" info --model
"$LWC" encode "$SAMPLE" -o "$OUT/sample.lwc" -q "$Q"
"$LWC" decode "$OUT/sample.lwc" -o "$OUT/sample.png"
"$LWC" compare "$SAMPLE" "$OUT/sample.png"
