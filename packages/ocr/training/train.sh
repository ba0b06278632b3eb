#!/usr/bin/env bash
# Reproduces model/ocr.onnx from scratch: installs the tools, renders the data, trains, exports,
# and refreshes the test fixtures and what PyTorch computed for them (the parity test's reference).
#   packages/ocr/training/train.sh
# On a 2-core CPU: about 16 minutes of data, then 10 + 55 minutes of training.
set -euo pipefail
cd "$(dirname "$0")"

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
  queue train 101 synthetic 60000 svg-captcha-hard 16000 trek-captcha 12000 captchapng 6000 captcha-canvas 14000
  queue val 9001 synthetic 400 svg-captcha-hard 400 trek-captcha 400 captchapng 400 captcha-canvas 400
} &
{
  queue train 201 haileybot 10000 node-captcha-generator 4000 svg-captcha-easy 12000
  queue val 9101 haileybot 400 node-captcha-generator 400 svg-captcha-easy 400
} &
wait

# Two runs, as the shipped model was made: the first 1000 steps of a 9130-step schedule (that run
# was stopped when the machine slowed down), then a fresh 5000-step schedule from its checkpoint.
/usr/bin/python3 train.py --data data --out ../model --steps 9130 --stop-after 1000
cp data/best.pt data/phase1.pt
/usr/bin/python3 train.py --data data --out ../model --init data/phase1.pt --steps 5000
node fixtures.mjs
node parity.mjs
