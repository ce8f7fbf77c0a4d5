#!/usr/bin/env bash
# Downloads public recommendation datasets for your own runs (tailflow never ships them).
#
#   scripts/download_datasets.sh [--dir DATA_DIR] NAME...
#   names: ml-latest-small  ml-1m  ml-20m   (MovieLens, GroupLens research licence: read it before use)
#
# Each dataset is unpacked into DATA_DIR/NAME (default ./data). A finished download is not fetched again.
# The pipeline configs read these folders from ${DATASETS:-data} (ml-latest-small: ../shared/datasets):
#   ml-latest-small -> cluster/configs/movielens_small.ini   (set DATASETS=data after downloading it here)
#   ml-1m           -> cluster/configs/movielens_1m.ini
#   ml-20m          -> cluster/configs/movielens_20m.ini
set -euo pipefail

DATA_DIR=data
NAMES=()
while (($#)); do
  case "$1" in
    --dir) DATA_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) NAMES+=("$1"); shift ;;
  esac
done
((${#NAMES[@]})) || { sed -n '2,12p' "$0"; exit 2; }

url_of() {
  case "$1" in
    ml-latest-small|ml-1m|ml-20m) echo "https://files.grouplens.org/datasets/movielens/$1.zip" ;;
    *) echo "unknown dataset '$1' (known: ml-latest-small ml-1m ml-20m)" >&2; return 1 ;;
  esac
}

fetch() {
  local url=$1 out=$2
  if command -v curl >/dev/null; then curl -fL --retry 3 -o "$out" "$url"
  elif command -v wget >/dev/null; then wget -O "$out" "$url"
  else echo "need curl or wget" >&2; return 1; fi
}

mkdir -p "$DATA_DIR"
for name in "${NAMES[@]}"; do
  url=$(url_of "$name")
  if [[ -d "$DATA_DIR/$name" ]]; then echo "$name: already in $DATA_DIR/$name"; continue; fi
  tmp=$(mktemp -d "$DATA_DIR/.download.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "$name: downloading $url"
  fetch "$url" "$tmp/$name.zip"
  (cd "$tmp" && unzip -q "$name.zip")
  [[ -d "$tmp/$name" ]] || { echo "$name: the archive holds no folder '$name'" >&2; exit 1; }
  # Unpacked under a temporary name, renamed when complete: an interrupted download leaves nothing half-done.
  mv "$tmp/$name" "$DATA_DIR/$name"
  rm -rf "$tmp"
  trap - EXIT
  echo "$name: ready in $DATA_DIR/$name"
done
echo "next: mpirun -n 2 tailflow pipeline --config cluster/configs/<config>.ini (DATASETS=$DATA_DIR if not ./data)"
