"""The training engine: event order, early stopping, best weights, checkpoint + resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transferkit.errors import ModelFileError
from transferkit.train.callbacks import CheckpointCallback, EarlyStopping
from transferkit.train.model import new_classifier
from transferkit.train.strategies._finetune import (
    FinetuneConfig,
    make_optimizer_factory,
    make_scheduler_factory,
)
from transferkit.train.trainer import EVENTS, Callback, Trainer, classification_metrics

from .helpers import TinyBackbone


def tensor_data(n=48, seed=0, classes=3):
    """Images whose class is their dominant colour channel, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(n, 3, 16, 16, generator=g) * 0.5
    x[torch.arange(n), y] += 1.0
    return torch.utils.data.TensorDataset(x, y)


def loaders(batch=8):
    tr = torch.utils.data.DataLoader(tensor_data(48, 0), batch_size=batch, shuffle=True)
    va = torch.utils.data.DataLoader(tensor_data(24, 1), batch_size=16)
    return tr, va


def tiny_model(seed=0, dropout=0.2):
    torch.manual_seed(seed)
    return new_classifier(TinyBackbone(), {"type": "linear", "in_features": 32, "num_classes": 3,
                                           "dropout": dropout})


def make_trainer(model, cbs=(), precision="fp32", lr=0.05, epochs_cfg=None, optimizer="sgd"):
    cfg = FinetuneConfig(lr=lr, body_lr_mult=0.5, optimizer=optimizer)
    return Trainer(model, nn.CrossEntropyLoss(label_smoothing=0.1), make_optimizer_factory(cfg),
                   callbacks=list(cbs), device="cpu", precision=precision, seed=3,
                   scheduler_factory=make_scheduler_factory(cfg, 6))


class Recorder(Callback):
    def __init__(self):
        self.events = []

    def __getattr__(self, name):
        if name in EVENTS:
            return lambda: self.events.append(name)
        raise AttributeError(name)


def test_events_fire_in_order():
    tr, va = loaders(batch=24)  # 2 training batches
    rec = Recorder()
    make_trainer(tiny_model(), [rec]).fit(tr, va, epochs=2)
    batch = ["before_batch", "after_loss", "after_batch"]
    epoch = ["before_epoch", *batch, *batch, "before_validate", "after_validate", "after_epoch"]
    assert rec.events == ["before_fit", *epoch, *epoch, "after_fit"]


def test_metrics_accuracy_and_macro_f1():
    m = classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
    assert m["accuracy"] == 0.75
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_training_learns_and_keeps_best_epoch():
    tr, va = loaders()
    t = make_trainer(tiny_model(), precision="auto").fit(tr, va, epochs=6)
    hist = [h["val_accuracy"] for h in t.state.history]
    from transferkit._runtime import cpu_bf16_native

    # auto: bf16 only where the CPU runs it natively (emulated bf16 is ~15x slower), channels_last always
    assert len(hist) == 6 and t.precision_ == ("bf16" if cpu_bf16_native() else "fp32") and t.channels_last_
    assert max(hist) > 0.6
    best = t.state.best_epoch
    assert hist[best - 1] == max(hist)
    assert t.evaluate(va)["accuracy"] == pytest.approx(max(hist))


class Scripted(Callback):
    """Replaces the validation accuracy by a scripted sequence."""

    def __init__(self, values):
        self.values = values

    def after_validate(self):
        s = self.trainer.state
        s.metrics["val_accuracy"] = self.values[s.metrics["epoch"] - 1]


def test_early_stopping_stops_after_patience():
    tr, va = loaders(batch=48)
    rec = Recorder()
    cbs = [Scripted([0.5, 0.6, 0.6, 0.55, 0.9, 0.9]), EarlyStopping(patience=2), rec]
    t = make_trainer(tiny_model(), cbs).fit(tr, va, epochs=6)
    assert len(t.state.history) == 4  # best at epoch 2; 3 and 4 do not improve
    assert cbs[1].stopped_epoch_ == 4
    assert rec.events[-1] == "after_fit"


class Interrupt(Callback):
    order = 90  # after the checkpoint was written

    def __init__(self, at):
        self.at = at

    def after_epoch(self):
        if self.trainer.state.epoch == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("precision,optimizer", [("fp32", "sgd"), ("auto", "adamw")])
def test_resume_gives_the_same_result(tmp_path, precision, optimizer):
    tr, va = loaders()
    straight = make_trainer(tiny_model(0), [CheckpointCallback(tmp_path / "a")], precision,
                            optimizer=optimizer).fit(tr, va, epochs=3)

    ck = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        make_trainer(tiny_model(0), [CheckpointCallback(ck), Interrupt(2)], precision,
                     optimizer=optimizer).fit(tr, va, epochs=3)
    assert len(list(ck.glob("epoch-*.safetensors"))) == 1
    assert not list(ck.glob("*.pt")) and not list(ck.glob("*.pkl"))
    # a differently initialised model: everything must come from the checkpoint
    cb = CheckpointCallback(ck)
    resumed = make_trainer(tiny_model(7), [cb], precision, optimizer=optimizer).fit(
        tr, va, epochs=3, resume=True)
    assert cb.resumed_from_ == 2
    assert resumed.state.history == straight.state.history
    assert resumed.state.step == straight.state.step
    sa, sb = straight.model.state_dict(), resumed.model.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_resume_refuses_other_settings(tmp_path):
    tr, va = loaders()
    make_trainer(tiny_model(), [CheckpointCallback(tmp_path, {"lr": 0.05})]).fit(tr, va, epochs=1)
    with pytest.raises(ModelFileError, match="other settings"):
        make_trainer(tiny_model(), [CheckpointCallback(tmp_path, {"lr": 0.1})]).fit(
            tr, va, epochs=2, resume=True)
    with pytest.raises(ModelFileError, match="planned 1 epochs"):
        make_trainer(tiny_model(), [CheckpointCallback(tmp_path, {"lr": 0.05})]).fit(
            tr, va, epochs=2, resume=True)


class _FrozenFirst(nn.Module):
    """Two BatchNorm layers; like a Backbone with a frozen block, ``train()`` keeps the first
    one in eval mode."""

    def __init__(self):
        super().__init__()
        self.bn0 = nn.BatchNorm1d(3)
        self.bn1 = nn.BatchNorm1d(3)
        self.fc = nn.Linear(3, 2)

    def train(self, mode=True):
        super().train(mode)
        self.bn0.eval()
        return self

    def forward(self, x):
        return self.fc(self.bn1(self.bn0(x)))


def test_recalibrate_batchnorm_takes_the_data_statistics_of_training_layers_only():
    torch.manual_seed(0)
    model = _FrozenFirst()
    x = torch.randn(64, 3) * 0.01 + 5.0  # tiny variance, far from the initial 1
    for bn in (model.bn0, model.bn1):
        bn.running_var.fill_(1.0)
        bn.running_mean.zero_()
    trainer = Trainer(model, nn.CrossEntropyLoss(), lambda m: torch.optim.SGD(m.parameters(), 0.1))
    batches = [(x[i:i + 16], torch.zeros(16, dtype=torch.long)) for i in range(0, 64, 16)]
    batches.append((x[:1], torch.zeros(1, dtype=torch.long)))  # a batch of one is skipped
    assert trainer.recalibrate_batchnorm(batches) == 4
    # the frozen layer is untouched; the training one holds the mean of the batch statistics
    assert torch.equal(model.bn0.running_var, torch.ones(3))
    want = torch.stack([b.var(0) for b, _ in batches[:4]]).mean(0)
    assert torch.allclose(model.bn1.running_var, want, rtol=1e-4)
    assert torch.allclose(model.bn1.running_mean, x.mean(0), atol=1e-4)
    assert model.bn1.momentum == 0.1 and not model.training


def _stale_bn_model():
    """A model whose training BatchNorm barely tracks: momentum 1e-3, so after a few steps
    its running statistics are still those of its initialisation (mean 0, variance 1)."""
    torch.manual_seed(0)
    model = _FrozenFirst()
    model.bn1.momentum = 1e-3
    return model


def _shifted_batches(seed, n=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g) * 0.1 + 4.0
    y = (x[:, 0] > 4.0).long()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)


@pytest.mark.parametrize("with_val", [False, True])
def test_precise_batchnorm_callback_replaces_stale_running_statistics(with_val):
    from transferkit.train.callbacks import PreciseBatchNorm

    tr, va = _shifted_batches(0), (_shifted_batches(1) if with_val else None)
    x = tr.dataset.tensors[0]
    out = {}
    for precise in (False, True):
        model = _stale_bn_model()
        cb = [PreciseBatchNorm()] if precise else []
        trainer = Trainer(model, nn.CrossEntropyLoss(),
                          lambda m: torch.optim.SGD(m.parameters(), 0.01), callbacks=cb,
                          device="cpu", precision="fp32", seed=0)
        trainer.fit(tr, va, epochs=2)
        out[precise] = model.bn1.running_mean.clone()
        if precise:
            assert cb[0].batches_ == 4
            assert torch.equal(model.bn0.running_var, torch.ones(3))  # frozen: untouched
    assert float(out[False].abs().max()) < 0.1  # stale: still near the initial 0
    assert torch.allclose(out[True], x.mean(0), atol=1e-3)


def test_precise_batchnorm_runs_before_validation_so_the_best_snapshot_has_it():
    from transferkit.train.callbacks import PreciseBatchNorm

    seen = []

    class Spy(Callback):
        order = 6  # after PreciseBatchNorm (5)

        def before_validate(self):
            seen.append(self.trainer.model.bn1.running_mean.clone())

    tr, va = _shifted_batches(0), _shifted_batches(1)
    model = _stale_bn_model()
    trainer = Trainer(model, nn.CrossEntropyLoss(),
                      lambda m: torch.optim.SGD(m.parameters(), 0.01),
                      callbacks=[PreciseBatchNorm(), Spy()], device="cpu", precision="fp32",
                      seed=0, keep_best=True)
    trainer.fit(tr, va, epochs=2)
    want = tr.dataset.tensors[0].mean(0)
    assert len(seen) == 2 and all(torch.allclose(m, want, atol=1e-3) for m in seen)
    assert torch.allclose(trainer.best_state["bn1.running_mean"], want, atol=1e-3)


def test_precise_batchnorm_and_validation_run_in_fp32_after_bf16_training():
    """A saved model predicts in fp32, so its statistics and its validation score are fp32's
    even when the steps ran under bf16 autocast."""
    from transferkit.train.batchnorm import batchnorm_layers
    from transferkit.train.callbacks import PreciseBatchNorm

    tr, va = loaders()
    model = tiny_model()
    bn = batchnorm_layers(model)[-1]
    seen = []
    bn.register_forward_pre_hook(lambda m, inp: seen.append((m.training, inp[0].dtype)))
    trainer = make_trainer(model, [PreciseBatchNorm()], precision="bf16")
    trainer.fit(tr, va, epochs=1)
    steps = len(tr)
    assert {d for t, d in seen[:steps]} == {torch.bfloat16}  # the training steps
    assert {d for t, d in seen[steps:]} == {torch.float32}  # precise pass + validation
    assert sum(t for t, _ in seen[steps:]) == steps and not any(t for t, _ in seen[2 * steps:])
