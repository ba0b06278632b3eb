#!/usr/bin/env bash
# Reproduces model/ocr.onnx from scratch: installs the tools, renders the data, trains, exports,
# and refreshes the parity fixtures the tests compare Node's output against.
#   packages/ocr/training/train.sh [STEPS]
# On a 2-core CPU the default run takes about an hour; on a GPU a few minutes (pass more steps).
set -euo pipefail
cd "$(dirname "$0")"
STEPS=${1:-9000}

./setup.sh
(cd ../../.. && npx tsc -b packages/ocr)

rm -rf data
# Two queues, one per core. Seeds differ per source and per split, so no split repeats another.
queue() {
  local split=$1 seed=$2; shift 2
  while [ $# -gt 0 ]; do
    node make-dataset.mjs --out data --split "$split" --source "$1" --count "$2" --seed "$seed"
    seed=$((seed + 1)); shift 2
  done
}
{
  queue train 101 synthetic 70000 captchapng 6000 trek-captcha 12000 svg-captcha-hard 16000
  queue val 9001 synthetic 400 captchapng 400 trek-captcha 400 svg-captcha-hard 400
} &
{
  queue train 201 haileybot 14000 node-captcha-generator 5000 svg-captcha-easy 12000 captcha-canvas 14000
  queue val 9101 haileybot 400 node-captcha-generator 400 svg-captcha-easy 400 captcha-canvas 400
} &
wait

/usr/bin/python3 train.py --data data --out ../model --steps "$STEPS"
node parity.mjs
