"""The article's "MLP on raw pixels" baseline: flattened image -> 3 x Dense(500, ReLU) -> output."""

from __future__ import annotations

from transferkit.baselines._torch_base import TorchImageClassifier
from transferkit.errors import TransferkitError


class PixelMLPClassifier(TorchImageClassifier):
    """A multi-layer perceptron on the flattened, standardised pixels (torch, CPU friendly).

    Parameters
    ----------
    hidden : sequence of int
        Widths of the hidden layers (ReLU after each). The article uses three of 500.
    epochs, lr, batch_size, weight_decay :
        Adam training schedule (cross-entropy loss).
    seed : int
        Seeds the weight initialisation and the batch order: same seed, same model.
    device : str or None
        ``None``/``'auto'`` picks CUDA when available, else CPU.
    image_size : int
        Side length images are resized to when ``X`` is a list of image paths.
    progress : bool
        Show a progress bar over epochs.

    Inputs are arrays (n, H, W), (n, H, W, C), (n, C, H, W), (n, d) or lists of image paths.
    """

    _allow_flat = True

    def __init__(
        self,
        hidden=(500, 500, 500),
        epochs=30,
        lr=1e-3,
        batch_size=64,
        weight_decay=0.0,
        seed=0,
        device="cpu",
        image_size=64,
        progress=False,
    ):
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.image_size = image_size
        self.progress = progress

    def _build(self, input_shape, n_classes):
        from torch import nn

        try:
            widths = [int(h) for h in self.hidden]
        except TypeError as exc:
            raise TransferkitError(f"hidden={self.hidden!r}: expected a list of ints") from exc
        if any(w < 1 for w in widths):
            raise TransferkitError(f"hidden={self.hidden!r}: layer widths must be positive")
        d = 1
        for s in input_shape:
            d *= s
        layers = [nn.Flatten()]
        for w in widths:
            layers += [nn.Linear(d, w), nn.ReLU()]
            d = w
        layers.append(nn.Linear(d, n_classes))
        return nn.Sequential(*layers)
