"""`TrainStep`: gradient clipping, the gradient-scaler path (CUDA AMP's, run here on the CPU), bad losses."""

import pytest
import torch
from torch import nn

from instancevg.training.steps import TrainStep
from tests.instancevg.test_train_data import one_torch_thread


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


class Toy(nn.Module):
    """forward(images, text_ids, pad) -> {"pred": [B]}: a linear map of the mean pixel."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1)

    def forward(self, images, text_ids, pad):
        return {"pred": self.lin(images.mean(dim=(1, 2, 3))[:, None])[:, 0], "aux": [None]}


def criterion(outputs, targets):
    want = torch.stack([t["y"] for t in targets])
    loss = ((outputs["pred"] - want) ** 2).mean()
    return {"loss": loss, "loss_mse": loss.detach(), "not_a_scalar": torch.zeros(2)}


def batch(y=100.0):
    return {
        "images": torch.ones(2, 3, 4, 4),
        "text_ids": torch.zeros(2, 3, dtype=torch.long),
        "text_pad_mask": torch.zeros(2, 3, dtype=torch.bool),
        "targets": [{"y": torch.tensor(y)}, {"y": torch.tensor(y)}],
        "metas": [{"expr_id": "a/val/1"}, {"expr_id": "a/val/2"}],
    }


def _run(grad_clip, scaler=None, y=100.0):
    torch.manual_seed(0)
    model = Toy()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    step = TrainStep(model, criterion, opt, model.parameters(), grad_clip, torch.device("cpu"), False, scaler)
    values = step(batch(y))
    delta = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    return values, delta


def test_returns_scalar_terms_and_clips_the_gradient_norm():
    values, delta = _run(grad_clip=0.15)
    assert set(values) == {"loss", "loss_mse"}
    assert values["loss"] > 1000
    assert delta.norm().item() == pytest.approx(0.15, rel=1e-5)  # SGD lr 1: the step is the clipped gradient
    _, unclipped = _run(grad_clip=0.0)
    assert unclipped.norm().item() > 10


def test_gradient_scaler_path_unscales_before_clipping():
    plain = _run(grad_clip=0.15)[1]
    scaled = _run(grad_clip=0.15, scaler=torch.amp.GradScaler("cpu", init_scale=1024.0))[1]
    assert torch.allclose(plain, scaled, rtol=1e-5)


def test_non_finite_loss_names_the_batch():
    model = Toy()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    step = TrainStep(model, criterion, opt, model.parameters(), 0.0, torch.device("cpu"), False)
    inf_batch = batch(float("inf"))
    with pytest.raises(FloatingPointError, match=r"epoch 1 step 3: loss is inf .*a/val/1"):
        step(inf_batch, where="epoch 1 step 3")


def test_bf16_runs_the_forward_in_bfloat16_and_keeps_fp32_weights_and_loss():
    torch.manual_seed(0)
    model = Toy()
    seen = []
    model.lin.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    step = TrainStep(model, criterion, opt, model.parameters(), 0.0, torch.device("cpu"), False, bf16=True)
    before = model.lin.weight.detach().clone()
    values = step(batch(1.0))
    assert seen == [torch.bfloat16]
    assert model.lin.weight.dtype == torch.float32
    assert not torch.equal(model.lin.weight, before)
    assert isinstance(values["loss"], float)
    assert values["loss"] > 0
    fp32 = TrainStep(model, criterion, opt, model.parameters(), 0.0, torch.device("cpu"), False)
    fp32(batch(1.0))
    assert seen[-1] == torch.float32
