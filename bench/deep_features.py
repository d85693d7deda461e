"""Write deep features of the domain-adaptation sets as ``<domain>.npz`` (X, y) files.

Office-Caltech-10 images through ``efficientnet_lite0`` and the four Amazon review domains
through ``minilm_l6``, extracted with transferkit's feature cache (so a rerun is instant).
The files feed ``bench/da_shallow.py --features DIR`` and the deep-DA benchmark.

Two held-out sets for ``--method auto`` (docs/adapt.md): ``office_googlenet``, the
GoogleNet-1024 features that ship with the shared data (amazon, dslr, webcam; labels 0-9), and
``sst2_amazon_minilm``, 2,000 balanced SST-2 validation sentences (seed 0) through
``minilm_l6`` beside links to the four Amazon files (built after ``amazon_minilm``).

A second held-out text set, ``text_tfidf_lsa`` (``--only tfidf``): the same four Amazon domains
and the same 2,000 SST-2 sentences as bag-of-words TF-IDF (sublinear, words seen in at least 3
texts, at most 20,000), reduced by truncated SVD (LSA, 256 dimensions) and L2-normalised; the
vocabulary and the SVD are fitted on the texts of all five domains together, without labels.

Two more held-out text sets (``--only checks``), built for the fallback rule of docs/adapt.md
("NC between source-only and TCA"), whose predictions were committed before they ran:
``amazon_titles_minilm``, the *titles* of the same Amazon reviews (short texts; reviews with an
empty title left out) through ``minilm_l6``, with the SST-2 sample's ``minilm_l6`` features as a
fifth domain; and ``text_char_lsa``, the reviews and the SST-2 sample as character 3-5-gram
TF-IDF (within word boundaries, sublinear, seen in at least 3 texts, at most 50,000) reduced
by LSA to 256 dimensions and L2-normalised, fitted on all five domains without labels. A third,
``titles_char_lsa``, holds the titles and the SST-2 sample as the same character n-grams.

A second round (``--only checks2``), for the variance-gated fallback of docs/adapt.md:
``amazon_first_minilm``, the first sentence of each Amazon review through ``minilm_l6`` with
the SST-2 *test* split (872 sentences no other set uses) as a fifth domain, and
``first_tfidf_lsa``, the same texts as word TF-IDF + LSA 256.

    python -m bench.deep_features [--out DIR] [--only office|amazon|heldout|tfidf|checks|checks2]
"""

from __future__ import annotations

import argparse
import html
import os
import re
import time
from pathlib import Path

import numpy as np

from bench.da_data import SHARED

DEFAULT_OUT = Path(os.environ.get("TRANSFERKIT_BENCH_FEATURES",
                                  Path.home() / ".cache/transferkit/bench_features"))
SETS = {
    "office_lite0": ("efficientnet_lite0", SHARED / "data/office_caltech10/images",
                     ["amazon", "caltech10", "dslr", "webcam"]),
    "amazon_minilm": ("minilm_l6", SHARED / "data/text/amazon_reviews",
                      ["books", "dvd", "electronics", "kitchen"]),
}


def build(name, out, progress=True):
    from transferkit.data import load_amazon_reviews, load_data
    from transferkit.features import extract_features

    backbone, root, domains = SETS[name]
    folder = Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    classes = None
    for dom in domains:
        t0 = time.perf_counter()
        ds = load_amazon_reviews(root / dom) if name.startswith("amazon") else load_data(root / dom)
        if classes is None:
            classes = list(ds.classes)
        if list(ds.classes) != classes:
            raise SystemExit(f"{root / dom}: classes differ from the first domain")
        f = extract_features(ds, backbone, progress=progress)
        tmp = folder / f".{dom}.tmp.npz"
        np.savez(tmp, X=f.X.astype(np.float32), y=np.asarray(f.y, dtype=np.int64))
        os.replace(tmp, folder / f"{dom}.npz")
        print(f"{name}/{dom}: {f.X.shape} in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def build_googlenet(out):
    """The shared GoogleNet-1024 ``.mat`` features as ``<domain>.npz`` (labels 1..10 -> 0..9)."""
    from scipy.io import loadmat

    folder = Path(out) / "office_googlenet"
    folder.mkdir(parents=True, exist_ok=True)
    src = SHARED / "data/office_caltech10/deep_features/features/GoogleNet1024"
    for dom in ("amazon", "dslr", "webcam"):
        m = loadmat(src / f"{dom}.mat")
        tmp = folder / f".{dom}.tmp.npz"
        np.savez(tmp, X=m["fts"].astype(np.float32),
                 y=m["labels"].ravel().astype(np.int64) - 1)
        os.replace(tmp, folder / f"{dom}.npz")
    print(f"office_googlenet: {folder}", flush=True)
    return folder


def _sst2_sample(per_class=1000, seed=0):
    """The SST-2 validation sentences of the held-out sets: ``per_class`` of each label."""
    from transferkit.data import load_data

    ds = load_data(SHARED / "data/text/sst2")
    split, y = np.asarray(ds.split).astype(str), np.asarray(ds.y)
    rng = np.random.default_rng(seed)
    return ds.subset(np.sort(np.concatenate([
        rng.choice(np.flatnonzero((split == "val") & (y == c)), per_class, replace=False)
        for c in (0, 1)])))


def build_tfidf(out, dims=256, seed=0):
    """``text_tfidf_lsa``: TF-IDF + LSA features of the Amazon domains and the SST-2 sample."""
    from transferkit.data import load_amazon_reviews

    return _lsa_set(out, "text_tfidf_lsa", _word_tfidf(), load_amazon_reviews, dims, seed,
                    "words")


def _word_tfidf():
    """The word TF-IDF of the LSA text sets: sublinear, words seen in at least 3 texts, at
    most 20,000."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, min_df=3, max_features=20000)


def _lsa_set(out, name, vectorizer, load, dims, seed, unit, sst2=None):
    """TF-IDF (``vectorizer``) + LSA (``dims``), L2-normalised, of the four Amazon domains
    (each read by ``load``) and the SST-2 sample (``sst2``: another SST-2 Dataset), fitted on
    all five without labels."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    root = SETS["amazon_minilm"][1]
    doms = {d: load(root / d) for d in SETS["amazon_minilm"][2]}
    doms["sst2"] = _sst2_sample(seed=seed) if sst2 is None else sst2
    tf = vectorizer.fit_transform([t for ds in doms.values() for t in ds.inputs])
    Z = normalize(TruncatedSVD(dims, random_state=seed).fit_transform(tf))
    arrays, start = {}, 0
    for d, ds in doms.items():
        arrays[d] = (Z[start:start + len(ds)], ds.y)
        start += len(ds)
    folder = Path(out) / name
    _save_domains(folder, arrays)
    print(f"{name}: {folder} ({tf.shape[1]} {unit} -> {dims} dims)", flush=True)
    return folder


def build_sst2_amazon(out, progress=True, per_class=1000, seed=0):
    """SST-2 validation sentences (``per_class`` of each label) through minilm_l6, as a fifth
    domain beside symbolic links to the Amazon domains' files (negative = 0, positive = 1)."""
    from transferkit.features import extract_features

    amazon = Path(out) / "amazon_minilm"
    if not all((amazon / f"{d}.npz").exists() for d in SETS["amazon_minilm"][2]):
        raise SystemExit(f"{amazon}: build amazon_minilm first (--only amazon)")
    f = extract_features(_sst2_sample(per_class, seed), "minilm_l6", progress=progress)
    folder = Path(out) / "sst2_amazon_minilm"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".sst2.tmp.npz"
    np.savez(tmp, X=f.X.astype(np.float32), y=np.asarray(f.y, dtype=np.int64))
    os.replace(tmp, folder / "sst2.npz")
    for d in SETS["amazon_minilm"][2]:
        link = folder / f"{d}.npz"
        if not link.exists():
            os.symlink(amazon / f"{d}.npz", link)
    print(f"sst2_amazon_minilm: {folder}", flush=True)
    return folder


_BLOCK_RE = re.compile(r"<review>(.*?)</review>", re.DOTALL)
_TITLE_RE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


def load_amazon_titles(domain_dir):
    """The titles of one Amazon domain's reviews as a text Dataset (empty titles left out)."""
    from transferkit.data import Dataset

    texts, y = [], []
    for label, cls in enumerate(("negative", "positive")):
        path = Path(domain_dir) / f"{cls}.review"
        content = path.read_text(encoding="utf-8", errors="replace")
        for block in _BLOCK_RE.findall(content):
            m = _TITLE_RE.search(block)
            title = html.unescape(m.group(1)).strip() if m else ""
            if title:
                texts.append(title)
                y.append(label)
    return Dataset("text", texts, np.array(y, dtype=np.int64), ["negative", "positive"],
                   str(domain_dir))


def _save_domains(folder, arrays):
    folder.mkdir(parents=True, exist_ok=True)
    for d, (X, y) in arrays.items():
        tmp = folder / f".{d}.tmp.npz"
        np.savez(tmp, X=np.asarray(X, dtype=np.float32), y=np.asarray(y, dtype=np.int64))
        os.replace(tmp, folder / f"{d}.npz")


def _minilm_set(out, name, load, sst2, progress=True):
    """The four Amazon domains (each read by ``load``) and ``sst2`` through minilm_l6, saved
    as ``<name>/<domain>.npz``."""
    from transferkit.features import extract_features

    root, doms = SETS["amazon_minilm"][1], SETS["amazon_minilm"][2]
    arrays = {}
    for d, ds in [*((d, load(root / d)) for d in doms), ("sst2", sst2)]:
        f = extract_features(ds, "minilm_l6", progress=progress)
        arrays[d] = (f.X, f.y)
    folder = Path(out) / name
    _save_domains(folder, arrays)
    print(f"{name}: {folder} "
          f"({', '.join(f'{d} {len(a[1])}' for d, a in arrays.items())})", flush=True)
    return folder


def build_titles(out, progress=True, seed=0):
    """``amazon_titles_minilm``: review titles through minilm_l6, plus the SST-2 sample."""
    return _minilm_set(out, "amazon_titles_minilm", load_amazon_titles, _sst2_sample(seed=seed),
                       progress)


def build_chars(out, dims=256, seed=0, titles=False):
    """``text_char_lsa``: character 3-5-gram TF-IDF + LSA of the reviews and the SST-2 sample
    (``titles=True``: of the reviews' titles, ``titles_char_lsa``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from transferkit.data import load_amazon_reviews

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=3,
                          max_features=50000, dtype=np.float32)
    return _lsa_set(out, "titles_char_lsa" if titles else "text_char_lsa", vec,
                    load_amazon_titles if titles else load_amazon_reviews, dims, seed, "n-grams")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text, min_words=4):
    """The first sentence of ``text`` (split after '.', '!' or '?'), with the next ones
    joined on while it has fewer than ``min_words`` words."""
    pieces = [p for p in _SENTENCE_END.split(text.strip()) if p]
    out, i = pieces[0] if pieces else "", 1
    while len(out.split()) < min_words and i < len(pieces):
        out, i = f"{out} {pieces[i]}", i + 1
    return out


def load_amazon_first(domain_dir):
    """The first sentence of each review of one Amazon domain, as a text Dataset."""
    from transferkit.data import Dataset, load_amazon_reviews

    ds = load_amazon_reviews(domain_dir)
    return Dataset("text", [first_sentence(t) for t in ds.inputs], np.asarray(ds.y),
                   list(ds.classes), str(domain_dir))


def sst2_test():
    """The SST-2 test split (GLUE's dev sentences, 872), never used by the other sets."""
    from transferkit.data import load_data

    ds = load_data(SHARED / "data/text/sst2")
    return ds.subset(np.flatnonzero(np.asarray(ds.split).astype(str) == "test"))


def build_first(out, progress=True, seed=0):
    """The second round of check sets: ``amazon_first_minilm``, the first sentence of each
    Amazon review through minilm_l6 with the SST-2 test split as a fifth domain, and
    ``first_tfidf_lsa``, the same texts as word TF-IDF + LSA 256 (as ``text_tfidf_lsa``)."""
    sst2 = sst2_test()
    _minilm_set(out, "amazon_first_minilm", load_amazon_first, sst2, progress)
    return _lsa_set(out, "first_tfidf_lsa", _word_tfidf(), load_amazon_first, 256, seed,
                    "words", sst2=sst2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--only", choices=["office", "amazon", "heldout", "tfidf", "checks",
                                           "checks2"])
    args = ap.parse_args(argv)
    for name in SETS:
        if args.only in (None, name.split("_")[0]):
            build(name, args.out)
    if args.only in (None, "heldout"):
        build_googlenet(args.out)
        build_sst2_amazon(args.out)
    if args.only in (None, "tfidf"):
        build_tfidf(args.out)
    if args.only in (None, "checks"):
        build_titles(args.out)
        build_chars(args.out)
        build_chars(args.out, titles=True)
    if args.only in (None, "checks2"):
        build_first(args.out)


if __name__ == "__main__":
    main()
