"""The article's small CNN trained from scratch.

Three blocks of (Conv ``filters`` x ``kernel`` x ``kernel``, ReLU, MaxPool ``pool`` x ``pool``),
then Flatten -> Dense(``dense``, ReLU) -> Dropout(``dropout``) -> output.

Adaptations (documented in docs/baselines.md):

* convolutions use 'same' padding (the article's Keras code used 'valid'), so the spatial size
  only shrinks through pooling;
* each block pools by ``min(pool, p)`` where ``p`` is the largest integer with
  ``p ** blocks_left <= size`` (per axis), so small inputs are shrunk evenly over the three
  blocks instead of collapsing in the first: 8x8 digits go 8 -> 4 -> 2 -> 1 (2x2 pooling),
  28x28 go 28 -> 9 -> 3 -> 1 (3x3); from 64x64 up the article's 4x4 pooling applies unchanged
  (64 -> 16 -> 4 -> 1, 224 -> 56 -> 14 -> 3);
* ``input_size`` optionally resizes (bilinear) every input to ``input_size`` x ``input_size``
  inside the network, e.g. 64 for 8x8 digits so the three 4x4 poolings apply as written
  (64 -> 16 -> 4 -> 1), at about 60 times the compute.
"""

from __future__ import annotations

from transferkit.baselines._torch_base import TorchImageClassifier
from transferkit.errors import TransferkitError


def _pool_size(size: int, pool: int, blocks_left: int) -> int:
    """``min(pool, p)`` with ``p`` the largest integer such that ``p ** blocks_left <= size``."""
    p = 1
    while (p + 1) ** blocks_left <= size:
        p += 1
    return max(1, min(pool, p))


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


class SmallCNNClassifier(TorchImageClassifier):
    """The article's small CNN (see the module docstring), trained with Adam.

    Parameters
    ----------
    filters, kernel, pool, dense, dropout, n_blocks :
        Architecture; defaults are the article's (32 filters 5x5, 4x4 pooling, 3 blocks,
        dense 64, dropout 0.5).
    input_size : int, (int, int) or None
        Resize inputs to this size inside the network; None keeps their size.
    epochs, lr, batch_size, weight_decay, seed, device, image_size, progress :
        As for :class:`~transferkit.baselines.PixelMLPClassifier`.
    """

    def __init__(
        self,
        filters=32,
        kernel=5,
        pool=4,
        dense=64,
        dropout=0.5,
        input_size=None,
        n_blocks=3,
        epochs=30,
        lr=1e-3,
        batch_size=64,
        weight_decay=0.0,
        seed=0,
        device="cpu",
        image_size=64,
        progress=False,
    ):
        self.filters = filters
        self.kernel = kernel
        self.pool = pool
        self.dense = dense
        self.dropout = dropout
        self.input_size = input_size
        self.n_blocks = n_blocks
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

        c, h, w = input_shape
        k = int(self.kernel)
        if k < 1 or int(self.filters) < 1 or int(self.pool) < 1 or int(self.n_blocks) < 1:
            raise TransferkitError("filters, kernel, pool and n_blocks must be positive")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise TransferkitError(f"dropout={self.dropout!r}: must be in [0, 1)")
        layers = []
        if self.input_size is not None:
            h, w = _pair(self.input_size)
            if h < 1 or w < 1:
                raise TransferkitError(f"input_size={self.input_size!r}: must be positive")
            layers.append(nn.Upsample(size=(h, w), mode="bilinear", align_corners=False))
        n_blocks = int(self.n_blocks)
        for i in range(n_blocks):
            # 'same' padding: left k//2, right (k-1)//2 (asymmetric only for even kernels)
            pad = (k // 2, (k - 1) // 2, k // 2, (k - 1) // 2)
            layers += [nn.ZeroPad2d(pad), nn.Conv2d(c, int(self.filters), k), nn.ReLU()]
            c = int(self.filters)
            ph = _pool_size(h, int(self.pool), n_blocks - i)
            pw = _pool_size(w, int(self.pool), n_blocks - i)
            if ph > 1 or pw > 1:
                layers.append(nn.MaxPool2d((ph, pw)))
                h, w = h // ph, w // pw
        layers += [
            nn.Flatten(),
            nn.Linear(c * h * w, int(self.dense)),
            nn.ReLU(),
            nn.Dropout(float(self.dropout)),
            nn.Linear(int(self.dense), n_classes),
        ]
        return nn.Sequential(*layers)
