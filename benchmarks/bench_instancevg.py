"""CPU speed of the InstanceVG model (random weights; numbers depend on the machine and its load).

Measures, with ``torch.set_num_threads(2)`` (override with --threads):

1. inference latency at batch 1 (``torch.inference_mode``, median of --repeats after 2 warm-ups) of the
   ``instancevg-b-grefcoco`` preset at 320 px (full model, encoder only, head = full - encoder) and of ``tiny-cpu``,
   with the FLOP count. The B preset is timed three ways in the same run: fp32 with the default oneDNN linear
   layers (``instancevg.ops.onednn_linear``), fp32 with PyTorch's default BLAS (MKL; ``ModelRuntime(onednn_linear=False)``, the
   baseline: ``onednn_speedup`` is its time over the oneDNN time) and under CPU bf16 autocast (skip with --no-bf16);
2. multi-scale deformable attention forward + backward at the official shapes (B=8, N_q=10, 8 heads, 4 levels of
   a 320-px input = 8500 tokens, 4 points, C=256): the ``grid_sample`` core against a naive reference that gathers
   the four bilinear corners by index, and the whole ``MSDeformAttn`` module;
3. one training step (``TrainStep``: forward + loss + backward + grad clip + Adam) of ``tiny-cpu`` at batch 8: fp32
   with the multi-tensor Adam (the baseline), fp32 with the fused Adam, and bf16 autocast with the fused Adam, timed
   round-robin (``speedup`` = baseline median / this median; skip bf16 with --no-bf16).

The load average is printed with the numbers: on a shared 2-core machine other processes inflate the wall times
(badly with 2 OpenMP threads, which spin at every parallel region). ``*_cpu_s`` is the process CPU time; with
``--threads 1`` it is a load-robust measure of the work itself (2 threads can at best halve it).

    python benchmarks/bench_instancevg.py [--repeats 10] [--threads 2] [--skip-b] [--no-bf16] [--out bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from instancevg.build import build_criterion, build_model
from instancevg.config import load_config
from instancevg.ops.msda import MSDeformAttn, ms_deform_attn
from instancevg.runtime import ModelRuntime


def _median_time(fn, repeats: int, warmup: int = 2) -> tuple[float, float]:
    """(median, min) wall seconds of ``fn()``; the median process CPU seconds go to ``_LAST_CPU``."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    _LAST_CPU[0] = statistics.median(cpu)
    return statistics.median(times), min(times)


# CPU seconds of the last timing: with --threads 1 it barely depends on other processes sharing the machine
_LAST_CPU = [0.0]


def _inputs(cfg, batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    s, length = cfg.input.img_size, cfg.input.max_tokens
    images = torch.randn(batch, 3, s, s, generator=g)
    ids = torch.randint(4, cfg.encoder.vocab_size, (batch, length), generator=g)
    pad = torch.zeros(batch, length, dtype=torch.bool)
    pad[:, 12:] = True  # a 10-word expression
    return images, ids, pad


def bench_inference(name: str, repeats: int, bf16: bool = False, onednn: bool = True) -> dict:
    cfg = load_config(name)
    torch.manual_seed(0)
    model = build_model(cfg, ModelRuntime(onednn_linear=onednn)).eval()
    images, ids, pad = _inputs(cfg, 1)

    def full():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(images, ids, pad)

    def encoder():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model.encoder.encode(images, ids, pad)

    med, best = _median_time(full, repeats)
    full_cpu = _LAST_CPU[0]
    enc, _ = _median_time(encoder, repeats)
    params = sum(p.numel() for p in model.parameters())
    counter = FlopCounterMode(display=False)  # needs autograd: one forward with gradients, outside the timing
    with counter:
        model(images, ids, pad)
    gflop = counter.get_total_flops() / 1e9
    return {
        "model": name + (" (bf16 autocast)" if bf16 else "") + ("" if onednn else " (MKL linear)"),
        "img_size": cfg.input.img_size,
        "params_M": round(params / 1e6, 1),
        "gflop": round(gflop, 1),
        "achieved_gflops": round(gflop / med, 1),
        "forward_s": round(med, 4),
        "forward_min_s": round(best, 4),
        "forward_cpu_s": round(full_cpu, 4),
        "encoder_s": round(enc, 4),
        "head_s": round(med - enc, 4),
    }


def _naive_msda(value, shapes, locs, weights):
    """Reference MSDA: explicit bilinear interpolation by gathering the four neighbours of every sample."""
    b, _, m, dh = value.shape
    q, n_points = locs.shape[1], locs.shape[4]
    out = value.new_zeros(b, m, q, dh)
    start = 0
    for lvl, (h, w) in enumerate(shapes):
        v = value[:, start : start + h * w].permute(0, 2, 1, 3)  # [B, M, HW, Dh]
        start += h * w
        px = locs[:, :, :, lvl, :, 0].permute(0, 2, 1, 3) * w - 0.5  # [B, M, Q, P]
        py = locs[:, :, :, lvl, :, 1].permute(0, 2, 1, 3) * h - 0.5
        x0, y0 = px.floor(), py.floor()
        wl = weights[:, :, :, lvl].permute(0, 2, 1, 3)
        for dx in (0, 1):
            for dy in (0, 1):
                xi, yi = x0 + dx, y0 + dy
                wt = (1 - (px - xi).abs()) * (1 - (py - yi).abs())
                inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
                idx = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long().reshape(b, m, q * n_points)
                got = v.gather(2, idx[..., None].expand(-1, -1, -1, dh)).view(b, m, q, n_points, dh)
                out = out + (got * (wt * inside * wl)[..., None]).sum(3)
    return out.permute(0, 2, 1, 3).reshape(b, q, m * dh)


def bench_msda(repeats: int) -> dict:
    b, q, m, c, n_points = 8, 10, 8, 256, 4
    shapes = [(80, 80), (40, 40), (20, 20), (10, 10)]
    n_tokens = sum(h * w for h, w in shapes)
    g = torch.Generator().manual_seed(0)
    value = torch.randn(b, n_tokens, m, c // m, generator=g, requires_grad=True)
    locs = torch.rand(b, q, m, len(shapes), n_points, 2, generator=g).requires_grad_()
    weights = torch.rand(b, q, m, len(shapes), n_points, generator=g).softmax(-1).requires_grad_()
    fast = ms_deform_attn(value, shapes, locs, weights)
    slow = _naive_msda(value, shapes, locs, weights)
    max_diff = float((fast - slow).abs().max().detach())

    def run(fn):
        def step():
            out = fn(value, shapes, locs, weights)
            out.sum().backward()

        return step

    fast_t, _ = _median_time(run(ms_deform_attn), repeats)
    slow_t, _ = _median_time(run(_naive_msda), repeats)
    module = MSDeformAttn(c, m, len(shapes), n_points)
    query, ref = torch.randn(b, q, c, requires_grad=True), torch.rand(b, q, 2)
    memory = torch.randn(b, n_tokens, c, requires_grad=True)

    def module_step():
        module(query, ref, memory, shapes).sum().backward()

    mod_t, _ = _median_time(module_step, repeats)
    return {
        "shapes": f"B={b} N_q={q} heads={m} levels={len(shapes)} points={n_points} tokens={n_tokens} C={c}",
        "grid_sample_fwd_bwd_s": round(fast_t, 4),
        "naive_gather_fwd_bwd_s": round(slow_t, 4),
        "speedup": round(slow_t / fast_t, 2),
        "max_abs_diff": max_diff,
        "module_fwd_bwd_s": round(mod_t, 4),
    }


def _train_step(bf16: bool, fused: bool):
    """A ready `instancevg.training.steps.TrainStep` of ``tiny-cpu`` at batch 8 (forward + loss + backward + clip +
    Adam amsgrad; fp32 or bf16 autocast forward; the fused or the multi-tensor Adam) and its batch."""
    from instancevg.training.optim import build_optimizer
    from instancevg.training.steps import TrainStep

    cfg = load_config("tiny-cpu")
    torch.manual_seed(0)
    model, criterion = build_model(cfg), build_criterion(cfg)
    batch = cfg.train.batch_size
    images, ids, pad = _inputs(cfg, batch)
    s = cfg.input.img_size
    targets = []
    for i in range(batch):
        n = i % 3
        masks = torch.zeros(n, s, s)
        boxes = torch.tensor([[0.3 + 0.2 * k, 0.4, 0.2, 0.3] for k in range(n)]).reshape(n, 4)
        for k in range(n):
            masks[k, int(0.25 * s) : int(0.55 * s), int((0.2 + 0.2 * k) * s) : int((0.4 + 0.2 * k) * s)] = 1
        merged = masks.amax(0) if n else torch.zeros(s, s)
        targets.append({"boxes": boxes, "masks": masks, "mask": merged, "no_target": n == 0})
    tc = cfg.train
    opt = build_optimizer(model, tc, fused=fused)
    cpu = torch.device("cpu")
    step = TrainStep(model, criterion, opt, model.parameters(), tc.grad_clip, cpu, False, bf16=bf16)
    data = {"images": images, "text_ids": ids, "text_pad_mask": pad, "targets": targets, "metas": []}
    return lambda: step(data)


def bench_train_steps(repeats: int, bf16: bool) -> list[dict]:
    """fp32 + multi-tensor Adam (the baseline), fp32 + fused Adam, bf16 + fused Adam, timed round-robin (one step
    of each in turn, ``repeats`` rounds after 2 warm-up rounds) so that a drift in the machine's speed hits all
    alike; ``speedup`` = the baseline's median / this median."""
    variants = [("fp32", "foreach"), ("fp32", "fused")] + ([("bf16", "fused")] if bf16 else [])
    steps = [_train_step(p == "bf16", a == "fused") for p, a in variants]
    times: list[list[float]] = [[] for _ in steps]
    for r in range(repeats + 2):
        for k, step in enumerate(steps):
            t = time.perf_counter()
            step()
            if r >= 2:
                times[k].append(time.perf_counter() - t)
    base = statistics.median(times[0])
    return [
        {
            "model": "tiny-cpu",
            "batch": 8,
            "precision": p,
            "adam": a,
            "step_s": round(statistics.median(t), 4),
            "step_min_s": round(min(t), 4),
            "speedup": round(base / statistics.median(t), 2),
        }
        for (p, a), t in zip(variants, times)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-b", action="store_true", help="skip the 221 M-parameter B preset")
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 autocast timings")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results: dict = {"threads": args.threads, "torch": torch.__version__, "load_before": os.getloadavg()[0]}
    inference = []
    if not args.skip_b:
        fast = bench_inference("instancevg-b-grefcoco", args.repeats)
        mkl = bench_inference("instancevg-b-grefcoco", args.repeats, onednn=False)
        fast["onednn_speedup"] = round(mkl["forward_s"] / fast["forward_s"], 2)
        inference += [fast, mkl]
        if not args.no_bf16:
            inference.append(bench_inference("instancevg-b-grefcoco", args.repeats, bf16=True))
    inference.append(bench_inference("tiny-cpu", args.repeats))
    results["inference_batch1"] = inference
    results["msda"] = bench_msda(max(3, args.repeats // 2))
    results["train_step"] = bench_train_steps(max(5, args.repeats), bf16=not args.no_bf16)
    results["load_after"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    if args.out:
        tmp = args.out.with_suffix(args.out.suffix + ".tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
