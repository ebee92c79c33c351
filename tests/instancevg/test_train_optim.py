"""Optimizer groups and the MultiStepLRWarmUp schedule of docs/training.md."""

import types

import pytest
import torch
from torch import nn

from instancevg.training.optim import (
    MultiStepLRWarmUp,
    build_optimizer,
    fit_schedule,
    lr_factor,
    param_groups,
)


def _recipe(**kw):
    base = dict(lr=5e-4, lr_encoder=5e-5, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0, amsgrad=True)
    return types.SimpleNamespace(**{**base, **kw})


class TwoPart(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(3, 3)
        self.head = nn.Linear(3, 1)

    def encoder_parameters(self):
        return self.enc.parameters()

    def head_parameters(self):
        return self.head.parameters()


def test_grefcoco_schedule_warmup_then_decay_at_epoch_7():
    # 10 epochs, warm-up 1, x0.1 at 7 (1-based): 0.5, 1 x5, 0.1 x4
    factors = [lr_factor(e, 1, (7,), 0.1) for e in range(10)]
    assert factors == pytest.approx([0.5, 1, 1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1])


def test_refcoco_schedule_three_warmup_epochs():
    factors = [lr_factor(e, 3, (15,), 0.1) for e in range(20)]
    assert factors[:3] == pytest.approx([0.25, 0.5, 0.75])
    assert factors[3:14] == pytest.approx([1.0] * 11)
    assert factors[14:] == pytest.approx([0.1] * 6)


def test_two_decay_steps_compound():
    assert lr_factor(9, 0, (5, 8), 0.5) == pytest.approx(0.25)
    assert lr_factor(3, 0, (5, 8), 0.5) == pytest.approx(1.0)


def test_scheduler_sets_group_lrs_per_epoch_and_round_trips():
    model = TwoPart()
    opt = build_optimizer(model, _recipe())
    sched = MultiStepLRWarmUp(opt, 1, (3,), 0.1)
    seen = []
    for _ in range(4):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert seen[0] == pytest.approx([2.5e-5, 2.5e-4])
    assert seen[1] == pytest.approx([5e-5, 5e-4])
    assert seen[2] == pytest.approx([5e-6, 5e-5])
    # a fresh scheduler restored from the state dict continues identically
    opt2 = build_optimizer(TwoPart(), _recipe())
    sched2 = MultiStepLRWarmUp(opt2, 1, (3,), 0.1)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    sched.step()
    sched2.step()
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


def test_optimizer_is_amsgrad_adam_with_two_groups():
    opt = build_optimizer(TwoPart(), _recipe())
    assert isinstance(opt, torch.optim.Adam)
    assert [g["name"] for g in opt.param_groups] == ["encoder", "head"]
    for g in opt.param_groups:
        assert g["amsgrad"] is True
        assert g["betas"] == (0.9, 0.98)
        assert g["eps"] == 1e-9
        assert g["weight_decay"] == 0.0


def test_parameter_in_no_group_is_an_error():
    model = TwoPart()
    model.extra = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"extra\.weight"):
        build_optimizer(model, _recipe())


def test_frozen_and_shared_parameters():
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2), requires_grad=False)
    groups = param_groups([a, b], [a], lr=1.0, lr_encoder=0.1)
    assert len(groups) == 1
    assert groups[0]["name"] == "encoder"
    assert groups[0]["params"] == [a]


def test_fit_schedule_shrinks_to_the_budget_and_moves_decays_in_proportion():
    # 1 of 30 epochs done at 10 s each, 250 s left: 26 epochs in all, decay 24 -> round(24 * 26 / 30) = 21
    assert fit_schedule(30, [24], 1, 1, 10.0, 250.0) == (26, [21])
    # enough time: unchanged (never lengthened, even with time to spare)
    assert fit_schedule(30, [24], 1, 1, 1.0, 1000.0) == (30, [24])
    assert fit_schedule(10, [7], 1, 2, 1.0, 1e9) == (10, [7])
    # a decay is kept after the warm-up and after the epochs done: 7 * 5 / 10 = 3.5 -> 4, floor 3 + 1 = 4
    assert fit_schedule(10, [7], 1, 3, 10.0, 20.0) == (5, [4])
    assert fit_schedule(10, [2, 7], 3, 1, 10.0, 40.0) == (5, [4])  # both land on the first post-warm-up epoch
    # no time left: stop after the epochs done; a decay past the end is dropped
    assert fit_schedule(30, [24], 1, 5, 10.0, 0.0) == (5, [])
    assert fit_schedule(30, [24], 1, 5, 10.0, -3.0) == (5, [])


def test_fitted_decay_epochs_give_the_expected_factors():
    epochs, decays = fit_schedule(30, [24], 1, 1, 10.0, 250.0)
    factors = [lr_factor(e, 1, decays, 0.1) for e in range(epochs)]
    assert factors[0] == 0.5
    assert factors[19] == 1.0
    assert factors[20] == pytest.approx(0.1)
    assert factors[-1] == pytest.approx(0.1)


def test_set_decay_epochs_applies_the_new_factor_to_the_next_epoch():
    model = TwoPart()
    opt = build_optimizer(model, _recipe())
    sched = MultiStepLRWarmUp(opt, warmup_epochs=1, decay_epochs=[8])
    for _ in range(3):
        opt.step()
        sched.step()  # 0-based epoch 3 next, factor 1.0
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([5e-5, 5e-4])
    sched.set_decay_epochs([4])  # applies from 0-based epoch 3: the one about to be trained
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([5e-6, 5e-5])
    assert sched.get_last_lr() == pytest.approx([5e-6, 5e-5])
    restored = MultiStepLRWarmUp(build_optimizer(TwoPart(), _recipe()), warmup_epochs=1, decay_epochs=[8])
    restored.load_state_dict(sched.state_dict())
    assert restored.decay_epochs == [4]
    assert restored.factor() == pytest.approx(0.1)


def test_fused_and_foreach_adam_take_the_same_step():
    opts = [build_optimizer(TwoPart(), _recipe(), fused=f) for f in (True, False)]
    assert opts[1].defaults["foreach"] is True
    assert opts[1].defaults.get("fused") in (None, False)
    params = []
    for opt in opts:
        torch.manual_seed(0)
        ps = [p for g in opt.param_groups for p in g["params"]]
        with torch.no_grad():
            for p in ps:
                p.copy_(torch.randn_like(p))
                p.grad = torch.ones_like(p)
        opt.step()
        params.append(torch.cat([p.detach().flatten() for p in ps]))
    assert torch.allclose(params[0], params[1], atol=1e-6)
