#!/usr/bin/env bash
# fetch-kodak.sh: get the 24 Kodak images (kodim01..24.png) and verify them
# against datasets/kodak.sha256.  See datasets/README.md.
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUMS=$HERE/kodak.sha256
URL=${KODAK_URL:-http://r0k.us/graphics/kodak/kodak}

usage() {
  cat <<EOF
Usage: datasets/fetch-kodak.sh [--from DIR] [DEST]

Puts kodim01.png .. kodim24.png into DEST (default: ./kodak) and checks each
against the SHA-256 in datasets/kodak.sha256. Files already in DEST that match
are kept; a file that does not match is deleted and the script fails.

  --from DIR   copy from a local copy (e.g. ~/datasets/kodak) instead
               of downloading
  -h, --help   this help

Downloads from \$KODAK_URL/kodimNN.png (default $URL) with curl or wget.
Exit status: 0 all 24 verified, 1 download/copy/checksum failure, 2 bad usage.
EOF
}

from="" dest=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --from) [[ $# -ge 2 && -n $2 ]] || { echo "fetch-kodak.sh: --from needs a folder" >&2; exit 2; }; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    -*) echo "fetch-kodak.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [[ -z $dest ]] || { echo "fetch-kodak.sh: more than one DEST given" >&2; exit 2; }; dest=$1; shift ;;
  esac
done
dest=${dest:-kodak}
[[ -z $from || -d $from ]] || { echo "fetch-kodak.sh: --from '$from' is not a folder" >&2; exit 2; }
[[ -f $SUMS ]] || { echo "fetch-kodak.sh: missing $SUMS" >&2; exit 1; }
mkdir -p "$dest" || exit 1

download() { # URL FILE
  if command -v curl >/dev/null; then curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -q --tries=3 --timeout=20 -O "$2" "$1"
  else echo "fetch-kodak.sh: need curl or wget (or use --from DIR)" >&2; return 1
  fi
}

fails=0 got=0 kept=0
while read -r sum name; do
  [[ -n $name ]] || continue
  f=$dest/$name
  if [[ -f $f ]]; then
    [[ $(sha256sum "$f" | cut -d' ' -f1) == "$sum" ]] && { kept=$((kept + 1)); continue; }
    echo "fetch-kodak.sh: $f does not match its sha256; fetching it again" >&2; rm -f "$f"
  fi
  if [[ -n $from ]]; then
    cp -f "$from/$name" "$f.part" 2>/dev/null || { echo "fetch-kodak.sh: $from/$name: cannot copy" >&2; rm -f "$f.part"; fails=$((fails + 1)); continue; }
  else
    download "$URL/$name" "$f.part" || { echo "fetch-kodak.sh: $URL/$name: download failed" >&2; rm -f "$f.part"; fails=$((fails + 1)); continue; }
  fi
  have=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [[ $have != "$sum" ]]; then
    echo "fetch-kodak.sh: $name: sha256 $have, expected $sum; deleted" >&2
    rm -f "$f.part" "$f"; fails=$((fails + 1)); continue
  fi
  mv -f "$f.part" "$f"; got=$((got + 1))
done <"$SUMS"

if ((fails)); then
  echo "fetch-kodak.sh: $fails of 24 images missing or wrong in $dest" >&2; exit 1
fi
echo "fetch-kodak.sh: 24 images verified in $dest ($got new, $kept already there)"
