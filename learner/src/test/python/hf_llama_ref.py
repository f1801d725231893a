#!/usr/bin/python3
"""Reference forward of Hugging Face's Llama / Qwen2 decoder, for parity tests of vaco's DJL trainer.

Why a transcription and not `transformers`: PyPI is unreachable on the build machines and Debian bookworm has no
`transformers` package, so this file re-states, line for line, the eager path of transformers' modeling_llama.py /
modeling_qwen2.py (LlamaRMSNorm, LlamaRotaryEmbedding + rotate_half + apply_rotary_pos_emb, repeat_kv,
eager_attention_forward, LlamaMLP, LlamaModel, LlamaForCausalLM). It needs only torch (Debian's python3-torch,
1.13) and numpy, and reads a model directory as vaco and Hugging Face write it: config.json + model.safetensors
(fp32/fp16/bf16, parsed here with numpy).

Usage:
  hf_llama_ref.py MODEL_DIR TOKENS_FILE OUT_FILE
    TOKENS_FILE: one row of space-separated token ids per line (rows of equal length)
    OUT_FILE: little-endian float32 logits [B, T, V], raw
  hf_llama_ref.py MODEL_DIR --tokens "1 2 3"      prints the logits' shape and last row's argmax
"""
import json
import math
import struct
import sys

import numpy as np
import torch
from torch import nn

# ------------------------------------------------------------------------------------------------- safetensors


def read_safetensors(path):
    """{name: torch.Tensor} from a .safetensors file: u64 header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin:base + end]
        if info["dtype"] == "BF16":
            # bf16 is the top half of an fp32
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(dtypes[info["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]).copy())
    return out


# ------------------------------------------------------------------------------------------------- modules


class Config:
    def __init__(self, d):
        self.model_type = d["model_type"]
        self.vocab_size = d["vocab_size"]
        self.hidden_size = d["hidden_size"]
        self.intermediate_size = d["intermediate_size"]
        self.num_hidden_layers = d["num_hidden_layers"]
        self.num_attention_heads = d["num_attention_heads"]
        self.num_key_value_heads = d.get("num_key_value_heads", self.num_attention_heads)
        self.head_dim = d.get("head_dim") or self.hidden_size // self.num_attention_heads
        self.rms_norm_eps = d.get("rms_norm_eps", 1e-6)
        self.rope_theta = d.get("rope_theta", 10000.0)
        self.rope_scaling = d.get("rope_scaling")
        self.tie_word_embeddings = d.get("tie_word_embeddings", False)
        self.attention_bias = d.get("attention_bias", False)
        if self.model_type == "qwen2":      # Qwen2Attention: bias on q/k/v always, never on o
            self.qkv_bias, self.o_bias = True, False
        else:                               # LlamaAttention: config.attention_bias on all four
            self.qkv_bias = self.o_bias = self.attention_bias


class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden_size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


def _compute_llama3_parameters(inv_freq, rope_scaling):
    """transformers' modeling_rope_utils._compute_llama3_parameters, on the default inv_freq."""
    factor = rope_scaling["factor"]
    low_freq_factor = rope_scaling["low_freq_factor"]
    high_freq_factor = rope_scaling["high_freq_factor"]
    old_context_len = rope_scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


class LlamaRotaryEmbedding(nn.Module):
    """inv_freq = 1 / base^(arange(0, dim, 2) / dim), then rope_scaling ("linear": / factor; "llama3"), attention_scaling = 1."""

    def __init__(self, config):
        super().__init__()
        dim, base = config.head_dim, config.rope_theta
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim))
        rs = config.rope_scaling
        rope_type = (rs.get("rope_type") or rs.get("type")) if rs else "default"
        if rope_type == "linear":
            inv_freq = inv_freq / rs["factor"]
        elif rope_type == "llama3":
            inv_freq = _compute_llama3_parameters(inv_freq, rs)
        elif rope_type != "default":
            raise ValueError("rope_type " + rope_type)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.attention_scaling = 1.0

    @torch.no_grad()
    def forward(self, x, position_ids):
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def eager_attention_forward(module, query, key, value, attention_mask, scaling):
    key_states = repeat_kv(key, module.num_key_value_groups)
    value_states = repeat_kv(value, module.num_key_value_groups)
    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
        attn_weights = attn_weights + causal_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class LlamaAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        h = config.hidden_size
        self.q_proj = nn.Linear(h, config.num_attention_heads * self.head_dim, bias=config.qkv_bias)
        self.k_proj = nn.Linear(h, config.num_key_value_heads * self.head_dim, bias=config.qkv_bias)
        self.v_proj = nn.Linear(h, config.num_key_value_heads * self.head_dim, bias=config.qkv_bias)
        self.o_proj = nn.Linear(config.num_attention_heads * self.head_dim, h, bias=config.o_bias)

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)
        attn_output, _ = eager_attention_forward(self, query_states, key_states, value_states, attention_mask,
                                                 self.scaling)
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output)


class LlamaMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self_attn = LlamaAttention(config)
        self.mlp = LlamaMLP(config)
        self.input_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)

    def forward(self, hidden_states, attention_mask, position_embeddings):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states = self.self_attn(hidden_states, position_embeddings, attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        return residual + hidden_states


class LlamaModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList([LlamaDecoderLayer(config) for _ in range(config.num_hidden_layers)])
        self.norm = LlamaRMSNorm(config.hidden_size, config.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(config)

    def forward(self, input_ids, attention_mask=None):
        """input_ids [B, T]; attention_mask [B, T] of 1 (real) / 0 (padding), HF's 2-D mask."""
        inputs_embeds = self.embed_tokens(input_ids)
        b, t = input_ids.shape
        position_ids = torch.arange(t).unsqueeze(0).expand(b, -1)
        # HF's 4-D float mask: finfo.min where a key is in the future or padding, 0 elsewhere.
        min_value = torch.finfo(inputs_embeds.dtype).min
        allowed = torch.ones(t, t, dtype=torch.bool).tril()[None, None, :, :].expand(b, 1, t, t)
        if attention_mask is not None:
            allowed = allowed & attention_mask.bool()[:, None, None, :]
        causal_mask = torch.zeros(b, 1, t, t, dtype=inputs_embeds.dtype).masked_fill(~allowed, min_value)
        hidden_states = inputs_embeds
        position_embeddings = self.rotary_emb(hidden_states, position_ids)
        for layer in self.layers:
            hidden_states = layer(hidden_states, causal_mask, position_embeddings)
        return self.norm(hidden_states)


class LlamaForCausalLM(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.model = LlamaModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids, attention_mask=None):
        return self.lm_head(self.model(input_ids, attention_mask))


# ------------------------------------------------------------------------------------------------- loading


def load(model_dir):
    with open(f"{model_dir}/config.json") as f:
        config = Config(json.load(f))
    model = LlamaForCausalLM(config)
    tensors = read_safetensors(f"{model_dir}/model.safetensors")
    if config.tie_word_embeddings:
        tensors.pop("lm_head.weight", None)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not (config.tie_word_embeddings and m == "lm_head.weight")]
    if missing or unexpected:
        raise SystemExit(f"{model_dir}: missing {missing}, unexpected {unexpected}")
    return model.eval()


def main(argv):
    torch.set_num_threads(2)
    model = load(argv[1])
    if argv[2] == "--tokens":
        rows = [[int(x) for x in argv[3].split()]]
    else:
        with open(argv[2]) as f:
            rows = [[int(x) for x in line.split()] for line in f if line.strip()]
    with torch.no_grad():
        logits = model(torch.tensor(rows, dtype=torch.int64))
    if argv[2] == "--tokens":
        print("logits", tuple(logits.shape), "argmax", logits[0, -1].argmax().item())
    else:
        logits.numpy().astype("<f4").tofile(argv[3])
        print("wrote", tuple(logits.shape), "torch", torch.__version__)


if __name__ == "__main__":
    main(sys.argv)
