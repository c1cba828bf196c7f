#!/usr/bin/env bash
# fetch-clic.sh: get the CLIC 2020 professional validation set (41 PNGs) and
# verify it.  See datasets/README.md for where the checksums come from.
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
URL=${CLIC_URL:-https://data.vision.ee.ethz.ch/cvl/clic/professional_valid_2020.zip}
# MD5 of professional_valid_2020.zip as pinned by a third party
# (google-deepmind/c3_neural_compression, utils/data_loading.py @ ce70560e);
# not checked by us against a download: this machine had no internet.
ZIP_MD5=7111ee240435911db04dbc5f40d50272
NIMAGES=41
# Per-image SHA-256 list; it does not exist until someone commits one made by
# a verified first download (the script writes DEST/SHA256SUMS for that).
SUMS=$HERE/clic2020-professional-valid.sha256

usage() {
  cat <<EOF
Usage: datasets/fetch-clic.sh [--from DIR|ZIP] [--trust-new] [DEST]

Puts the $NIMAGES PNG images of the CLIC 2020 professional validation set into
DEST (default: ./clic2020-professional-valid).

  --from DIR   copy the PNGs from a local copy (DIR or DIR/valid) instead of downloading
  --from ZIP   use a local professional_valid_2020.zip
  --trust-new  accept a zip whose MD5 differs from the pinned one
  -h, --help   this help

Download: \$CLIC_URL (default $URL), with curl or wget; unzip or python3 to extract.
Checks: the zip's MD5 against $ZIP_MD5 (pinned by a third party, see
datasets/README.md), the image count ($NIMAGES), and, when
datasets/clic2020-professional-valid.sha256 exists, every image's SHA-256.
Without that file the script writes DEST/SHA256SUMS (trust on first use) and
says so; copy it to datasets/clic2020-professional-valid.sha256 to pin it.
Exit status: 0 verified, 1 failure, 2 bad usage.
EOF
}

die() { echo "fetch-clic.sh: $*" >&2; exit 1; }
from="" dest="" trust=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --from) [[ $# -ge 2 && -n $2 ]] || { echo "fetch-clic.sh: --from needs a folder or zip" >&2; exit 2; }; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    --trust-new) trust=1; shift ;;
    -*) echo "fetch-clic.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [[ -z $dest ]] || { echo "fetch-clic.sh: more than one DEST given" >&2; exit 2; }; dest=$1; shift ;;
  esac
done
dest=${dest:-clic2020-professional-valid}
[[ -z $from || -e $from ]] || { echo "fetch-clic.sh: --from '$from' does not exist" >&2; exit 2; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dest" || exit 1

download() { # URL FILE
  if command -v curl >/dev/null; then curl -fSL --retry 3 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -q --tries=3 --timeout=20 -O "$2" "$1"
  else echo "fetch-clic.sh: need curl or wget (or use --from)" >&2; return 1
  fi
}
extract() { # ZIP DIR
  if command -v unzip >/dev/null; then unzip -q -o "$1" -d "$2"
  else python3 -m zipfile -e "$1" "$2"
  fi
}

src=""
if [[ -n $from && -d $from ]]; then
  src=$from; [[ -d $from/valid ]] && src=$from/valid
else
  zip=$from
  if [[ -z $zip ]]; then
    zip=$tmp/professional_valid_2020.zip
    echo "fetch-clic.sh: downloading $URL"
    download "$URL" "$zip" || die "download failed: $URL"
  fi
  md5=$(md5sum "$zip" | cut -d' ' -f1)
  if [[ $md5 != "$ZIP_MD5" ]]; then
    ((trust)) || die "zip MD5 $md5 differs from the pinned $ZIP_MD5 (rerun with --trust-new to accept it)"
    echo "fetch-clic.sh: WARNING: zip MD5 $md5 differs from the pinned $ZIP_MD5; accepted (--trust-new)" >&2
  else
    echo "fetch-clic.sh: zip MD5 matches the pinned $ZIP_MD5"
  fi
  extract "$zip" "$tmp/x" || die "cannot extract $zip"
  src=$tmp/x/valid; [[ -d $src ]] || src=$tmp/x
fi

mapfile -t pngs < <(find "$src" -maxdepth 1 -type f -iname '*.png' ! -name '._*' | sort)
((${#pngs[@]} == NIMAGES)) || die "found ${#pngs[@]} PNG images in $src, expected $NIMAGES"
for p in "${pngs[@]}"; do cp -f "$p" "$dest/" || die "cannot copy $p"; done

( cd "$dest" && for p in "${pngs[@]}"; do sha256sum "${p##*/}"; done ) >"$tmp/sums"
if [[ -f $SUMS ]]; then
  ( cd "$dest" && sha256sum -c --quiet "$SUMS" ) || die "SHA-256 mismatch against $SUMS"
  cmp -s <(sort -k2 "$tmp/sums") <(sort -k2 "$SUMS") || die "$dest holds other images than $SUMS lists"
  echo "fetch-clic.sh: $NIMAGES images verified against $SUMS in $dest"
else
  cp "$tmp/sums" "$dest/SHA256SUMS"
  echo "fetch-clic.sh: $NIMAGES images in $dest. No pinned per-image checksums yet"
  echo "  ($SUMS is absent): wrote $dest/SHA256SUMS from this copy (trust on first use)."
  echo "  After a download whose zip MD5 matched, copy it to datasets/clic2020-professional-valid.sha256."
fi
