"""Speed of a released-size InstanceVG (gRefCOCO ViT-B layout) loaded from an official-format checkpoint.

1. builds an official-layout checkpoint of the B architecture (random weights of a vgbench model, renamed with
   `instancevg.official.vgbench_to_official`, the ``state_dict`` beside epoch / optimizer fields as released files
   have), saves it, and times ``load_official`` (weights_only, memory-mapped, meta-device build);
2. times the forward pass at 320 px (``torch.inference_mode``, median of --repeats after 2 warm-ups) at batch 1
   and 2, per expression, three ways in the same run: fp32 with oneDNN linear layers (vgbench's default), fp32
   with PyTorch's default BLAS (``ModelRuntime(onednn_linear=False)``, the baseline: ``speedup`` = baseline / this), and bf16
   autocast;
3. with ``--device cuda`` (where a GPU is present): the CUDA forward at batch 1 and 8, fp32 / fp16 / bf16 autocast,
   and the parity of the official tiny fixture's raw outputs on CUDA (max |diff| to the official CPU outputs).

The official code itself needed about 1.5-1.9 s per expression at batch 2 on a 2-core CPU of this kind (fp32,
one thread per process, measured when the fixture was made); that figure is quoted, not re-measured here.

    python benchmarks/bench_official.py [--repeats 5] [--threads 2] [--device cpu|cuda] [--no-bf16] [--out bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from instancevg.build import build_model
from instancevg.config import load_config
from instancevg.official import load_official, vgbench_to_official
from instancevg.runtime import ModelRuntime

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "instancevg" / "data" / "official"


def _median(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _forward_time(model, inputs, repeats: int, device: str, dtype: torch.dtype | None) -> float:
    """Median seconds of one forward pass under ``torch.inference_mode`` (autocast to ``dtype`` when given)."""

    def forward() -> None:
        with torch.autocast(device, dtype=dtype or torch.float32, enabled=dtype is not None):
            model(*inputs)

    with torch.inference_mode():
        return _median(forward, repeats)


def _official_checkpoint(path: Path) -> None:
    cfg = load_config("instancevg-b-grefcoco")
    model = build_model(cfg, ModelRuntime(onednn_linear=False))
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in model.state_dict().items():
        if key != "encoder.vision_embed.mask_token":
            state[vgbench_to_official(key)] = value
    c = cfg.head.hidden_dim
    state["vis_enc.beit3.vision_embed.mask_token"] = torch.zeros(1, 1, cfg.encoder.dim)
    for layer in (1, 2):  # the decoder-layer aliases of the shared heads
        for key in [k for k in list(state) if k.startswith(("head.class_embed.0.", "head.bbox_embed.0."))]:
            state[key.replace(".0.", f".{layer}.", 1)] = state[key]
    extras = {
        "head.query_embedding.weight": (c, cfg.encoder.dim),
        "head.proj_pixel_level_cons.vis.weight": (c // 2, c, 1, 1),
        "head.proj_pixel_level_cons.vis.bias": (c // 2,),
        "head.proj_pixel_level_cons.txt.weight": (c // 2 + 1, c),
        "head.proj_pixel_level_cons.txt.bias": (c // 2 + 1,),
        "head.query_generation.query_embed.weight": (cfg.head.num_queries, c),
        "head.decoder_transformer.level_embeds": (cfg.decoder.msda_levels, c),
    }
    for key, shape in extras.items():
        state[key] = torch.zeros(shape)
    state["head.detrloss.criterion.empty_weight"] = torch.tensor([1.0, 0.1])
    torch.save({"state_dict": state, "epoch": 9, "optimizer": {"state": {}, "param_groups": []}}, path)


def _inputs(batch: int, cfg, device: str) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    images = torch.randn(batch, 3, cfg.input.img_size, cfg.input.img_size, generator=g)
    ids = torch.randint(4, cfg.encoder.vocab_size, (batch, cfg.input.max_tokens), generator=g)
    ids[:, 0] = 0
    pad = torch.zeros(batch, cfg.input.max_tokens, dtype=torch.bool)
    pad[:, 12:] = True
    ids[:, 11] = 2
    ids[pad] = 1
    return images.to(device), ids.to(device), pad.to(device)


def _cpu(args) -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "InstanceVG-grefcoco.pth"
        _official_checkpoint(path)
        out["checkpoint_mb"] = round(path.stat().st_size / 2**20, 1)
        t = time.perf_counter()
        model = load_official(path)
        out["load_official_s"] = round(time.perf_counter() - t, 2)
        baseline = load_official(path, runtime=ModelRuntime(onednn_linear=False))
    for batch in (1, 2):
        inputs = _inputs(batch, model.cfg, "cpu")
        fp32 = _forward_time(model, inputs, args.repeats, "cpu", None) / batch
        blas = _forward_time(baseline, inputs, args.repeats, "cpu", None) / batch
        out[f"batch{batch}"] = {
            "fp32_onednn_s_per_expr": round(fp32, 3),
            "fp32_blas_baseline_s_per_expr": round(blas, 3),
            "speedup": round(blas / fp32, 2),
        }
        if not args.no_bf16:
            bf16 = _forward_time(model, inputs, args.repeats, "cpu", torch.bfloat16) / batch
            out[f"batch{batch}"]["bf16_s_per_expr"] = round(bf16, 3)
    return out


def _cuda(args) -> dict:
    import numpy as np

    out: dict = {"gpu": torch.cuda.get_device_name(0)}
    tiny = load_official(FIXTURE / "tiny_official.pth", encoder_heads=4).cuda()
    inputs = np.load(FIXTURE / "tiny_inputs.npz")
    expected = np.load(FIXTURE / "tiny_outputs.npz")
    with torch.no_grad():
        raw = tiny(
            torch.from_numpy(inputs["img"]).cuda(),
            torch.from_numpy(inputs["ref_expr_inds"]).cuda(),
            torch.from_numpy(inputs["text_attention_mask"]).bool().cuda(),
        )
    pairs = {
        "pred_logits": "raw/pred_class_logits",
        "pred_boxes": "raw/pred_bbox_cxcywh",
        "exist_logits": "raw/nt_logits",
        "pred_masks": "raw/pred_mask_logits",
        "points": "raw/img_selected_points_xy",
    }
    out["tiny_parity_max_abs_diff"] = {
        k: float(np.abs(raw[k].float().cpu().numpy() - expected[v]).max()) for k, v in pairs.items()
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "InstanceVG-grefcoco.pth"
        _official_checkpoint(path)
        model = load_official(path).cuda()
    for batch in (1, 8):
        inputs = _inputs(batch, model.cfg, "cuda")
        row = {}
        for name, dtype in (("fp32", None), ("fp16", torch.float16), ("bf16", torch.bfloat16)):
            row[f"{name}_s_per_expr"] = round(
                _forward_time(model, inputs, args.repeats, "cuda", dtype) / batch, 4
            )
        out[f"batch{batch}"] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--no-bf16", action="store_true", help="skip the CPU bf16 timing")
    parser.add_argument("--out", help="write the figures as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"torch": torch.__version__, "threads": args.threads, "load_avg": os.getloadavg()[0]}
    result.update(_cuda(args) if args.device == "cuda" else _cpu(args))
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
