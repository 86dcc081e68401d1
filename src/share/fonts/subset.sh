#!/bin/sh
# Regenerates the two fonts the share images use from Debian's fonts-dejavu-core:
# Latin (Basic, Latin-1, Extended-A), typographic punctuation, currency signs, arrows,
# the minus sign and the up/down triangles. The whole fonts are ~1.4 MB; the subsets
# keep the binary small. Needs `apt-get install fonts-dejavu-core python3-fonttools`.
set -eu
cd "$(dirname "$0")"
src=/usr/share/fonts/truetype/dejavu
unicodes="U+0020-007E,U+00A0-017F,U+2010-2027,U+2030-203A,U+20A8,U+20AC,U+2190-2193,U+2212,U+25B2,U+25BC"
for face in DejaVuSans DejaVuSans-Bold; do
  /usr/bin/python3 -m fontTools.subset "$src/$face.ttf" \
    --unicodes="$unicodes" --layout-features='kern,liga' \
    --no-hinting --desubroutinize --name-IDs='*' --name-legacy --name-languages='*' \
    --output-file="$face.ttf"
done
