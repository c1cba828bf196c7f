#!/usr/bin/env bash
# tools/train-gpu (the PyTorch trainer) against the C trainer, on the CPU:
# the same loss, bits and MSE on a fixed crop of the sample with the shipped
# checkpoint (rounding graph at two levels, and the training graph with the C
# generator's noise, gradients included), a byte-identical checkpoint round
# trip, three training steps that stay finite, and a checkpoint written by the
# PyTorch side that `lwc train` resumes and exports, the export coding the
# sample. Skipped (77) without a Python that imports torch, numpy and PIL.
# Run by ctest:
#   bash tests/cli_train_gpu.sh PATH_TO_LWC BUILD_DIR
set -u -o pipefail
LWC=${1:?lwc path}
CKPT=models/lwc-default.ckpt
[[ -f $CKPT ]] || { echo "no shipped checkpoint: skipped"; exit 77; }
PY=
for p in "${LWC_TORCH_PYTHON:-}" /usr/bin/python3 python3; do
  [[ -n $p ]] || continue
  if timeout 30 "$p" -c "import torch, numpy, PIL" > /dev/null 2>&1; then PY=$p; break; fi
done
[[ -n $PY ]] || { echo "no python with torch, numpy and PIL: skipped"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_train_gpu.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
G=tools/train-gpu

# parity on a fixed 64x64 crop (relative tolerance 1e-4; gradient 1e-3 in L2)
for args in "--level 0" "--level 10" "--level 5 --seed 7"; do
  # shellcheck disable=SC2086
  "$PY" $G/parity.py --checkpoint $CKPT --lwc "$LWC" --size 64 --tol 1e-4 $args > "$tmp/parity.txt" 2>&1 ||
    fail "parity $args"
  cat "$tmp/parity.txt"
done

# checkpoint read + write: a version-5 file comes back byte for byte; a
# version-4 one rewritten as version 5 is the same bytes with the version
# bumped and "1 z density set" added; a second round trip changes nothing
"$PY" - "$G" "$CKPT" "$tmp" <<'PY' || fail "checkpoint round trip"
import struct, sys
sys.path.insert(0, sys.argv[1])
import ckpt
src, tmp = sys.argv[2], sys.argv[3]
ckpt.save(tmp + "/rt.ckpt", ckpt.load(src))
ckpt.save(tmp + "/rt2.ckpt", ckpt.load(tmp + "/rt.ckpt"))
old, new, new2 = (open(p, "rb").read() for p in (src, tmp + "/rt.ckpt", tmp + "/rt2.ckpt"))
head = 8 + 40 + 4  # magic, version, arch, analysis branch width
version = struct.unpack("<I", old[4:8])[0]
assert version in (4, 5), version
want = old if version == 5 else old[:4] + struct.pack("<I", 5) + old[8:head] + struct.pack("<i", 1) + old[head:]
assert new == want and new2 == new, "round trip differs"
PY

# one z density per rate level (checkpoint version 5 with L sets; split here
# if the shipped one shares one), each level's moved apart: the C and
# PyTorch graphs must agree on it too
"$PY" - "$G" "$CKPT" "$tmp/zl.ckpt" <<'PY' || fail "per-level z density checkpoint"
import sys
sys.path.insert(0, sys.argv[1])
import ckpt, lwc_model as lm
c = ckpt.load(sys.argv[2])
if c.zsets == 1:
    c = lm.split_zdensity(c)
lay, _ = lm.fact_layout(c.arch["Nz"] * c.zsets)
bo = lay[-1][1]
for ch in range(c.arch["Nz"] * c.zsets):
    c.fparams[bo + ch] += 0.3 * (ch // c.arch["Nz"])
ckpt.save(sys.argv[3], c)
PY
for args in "--level 0" "--level 10" "--level 5 --seed 7"; do
  # shellcheck disable=SC2086
  "$PY" $G/parity.py --checkpoint "$tmp/zl.ckpt" --lwc "$LWC" --size 64 --tol 1e-4 $args > "$tmp/parity.txt" 2>&1 ||
    { cat "$tmp/parity.txt"; fail "parity with per-level z densities $args"; }
done

# three training steps (the shipped schedule has ended: a new short cosine)
mkdir -p "$tmp/data"
cp docs/sample.png "$tmp/data/a.png"; cp docs/sample.png "$tmp/data/b.png"
"$PY" $G/pack.py --data "$tmp/data" --val-split 2 --crop 64 --side 256 --out "$tmp/p.pack" || fail "pack"
cp $CKPT "$tmp/t.ckpt"
"$PY" $G/train.py --pack "$tmp/p.pack" --checkpoint "$tmp/t.ckpt" --device cpu --steps 3 --batch 2 --crop 64 \
  --threads 2 --schedule cosine --warmup 2 --budget 100 --lr 1e-5 --lr-min 1e-6 > "$tmp/train.txt" 2>&1 ||
  fail "train.py"
cat "$tmp/train.txt"
[[ $(grep -c '^step ' "$tmp/train.txt") == 3 ]] || fail "not three training steps"
grep -qi 'nan\|inf ' "$tmp/train.txt" && fail "non-finite numbers in training"
"$PY" -c "
import sys; sys.path.insert(0, '$G'); import ckpt, numpy as np
c = ckpt.load('$tmp/t.ckpt'); s = ckpt.load('$CKPT')
assert c.step == s.step + 3 and c.adam_step == s.adam_step + 3, (c.step, c.adam_step)
for a in (c.params, c.m, c.v, c.fparams, c.fm, c.fv): assert np.isfinite(a).all()
assert not np.array_equal(c.params, s.params)" || fail "trained checkpoint (steps, finiteness, change)"

# the C trainer takes it: export, code the sample, resume one step
"$LWC" train --data "$tmp/data" --val-split 2 --crop 64 --val-crops 1 --threads 1 --quiet \
  --checkpoint "$tmp/t.ckpt" --export-only --out "$tmp/t.lwcm" || fail "export of the torch checkpoint"
"$LWC" encode docs/sample.png -o "$tmp/x.lwc" --model "$tmp/t.lwcm" --quiet || fail "encode with the export"
"$LWC" decode "$tmp/x.lwc" -o "$tmp/x.png" --model "$tmp/t.lwcm" --quiet || fail "decode with the export"
step=$("$PY" -c "import sys; sys.path.insert(0, '$G'); import ckpt; print(ckpt.load('$tmp/t.ckpt').step)")
"$LWC" train --data "$tmp/data" --val-split 2 --crop 64 --batch 1 --val-crops 1 --threads 1 --quiet --resume \
  --checkpoint "$tmp/t.ckpt" --steps $((step + 1)) --val-every 1000000 --out "$tmp/t2.lwcm" 2> "$tmp/resume.err" ||
  { cat "$tmp/resume.err"; fail "lwc train --resume of the torch checkpoint"; }

((fails == 0)) || { echo "$fails failure(s)"; exit 1; }
echo "cli_train_gpu: ok"
