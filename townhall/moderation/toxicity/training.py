"""Training and evaluation of the shipped toxicity model (``townhall moderation train|evaluate``).

``train`` is deterministic: the validation split is a hash of the seed and the text, features are
hashed with fixed functions, the optimiser is full-batch L-BFGS in plain numpy with sums in a
fixed order, and the file is written without timestamps. The same data and seed therefore give
the same bytes, which CI checks against the shipped file, on every CPU that runs the same numeric
kernels: the ``train`` command pins them (``kernels.py``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from townhall.moderation.toxicity.datasets import (
    ADDRESSED_TOXIC_WEIGHT,
    SOURCE_WEIGHTS,
    Corpus,
    test_splits,
    training_sources,
    validation_mask,
)
from townhall.moderation.toxicity.features import (
    LEXICON_FEATURES,
    FeatureConfig,
    FloatArray,
    IntArray,
    extract,
    tfidf_block,
)
from townhall.moderation.toxicity.metrics import precision_recall, roc_auc, threshold_at_fpr
from townhall.moderation.toxicity.model import ToxicityModel
from townhall.moderation.toxicity.network import Network, network_inputs
from townhall.moderation.toxicity.optimize import CSR, joint_objective, lbfgs, split_joint
from townhall.moderation.toxicity.severity import MILD_TARGET, swearing_only, training_target
from townhall.moderation.toxicity.word_vectors import WordVectors

# False-positive rates on validation negatives that set the recommended thresholds: hold a
# comment for review when it is about as toxic as the worst 2 % of civil comments, nudge its
# author ("are you sure?") at the worst 10 %.
HOLD_FPR = 0.02
_ADDRESSES_READER = LEXICON_FEATURES.index("addresses_reader")
NUDGE_FPR = 0.10


@dataclass(frozen=True)
class Hyper:
    """Training settings (recorded in the model file)."""

    l2: float = 4e-6
    l2_lexicon: float = 1e-7
    min_df: int = 2
    max_iter: int = 800  # the network is stopped here, not at convergence (model card)
    addressed_toxic_weight: float = ADDRESSED_TOXIC_WEIGHT
    mild_target: float = MILD_TARGET  # toxic rows that only swear (severity.py)
    hidden: int = 32  # tanh units of the network beside the regression (network.py)
    l2_network: float = 1e-4
    features: FeatureConfig = field(default_factory=FeatureConfig)


@dataclass(frozen=True)
class TrainReport:
    path: str
    version: str
    size_bytes: int
    rows: dict[str, int]
    validation_auc: dict[str, float]
    hold_threshold: float
    nudge_threshold: float
    iterations: int
    converged: bool
    loss: float
    seconds: float
    mild_rows: int = 0  # toxic rows fitted toward severity.MILD_TARGET (swearing only)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        lines = [
            f"model    {self.path} ({self.size_bytes / 1e6:.2f} MB, version {self.version})",
            f"fit      {self.iterations} L-BFGS iterations, loss {self.loss:.5f}, "
            f"{'converged' if self.converged else 'stopped at the iteration budget'}, "
            f"{self.seconds:.0f} s",
            f"thresholds  hold >= {self.hold_threshold:.2f}   nudge >= {self.nudge_threshold:.2f}",
            f"severity    {self.mild_rows} toxic rows only swear (fitted toward the mild target)",
            "",
            f"{'source':<22}{'train rows':>12}{'val AUC':>10}",
        ]
        for name, rows in self.rows.items():
            auc = self.validation_auc.get(name)
            shown = "-" if auc is None else f"{auc:.4f}"  # a teacher-labelled source has none
            lines.append(f"{name:<22}{rows:>12}{shown:>10}")
        return "\n".join(lines)


@dataclass(frozen=True)
class SplitMetrics:
    split: str
    rows: int
    positives: int
    roc_auc: float
    precision: float
    recall: float
    eval_only: bool


@dataclass(frozen=True)
class EvalReport:
    model_version: str
    hold_threshold: float
    splits: list[SplitMetrics]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def auc(self) -> dict[str, float]:
        return {s.split: s.roc_auc for s in self.splits}

    def format(self) -> str:
        lines = [
            f"model {self.model_version}; precision/recall at hold threshold "
            f"{self.hold_threshold:.2f}",
            "",
            f"{'split':<24}{'rows':>7}{'toxic':>7}{'ROC-AUC':>9}{'precision':>11}{'recall':>8}",
        ]
        for s in self.splits:
            mark = "  (eval only)" if s.eval_only else ""
            lines.append(
                f"{s.split:<24}{s.rows:>7}{s.positives:>7}{s.roc_auc:>9.4f}"
                f"{s.precision:>11.3f}{s.recall:>8.3f}{mark}"
            )
        return "\n".join(lines)


# -- features → matrix ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    word: IntArray
    char: IntArray
    lexicon: FloatArray
    mild: bool  # toxic, it would be fitted toward the mild target (severity.py)
    words: tuple[str, ...]  # the normalised words, for the network's input

    @property
    def n_tokens(self) -> int:
        return len(self.words)


def _featurize(texts: Sequence[str], config: FeatureConfig) -> list[_Raw]:
    out = []
    for text in texts:
        raw = extract(text, config)
        mild = swearing_only(raw.tokens, raw.lexicon)
        words = tuple(t.text for t in raw.tokens)
        out.append(_Raw(raw.word, raw.char, raw.lexicon, mild, words))
    return out


def _idf(raws: Sequence[_Raw], config: FeatureConfig, min_df: int) -> FloatArray:
    """Smoothed IDF per bucket, 0 for buckets seen in fewer than ``min_df`` documents."""
    df_word = np.bincount(
        np.concatenate([np.unique(r.word) for r in raws]), minlength=config.word_size
    )
    df_char = np.bincount(
        np.concatenate([np.unique(r.char) for r in raws]), minlength=config.char_size
    )
    df = np.concatenate((df_word, df_char)).astype(np.float64)
    idf = np.log((1.0 + len(raws)) / (1.0 + df)) + 1.0
    idf[df < min_df] = 0.0
    # the model file stores float16: train on exactly what will be scored
    return idf.astype(np.float16).astype(np.float64)


def _design(raws: Sequence[_Raw], idf: FloatArray, config: FeatureConfig) -> CSR:
    """Rows: [word TF-IDF | char TF-IDF | lexicon | bias 1], hashed blocks scaled by evidence."""
    w = config.word_size
    lex_offset = w + config.char_size
    bias_col = config.n_features
    lex_cols = np.arange(lex_offset, lex_offset + len(LEXICON_FEATURES))
    idf_word, idf_char = idf[:w], idf[w:]
    indices: list[IntArray] = []
    data: list[FloatArray] = []
    lengths = np.zeros(len(raws), dtype=np.int64)
    for i, raw in enumerate(raws):
        wu, wv, _ = tfidf_block(raw.word, idf_word)
        cu, cv, _ = tfidf_block(raw.char, idf_char)
        evidence = config.evidence(raw.n_tokens)  # as ToxicityModel.logit scales them
        wv = wv * evidence
        cv = cv * evidence
        lex_nz = raw.lexicon != 0
        row_idx = np.concatenate((wu, cu + w, lex_cols[lex_nz], [bias_col]))
        row_val = np.concatenate((wv, cv, raw.lexicon[lex_nz], [1.0]))
        keep = row_val != 0
        indices.append(row_idx[keep])
        data.append(row_val[keep])
        lengths[i] = int(keep.sum())
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return CSR(
        indptr=indptr,
        indices=np.concatenate(indices).astype(np.int32),
        data=np.concatenate(data),
        n_cols=config.n_features + 1,
    )


def _addressed(raws: Sequence[_Raw]) -> npt.NDArray[np.bool_]:
    """Rows addressed to someone ("you …", "your …"): the lexicon's second-person feature."""
    return np.array([r.lexicon[_ADDRESSES_READER] > 0 for r in raws], dtype=np.bool_)


def _sample_weights(
    corpora: Sequence[Corpus], addressed: npt.NDArray[np.bool_], addressed_toxic_weight: float
) -> FloatArray:
    """Each source gets its share of the loss, split equally between its two classes; a toxic
    row addressed to someone (``addressed``) then counts ``addressed_toxic_weight`` times."""
    parts = []
    for corpus in corpora:
        share = SOURCE_WEIGHTS.get(corpus.name, 0.25)  # a new source counts a little
        y = corpus.labels
        n_pos = max(int(y.sum()), 1)
        n_neg = max(len(y) - int(y.sum()), 1)
        parts.append(np.where(y == 1, share / (2 * n_pos), share / (2 * n_neg)))
    weights = np.concatenate(parts)
    y_all = np.concatenate([c.labels for c in corpora])
    return np.where(addressed & (y_all == 1), weights * addressed_toxic_weight, weights)


def loss_weights(corpora: Sequence[Corpus], hyper: Hyper) -> FloatArray:
    """Each row's weight in the training loss, as ``fit`` weighs it (for the teacher script,
    which samples training rows in the same proportions)."""
    raws = _featurize([t for c in corpora for t in c.texts], hyper.features)
    return _sample_weights(corpora, _addressed(raws), hyper.addressed_toxic_weight)


def validation_split(corpus: Corpus, seed: int) -> npt.NDArray[np.bool_]:
    """The rows of ``corpus`` held out to choose thresholds: none of a teacher-labelled corpus,
    whose targets are a model's guesses, not labels."""
    if corpus.teacher_labelled:
        return np.zeros(len(corpus), dtype=np.bool_)
    return validation_mask(corpus.texts, seed)


# -- train / evaluate ------------------------------------------------------------------------


def _network_inputs(
    raws: Sequence[_Raw], vectors: WordVectors, config: FeatureConfig
) -> FloatArray:
    return np.array(
        [network_inputs(r.words, r.lexicon, vectors, config.evidence(r.n_tokens)) for r in raws]
    )


@dataclass(frozen=True)
class Fitted:
    idf: FloatArray
    weights: FloatArray  # rounded to float16, as the file stores them
    bias: float
    network: Network  # rounded to float32, as the file stores it
    info: dict[str, Any]


def fit(corpora: Sequence[Corpus], hyper: Hyper, vectors: WordVectors, *, seed: int = 42) -> Fitted:
    """Fit the regression and the network beside it on ``corpora``, in one objective."""
    config = hyper.features
    texts = [t for c in corpora for t in c.texts]
    labels = np.concatenate([c.labels for c in corpora])
    raws = _featurize(texts, config)
    y = np.array(
        [
            training_target(int(label), r.mild, hyper.mild_target)
            for label, r in zip(labels, raws, strict=True)
        ]
    )
    # a teacher-labelled source is fitted toward the teacher's probabilities
    taught = np.concatenate([np.full(len(c), c.teacher_labelled) for c in corpora])
    if taught.any():
        y[taught] = np.concatenate([c.targets for c in corpora if c.targets is not None])
    idf = _idf(raws, config, hyper.min_df)
    x = _design(raws, idf, config)
    inputs = _network_inputs(raws, vectors, config)
    l2 = np.full(x.n_cols, hyper.l2)
    l2[config.word_size + config.char_size : config.n_features] = hyper.l2_lexicon
    l2[-1] = 0.0  # bias
    weights = _sample_weights(corpora, _addressed(raws), hyper.addressed_toxic_weight)
    objective = joint_objective(x, inputs, y, weights, l2, hyper.hidden, hyper.l2_network)
    # the regression starts at zero, the network at small random weights (a fixed seed)
    rng = np.random.default_rng(seed)
    n_in = inputs.shape[1]
    start = np.concatenate(
        (
            np.zeros(x.n_cols),
            rng.normal(0.0, 1.0 / math.sqrt(n_in), hyper.hidden * n_in),
            np.zeros(hyper.hidden),
            rng.normal(0.0, 1.0 / math.sqrt(hyper.hidden), hyper.hidden),
        )
    )
    result = lbfgs(objective, start, max_iter=hyper.max_iter)
    w, w1, b1, w2 = split_joint(result.weights, x.n_cols, hyper.hidden, n_in)
    network = Network(
        w1=w1.astype(np.float32).astype(np.float64),
        b1=b1.astype(np.float32).astype(np.float64),
        w2=w2.astype(np.float32).astype(np.float64),
    )
    info = {
        "iterations": result.iterations,
        "converged": result.converged,
        "loss": result.loss,
        "nnz": len(x.data),
        "mild_rows": sum(
            1
            for r, label, t in zip(raws, labels, taught, strict=True)
            if label and r.mild and not t
        ),
    }
    weights16 = w[:-1].astype(np.float16).astype(np.float64)
    return Fitted(idf, weights16, float(w[-1]), network, info)


def train(
    data_dir: Path, out_path: Path, *, seed: int = 42, hyper: Hyper | None = None
) -> TrainReport:
    """Train on ``data_dir/train`` and write the model file to ``out_path``."""
    began = time.perf_counter()
    hyper = hyper or Hyper()
    sources = training_sources(Path(data_dir))
    fit_parts: list[Corpus] = []
    val_parts: list[Corpus] = []
    for corpus in sources:
        held = validation_split(corpus, seed)
        fit_parts.append(corpus.subset(~held))
        val_parts.append(corpus.subset(held))
    vectors = WordVectors.load()
    fitted = fit(fit_parts, hyper, vectors, seed=seed)
    info = fitted.info

    meta: dict[str, Any] = {
        "trained_on": {c.name: len(c) for c in fit_parts},
        "hyper": {
            "l2": hyper.l2,
            "l2_lexicon": hyper.l2_lexicon,
            "min_df": hyper.min_df,
            "addressed_toxic_weight": hyper.addressed_toxic_weight,
            "mild_target": hyper.mild_target,
            "hidden": hyper.hidden,
            "l2_network": hyper.l2_network,
        },
        "word_vectors": vectors.version,
        "lexicon_features": list(LEXICON_FEATURES),
        "seed": seed,
    }
    # thresholds come from the validation rows, scored by the quantised model as shipped
    draft = ToxicityModel(
        hyper.features, fitted.idf, fitted.weights, fitted.bias, meta, "draft",
        network=fitted.network, vectors=vectors,
    )  # fmt: skip
    val_scores = {c.name: np.array([draft.score(t) for t in c.texts]) for c in val_parts}
    labels = np.concatenate([c.labels for c in val_parts])
    scores = np.concatenate([val_scores[c.name] for c in val_parts])
    hold = threshold_at_fpr(labels, scores, HOLD_FPR)
    nudge = min(hold, threshold_at_fpr(labels, scores, NUDGE_FPR))
    meta["thresholds"] = {"hold": hold, "nudge": nudge}

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    blob = ToxicityModel.write(
        out_path, hyper.features, fitted.idf, fitted.weights, fitted.bias, meta, fitted.network
    )
    model = ToxicityModel.load(out_path)
    return TrainReport(
        path=str(out_path),
        version=model.version,
        size_bytes=len(blob),
        rows={c.name: len(c) for c in fit_parts},
        validation_auc={c.name: roc_auc(c.labels, val_scores[c.name]) for c in val_parts if len(c)},
        hold_threshold=hold,
        nudge_threshold=nudge,
        iterations=int(info["iterations"]),
        converged=bool(info["converged"]),
        loss=float(info["loss"]),
        seconds=time.perf_counter() - began,
        mild_rows=int(info["mild_rows"]),
    )


def evaluate(model: ToxicityModel, data_dir: Path) -> EvalReport:
    """ROC-AUC, precision and recall (at the hold threshold) on every held-out split."""
    hold = float(model.meta.get("thresholds", {}).get("hold", 0.5))
    splits = []
    for corpus in test_splits(Path(data_dir)):
        scores = np.array([model.score(t) for t in corpus.texts])
        precision, recall = precision_recall(corpus.labels, scores, hold)
        splits.append(
            SplitMetrics(
                split=corpus.name,
                rows=len(corpus),
                positives=int(corpus.labels.sum()),
                roc_auc=roc_auc(corpus.labels, scores),
                precision=precision,
                recall=recall,
                eval_only=not (Path(data_dir) / "test" / f"{corpus.name}.csv").exists(),
            )
        )
    return EvalReport(model_version=model.version, hold_threshold=hold, splits=splits)


def write_metrics(report: EvalReport, path: Path) -> None:
    """Record evaluation figures next to the model (tests check they never drop)."""
    payload = {
        "model_version": report.model_version,
        "hold_threshold": report.hold_threshold,
        "roc_auc": {s.split: round(s.roc_auc, 4) for s in report.splits},
        "splits": [asdict(s) for s in report.splits],
    }
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
