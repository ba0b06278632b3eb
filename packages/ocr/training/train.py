#!/usr/bin/env python3
"""
Trains the OCR model (a small CNN + CTC) on the packed data of make-dataset.mjs, and exports it
to ONNX with the metadata the server needs (charset, input size).

Runs on CPU (Debian's python3-torch 1.13) and on a CUDA GPU (torch 2.x) alike: the device is
picked at start, and nothing else differs.

  python3 train.py --data data --steps 6000 --out ../model
"""
import argparse
import copy
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The characters the model reads. Index 0 of the output is the CTC blank; class i + 1 is CHARSET[i].
# The order is part of the model: it is written to ocr.json, which the server reads.
CHARSET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-*=? "
INPUT_HEIGHT, INPUT_WIDTH = 48, 192

# How often each source is drawn in a batch. Our synthetic source is the most varied, so it gets
# the largest share; the third-party generators are each narrow.
WEIGHTS = {
    "synthetic": 0.36,
    "svg-captcha-easy": 0.07,
    "svg-captcha-hard": 0.09,
    "trek-captcha": 0.07,
    "captchapng": 0.05,
    "node-captcha-generator": 0.06,
    "haileybot": 0.16,
    "captcha-canvas": 0.14,
    # A deployment's own confirmed answers (solvebox ocr adapt); absent from our runs' data.
    "samples": 0.0,
}
# Rows of features the four poolings leave (height / 16): they are stacked into each column's features.
FEATURE_ROWS = INPUT_HEIGHT // 16
CASE_SENSITIVE = {"synthetic", "svg-captcha-easy", "svg-captcha-hard"}
# The accuracy each source must reach (ignoring case): the bar. Checkpoints are compared
# by how far they are from it in all (see checkpoint_score).
BAR = 0.97


def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class CaptchaNet(nn.Module):
    """Conv features over the image, squeezed to one column per 4 pixels, then a 1-D conv head.

    Input: N × 1 × 48 × 192 grey bytes as floats 0..255. The four poolings leave 3 rows of 128
    features per column. Output: N × 48 × classes log-probabilities.
    """

    def __init__(self, classes):
        super().__init__()
        self.features = nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2),
            *block(16, 32), nn.MaxPool2d(2),
            *block(32, 64), nn.MaxPool2d((2, 1)),
            *block(64, 128), nn.MaxPool2d((2, 1)),
        )
        self.head = nn.Sequential(
            nn.Conv1d(128 * FEATURE_ROWS, 160, 3, padding=1, bias=False), nn.BatchNorm1d(160), nn.ReLU(inplace=True),
            nn.Conv1d(160, 160, 3, padding=1, bias=False), nn.BatchNorm1d(160), nn.ReLU(inplace=True),
            nn.Dropout(0.1),
            nn.Conv1d(160, classes, 1),
        )

    def forward(self, pixels):
        x = pixels / 127.5 - 1.0
        f = self.features(x)
        n, c, h, w = f.shape
        logits = self.head(f.reshape(n, c * h, w))
        return logits.permute(0, 2, 1).log_softmax(2)


def load_init(model, path, device):
    """Loads a checkpoint to start from. A checkpoint of the earlier 32 × 128 model (2 feature rows)
    is accepted too: its conv layers fit unchanged, and the head's first layer gets a third,
    middle row, the mean of the two, all scaled by 2/3 so that its outputs keep their size."""
    state = torch.load(path, map_location=device)
    weight = state["head.0.weight"]
    want = model.head[0].weight.shape[1]
    if weight.shape[1] != want:
        if (weight.shape[1], want) != (128 * 2, 128 * 3):
            raise SystemExit(f"--init {path}: its head reads {weight.shape[1]} features per column, this model {want}")
        top, bottom = weight[:, 0::2], weight[:, 1::2]
        rows = torch.stack([top, (top + bottom) / 2, bottom], dim=2) * (2 / 3)  # out × 128 × 3 rows × k
        state["head.0.weight"] = rows.reshape(weight.shape[0], 128 * 3, weight.shape[2])
    model.load_state_dict(state)


def one_cycle(fraction, peak):
    """The one-cycle learning rate (as torch's OneCycleLR): a cosine rise from peak/25 over the first
    15 % of training, then a cosine fall to peak/250 000."""
    warmup, start, end = 0.15, peak / 25, peak / 25 / 1e4
    if fraction < warmup:
        return start + (peak - start) * (1 - math.cos(math.pi * fraction / warmup)) / 2
    fall = (fraction - warmup) / (1 - warmup)
    return end + (peak - end) * (1 + math.cos(math.pi * fall)) / 2


def jitter_geometry(batch, share):
    """Moves, scales, tilts and shears a random share of the batch a little (ink on white, so the
    edges are padded with white). The training draws are seen many times over, and run 4 had learnt
    them by heart (99.6 % on haileybot's training images against 90.5 % on fresh ones): this makes
    each sight a little different, in the geometry, which is what varies most between two draws of
    one generator."""
    n = batch.shape[0]
    chosen = torch.rand(n) < share
    k = int(chosen.sum())
    if k == 0:
        return batch
    angle = torch.empty(k).uniform_(-4, 4) * math.pi / 180
    scale = torch.empty(k).uniform_(0.88, 1.08)
    shear = torch.empty(k).uniform_(-0.15, 0.15)
    shift_x = torch.empty(k).uniform_(-0.06, 0.06)
    shift_y = torch.empty(k).uniform_(-0.10, 0.10)
    # In pixels, the output point p samples the input at A p + t. affine_grid works in coordinates
    # scaled to [-1, 1] on each axis, so A is conjugated by the aspect ratio.
    aspect = INPUT_WIDTH / INPUT_HEIGHT
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(k, 2, 3)
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = (-sin + shear) / aspect
    theta[:, 1, 0] = sin * aspect
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = shift_x
    theta[:, 1, 2] = shift_y
    picked = batch[chosen]
    grid = F.affine_grid(theta, list(picked.shape), align_corners=False)
    moved = 255 - F.grid_sample(255 - picked, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    batch = batch.clone()
    batch[chosen] = moved
    return batch


def load_split(root, split):
    sets = {}
    folder = os.path.join(root, split)
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".u8"):
            continue
        source = name[:-3]
        pixels = np.fromfile(os.path.join(folder, name), dtype=np.uint8).reshape(-1, INPUT_HEIGHT, INPUT_WIDTH)
        with open(os.path.join(folder, source + ".txt"), encoding="utf-8") as f:
            labels = f.read().split("\n")[: len(pixels)]
        if len(labels) != len(pixels):
            raise SystemExit(f"{split}/{source}: {len(pixels)} images but {len(labels)} answers")
        sets[source] = (pixels, labels)
    return sets


def encode(label):
    return [CHARSET.index(ch) + 1 for ch in label]


def greedy(logprobs):
    """Best path: the most likely class per column, repeats merged, blanks dropped."""
    best = logprobs.argmax(2).cpu().numpy()
    out = []
    for row in best:
        text, prev = [], 0
        for k in row:
            if k != prev and k != 0:
                text.append(CHARSET[k - 1])
            prev = k
        out.append("".join(text))
    return out


def evaluate(model, device, val):
    model.eval()
    report = {}
    with torch.no_grad():
        for source, (pixels, labels) in val.items():
            predictions = []
            # Batches of 32: the pretrained model's activations at 256 outgrow the CPU's caches (10 times slower).
            for i in range(0, len(pixels), 32):
                batch = torch.from_numpy(pixels[i:i + 32]).float().unsqueeze(1).to(device)
                predictions += greedy(model(batch))
            exact = sum(p == t for p, t in zip(predictions, labels)) / len(labels)
            folded = sum(p.lower() == t.lower() for p, t in zip(predictions, labels)) / len(labels)
            report[source] = (exact, folded)
    model.train()
    return report


def checkpoint_score(report):
    """The sum over sources of validation accuracy (ignoring case), each capped at the bar: a point
    gained on any source short of the bar counts the same, and one beyond it counts nothing. Runs
    up to 6 kept the checkpoint with the best weakest source instead, which was always synthetic,
    so a checkpoint 1 point better on haileybot lost to one 0.5 better on synthetic."""
    return sum(min(folded, BAR) for _, folded in report.values())


def adaptation_score(report, before, max_drop):
    """An adaptation's checkpoints are ranked by the accuracy on the operator's held-out samples,
    among those that keep our own sources within --max-drop of where they began: the rule that
    refuses a model is the constraint the choice honours, so a run whose later checkpoints forget
    too much still yields its best earlier one. Checkpoints that break it rank below every one that
    keeps it, by how little they lose."""
    ours = [s for s in report if s != "samples"]
    mean = lambda r: sum(r[s][1] for s in ours) / max(1, len(ours))
    drop = mean(before) - mean(report)
    if drop > max_drop:
        return -1.0 - drop
    return report["samples"][1] + 1e-3 * mean(report)


# The least training a --deadline run gets, whatever is left of its budget.
MIN_TRAINING_MINUTES = 0.5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data")
    parser.add_argument("--out", default="../model")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--minutes", type=float, default=0,
                        help="instead of --steps: train this long, the learning-rate cycle following the clock")
    parser.add_argument("--deadline", type=float, default=0,
                        help="instead of --minutes: end everything, the final validation and export included, by this "
                             "Unix time (adapting: the operator's --minutes cover the whole run, not only training)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", help="start from this checkpoint (a state dict saved by an earlier run)")
    parser.add_argument("--stop-after", type=int, default=0, help="end after this many steps of the --steps schedule")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--geometry", type=float, default=0.0,
                        help="share of each batch moved, scaled, tilted and sheared a little (jitter_geometry)")
    parser.add_argument("--keep-evals", action="store_true",
                        help="also save every evaluated checkpoint as DATA/step-N.pt (to compare or average them later)")
    parser.add_argument("--arch", choices=["small", "ppocr"], default="small",
                        help="small: our own CaptchaNet; ppocr: PaddleOCR's PP-OCRv4 recogniser, pretrained (pretrained.py)")
    parser.add_argument("--freeze", type=int, default=0,
                        help="with --arch ppocr: leave this many of its first convolutions as they are (faster on a CPU)")
    parser.add_argument("--max-drop", type=float, default=None,
                        help="validate the starting model first, and refuse to export (exit 3) when the mean accuracy "
                             "over our sources (all but samples) ends more than this below it, e.g. 0.01")
    parser.add_argument("--distill", type=float, default=0.0,
                        help="on replayed images, pull the outputs towards --init's by this weight (adapting)")
    parser.add_argument("--weights", default="",
                        help="change sources' shares of a batch, e.g. haileybot=0.2,captchapng=0.02")
    args = parser.parse_args()
    shares = dict(WEIGHTS)
    for item in filter(None, args.weights.split(",")):
        source, _, share = item.partition("=")
        if source not in shares:
            raise SystemExit(f"--weights: unknown source {source}")
        shares[source] = float(share)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    # Adam's second-moment estimates of rarely used classes can decay into denormal floats, which
    # the CPU computes many times slower (a CPU run slowed threefold after 600 steps). The flag is
    # per thread, and threads copy it when they are created: so set it before the thread pool exists.
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train = load_split(args.data, "train")
    val = load_split(args.data, "val")
    sources = [s for s in shares if s in train]
    weights = np.array([shares[s] for s in sources])
    weights /= weights.sum()
    encoded = {s: [encode(t) for t in train[s][1]] for s in sources}
    print("training on", {s: len(train[s][1]) for s in sources}, "device", device, flush=True)

    if args.arch == "ppocr":
        from pretrained import PretrainedNet
        model = PretrainedNet(CHARSET, frozen_convs=args.freeze).to(device)
        if args.init:
            model.load_state_dict(torch.load(args.init, map_location=device))
    else:
        model = CaptchaNet(len(CHARSET) + 1).to(device)
        if args.init:
            load_init(model, args.init, device)
    print("parameters", sum(p.numel() for p in model.parameters()), flush=True)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    started = time.time()
    best_score, best_state = float("-inf"), None
    before = None

    def validate(step):
        nonlocal best_score, best_state
        report = evaluate(model, device, val)
        adapting = before is not None and "samples" in report
        score = adaptation_score(report, before, args.max_drop) if adapting else checkpoint_score(report)
        print(f"eval step {step}: " + ", ".join(f"{s} {e:.3f}/{f:.3f}" for s, (e, f) in report.items())
              + f"; score {score:.3f}", flush=True)
        if args.keep_evals:
            torch.save(model.state_dict(), os.path.join(args.data, f"step-{step}.pt"))
        if score >= best_score:
            best_score = score
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            torch.save(best_state, os.path.join(args.data, "best.pt"))

    # Distillation: on our own sources the adapting model is also taught the starting model's
    # per-frame output distributions, not only the labels, which keeps what it read there.
    teacher = None
    if args.distill and args.init:
        teacher = copy.deepcopy(model).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    if args.max_drop is not None:
        evaluated = time.time()
        before = evaluate(model, device, val)
        print("eval before: " + ", ".join(f"{s} {e:.3f}/{f:.3f}" for s, (e, f) in before.items()), flush=True)
        evaluation = time.time() - evaluated
    else:
        evaluation = 0
    if args.deadline:
        # What follows the last step: one more validation, the final evaluation, the export (a few seconds).
        args.minutes = (args.deadline - started - 2 * evaluation - 15) / 60
        if args.minutes < MIN_TRAINING_MINUTES:
            # A budget spent before training began (a slow machine, a tiny --minutes): train a
            # little anyway rather than fail, and say by how much the deadline is missed.
            print(f"the deadline leaves {max(0, args.minutes) * 60:.0f} s to train; training {MIN_TRAINING_MINUTES * 60:.0f} s", flush=True)
            args.minutes = MIN_TRAINING_MINUTES
        print(f"training for {args.minutes:.1f} min", flush=True)
    step = 0
    last_report = started
    while not (args.stop_after and step >= args.stop_after):
        # With --minutes the cycle follows the clock, not a step count guessed in advance: a CPU
        # run's speed changed by a factor of two partway through, and the cycle must still end.
        done = (time.time() - started) / (args.minutes * 60) if args.minutes else step / args.steps
        if done >= 1:
            break
        for group in optimizer.param_groups:
            group["lr"] = one_cycle(done, args.lr)
        step += 1
        picks = rng.choice(len(sources), size=args.batch, p=weights)
        images, targets, lengths = [], [], []
        for k in picks:
            source = sources[k]
            i = rng.integers(len(encoded[source]))
            images.append(train[source][0][i])
            targets += encoded[source][i]
            lengths.append(len(encoded[source][i]))
        batch = torch.from_numpy(np.stack(images)).float().unsqueeze(1)
        if args.geometry:
            batch = jitter_geometry(batch, args.geometry)
        if rng.random() < 0.5:
            # Light photometric jitter: contrast and brightness, so that the model does not lean on exact grey levels.
            scale = torch.empty(len(images), 1, 1, 1).uniform_(0.7, 1.2)
            shift = torch.empty(len(images), 1, 1, 1).uniform_(-30, 30)
            batch = ((batch - 128) * scale + 128 + shift).clamp(0, 255)
        batch = batch.to(device)
        logprobs = model(batch).permute(1, 0, 2)  # T × N × C for CTCLoss
        input_lengths = torch.full((len(images),), logprobs.shape[0], dtype=torch.long)
        loss = ctc(logprobs, torch.tensor(targets, dtype=torch.long), input_lengths, torch.tensor(lengths, dtype=torch.long))
        if teacher is not None:
            replayed = torch.tensor([sources[k] != "samples" for k in picks], device=device)
            if replayed.any():
                with torch.no_grad():
                    taught = teacher(batch[replayed])
                kl = F.kl_div(logprobs.permute(1, 0, 2)[replayed], taught, log_target=True, reduction="none").sum(-1).mean()
                loss = loss + args.distill * kl
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step % 100 == 0:
            now = time.time()
            rate = 100 * args.batch / (now - last_report)  # over the last 100 steps: the speed drifts
            last_report = now
            print(f"step {step} loss {loss.item():.4f} lr {optimizer.param_groups[0]['lr']:.5f} {rate:.0f} img/s", flush=True)
        if step % args.eval_every == 0:
            validate(step)
    if step % args.eval_every != 0:
        validate(step)
    args.steps = step

    model.load_state_dict(best_state)
    after = evaluate(model, torch.device("cpu"), val)
    if before is not None:
        ours = [s for s in after if s != "samples"]
        mean = lambda report: sum(report[s][1] for s in ours) / max(1, len(ours))
        report = {"before": {s: round(f, 4) for s, (_, f) in before.items()}, "after": {s: round(f, 4) for s, (_, f) in after.items()},
                  "ourSourcesBefore": round(mean(before), 4), "ourSourcesAfter": round(mean(after), 4), "steps": step,
                  "seconds": round(time.time() - started)}
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "report.json"), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        print("report " + json.dumps(report), flush=True)
        if mean(after) < mean(before) - args.max_drop:
            print(f"refused: our sources fell from {mean(before):.4f} to {mean(after):.4f}, more than {args.max_drop}", flush=True)
            raise SystemExit(3)
    export(model.cpu(), args, time.time() - started, after)
    # The weights too, so that a model made this way can be adapted again (--init).
    torch.save(best_state, os.path.join(args.out, "ocr.pt"))


def export(model, args, seconds, report):
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    dummy = torch.zeros(1, 1, INPUT_HEIGHT, INPUT_WIDTH)
    path = os.path.join(args.out, "ocr.onnx")
    kwargs = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
    # The server reads one image at a time. The pretrained graph computes its reshapes from shapes,
    # which tracing records as constants: so its export reads batches of one only.
    dynamic = {} if args.arch == "ppocr" else {"pixels": {0: "batch"}, "logprobs": {0: "batch"}}
    torch.onnx.export(
        model, dummy, path, opset_version=13, input_names=["pixels"], output_names=["logprobs"],
        dynamic_axes=dynamic, **kwargs,
    )
    meta = {
        "charset": CHARSET,
        "inputHeight": INPUT_HEIGHT,
        "inputWidth": INPUT_WIDTH,
        "blank": 0,
        "training": {
            "architecture": args.arch,
            "steps": args.steps,
            "batch": args.batch,
            "seconds": round(seconds),
            "torch": torch.__version__,
            "validation": {s: {"caseSensitive": round(e, 4), "caseInsensitive": round(f, 4)} for s, (e, f) in report.items()},
        },
    }
    with open(os.path.join(args.out, "ocr.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("exported", path, os.path.getsize(path), "bytes", flush=True)


if __name__ == "__main__":
    main()
