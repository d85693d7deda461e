"""Split training state into tensors (safetensors) and plain data (JSON), and back. No pickle.

Optimiser, LR scheduler, grad scaler and RNG states are nested dicts of tensors and Python
values; here they are flattened into ``{name: tensor}`` for safetensors plus a JSON-able dict.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def optimizer_to_parts(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors, other = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"optim.{pid}.{k}"] = v
            else:
                other.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "other": other}


def optimizer_from_parts(opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict = {}
    for name, v in tensors.items():
        if name.startswith("optim."):
            _, pid, k = name.split(".", 2)
            state.setdefault(int(pid), {})[k] = v
    for pid, d in meta["other"].items():
        state.setdefault(int(pid), {}).update(d)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def rng_to_parts() -> tuple[dict, dict]:
    tensors = {"rng.torch": torch.get_rng_state()}
    name, keys, pos, has_gauss, cached = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    meta = {
        "numpy": [name, int(pos), int(has_gauss), float(cached)],
        "python": _py_state_to_json(random.getstate()),
    }
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    return tensors, meta


def rng_from_parts(tensors: dict, meta: dict) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    name, pos, has_gauss, cached = meta["numpy"]
    keys = tensors["rng.numpy"].numpy().astype(np.uint32)
    np.random.set_state((name, keys, pos, has_gauss, cached))
    random.setstate(_py_state_from_json(meta["python"]))
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _py_state_to_json(st):
    version, internal, gauss = st
    return [version, list(internal), gauss]


def _py_state_from_json(js):
    version, internal, gauss = js
    return (version, tuple(internal), gauss)


def model_to_parts(prefix: str, state_dict: dict) -> dict:
    return {f"{prefix}.{k}": v for k, v in state_dict.items()}


def model_from_parts(prefix: str, tensors: dict) -> dict:
    p = prefix + "."
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}
