#!/usr/bin/env python3
"""Prints, as JSON, PyTorch's reading of packed preprocessed images: per column the best class and
its log-probability, and the greedy text. Used by parity.mjs."""
import json
import sys

import numpy as np
import torch

from train import CHARSET, INPUT_HEIGHT, INPUT_WIDTH, CaptchaNet, greedy

pixels = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(-1, 1, INPUT_HEIGHT, INPUT_WIDTH)
model = CaptchaNet(len(CHARSET) + 1)
model.load_state_dict(torch.load(sys.argv[2], map_location="cpu"))
model.eval()
with torch.no_grad():
    logprobs = model(torch.from_numpy(pixels).float())
best, classes = logprobs.max(2)
texts = greedy(logprobs)
print(json.dumps([
    {"classes": classes[i].tolist(), "logprobs": [round(v, 5) for v in best[i].tolist()], "greedy": texts[i]}
    for i in range(len(pixels))
]))
