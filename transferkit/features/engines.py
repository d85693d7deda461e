"""How the backbone is run during extraction: PyTorch (any device, precision) or ONNX Runtime.

On CPUs with native bf16 (AVX512-BF16 / AMX) the fast path runs image backbones in PyTorch,
channels_last, bf16 autocast, BatchNorm folded into the dense convolutions (``optimise=True``).
On CPUs without native bf16 (AVX2-only, where PyTorch emulates bf16 about 15x slower than
fp32), the fast path runs the frozen image backbone through ONNX Runtime: measured here on
EfficientNet-Lite0, batch 32, 2.4x faster than PyTorch fp32 with channels_last, with features
equal to 1e-5. The ONNX graph of ``embed`` is exported once per backbone/weights and cached.
Loading an ONNX file runs no Python code.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import _runtime


def pick_engine(cfg, device, fast: bool, precision: str) -> str:
    """'onnxruntime' for image backbones on CPU in the fast path without native bf16, else 'torch'."""
    if os.environ.get("TRANSFERKIT_ENGINE") in ("torch", "onnxruntime"):
        return os.environ["TRANSFERKIT_ENGINE"]
    if not fast or cfg.modality != "image" or device.type != "cpu" or precision != "fp32":
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnxruntime"


class TorchRunner:
    """Runs ``model.embed`` with the chosen device, precision and memory layout.

    Takes a torch tensor, a dict of tensors (texts) or a float32 NumPy batch in ``layout``:
    NHWC for channels_last models (then the tensor is a zero-copy channels_last view), else NCHW.
    ``optimise`` (the image fast path): BatchNorm folded into the dense (not depthwise)
    convolutions, checked, see :func:`folded_copy`. EfficientNet-Lite0, bf16 autocast, one
    thread, batch 32, measured here: 9.8 ms an image unfolded, 9.0 with the dense ones folded.
    Folding every BatchNorm (7.7 ms, or 7.4 with the weights cast to bf16 once) dropped the
    worst Office-Caltech image to cosine 0.985 to fp32 (0.9975 unfolded or dense-only), so the
    depthwise ones are kept.
    """

    def __init__(self, model, device, precision: str, channels_last: bool, optimise: bool = False):
        import torch

        self.torch = torch
        self.device = device
        self.dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self.channels_last = channels_last
        self.layout = "nhwc" if channels_last else "nchw"
        model = model.eval().to(device)
        self.folded = 0
        if optimise:
            model, self.folded = folded_copy(model)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model

    def __call__(self, x):
        torch = self.torch
        if not isinstance(x, dict | torch.Tensor):  # a NumPy batch in self.layout
            x = torch.from_numpy(x)
            if self.layout == "nhwc":
                x = x.permute(0, 3, 1, 2)
        with torch.inference_mode(), _runtime.autocast(self.device, self.dtype):
            if isinstance(x, dict):
                x = {k: v.to(self.device) for k, v in x.items()}
            else:
                x = x.to(self.device, non_blocking=True)
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
            out = self.model.embed(x)
        return out.float().cpu().numpy()


def fold_batchnorm(model, depthwise: bool = False) -> int:
    """Fold each eval-mode BatchNorm2d into the Conv2d registered just before it (in place);
    grouped (depthwise) convolutions only with ``depthwise=True``.

    Uses ``torch.nn.utils.fusion.fuse_conv_bn_eval``; the norm's activation (timm's
    ``BatchNormAct2d``) stays. Pairs are found by registration order inside each parent
    module, which is the data flow in the timm CNNs of the zoo; :func:`folded_copy` checks the
    result against the original and keeps the original when they differ. Returns the count.
    """
    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    n = 0
    for parent in list(model.modules()):
        prev = None
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Conv2d):
                prev = (name, child)
                continue
            if (isinstance(child, torch.nn.BatchNorm2d) and prev is not None and child.track_running_stats
                    and child.running_mean is not None and prev[1].out_channels == child.num_features
                    and (depthwise or prev[1].groups == 1)):
                setattr(parent, prev[0], fuse_conv_bn_eval(prev[1], child))
                rest = [m for m in (getattr(child, "drop", None), getattr(child, "act", None))
                        if m is not None and not isinstance(m, torch.nn.Identity)]
                setattr(parent, name, torch.nn.Sequential(*rest) if rest else torch.nn.Identity())
                n += 1
            prev = None
    return n


def folded_copy(model, atol: float = 1e-4):
    """(model with BatchNorm folded into its convolutions, count), or (model, 0) when the
    folded copy's features on a random batch differ from the original's (fp32)."""
    import copy

    import torch

    folded = copy.deepcopy(model).eval()
    n = fold_batchnorm(folded)
    if n == 0:
        return model, 0
    c, h, w = model.cfg.input_size
    x = torch.randn(2, c, h, w, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ref, out = model.embed(x), folded.embed(x)
    scale = float(ref.abs().max()) or 1.0
    if not torch.allclose(out, ref, rtol=0, atol=atol * scale):
        return model, 0
    return folded, n


class OnnxRunner:
    """Runs the exported ``embed`` graph of an image backbone with ONNX Runtime (CPU)."""

    layout = "nchw"

    def __init__(self, get_model, onnx_path: Path, threads: int | None = None):
        """``get_model()`` builds the backbone; called only when the ONNX file must be exported.

        ``threads``: ONNX Runtime's intra-op threads (default: PyTorch's thread count). The
        fast path passes 1 and calls the session from one thread per core instead (whole
        batches in parallel); idle threads never spin, so they leave the CPU to decoding.
        """
        import onnxruntime as ort
        import torch

        if not onnx_path.is_file():
            export_embed(get_model(), onnx_path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads or torch.get_num_threads())
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])

    def __call__(self, x):
        import numpy as np

        arr = np.ascontiguousarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float32)
        return self.session.run(None, {"images": arr})[0].astype(np.float32)


def export_embed(model, path: Path) -> None:
    """Export ``model.embed`` (images N x 3 x H x W -> pooled features) to ONNX, atomically."""
    import torch

    from ..io import atomic_path

    class Embed(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m.embed(x)

    wrapper = Embed(model.float()).eval()
    c, h, w = model.cfg.input_size
    x = torch.zeros(2, c, h, w)
    with atomic_path(path, suffix=".onnx") as tmp, torch.no_grad():
        torch.onnx.export(wrapper, (x,), str(tmp), input_names=["images"], output_names=["features"],
                          dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}},
                          opset_version=17, dynamo=False)
    model.eval()
