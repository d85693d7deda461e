"""The fast path's preprocessing: crop-region resize and normalisation into a batch."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from transferkit.features.preprocess import Normaliser, crop_box, resize_crop, resized_size

SIZES = [(300, 300), (222, 324), (640, 480), (151, 201), (1000, 999), (257, 256), (480, 1001)]


def _image(w: int, h: int, seed: int = 0) -> Image.Image:
    """A photograph (scikit-image's astronaut, 512 x 512) resized to ``w`` x ``h``."""
    from skimage import data as sk

    return Image.fromarray(sk.astronaut()).resize((w, h), Image.LANCZOS)


def _resize_then_crop(img, resize, crop):
    from torchvision import transforms as T

    tf = T.Compose([T.Resize(resize, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(crop)])
    return np.asarray(tf(img)).astype(int)


# Equal up to the uint8 rounding between the two passes: Pillow picks the order of its passes
# itself, the crop-region resize always runs horizontal then vertical.
@pytest.mark.parametrize("w,h", SIZES)
def test_crop_region_resize_matches_resize_then_crop(w, h):
    img = _image(w, h)
    got = np.asarray(resize_crop(img, 256, 224, Image.BICUBIC)).astype(int)
    assert got.shape == (224, 224, 3)
    diff = np.abs(got - _resize_then_crop(img, 256, 224))
    assert diff.max() <= 3 and diff.mean() < 0.25, (diff.max(), diff.mean())


def test_crop_region_resize_on_a_photograph():
    from skimage import data as sk

    img = Image.fromarray(sk.chelsea())  # 451 x 300
    got = np.asarray(resize_crop(img, 256, 224, Image.BICUBIC)).astype(int)
    assert np.abs(got - _resize_then_crop(img, 256, 224)).max() <= 1


@pytest.mark.parametrize("w,h", SIZES)
def test_resized_size_and_box_follow_torchvision(w, h):
    from torchvision import transforms as T

    assert resized_size(w, h, 256) == T.Resize(256)(Image.new("RGB", (w, h))).size
    x0, y0, x1, y1 = crop_box(w, h, 256, 224)
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    nw, nh = resized_size(w, h, 256)
    assert (x1 - x0) * nw / w == pytest.approx(224) and (y1 - y0) * nh / h == pytest.approx(224)


def test_crop_larger_than_resize_is_refused():
    with pytest.raises(ValueError, match="smaller than crop"):
        crop_box(300, 300, 200, 224)


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_normaliser_matches_totensor_normalize(layout):
    from torchvision import transforms as T

    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    img = _image(64, 64)
    ref = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(img).numpy()
    norm = Normaliser(mean, std, 64, layout)
    batch = norm.batch(3)
    assert batch.shape == ((3, 64, 64, 3) if layout == "nhwc" else (3, 3, 64, 64)) and batch.dtype == np.float32
    norm.into(np.asarray(img), batch[1])
    got = batch[1] if layout == "nchw" else batch[1].transpose(2, 0, 1)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)


def test_normaliser_rejects_bad_input():
    with pytest.raises(ValueError, match="layout"):
        Normaliser((0.5,) * 3, (0.5,) * 3, 8, "chw")
    norm = Normaliser((0.5,) * 3, (0.5,) * 3, 8)
    with pytest.raises(ValueError, match="shape"):
        norm.into(np.zeros((8, 9, 3), np.uint8), norm.batch(1)[0])
