"""Image preprocessing that matches how each backbone's weights were trained.

* eval: resize the shorter side to ``cfg.resize_size`` (``cfg.interpolation``, antialiased),
  centre crop ``cfg.crop_size``, to float in [0, 1], normalise with ``cfg.mean``/``cfg.std``.
* train: ``RandomResizedCrop(cfg.crop_size, scale=(0.35, 1))`` + horizontal flip + normalise.
  The lower scale bound is 0.35 rather than ImageNet's 0.08: on small datasets the object is
  often not centred and 8 % crops frequently cut it out, which hurts fine-tuning more than the
  extra augmentation helps (the same choice timm's and Keras' fine-tuning recipes make for small
  data). Pass ``scale=(0.08, 1.0)`` for the ImageNet recipe.
"""

from __future__ import annotations

import numpy as np

from .config import BackboneConfig

_INTERP = {"bicubic": "BICUBIC", "bilinear": "BILINEAR", "nearest": "NEAREST",
           "lanczos": "LANCZOS", "box": "BOX", "hamming": "HAMMING"}


def _interp(name: str):
    from torchvision.transforms import InterpolationMode

    return getattr(InterpolationMode, _INTERP.get(str(name).lower(), "BILINEAR"))


def pil_resample(name: str):
    """The PIL resampling filter for a config's interpolation name (as :func:`_interp`)."""
    from PIL import Image

    return getattr(Image.Resampling, _INTERP.get(str(name).lower(), "BILINEAR"))


def image_transform(cfg: BackboneConfig, train: bool = False,
                    scale: tuple[float, float] = (0.35, 1.0), hflip: float = 0.5):
    """Return a callable ``PIL.Image -> torch.FloatTensor (C, H, W)`` for this backbone.

    Greyscale/RGBA/palette images are converted to RGB first.
    """
    from torchvision import transforms as T

    if cfg.modality != "image":
        from ..errors import BackboneError

        raise BackboneError(
            f"{cfg.name}: image_transform needs an image backbone, got {cfg.modality}"
        )
    interp = _interp(cfg.interpolation)
    if train:
        steps = [T.RandomResizedCrop(cfg.crop_size, scale=tuple(scale), interpolation=interp)]
        if hflip > 0:
            steps.append(T.RandomHorizontalFlip(hflip))
    else:
        steps = [T.Resize(cfg.resize_size, interpolation=interp), T.CenterCrop(cfg.crop_size)]
    steps += [T.ToTensor(), T.Normalize(mean=list(cfg.mean), std=list(cfg.std))]
    return T.Compose([T.Lambda(_to_rgb), *steps])


def _to_rgb(img):
    return img if img.mode == "RGB" else img.convert("RGB")


def tensor_transform(cfg: BackboneConfig):
    """Eval preprocessing for already-decoded ``uint8`` tensors ``(C, H, W)`` or ``(B, C, H, W)``.

    Same steps as the eval :func:`image_transform` (antialiased resize of the shorter side,
    centre crop, normalise), done with tensor ops so a batch can be processed at once. Results
    agree with the PIL path up to resampling differences (~1e-2).
    """
    import torch
    from torchvision.transforms.v2 import functional as F

    interp = _interp(cfg.interpolation)
    mean = torch.tensor(cfg.mean).view(-1, 1, 1)
    std = torch.tensor(cfg.std).view(-1, 1, 1)

    def apply(x: torch.Tensor) -> torch.Tensor:
        if x.shape[-3] == 1:
            x = x.expand(*x.shape[:-3], 3, *x.shape[-2:])
        x = F.resize(x, [cfg.resize_size], interpolation=interp, antialias=True)
        x = F.center_crop(x, [cfg.crop_size, cfg.crop_size])
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        return (x - mean.to(x.device)) / std.to(x.device)

    return apply


def arrays_to_nchw(x: np.ndarray) -> np.ndarray:
    """A stack of array samples as (n, channels, h, w): (n, h, w) gets one channel, (n, h, w, c)
    with c in (1, 3) is moved channels-first; (n, c, h, w) is kept."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3:
        return x[:, None]
    if x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3):
        return x.transpose(0, 3, 1, 2)
    return x


def array_sample_input(x, lo: float, hi: float, size: int, mean, std):
    """One raw array sample (as stored: (h, w), (h, w, c) or (c, h, w)) -> the backbone's input:
    scaled from ``(lo, hi)`` to [0, 1], then :func:`array_eval_input`."""
    chw = arrays_to_nchw(np.nan_to_num(np.asarray(x, dtype=np.float32))[None])[0]
    return array_eval_input((chw - lo) / ((hi - lo) or 1.0), size, mean, std)


def array_eval_input(img, size: int, mean, std):
    """A (c, h, w) array sample already scaled to [0, 1] -> the backbone's normalised
    (3, size, size) input: grey copied to three channels, bilinear resize of the whole frame
    (no crop: an array is the object, not a photo with a margin). The trainer's array loader
    and the feature cache both use it, so a head fitted on cached features sees at prediction
    time exactly what it was fitted on."""
    import torch

    img = torch.as_tensor(img, dtype=torch.float32)
    if img.shape[0] == 1:
        img = img.expand(3, -1, -1)
    img = torch.nn.functional.interpolate(img[None], size=(size, size), mode="bilinear",
                                          align_corners=False)[0]
    mean = torch.as_tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32).view(3, 1, 1)
    return (img - mean) / std
