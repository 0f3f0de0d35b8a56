"""Event classification and dispatch (事件智能分类与派单).

A report's text → one of the demo city's event categories (`demo/data/event_categories.yaml`,
each with the department it is dispatched to), a priority, a confidence and whether a person
must look at it (the human dispatch queue).

- The model: TF-IDF over rjieba tokens (English stemmed) and over character 1–3-grams (typos,
  unknown words), one multinomial logistic regression. It is trained on first use from the
  labelled reports shipped in `demo/data/events/train.jsonl` plus the operators' reviewed
  corrections that the model centre promoted (`<data_dir>/training/ops_corpus_events.jsonl`,
  written only by `aicity.ops.model_centre` after its evaluation gate) (under a second), and kept
  per process; `reset` (on `ops.model.promoted`, in every process) drops it.
- Dense votes (optional): the training reports most similar to the report by the gateway's
  embedding model (the offline e5 model), blended in with weight `DENSE_WEIGHT`; their vectors
  are computed once per machine in the background. Off with `AICITY_DENSE=false`.
- Urgency rules (gas, fire, collapse, people trapped, electrocution, people in floodwater) set
  the priority to `urgent` and, where the category is unambiguous, decide it.

The constants were chosen on a dev split of train.jsonl (`benchmarks/events_bench.py --tune`);
`demo/data/events/eval.jsonl` is held out: never trained or tuned on, only measured.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from aicity.core.calibrated import Calibrated
from aicity.core.config import settings
from aicity.core.embeddings import BackgroundVectors, Embedder, vote_shares
from aicity.core.errors import Problem, bad_request
from aicity.core.text import normalize, tokenize
from aicity.hub.gateway.embedder import retrieval_embedder

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

Priority = Literal["urgent", "high", "normal", "low"]

#: the linear SVM's regularisation (dev split: 0.5 and 1 equal; logistic regression was no
#: better and took 5 s to fit)
MODEL_C = 1.0
#: dense votes: how many nearest training reports, their softmax temperature, and the votes'
#: share of the blend (dev split: 0.79 linear alone → 0.88 blended)
DENSE_NEIGHBOURS = 10
DENSE_TEMPERATURE = 0.05
DENSE_WEIGHT = 0.5
#: the linear model decides alone (no query embedding) at or above this probability (dev split: the
#: lowest value at which accuracy, the share dispatched automatically and the share wrongly dispatched
#: all equal the blend's; 27 % of the dev reports skip the embedding)
LINEAR_SURE = 0.7
#: below this confidence an event waits in the human dispatch queue (dev split, blended: about
#: 75 % of reports dispatched automatically, 95 % of those right)
NEEDS_HUMAN_BELOW = 0.4
#: the confidence of a category decided by an urgency rule (at least this)
RULE_CONFIDENCE = 0.9
#: alternatives listed beside the chosen category
ALTERNATIVES = 3

#: categories urgent in themselves, and those dispatched ahead of (or after) the normal ones
URGENT_CATEGORIES = frozenset({"gas_leak", "fire"})
HIGH_CATEGORIES = frozenset({"road_collapse", "manhole_cover", "waterlogging", "water_pipe_burst", "traffic_signal",
                             "elevator_fault", "tree_hazard", "crowd_gathering", "fire_hazard",
                             "construction_site_hazard"})
LOW_CATEGORIES = frozenset({"illegal_ads", "bike_parking", "outside_store"})

_NOT = r"(?<![没无未不非])(?<!不是)(?<!没有)"


@dataclass(frozen=True)
class UrgentRule:
    reason: str
    pattern: re.Pattern[str]
    #: the category this danger decides, when the text also matches `when` (None: any text)
    category: str | None = None
    when: re.Pattern[str] | None = None
    #: text that makes the pattern harmless (a chimney's smoke is not a fire)
    unless: re.Pattern[str] | None = None


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


URGENT_RULES: tuple[UrgentRule, ...] = (
    UrgentRule("燃气泄漏 gas leak",
               _re(_NOT + r"(燃气|煤气|天然气|液化气)\S{0,6}(泄漏|泄露|漏气|漏了|味)|漏气|臭鸡蛋味|gas leak|smell(s|ed)? (of )?gas"),
               "gas_leak"),
    UrgentRule("火情 fire",
               _re(_NOT + r"(着火|起火|失火|火灾|明火|自燃|烧起来|冒(黑|浓)?烟|浓烟|on fire|burning|flames)"),
               "fire", unless=_re(r"烟囱|烧烤|烤串|油烟|锅炉|焚烧|chimney|barbecue|bbq|隐患|易燃|容易起火|万一|都跑不出|出不去")),
    UrgentRule("塌陷/倒塌 collapse", _re(_NOT + r"(塌陷|坍塌|倒塌|塌方|塌了|陷下去|sinkhole|caved in|collapsed)"),
               "road_collapse", when=_re(r"^(?!.*井盖).*(路|地面|车道|sinkhole|road|street|pavement)")),
    UrgentRule("有人被困 people trapped",
               _re(_NOT + r"(被困|困在|困住|关在.{0,4}里|困人|出不来|trapped|stuck (in|between))|救命"),
               "elevator_fault", when=_re(r"电梯|扶梯|elevator|lift")),
    UrgentRule("触电危险 electrocution", _re(_NOT + r"(触电|漏电|电到人|电线(掉|断|落)|高压线(掉|断|落)|electrocut|live wire)")),
    UrgentRule("积水危及人身 people in floodwater",
               _re(r"(积水|内涝|淹|洪水|flood).{0,30}(被困|困在|冲走|溺水|没过(头|胸|腰)|齐腰|车里有人|救命|trapped|swept)"
                   r"|(被困|冲走|溺水|trapped|swept).{0,30}(积水|内涝|淹|洪水|flood)"),
               "waterlogging"),
    UrgentRule("踩踏风险 stampede", _re(_NOT + r"(踩踏|stampede|crowd crush)"), "crowd_gathering"),
)


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    department: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Classification:
    category: str
    department: str
    priority: Priority
    confidence: float
    urgent_reasons: list[str] = field(default_factory=list)
    #: the next most likely categories, (id, probability)
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    #: true when the confidence is below NEEDS_HUMAN_BELOW: a dispatcher decides
    needs_human: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["category_name"] = categories()[self.category].name
        out["alternatives"] = [{"category": c, "p": p} for c, p in self.alternatives]
        return out


def _data() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data"))


@lru_cache(maxsize=1)
def categories() -> dict[str, Category]:
    rows = yaml.safe_load((_data() / "event_categories.yaml").read_text(encoding="utf-8"))
    return {r["id"]: Category(r["id"], r["name"], r["department"], tuple(r.get("examples", ()))) for r in rows}


def read_rows(path: Path) -> list[dict[str, str]]:
    """A JSON Lines file of {"text", "category"} rows (missing file: none)."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def training_rows() -> list[dict[str, str]]:
    return read_rows(_data() / "events" / "train.jsonl")


def eval_rows() -> list[dict[str, str]]:
    """The held-out set: measured on, never trained or tuned on."""
    return read_rows(_data() / "events" / "eval.jsonl")


def promoted_path() -> Path:
    """The reviewed corrections the model centre promoted (its gate passed); the only city rows the
    classifier learns from. Operators' corrections reach it through the corpus centre, never directly."""
    return settings().data_dir / "training" / "ops_corpus_events.jsonl"


def validate_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """{"text", "category"} rows with a known category and some text, else a 400 problem."""
    known = categories()
    checked = []
    for n, row in enumerate(rows, start=1):
        text, category = row.get("text"), row.get("category")
        if not isinstance(text, str) or not normalize(text):
            raise bad_request(f"第 {n} 条更正没有文本 correction {n} has no text", "invalid-correction")
        if category not in known:
            raise bad_request(f"第 {n} 条更正的类别未知 unknown category: {category}", "unknown-category",
                              allowed=sorted(known))
        checked.append({"text": text, "category": category})
    return checked


def _words(text: str) -> list[str]:
    return tokenize(text)


def fit(rows: list[dict[str, str]], c: float = MODEL_C, extra: Callable[[], list[Any]] | None = None) -> Pipeline:
    """The linear model over word and character features (and the feature parts `extra()` makes: the mode
    classifier adds the words' sounds), fitted on `rows`; a linear SVM with
    probabilities calibrated by 3-fold cross-validation (about 0.6 s on 1,000 reports). scikit-learn is loaded
    here, when a model is first fitted: a command that only lists or declares things (`aicity agents`, a group's
    `--help`) does not pay its import (about a second on 2 cores)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC
    from threadpoolctl import threadpool_limits

    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer=_words, sublinear_tf=True),
            TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
            *(extra() if extra is not None else []),
        ),
        # a fixed seed: the same rows give the same model (the model centre's gate compares two fits)
        CalibratedClassifierCV(LinearSVC(C=c, random_state=0), cv=3),
    )
    # one BLAS thread: the calibration's many tiny L-BFGS problems ran ~40x slower with a thread pool on
    # a busy 2-core machine (10 s instead of 0.25 s for 175 reports)
    with threadpool_limits(limits=1):
        model.fit([normalize(r["text"]) for r in rows], [r["category"] for r in rows])
    return model


@dataclass
class Classifier:
    """A fitted linear model; with dense on, the embedder and the training reports' vectors
    (computed in the background and cached on disk: until they are ready, the linear model
    answers alone)."""

    model: Pipeline
    labels: list[str]
    embedder: Embedder | None = None
    vectors: BackgroundVectors | None = None
    dense_weight: float = DENSE_WEIGHT

    def __post_init__(self) -> None:
        self.fast = Calibrated(self.model)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    def probabilities(self, text: str) -> np.ndarray:
        """P(category) in `classes` order: the linear model's, blended with the votes of the
        DENSE_NEIGHBOURS most similar training reports (softmax of cosine / DENSE_TEMPERATURE); the linear
        model's alone when it is sure (LINEAR_SURE), which spares the query embedding."""
        return self._blended(text, self.fast.predict_proba([text])[0])

    def _blended(self, text: str, p: np.ndarray) -> np.ndarray:
        """The linear model's probabilities `p` of `text` with the dense votes blended in (`probabilities`)."""
        if p.max() >= LINEAR_SURE:
            return p
        vectors = self.vectors.get() if self.vectors is not None and self.dense_weight > 0 else None
        if vectors is None or self.embedder is None:
            return p
        try:
            sims = vectors @ self.embedder.query(text)
        except Problem:  # the gateway's embedding group failed: the linear model alone
            return p
        shares = vote_shares(sims, self.labels.__getitem__, DENSE_NEIGHBOURS, DENSE_TEMPERATURE)
        votes = np.array([shares.get(c, 0.0) for c in self.classes])
        return (1 - self.dense_weight) * p + self.dense_weight * votes

    def classify(self, text: str) -> Classification:
        text = _checked(text)
        return self._decide(text, self.probabilities(text))

    def confident(self, text: str, at_least: float) -> Classification | None:
        """`classify(text)` when its confidence may reach `at_least`, else None, without embedding the text
        when the linear model already rules that out: the dense votes add at most `dense_weight` to a
        category's (1 − dense_weight) share of the linear probability, and no urgency rule decides."""
        checked = _checked(text)
        p = self.fast.predict_proba([checked])[0]
        bound = p.max() if p.max() >= LINEAR_SURE else (1 - self.dense_weight) * p.max() + self.dense_weight
        if bound < at_least and urgent_reasons(checked)[1] not in self.classes:
            return None
        guess = self._decide(checked, self._blended(checked, p))
        return guess if guess.confidence >= at_least else None

    def classify_linear(self, texts: list[str]) -> list[Classification]:
        """The linear model alone over many reports in one batch, with the same decision rules (the
        model centre's gate scores two fits alike this way)."""
        checked = [_checked(t) for t in texts]
        return [self._decide(t, p) for t, p in zip(checked, self.fast.predict_proba(checked), strict=True)]

    def _decide(self, text: str, p: np.ndarray) -> Classification:
        order = np.argsort(-p)
        classes = self.classes
        category, confidence = classes[order[0]], float(p[order[0]])
        reasons, decided = urgent_reasons(text)
        if decided is not None and decided in classes:
            category, confidence = decided, max(float(p[classes.index(decided)]), RULE_CONFIDENCE)
        if category in URGENT_CATEGORIES and not reasons:
            reasons = [categories()[category].name]
        alternatives = [(classes[i], round(float(p[i]), 4)) for i in order if classes[i] != category][:ALTERNATIVES]
        return Classification(
            category=category, department=categories()[category].department, priority=_priority(category, reasons),
            confidence=round(confidence, 4), urgent_reasons=reasons, alternatives=alternatives,
            needs_human=confidence < NEEDS_HUMAN_BELOW,
        )


def _checked(text: str) -> str:
    if not isinstance(text, str) or not normalize(text):
        raise bad_request("事件描述不能为空 the report text is empty", "empty-text")
    limit = settings().max_text_chars
    if len(text) > limit:
        raise Problem(413, "内容过长 Text too long", f"事件描述 {len(text)} 字，超过上限 {limit}", "text-too-long", limit=limit)
    return normalize(text)


def urgent_reasons(text: str) -> tuple[list[str], str | None]:
    """The urgency rules that fire on `text`, and the category they decide (None when none
    does, or when two disagree)."""
    reasons: list[str] = []
    decided: set[str] = set()
    for rule in URGENT_RULES:
        if rule.pattern.search(text) and not (rule.unless and rule.unless.search(text)):
            reasons.append(rule.reason)
            if rule.category and (rule.when is None or rule.when.search(text)):
                decided.add(rule.category)
    return reasons, decided.pop() if len(decided) == 1 else None


def _priority(category: str, reasons: list[str]) -> Priority:
    if reasons:
        return "urgent"
    if category in HIGH_CATEGORIES:
        return "high"
    return "low" if category in LOW_CATEGORIES else "normal"


def build(rows: list[dict[str, str]]) -> Classifier:
    """A classifier trained on `rows`; the dense vectors come from the gateway's embedding group
    (the offline e5 model unless the city configured another)."""
    texts = [normalize(r["text"]) for r in rows]
    embedder = retrieval_embedder("events.classify")
    vectors = BackgroundVectors(embedder, texts, "events") if embedder else None
    return Classifier(fit(rows), [r["category"] for r in rows], embedder, vectors)


def _signature(path: Path) -> tuple[str, int, int]:
    stat = path.stat() if path.is_file() else None
    return (str(path.resolve()), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)


_lock = threading.Lock()
_current: dict[str, Any] = {}


def merged_rows(base: Iterable[dict[str, str]], extra: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """`base` then `extra`, each distinct (text, category) once."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for row in [*base, *extra]:
        seen.setdefault((normalize(row["text"]), row["category"]), row)
    return list(seen.values())


def classifier() -> Classifier:
    """The process's classifier: trained on first use, again when the promoted file changes."""
    signature = _signature(promoted_path())
    with _lock:
        if _current.get("signature") != signature:
            rows = merged_rows(training_rows(), validate_rows(read_rows(promoted_path())))
            _current.update(classifier=build(rows), signature=signature)
        return _current["classifier"]


def reset(topic: str = "", payload: dict[str, Any] | None = None) -> None:
    """Drop the process's classifier (a version was promoted or rolled back): rebuilt on next use."""
    with _lock:
        _current.clear()


def warm_up() -> None:
    """Train at server start, not on the first citizen's report (the events slice's start-up)."""
    classifier()


def classify(text: str) -> Classification:
    """Category, department, priority and confidence of a citizen's report; an empty text is a
    400 problem."""
    return classifier().classify(text)


def confident(text: str, at_least: float) -> Classification | None:
    """The classification of `text` when its confidence reaches `at_least`, else None (see
    `Classifier.confident`: a text no category can reach it for is not embedded)."""
    return classifier().confident(text, at_least)


def with_category(text: str, category: str) -> Classification:
    """The classification of a report whose category someone chose (the reporter, an operator, a
    sensor's rule). The model is not asked: its dense half embeds the text, which a sensor's
    alarm must not wait for. Urgency comes from the urgency rules, or the category itself."""
    known = categories().get(category)
    if known is None:
        raise bad_request(f"未知事件类别 unknown event category '{category}'", "unknown-category", category=category)
    reasons = urgent_reasons(_checked(text))[0] or ([known.name] if category in URGENT_CATEGORIES else [])
    return Classification(category=category, department=known.department, priority=_priority(category, reasons),
                          confidence=1.0, urgent_reasons=reasons, alternatives=[], needs_human=False)
