#!/usr/bin/python3
"""PyTorch eager baseline for the serving benchmark (docs/bench/serving.md).

A straightforward eager generation loop with a preallocated KV cache over the *same* weights as the vaco server:
reads the model dir's config.json and model.safetensors (small numpy safetensors reader), runs the Hugging Face
Llama forward (RMSNorm, rotate-half RoPE, GQA, SwiGLU, tied lm_head), batched: one prefill of B prompts of
--prompt-len random token ids, then --new-tokens - 1 decode steps, sampling at temperature 1 (seeded).
Prints one JSON line per batch size: generated tokens/s including the prefill (comparable to the server's closed-loop
figure; median and best of the timed generations, repeated for at least --min-seconds) and decode-only tokens/s.

    /usr/bin/python3 bench/src/main/python/torch_generate_baseline.py \
        --model-dir /tmp/vaco-serving-bench/25m --batches 1,8,64 --prompt-len 64 --new-tokens 192

Debian's torch (/usr/bin/python3, not the python3 on PATH), 2 threads. Needs libopenblas0-pthread.
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        if meta["dtype"] == "BF16":
            raw = np.frombuffer(data[a:b], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[a:b], dtype=DTYPES[meta["dtype"]]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(meta["shape"]).copy())
    return out


class Llama:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            c = json.load(f)
        self.c = c
        self.H = c["hidden_size"]
        self.NH = c["num_attention_heads"]
        self.KVH = c.get("num_key_value_heads", self.NH)
        self.hd = c.get("head_dim") or self.H // self.NH
        self.L = c["num_hidden_layers"]
        self.eps = c["rms_norm_eps"]
        self.V = c["vocab_size"]
        self.ctx = c["max_position_embeddings"]
        w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
        self.embed = w["model.embed_tokens.weight"]
        self.lm_head = w.get("lm_head.weight", self.embed)  # tied
        self.norm = w["model.norm.weight"]
        self.layers = []
        for i in range(self.L):
            p = "model.layers.%d." % i
            g = lambda n: w.get(p + n)
            self.layers.append(dict(
                ln1=g("input_layernorm.weight"), ln2=g("post_attention_layernorm.weight"),
                q=g("self_attn.q_proj.weight"), k=g("self_attn.k_proj.weight"), v=g("self_attn.v_proj.weight"),
                o=g("self_attn.o_proj.weight"), qb=g("self_attn.q_proj.bias"), kb=g("self_attn.k_proj.bias"),
                vb=g("self_attn.v_proj.bias"), gate=g("mlp.gate_proj.weight"), up=g("mlp.up_proj.weight"),
                down=g("mlp.down_proj.weight")))
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
        freqs = torch.outer(torch.arange(self.ctx, dtype=torch.float32), inv)
        emb = torch.cat([freqs, freqs], dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()  # [ctx, hd]

    def rms(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    @staticmethod
    def rotate_half(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], dim=-1)

    def new_cache(self, B, cap):
        return [(torch.zeros(B, self.KVH, cap, self.hd), torch.zeros(B, self.KVH, cap, self.hd)) for _ in range(self.L)]

    def forward(self, ids, cache, pos):
        """ids [B, T] at positions pos..pos+T-1; returns logits of the last position [B, V]."""
        B, T = ids.shape
        x = self.embed[ids]  # [B, T, H]
        cos = self.cos[pos:pos + T][None, None]
        sin = self.sin[pos:pos + T][None, None]
        rep = self.NH // self.KVH
        causal = None
        if T > 1:
            causal = torch.full((T, pos + T), float("-inf")).triu(pos + 1)
        for l, (kc, vc) in zip(self.layers, cache):
            h = self.rms(x, l["ln1"])
            q = torch.nn.functional.linear(h, l["q"], l["qb"]).view(B, T, self.NH, self.hd).transpose(1, 2)
            k = torch.nn.functional.linear(h, l["k"], l["kb"]).view(B, T, self.KVH, self.hd).transpose(1, 2)
            v = torch.nn.functional.linear(h, l["v"], l["vb"]).view(B, T, self.KVH, self.hd).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            kc[:, :, pos:pos + T] = k
            vc[:, :, pos:pos + T] = v
            K = kc[:, :, :pos + T]
            Vv = vc[:, :, :pos + T]
            # GQA: query heads grouped per kv head, [B, KVH, rep*T, hd]
            qg = q.reshape(B, self.KVH, rep * T, self.hd)
            s = torch.matmul(qg, K.transpose(-1, -2)) / (self.hd ** 0.5)  # [B, KVH, rep*T, S]
            if causal is not None:
                s = s.view(B, self.KVH, rep, T, pos + T) + causal
                s = s.view(B, self.KVH, rep * T, pos + T)
            a = torch.matmul(torch.softmax(s, dim=-1), Vv)  # [B, KVH, rep*T, hd]
            a = a.reshape(B, self.NH, T, self.hd).transpose(1, 2).reshape(B, T, self.NH * self.hd)
            x = x + torch.nn.functional.linear(a, l["o"])
            h = self.rms(x, l["ln2"])
            m = torch.nn.functional.silu(torch.nn.functional.linear(h, l["gate"])) * torch.nn.functional.linear(h, l["up"])
            x = x + torch.nn.functional.linear(m, l["down"])
        x = self.rms(x[:, -1], self.norm)
        return torch.nn.functional.linear(x, self.lm_head)


def sample(logits, gen, temperature):
    if temperature == 0:
        return logits.argmax(-1)
    p = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(p, 1, generator=gen).squeeze(-1)


def generate(m, prompts, new_tokens, temperature, gen):
    B, P = prompts.shape
    cache = m.new_cache(B, P + new_tokens)
    t0 = time.perf_counter()
    tok = sample(m.forward(prompts, cache, 0), gen, temperature)
    t1 = time.perf_counter()
    for i in range(1, new_tokens):
        tok = sample(m.forward(tok[:, None], cache, P + i - 1), gen, temperature)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def matmul_ceiling():
    """The same measurement as the ORT ceiling in ServingBench/OrtBench: best of 6 fp32 n x n matmuls, n = 1024, 2048."""
    best = 0.0
    for n in (1024, 2048):
        a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        torch.matmul(a, b, out=c)  # warm-up
        for _ in range(6):
            t = time.perf_counter()
            torch.matmul(a, b, out=c)
            best = max(best, 2.0 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", help="required unless --ceiling")
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=192)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-runs", type=int, default=1)
    ap.add_argument("--check-prompt", help="comma-separated prompt ids: print the greedy continuation and exit")
    ap.add_argument("--check-tokens", type=int, default=32)
    ap.add_argument("--min-seconds", type=float, default=10.0)
    ap.add_argument("--ceiling", action="store_true",
                    help="print this torch's fp32 matmul ceiling (best of 6 n x n matmuls, n = 1024 and 2048) and exit")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.ceiling:
        print(json.dumps(dict(engine="torch " + torch.__version__, threads=torch.get_num_threads(),
                              ceiling_gflops=round(matmul_ceiling(), 1))), flush=True)
        return
    if not a.model_dir:
        ap.error("--model-dir is required")
    m = Llama(a.model_dir)
    if a.check_prompt:
        with torch.inference_mode():
            ids = torch.tensor([[int(x) for x in a.check_prompt.split(",")]])
            cache = m.new_cache(1, ids.shape[1] + a.check_tokens)
            out, pos = [], 0
            x = ids
            for i in range(a.check_tokens):
                logits = m.forward(x, cache, pos)
                pos += x.shape[1]
                t = int(logits.argmax(-1)[0])
                out.append(t)
                x = torch.tensor([[t]])
            print(json.dumps(dict(check_tokens=out)))
        return
    with torch.inference_mode():
        for B in [int(x) for x in a.batches.split(",")]:
            gen = torch.Generator().manual_seed(B)
            prompts = torch.randint(0, m.V, (B, a.prompt_len), generator=gen)
            generate(m, prompts, 6, a.temperature, gen)  # warm-up: prefill + 5 decode steps
            runs = []  # (prefill s, decode s); at least --min-runs full generations, more while under --min-seconds
            t_start = time.perf_counter()
            while len(runs) < a.min_runs or (time.perf_counter() - t_start < a.min_seconds and len(runs) < 20):
                runs.append(generate(m, prompts, a.new_tokens, a.temperature, gen))
            tot = sorted(B * a.new_tokens / (p + d) for p, d in runs)
            dec = sorted(B * (a.new_tokens - 1) / d for p, d in runs)
            print(json.dumps(dict(engine="torch-eager " + torch.__version__, threads=torch.get_num_threads(), batch=B,
                                  prompt_len=a.prompt_len, new_tokens=a.new_tokens, runs=len(runs),
                                  tokens_per_s=round(tot[len(tot) // 2], 1), tokens_per_s_best=round(tot[-1], 1),
                                  decode_tokens_per_s=round(dec[len(dec) // 2], 1),
                                  prefill_s=round(runs[0][0], 3), decode_s=round(runs[0][1], 3),
                                  load=os.getloadavg()[0])), flush=True)


if __name__ == "__main__":
    main()
