#!/usr/bin/env bash
# Reproduces model/ocr.onnx from scratch: installs the tools, renders the data, trains, exports,
# and refreshes the test fixtures and what PyTorch computed for them (the parity test's reference).
#   packages/ocr/training/train.sh
# On a 2-core CPU: about 30 + 25 + 30 + 25 minutes of data, then about 7.5 hours of training (seven runs).
set -euo pipefail
cd "$(dirname "$0")"

./setup.sh
# Every workspace: the training scripts import the OCR package's build.
(cd ../../.. && npx tsc -b)

rm -rf data data-fresh data-fresh2 data-fresh3
# Two queues, one per core. Seeds differ per source and per split, so no split repeats another.
queue() {
  local out=$1 split=$2 seed=$3; shift 3
  while [ $# -gt 0 ]; do
    node make-dataset.mjs --out "$out" --split "$split" --source "$1" --count "$2" --seed "$seed"
    seed=$((seed + 1)); shift 2
  done
}
{
  queue data train 601 synthetic 90000 svg-captcha-hard 16000 captchapng 6000
  queue data val 9001 synthetic 400 svg-captcha-hard 400 trek-captcha 400 captchapng 400 captcha-canvas 400
} &
{
  queue data train 501 haileybot 15000 node-captcha-generator 9000 svg-captcha-easy 12000 trek-captcha 12000 captcha-canvas 14000
  queue data val 9101 haileybot 400 node-captcha-generator 400 svg-captcha-easy 400
} &
wait

# PyTorch's largest activations (75 MB at batch 128) are above glibc's highest mmap threshold
# (32 MB), so every step mapped and unmapped them: about 100 000 page faults a second, a third of
# a 2-core run's time in the kernel, 77 to 108 images/s. jemalloc, told to keep the pages it
# frees, reuses them: 200 to 280 images/s on the same machine.
train() {
  LD_PRELOAD="$(dpkg -L libjemalloc2 | grep '/libjemalloc\.so\.2$')" MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
    /usr/bin/python3 train.py "$@"
}

# The first five runs (README.md, "How the shipped model was made" and "Run 6"): the first 1000
# steps of a 9130-step schedule, a 5000-step schedule from its checkpoint, then 90 and 75 minutes
# at a lower rate with the sources still short of the bar drawn more often, then 55 minutes on a
# fresh draw.
train --data data --out ../model --steps 9130 --stop-after 1000
cp data/best.pt data/phase1.pt
train --data data --out ../model --init data/phase1.pt --steps 5000
cp data/best.pt data/phase2.pt
SHORT_OF_THE_BAR=synthetic=0.40,haileybot=0.18,node-captcha-generator=0.10,trek-captcha=0.10,captcha-canvas=0.09,svg-captcha-hard=0.07,svg-captcha-easy=0.03,captchapng=0.03
train --data data --out ../model --init data/phase2.pt --minutes 90 --lr 1.5e-3 --eval-every 1000 --weights "$SHORT_OF_THE_BAR"
cp data/best.pt data/phase3.pt
train --data data --out ../model --init data/phase3.pt --minutes 75 --lr 1.5e-3 --eval-every 1000 --weights "$SHORT_OF_THE_BAR"
cp data/best.pt data/phase4.pt

# Phase 5 (README: "Run 6"): by now the model knew the first draw by heart (99.6 % on haileybot's
# training images, 90.5 % on fresh ones), so it goes on with a fresh draw of everything, haileybot
# twice as large, and moved, scaled, tilted and sheared a little (--geometry).
{ queue data-fresh train 7001 synthetic 100000 svg-captcha-hard 12000 captchapng 5000 svg-captcha-easy 8000; } &
{ queue data-fresh train 7101 haileybot 30000 node-captcha-generator 12000 trek-captcha 12000 captcha-canvas 10000; } &
wait
ln -s ../data/val data-fresh/val
train --data data-fresh --out ../model --init data/phase4.pt --minutes 55 --lr 1e-3 --eval-every 1000 --geometry 0.5 \
  --weights synthetic=0.38,haileybot=0.20,node-captcha-generator=0.12,trek-captcha=0.08,captcha-canvas=0.07,svg-captcha-hard=0.07,svg-captcha-easy=0.04,captchapng=0.04
cp data-fresh/best.pt data/phase5.pt

# Phase 6 (README: "Run 7"): a second fresh draw (new seeds again), weighted towards the three
# sources still short of the bar; checkpoints compared by their total shortfall to the bar.
{ queue data-fresh2 train 7201 haileybot 26000 node-captcha-generator 19000; } &
{ queue data-fresh2 train 7301 synthetic 100000 svg-captcha-hard 5000 captchapng 3000 svg-captcha-easy 3000 trek-captcha 5000 captcha-canvas 5000; } &
wait
ln -s ../data/val data-fresh2/val
train --data data-fresh2 --out ../model --init data/phase5.pt --minutes 85 --lr 1e-3 --eval-every 1000 --geometry 0.5 \
  --weights synthetic=0.34,haileybot=0.22,node-captcha-generator=0.18,trek-captcha=0.07,captcha-canvas=0.06,svg-captcha-hard=0.06,svg-captcha-easy=0.035,captchapng=0.035
cp data-fresh2/best.pt data/phase6.pt

# Phase 7 (README: "Run 8"): a third fresh draw, smaller (about 25 minutes to render, against 30), weighted
# harder still towards haileybot and node-captcha-generator, at a lower peak rate.
{ queue data-fresh3 train 7401 haileybot 20000; } &
{ queue data-fresh3 train 7501 node-captcha-generator 16000 synthetic 60000 svg-captcha-hard 3000 captchapng 2000 svg-captcha-easy 2000 trek-captcha 3000 captcha-canvas 3000; } &
wait
ln -s ../data/val data-fresh3/val
train --data data-fresh3 --out ../model --init data/phase6.pt --minutes 100 --lr 7e-4 --eval-every 1000 --geometry 0.5 \
  --weights synthetic=0.28,haileybot=0.26,node-captcha-generator=0.22,trek-captcha=0.06,captcha-canvas=0.05,svg-captcha-hard=0.05,svg-captcha-easy=0.04,captchapng=0.04
cp data-fresh3/best.pt ../model/ocr.pt
node fixtures.mjs
node parity.mjs
