"""The trainer end to end on a tiny model: checkpoints, exact resume, time budget, log, errors."""

import dataclasses
import json

import pytest
import torch

from evaluators.errors import InputError
from instancevg.config import load_config
from instancevg.training import RunOptions, load_checkpoint, read_log, train
from tests.instancevg.test_train_data import one_torch_thread, write_tiny_build


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


NO_EVAL = RunOptions(evaluate=False, log_every=1)


def tiny_cfg(epochs=2, **train_kw):
    cfg = load_config("tiny-cpu", ["img_size=32", "vocab_size=64", "max_tokens=8", "num_queries=3"])
    train_kw = {"epochs": epochs, "batch_size": 4, "num_workers": 0, **train_kw}
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, **train_kw))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_build(
        tmp_path_factory.mktemp("loop"), ("grefcoco_unc", "refcoco_unc"), n_train=10, n_val=4
    )


def _weights(run):
    return load_checkpoint(run / "last.pt")["model"]


def _same(a, b):
    assert a.keys() == b.keys()
    return all(torch.equal(a[k], b[k]) for k in a)


def test_two_epochs_equal_one_epoch_then_resume(data, tmp_path):
    keep = dataclasses.replace(NO_EVAL, keep_epoch_checkpoints=True)
    full = train(tiny_cfg(2), data, tmp_path / "full", quiet=True, options=keep)
    assert full["epochs_completed"] == 2
    assert full["global_step"] == 6
    assert full["stopped"] == "done"
    assert {p.name for p in (tmp_path / "full").glob("*.pt")} == {"last.pt", "epoch_1.pt", "epoch_2.pt"}

    first = train(tiny_cfg(1), data, tmp_path / "split", quiet=True, options=NO_EVAL)
    assert first["epochs_completed"] == 1
    assert _same(_weights(tmp_path / "split"), load_checkpoint(tmp_path / "full" / "epoch_1.pt")["model"])
    second = train(tiny_cfg(2), data, tmp_path / "split", resume=True, quiet=True, options=NO_EVAL)
    assert second["epochs_completed"] == 2
    assert second["global_step"] == 6
    assert _same(_weights(tmp_path / "full"), _weights(tmp_path / "split"))
    a, b = load_checkpoint(tmp_path / "full" / "last.pt"), load_checkpoint(tmp_path / "split" / "last.pt")
    assert a["scheduler"]["last_epoch"] == b["scheduler"]["last_epoch"] == 2
    events = [r["event"] for r in read_log(tmp_path / "split" / "log.jsonl")]
    assert events.count("start") == 1
    assert events.count("resume") == 1
    assert events.count("epoch") == 2


def test_mid_epoch_stop_then_resume_equals_uninterrupted(data, tmp_path):
    # a different seed and a dropout so that the restored RNG state matters; mirroring on, whose
    # decisions must not depend on where the run was cut
    cfg = dataclasses.replace(tiny_cfg(2, seed=3, hflip=0.5), decoder_dropout=0.2)
    train(cfg, data, tmp_path / "full", quiet=True, options=NO_EVAL)
    stopped = train(cfg, data, tmp_path / "cut", quiet=True, options=NO_EVAL, max_steps=4)
    assert stopped["stopped"] == "max_steps"
    assert stopped["epochs_completed"] == 1
    assert stopped["step_in_epoch"] == 1
    assert load_checkpoint(tmp_path / "cut" / "last.pt")["step_in_epoch"] == 1
    assert not (tmp_path / "cut" / "epoch_2.pt").exists()
    done = train(cfg, data, tmp_path / "cut", resume=True, quiet=True, options=NO_EVAL)
    assert done["global_step"] == 6
    assert done["stopped"] == "done"
    assert _same(_weights(tmp_path / "full"), _weights(tmp_path / "cut"))


def test_time_budget_stops_at_a_step_and_checkpoints(data, tmp_path):
    out = train(tiny_cfg(50), data, tmp_path / "run", time_budget_s=0.0, quiet=True, options=NO_EVAL)
    assert out["stopped"] == "time_budget"
    assert out["global_step"] == 1
    assert load_checkpoint(tmp_path / "run" / "last.pt")["global_step"] == 1
    assert read_log(tmp_path / "run" / "log.jsonl")[-1]["reason"] == "time_budget"


def test_log_records_losses_and_learning_rates(data, tmp_path):
    train(tiny_cfg(1), data, tmp_path / "run", quiet=True, options=NO_EVAL)
    log = read_log(tmp_path / "run" / "log.jsonl")
    start, steps = log[0], [r for r in log if r["event"] == "step"]
    assert start["event"] == "start"
    assert start["train_samples"] == 10
    assert start["config"]["input"]["img_size"] == 32
    assert len(steps) == 3
    assert all(r["loss"] > 0 for r in steps)
    cfg = tiny_cfg(1)
    # warm-up epoch: half of each group's learning rate (encoder group first)
    assert steps[0]["lr"] == pytest.approx([cfg.train.lr_encoder / 2, cfg.train.lr / 2])
    epoch = next(r for r in log if r["event"] == "epoch")
    assert epoch["mean_loss"] == pytest.approx(sum(r["loss"] for r in steps) / 3)


def test_refuses_to_overwrite_and_to_resume_a_different_config(data, tmp_path):
    train(tiny_cfg(1), data, tmp_path / "run", quiet=True, options=NO_EVAL)
    with pytest.raises(InputError, match="--resume"):
        train(tiny_cfg(1), data, tmp_path / "run", quiet=True, options=NO_EVAL)
    with pytest.raises(InputError, match=r"train\.lr"):
        train(tiny_cfg(2, lr=1.0), data, tmp_path / "run", resume=True, quiet=True, options=NO_EVAL)
    with pytest.raises(InputError, match="checkpoint not found"):
        train(tiny_cfg(1), data, tmp_path / "new", resume=True, quiet=True, options=NO_EVAL)


def test_vocab_too_small_for_the_tokenizer_is_an_input_error(data, tmp_path):
    cfg = dataclasses.replace(tiny_cfg(1), vocab_size=8)
    with pytest.raises(InputError, match="vocab_size"):
        train(cfg, data, tmp_path / "run", quiet=True, options=NO_EVAL)


def test_each_epoch_is_scored_with_the_default_protocols(data, tmp_path):
    out = train(tiny_cfg(1), data, tmp_path / "run", quiet=True, options=RunOptions(log_every=1))
    assert set(out["metrics"]) == {"grec", "gres"}
    results = json.loads((tmp_path / "run" / "eval" / "epoch_1_grefcoco_unc_val.json").read_text())
    assert results["grec"]["protocol"] == "grec/grefcoco"
    assert results["gres"]["protocol"] == "gres/rela"
    assert results["gres"]["counts"]["expressions"] == 4
    assert out["metrics"]["gres"] == results["gres"]["metrics"]
    assert load_checkpoint(tmp_path / "run" / "last.pt")["metrics"] == out["metrics"]
    evals = [r for r in read_log(tmp_path / "run" / "log.jsonl") if r["event"] == "eval"]
    assert len(evals) == 1
    assert evals[0]["split"] == "val"


def test_val_config_picks_the_tasks_of_the_evaluated_config(data, tmp_path):
    options = RunOptions(val_config="refcoco_unc", log_every=0)
    out = train(tiny_cfg(1), data, tmp_path / "run", quiet=True, options=options)
    assert set(out["metrics"]) == {"rec", "res"}
    results = json.loads((tmp_path / "run" / "eval" / "epoch_1_refcoco_unc_val.json").read_text())
    assert results["rec"]["protocol"] == "rec/iou"
    assert results["res"]["protocol"] == "res/lavt"
    assert not any(r["event"] == "step" for r in read_log(tmp_path / "run" / "log.jsonl"))  # log_every=0


@pytest.mark.slow
def test_loader_workers_do_not_change_the_result(data, tmp_path):
    train(tiny_cfg(1, num_workers=0), data, tmp_path / "w0", quiet=True, options=NO_EVAL)
    train(tiny_cfg(1, num_workers=2), data, tmp_path / "w2", quiet=True, options=NO_EVAL)
    assert _same(_weights(tmp_path / "w0"), _weights(tmp_path / "w2"))


def _one_epoch_left(monkeypatch):
    """Make the trainer's budget arithmetic see exactly one more epoch of time after each epoch."""
    import instancevg.training.trainer as trainer_module

    real = trainer_module.fit_schedule
    calls = []

    def fake(epochs, decays, warmup, done, pace, left):
        calls.append((epochs, list(decays), done))
        return real(epochs, decays, warmup, done, 1.0, 1.0)

    monkeypatch.setattr(trainer_module, "fit_schedule", fake)
    return calls


def test_fit_schedule_shortens_the_run_and_decays_before_the_end(data, tmp_path, monkeypatch):
    calls = _one_epoch_left(monkeypatch)
    cfg = tiny_cfg(4, decay_epochs=(3,))
    opts = dataclasses.replace(NO_EVAL, fit_schedule=True)
    out = train(cfg, data, tmp_path / "run", time_budget_s=1e6, quiet=True, options=opts)
    # after epoch 1: 2 epochs planned, decay 3 -> round(3 * 2 / 4) = 2 (applies to the second epoch)
    assert calls == [(4, [3], 1)]  # refitting stops once the next epoch is decayed
    assert out["planned_epochs"] == 2
    assert out["epochs_completed"] == 2
    assert out["stopped"] == "done"
    log = read_log(tmp_path / "run" / "log.jsonl")
    assert [(r["epochs"], r["decay_epochs"]) for r in log if r["event"] == "schedule"] == [(2, [2])]
    lrs = {r["epoch"]: r["lr"] for r in log if r["event"] == "step"}
    base = [cfg.train.lr_encoder, cfg.train.lr]
    assert lrs[1] == pytest.approx([b * 0.5 for b in base])  # warm-up epoch
    assert lrs[2] == pytest.approx([b * 0.1 for b in base])  # decayed: the fitted schedule
    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt["schedule_fitted"]
    assert ckpt["planned_epochs"] == 2
    assert ckpt["scheduler"]["decay_epochs"] == [2]


def test_fit_schedule_is_off_by_default_and_idle_with_time_to_spare(data, tmp_path, monkeypatch):
    cfg = tiny_cfg(2, decay_epochs=(2,))
    plain = train(cfg, data, tmp_path / "plain", time_budget_s=1e6, quiet=True, options=NO_EVAL)
    roomy = train(
        cfg,
        data,
        tmp_path / "roomy",
        time_budget_s=1e6,
        quiet=True,
        options=dataclasses.replace(NO_EVAL, fit_schedule=True),
    )
    assert plain["planned_epochs"] == roomy["planned_epochs"] == 2
    assert not any(r["event"] == "schedule" for r in read_log(tmp_path / "roomy" / "log.jsonl"))
    assert _same(_weights(tmp_path / "plain"), _weights(tmp_path / "roomy"))
    _one_epoch_left(monkeypatch)  # without a time budget nothing is fitted
    free = train(
        tiny_cfg(3, decay_epochs=(3,)),
        data,
        tmp_path / "free",
        quiet=True,
        options=dataclasses.replace(NO_EVAL, fit_schedule=True),
    )
    assert free["planned_epochs"] == 3
    assert free["epochs_completed"] == 3


def test_fitted_schedule_survives_a_resume(data, tmp_path, monkeypatch):
    _one_epoch_left(monkeypatch)
    cfg = tiny_cfg(4, decay_epochs=(3,))
    opts = dataclasses.replace(NO_EVAL, fit_schedule=True)
    train(cfg, data, tmp_path / "full", time_budget_s=1e6, quiet=True, options=opts)
    cut = train(cfg, data, tmp_path / "cut", time_budget_s=1e6, quiet=True, options=opts, max_steps=4)
    assert cut["stopped"] == "max_steps"
    assert cut["planned_epochs"] == 2
    done = train(cfg, data, tmp_path / "cut", resume=True, time_budget_s=1e6, quiet=True, options=opts)
    assert done["planned_epochs"] == 2
    assert done["epochs_completed"] == 2
    assert _same(_weights(tmp_path / "full"), _weights(tmp_path / "cut"))


def test_fitted_plan_lengthens_again_when_the_pace_improves(data, tmp_path, monkeypatch):
    import instancevg.training.trainer as trainer_module

    real, lefts = trainer_module.fit_schedule, iter([3.0] + [100.0] * 10)
    seen = []

    def fake(epochs, decays, warmup, done, pace, left):
        seen.append((epochs, list(decays), done))
        return real(epochs, decays, warmup, done, 1.0, next(lefts))

    monkeypatch.setattr(trainer_module, "fit_schedule", fake)
    opts = dataclasses.replace(NO_EVAL, fit_schedule=True)
    out = train(
        tiny_cfg(6, decay_epochs=(6,)), data, tmp_path / "run", time_budget_s=1e6, quiet=True, options=opts
    )
    # after epoch 1: 4 epochs, decay 4; after epoch 2 (faster): back to the configured 6 epochs, decay 6
    log = read_log(tmp_path / "run" / "log.jsonl")
    assert [(r["epochs"], r["decay_epochs"]) for r in log if r["event"] == "schedule"] == [(4, [4]), (6, [6])]
    assert all(call[:2] == (6, [6]) for call in seen)  # always planned from the configured schedule
    assert out["planned_epochs"] == out["epochs_completed"] == 6


def test_bf16_training_runs_and_is_recorded(data, tmp_path):
    out = train(tiny_cfg(1, bf16=True, hflip=1.0), data, tmp_path / "run", quiet=True, options=NO_EVAL)
    assert out["stopped"] == "done"
    assert out["global_step"] == 3
    assert out["precision"] == "bf16"
    start = read_log(tmp_path / "run" / "log.jsonl")[0]
    assert start["config"]["train"]["bf16"] is True
    assert start["config"]["train"]["hflip"] == 1.0
    weights = _weights(tmp_path / "run")
    assert all(v.dtype == torch.float32 for v in weights.values() if v.is_floating_point())
