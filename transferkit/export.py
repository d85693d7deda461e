"""Export a trained model folder to ONNX, checked against PyTorch with onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import TransferkitError


class _Probabilities:
    """Wraps the classifier so the exported graph outputs class probabilities."""

    @staticmethod
    def wrap(model):
        import torch

        class Probs(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return torch.softmax(self.m(x), dim=1)

        return Probs(model).eval()


def _example_input(predictor, batch: int = 2):
    import torch

    pre = predictor.preprocessing
    mod = pre["modality"]
    if mod == "text":
        raise TransferkitError("ONNX export of text models is not supported yet; image and array models only")
    cfg = predictor.model.backbone.cfg
    side = pre.get("image_size") or cfg.crop_size
    g = torch.Generator().manual_seed(0)
    return torch.randn(batch, 3, int(side), int(side), generator=g)


def export_onnx(model_dir: str | os.PathLike, out: str | os.PathLike | None = None, *,
                opset: int = 17, atol: float = 1e-4) -> dict:
    """Write ``model.onnx`` (input: normalised images N x 3 x H x W; output: probabilities).

    The exported graph is run with onnxruntime on random inputs and compared with PyTorch;
    a difference above ``atol`` is an error. Returns ``{"path", "max_abs_diff", "input_shape"}``.
    """
    import torch

    from .io import atomic_path
    from .train import load_model

    predictor = load_model(model_dir)
    model = _Probabilities.wrap(predictor.model.float().eval())
    x = _example_input(predictor)
    out = Path(out) if out is not None else Path(model_dir) / "model.onnx"
    with atomic_path(out, suffix=".onnx") as tmp:
        with torch.no_grad():
            torch.onnx.export(model, (x,), str(tmp), input_names=["images"], output_names=["probabilities"],
                              dynamic_axes={"images": {0: "batch"}, "probabilities": {0: "batch"}},
                              opset_version=opset, dynamo=False)
        diff = _check_onnxruntime(tmp, model, x)
    if diff > atol:
        out.unlink(missing_ok=True)
        raise TransferkitError(f"{out}: ONNX outputs differ from PyTorch by {diff:.2e} (> {atol:g}); not exported")
    return {"path": str(out), "max_abs_diff": diff, "input_shape": ["batch", *x.shape[1:]]}


def _check_onnxruntime(path, model, x) -> float:
    import torch

    try:
        import onnxruntime as ort
    except ImportError:
        raise TransferkitError("onnxruntime is not installed: pip install onnxruntime") from None
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xb = torch.cat([x, x.flip(0), x * 0.5])  # another batch size than at export time
    got = sess.run(None, {"images": xb.numpy()})[0]
    with torch.no_grad():
        ref = model(xb).numpy()
    return float(np.abs(got - ref).max())
