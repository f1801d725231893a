#!/usr/bin/python3
"""Plain PyTorch training step, the baseline for vaco's DJL trainer (TrainBench runs it in the same session).

Same model (hf_llama_ref.LlamaForCausalLM, the eager transformers transcription), same weights (MODEL_DIR written
by the Java side), same batch: forward, log-softmax cross-entropy over every position of the batch, backward,
torch.optim.AdamW step, zero_grad. Two intra-op threads by default, like the Java side. Prints one machine-readable line:
  BASELINE tokens_per_s=<float> step_ms=<median> mean_step_ms=<float> loss_first=<float> loss_last=<float> torch=<v>

Usage: train_step_baseline.py MODEL_DIR BATCH_FILE WARMUP STEPS [THREADS, default 2]
  BATCH_FILE: rows of space-separated token ids, T+1 per row (inputs are [:, :-1], targets [:, 1:])
"""
import os
import sys
import time

import torch

# hf_llama_ref.py stays beside the learner test that compares logits with it (learner/src/test/python)
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, "..", "..", "..", "..", "learner", "src", "test", "python"))
import hf_llama_ref  # noqa: E402


def main(argv):
    model_dir, batch_file, warmup, steps = argv[1], argv[2], int(argv[3]), int(argv[4])
    torch.set_num_threads(int(argv[5]) if len(argv) > 5 else 2)
    model = hf_llama_ref.load(model_dir).train()
    with open(batch_file) as f:
        rows = [[int(x) for x in line.split()] for line in f if line.strip()]
    seq = torch.tensor(rows, dtype=torch.int64)
    inputs, targets = seq[:, :-1], seq[:, 1:]
    b, t = inputs.shape
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    losses = []

    def step():
        logits = model(inputs)                                       # [B, T, V]
        logp = torch.log_softmax(logits, dim=-1)
        loss = -logp.gather(-1, targets.unsqueeze(-1)).mean()        # cross-entropy over the batch
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    # Median step: the machine is shared, and the median is what a steady trainer sees without the outliers.
    median = sorted(times)[len(times) // 2]
    print(f"BASELINE tokens_per_s={b * t / median:.1f} step_ms={1000 * median:.1f} "
          f"mean_step_ms={1000 * sum(times) / len(times):.1f} "
          f"loss_first={losses[0]:.4f} loss_last={losses[-1]:.4f} torch={torch.__version__}")


if __name__ == "__main__":
    main(sys.argv)
