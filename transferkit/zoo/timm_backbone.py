"""``TimmBackbone``: any timm model behind transferkit's feature API.

Block groups come from the model's own ``group_matcher(coarse=True)`` (the stages timm uses
for layer-wise learning-rate decay), with one change: the final head convolution/norm that
timm folds into the last stage (``MATCH_PREV_GROUP``) is kept as its own group, so
EfficientNet-style models get ``stem, stage 1..n, head conv``. The classifier is never part
of a block group. Models without a matcher fall back to ``stem + blocks/stages + rest``.
"""

from __future__ import annotations

from torch import nn

from .base import Backbone
from .config import BackboneConfig

_PREV = 99999  # timm's MATCH_PREV_GROUP ordinal
_OWN = 99998  # ...rewritten so the head conv becomes a group of its own


class _ParamHolder(nn.Module):
    """Holds references to root-level parameters (e.g. ViT ``cls_token``) for freezing."""

    def __init__(self, params: dict):
        super().__init__()
        for k, p in params.items():
            self.register_parameter(k.replace(".", "_"), p)


def _matcher_with_own_head(matcher):
    if not isinstance(matcher, dict):
        return matcher
    out = {}
    for key, spec in matcher.items():
        if isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], (list, tuple)):
            spec = [
                (rx, (_OWN,) if suffix is not None and tuple(suffix) == (_PREV,) else suffix)
                for rx, suffix in spec
            ]
        out[key] = spec
    return out


def timm_block_groups(model: nn.Module) -> list[nn.Module]:
    """Freezable groups of a timm model, input side first, classifier excluded."""
    return [g for _, g in timm_named_block_groups(model)]


def timm_named_block_groups(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` per freezable group; the name is the modules' common prefix."""
    from timm.models._manipulate import group_with_matcher, named_modules_with_params

    clf = model.get_classifier() if hasattr(model, "get_classifier") else None
    clf_ids = {id(m) for m in clf.modules()} if isinstance(clf, nn.Module) else set()
    clf_params = {id(p) for p in clf.parameters()} if isinstance(clf, nn.Module) else set()
    named = [(n, m) for n, m in named_modules_with_params(model) if id(m) not in clf_ids]
    roots = {k: p for k, p in model._parameters.items()
             if p is not None and id(p) not in clf_params}
    named += [(k, _ParamHolder({k: p})) for k, p in roots.items()]
    groups: list[list[tuple[str, nn.Module]]] = []
    matcher = getattr(model, "group_matcher", None)
    if matcher is not None:
        try:
            by_id = group_with_matcher([(n, (n, m)) for n, m in named],
                                       _matcher_with_own_head(matcher(coarse=True)),
                                       return_values=True)
            groups = [by_id[k] for k in sorted(by_id)]
        except (NotImplementedError, TypeError, AttributeError):
            groups = []
    if not groups:
        groups = _fallback_groups(model, named)
    out = []
    for g in groups:
        if not g:
            continue
        mods = [m for _, m in g]
        out.append((_label([n for n, _ in g]), mods[0] if len(mods) == 1 else nn.ModuleList(mods)))
    return out


def _label(names: list[str]) -> str:
    parts = [n.split(".") for n in names]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    if len(common) >= 3 and common[1].isdigit():
        common = common[:2]  # "blocks.0.0" -> "blocks.0": name the stage, not its only block
    if common:
        return ".".join(common)
    tops = list(dict.fromkeys(n.split(".")[0] for n in names))
    return "+".join(tops) if len(tops) <= 3 else f"{tops[0]}+...+{tops[-1]}"


def _fallback_groups(model: nn.Module, named) -> list[list[tuple[str, nn.Module]]]:
    body_name = next((n for n in ("blocks", "stages", "layers", "features") if hasattr(model, n)),
                     None)
    if body_name is None:
        return [list(named)]
    stem, body, rest = [], {}, []
    children = list(getattr(model, body_name).named_children())
    seen_body = False
    for n, m in named:
        if n.startswith(body_name + "."):
            seen_body = True
            child = n[len(body_name) + 1 :].split(".")[0]
            body.setdefault(child, []).append((n, m))
        elif seen_body:
            rest.append((n, m))
        else:
            stem.append((n, m))
    return [stem] + [body[c] for c, _ in children if c in body] + [rest]


class TimmBackbone(Backbone):
    """A timm model with the transferkit feature API (forward_* delegate to timm)."""

    def __init__(self, cfg: BackboneConfig, model: nn.Module, block_labels=None):
        super().__init__(cfg)
        self.model = model
        self.block_labels = list(block_labels) if block_labels is not None else None
        self._groups_cache: list[tuple[str, nn.Module]] | None = None

    def forward_features(self, x):
        return self.model.forward_features(x)

    def forward_head(self, x, pre_logits: bool = False):
        return self.model.forward_head(x, pre_logits=pre_logits)

    def get_classifier(self) -> nn.Module:
        return self.model.get_classifier()

    def reset_classifier(self, num_classes: int) -> None:
        self.model.reset_classifier(num_classes)
        self._groups_cache = None
        self.__dict__.pop("_path_cache", None)
        self.__dict__.pop("_composes", None)

    def _named_groups(self) -> list[tuple[str, nn.Module]]:
        if self._groups_cache is None:
            # A plain list attribute, so the groups are not registered as submodules twice.
            self.__dict__["_groups_cache"] = timm_named_block_groups(self.model)
        return self._groups_cache

    def block_groups(self) -> list[nn.Module]:
        return [g for _, g in self._named_groups()]

    def block_names(self) -> list[str]:
        """A label per block group (the common prefix of its module names)."""
        groups = self._named_groups()
        if self.block_labels is not None and len(self.block_labels) == len(groups):
            return list(self.block_labels)
        return [n for n, _ in groups]

    def forward_blocks(self, x, start: int = 0, end: int | None = None):
        """Run groups ``start .. end-1`` through the model's own modules (``blocks.3``,
        ``conv_stem`` then ``bn1``, ...), so residual blocks keep their skip connections.
        Models whose groups do not map onto whole modules fall back to the leaf layers (and
        then :meth:`blocks_compose` is False)."""
        path = self._path_groups()
        if path is None:
            return super().forward_blocks(x, start, end)
        for mods in path[start:end]:
            for m in mods:
                x = m(x)
        return x

    def _path_groups(self) -> list[list[nn.Module]] | None:
        if "_path_cache" not in self.__dict__:
            self.__dict__["_path_cache"] = self._resolve_path_groups()
        return self.__dict__["_path_cache"]

    def _resolve_path_groups(self) -> list[list[nn.Module]] | None:
        out, tops = [], []
        for label, group in self._named_groups():
            names = label.split("+")
            try:
                mods = [self.model.get_submodule(name) for name in names]
            except AttributeError:
                return None
            have = {id(p) for m in mods for p in m.parameters()}
            if have != {id(p) for p in group.parameters()}:
                return None
            out.append(mods)
            tops.append((names[0].split(".")[0], names[-1].split(".")[0]))
        # Parameter-free top-level modules between two groups (a ResNet's act1 and maxpool
        # after conv1+bn1) run at the end of the earlier group.
        children = [n for n, _ in self.model.named_children()]
        for i in range(len(out) - 1):
            a, b = tops[i][1], tops[i + 1][0]
            if a == b or a not in children or b not in children:
                continue
            for name in children[children.index(a) + 1:children.index(b)]:
                m = self.model.get_submodule(name)
                if any(True for _ in m.parameters()):
                    return None
                out[i].append(m)
        return out
