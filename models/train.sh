#!/usr/bin/env bash
# Train (or keep training) the shipped model, in resumable chunks:
#   models/train.sh [SECONDS] [extra lwc train options]
# Resumes from the checkpoint (CKPT=FILE, default models/lwc-default.ckpt)
# when it exists (optimizer, RNG and schedule state included), else starts
# the documented architecture from scratch. Stops after SECONDS of training
# (default 3600) or at the end of the schedule, checkpoints, and exports
# OUT=FILE (default models/lwc-default.lwcm), logging to LOG=FILE (default
# models/train-log.csv). Runs under nice; Ctrl-C also checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3600}; shift || true
LWC=${LWC:-build/lwc}
DATA=${DATA:-datasets/train} # DATA=DIR: the training photos (see models/README.md)
[[ -d $DATA ]] || { echo "train.sh: no training folder '$DATA' (set DATA=DIR)" >&2; exit 2; }
CKPT=${CKPT:-models/lwc-default.ckpt}
OUT=${OUT:-models/lwc-default.lwcm}
LOG=${LOG:-models/train-log.csv}
ARGS=(--data "$DATA" --out "$OUT" --checkpoint "$CKPT" --steps 2000000
      --crop 256 --batch 4 --threads 2 --val-every 500 --ckpt-every 300
      --log "$LOG" --time-limit "$SECS" --int-synthesis --fit-tables 1100
      --fit-context 0.01,0.3,0.6,1,1.6,2.5,4 --fit-pred --fit-zctx 9)
# the export carries the integer synthesis (the same pixels on every build)
# and y and z tables fitted on 1,100 training crops, y's per parity and
# context class and of the symbols minus their in-pass prediction, z's per
# context class (model version 8; about two minutes; models/README.md,
# "Fitted tables", "Context classes", "In-pass prediction" and "Context
# classes for z"); resuming keeps the checkpoint's schedule (pass
# --schedule ... to replace it)
[[ -f $CKPT ]] && ARGS+=(--resume) || ARGS+=(--arch 128,32,64,64,4,32,64,96,3,8 --seed 1 --lr 3e-4)
exec nice -n 5 "$LWC" train "${ARGS[@]}" "$@"
