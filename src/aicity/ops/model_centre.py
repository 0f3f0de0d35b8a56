"""The model centre (模型中心): retraining the assistant's mode router from a corpus version as a job,
an evaluation gate, a registry of versions with their evaluations, promotion and rollback.

How the router learns and loads today (assistant/modes.py): the mode classifier is fitted on the
labelled rows — the package's `training/modes.jsonl`, the routing and skill examples, and every
`<data dir>/training/*modes*.jsonl` — and kept per process (and on disk, keyed by its rows). So a
model *is* its rows: promoting a version writes its corpus examples to the data dir
(`<data dir>/training/ops_corpus_modes.jsonl`, never into the package) and publishes
`ops.model.promoted`; every process (a `broadcast` subscription) drops its assistant, which is
rebuilt on next use from the rows now on disk — the model the round fitted and evaluated (loaded from
the model cache when the round ran on the same machine, fitted again otherwise).

A round (`run_round`, on the job queue's `default` queue):
1. the incumbent: the rows the running assistant learns from now; the candidate: the same rows with
   the corpus file replaced by the corpus version's accepted examples (an example whose text is one of
   the held-apart cases is left out, and counted);
2. both fitted with the same recipe and scored by the linear classifier alone (the dense neighbours
   need vectors of each side's rows; leaving them out treats both alike) on the development sets
   (`training/modes_dev.jsonl`, `modes_dev3.jsonl`: written apart, never trained on) — mode accuracy
   with an abstention counted as not right, wrong-confident and abstention rates — and, for the
   report only, on the evaluation set (`eval/assistant_modes.jsonl`), which never decides anything;
3. the gate: the candidate is promoted only if its development accuracy is not lower than the
   incumbent's; otherwise the version is `refused` and the running model is untouched.

One round of a kind at a time; a round left queued or running longer than twice the job limit (its
process died) is marked failed when the next one starts.

Rollback retires the active version and restores the one promoted before it (its corpus version's
rows), or the built-in rows when there was none.

The events classifier (kind `events`, from corpus versions of kind events; `ops/centre_events.py`) goes
through the same round, gate, registry and rollback: its development split is a fixed hash fifth of
`demo/data/events/train.jsonl` (both sides fit on the rest), its held-out `eval.jsonl` is recorded only,
and a promoted version is written to `<data dir>/training/ops_corpus_events.jsonl`, which
`hub/events/classify` learns from; every process drops its classifier on `ops.model.promoted`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline
from sqlalchemy import func, select

from aicity.assistant import modes as mode_data
from aicity.assistant import service as assistant_service
from aicity.core import jobs
from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem, bad_request, not_found
from aicity.core.ids import utcnow
from aicity.core.text import normalize
from aicity.hub.events import classify as event_classify
from aicity.identity.service import Principal
from aicity.ops import centre_events, corpus
from aicity.ops.centre_models import ModelVersion

log = logging.getLogger(__name__)

ROUTER = "router"
EVENTS = "events"
KINDS = (ROUTER, EVENTS)
#: the corpus kind each model kind learns from
CORPUS_KIND = {ROUTER: corpus.MODES, EVENTS: corpus.EVENTS}
CORPUS_FILE = "ops_corpus_modes.jsonl"
PROMOTED = "ops.model.promoted"
#: rows per mode of the training rows a round fits on (None: all). Only for quick trials and tests:
#: both sides of the gate use the same subset
SAMPLE_PER_MODE: int | None = None


def corpus_path(kind: str = ROUTER) -> Path:
    """Where a promoted corpus version lives: the city's data dir, read by `modes.labelled_rows` (router)
    or by the events classifier (events)."""
    if kind == EVENTS:
        return event_classify.promoted_path()
    return settings().data_dir / "training" / CORPUS_FILE


def _data(*parts: str) -> Path:
    return Path(str(resources.files("aicity").joinpath("demo", "data", *parts)))


def dev_sets() -> list[Path]:
    return [_data("training", "modes_dev.jsonl"), _data("training", "modes_dev3.jsonl")]


def eval_set() -> Path:
    return _data("eval", "assistant_modes.jsonl")


def cases(paths: list[Path]) -> list[dict[str, str]]:
    return [{"text": normalize(r["q"]), "mode": str(r["mode"])} for p in paths for r in mode_data.read_jsonl(p)
            if r.get("mode")]


def score(model: Pipeline, rows: list[dict[str, str]]) -> dict[str, Any]:
    """Mode accuracy (an abstention is not right), wrong-confident and abstention rates of the linear
    classifier with the assistant's decision rule (`modes.decide`, `modes.asks`)."""
    if not rows:
        return {"cases": 0, "mode_accuracy": None, "wrong_confident_rate": None, "abstention_rate": None}
    classes = [str(c) for c in model.classes_]
    probabilities = model.predict_proba([r["text"] for r in rows])
    right = wrong = abstained = 0
    for row, p in zip(rows, probabilities, strict=True):
        guess = mode_data.decide(classes, p, row["text"])
        if mode_data.asks(guess):
            abstained += 1
        elif guess.mode == row["mode"]:
            right += 1
        else:
            wrong += 1
    n = len(rows)
    return {"cases": n, "mode_accuracy": round(right / n, 4), "wrong_confident_rate": round(wrong / n, 4),
            "abstention_rate": round(abstained / n, 4)}


def merged(base: list[dict[str, str]], extra: list[dict[str, str]]) -> list[dict[str, str]]:
    """`base` then the `extra` rows ({"q", "mode"}) whose text it lacks, as `labelled_rows` merges them."""
    seen = {r["text"] for r in base}
    out = list(base)
    for row in extra:
        text = normalize(row["q"])
        if text and text not in seen and row.get("mode") in mode_data.modes():
            seen.add(text)
            out.append({"text": text, "category": str(row["mode"])})
    return out


def _sha(rows: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _fit(rows: list[dict[str, str]], sampled: bool) -> Pipeline:
    # all rows: through the assistant's own cache, so that the promoted model is the one loaded
    return mode_data.fit(rows) if sampled else mode_data.fitted(rows)


def version_json(row: ModelVersion) -> dict[str, Any]:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"kind": row.kind, "version": row.version, "status": row.status, "corpus_version": row.corpus_version,
            "created_by": row.created_by, "created_at": iso(row.created_at), "finished_at": iso(row.finished_at),
            "promoted_at": iso(row.promoted_at), "before": row.before, "after": row.after, "decision": row.decision,
            "rows": row.rows, "rows_sha256": row.rows_sha256, "sample": row.sample, "error": row.error}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise not_found(f"未知的模型类型 '{kind}'，可选：{', '.join(KINDS)} / unknown model kind", "unknown-model-kind")


def registry(kind: str = ROUTER) -> dict[str, Any]:
    """Every version of `kind`, newest first, and which one the assistant runs (None: the built-in rows)."""
    _check_kind(kind)
    with database().session() as s:
        rows = s.scalars(select(ModelVersion).where(ModelVersion.kind == kind)
                         .order_by(ModelVersion.version.desc())).all()
        listed = [version_json(r) for r in rows]
    active = next((v["version"] for v in listed if v["status"] == "active"), None)
    return {"kind": kind, "active": active, "corpus_file": str(corpus_path(kind)), "versions": listed}


def get(kind: str, version: int) -> dict[str, Any]:
    _check_kind(kind)
    with database().session() as s:
        row = s.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version))
        if row is None:
            raise not_found(f"{kind} 版本 {version} 不存在 / unknown model version", "unknown-model-version")
        return version_json(row)


def start(kind: str, corpus_version: int, principal: Principal, sample: int | None = None) -> int:
    """Register a queued round; one round of a kind at a time (409 while another is queued or running)."""
    corpus.require_operator(principal)
    _check_kind(kind)
    wanted = corpus.get_version(corpus_version)["kind"]  # 404 for an unknown version
    if wanted != CORPUS_KIND[kind]:
        raise bad_request(f"语料版本 {corpus_version} 是 {wanted} 语料，{kind} 需要 {CORPUS_KIND[kind]} 语料 / "
                          "the corpus version is of another kind", "corpus-kind-mismatch")
    if sample is not None and sample < 1:
        raise bad_request("sample 至少为 1 / sample must be at least 1", "bad-sample")
    with database().session() as s:
        # a round whose process died (longer than any job may run) no longer holds the kind
        stale = utcnow() - timedelta(seconds=2 * jobs.JOB_TIMEOUT_S)
        for old in s.scalars(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.created_at < stale,
                                                        ModelVersion.status.in_(("queued", "running")))):
            old.status, old.error, old.finished_at = "failed", "abandoned: the round never finished", utcnow()
        busy = s.scalar(select(ModelVersion.version).where(ModelVersion.kind == kind,
                                                           ModelVersion.status.in_(("queued", "running"))))
        if busy is not None:
            raise Problem(409, "已有训练在进行 A round is under way", f"{kind} 版本 {busy} 尚未结束 / version {busy} "
                          "has not finished", "round-under-way", version=busy)
        number = (s.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.kind == kind)) or 0) + 1
        s.add(ModelVersion(kind=kind, version=number, status="queued", corpus_version=corpus_version,
                           created_by=principal.actor, created_at=utcnow(), finished_at=None, promoted_at=None,
                           before={}, after={}, decision="", rows=0, rows_sha256="", sample=sample, error=""))
    return number


def submit(kind: str, corpus_version: int, principal: Principal) -> dict[str, Any]:
    """Queue a round on the job queue (a thread here, or a worker in the distributed mode)."""
    number = start(kind, corpus_version, principal, SAMPLE_PER_MODE)
    jobs.submit("default", "aicity.ops.model_centre:run_round", kind, number)
    return get(kind, number)


def retrain(kind: str, corpus_version: int, principal: Principal, sample: int | None = None) -> dict[str, Any]:
    """A round run here and now (the CLI); the same work as the job."""
    return run_round(kind, start(kind, corpus_version, principal, sample))


def _update(kind: str, version: int, **values: Any) -> None:
    with database().session() as s:
        row = s.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version))
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)


def run_round(kind: str, version: int) -> dict[str, Any]:
    """The job: fit the incumbent and the candidate, score both, gate, promote or refuse."""
    _update(kind, version, status="running")
    try:
        return _round(kind, version)
    except Exception as exc:
        log.exception("retraining %s v%s failed", kind, version)
        _update(kind, version, status="failed", finished_at=utcnow(), error=f"{type(exc).__name__}: {exc}"[:500])
        raise


def examples_of(corpus_version: int, kind: str = ROUTER) -> tuple[list[dict[str, Any]], int]:
    """A corpus version's examples as training rows {"q", "mode"} (events: {"text", "category"}), less
    those whose text is a held-apart case (development or evaluation set); and how many were left out."""
    examples = corpus.get_version(corpus_version)["items"]
    if kind == EVENTS:
        return centre_events.examples_of(examples)
    held_apart = {c["text"] for c in cases([*dev_sets(), eval_set()])}
    usable = [{"q": e["text"], "mode": e["mode"]} for e in examples if normalize(e["text"]) not in held_apart]
    return usable, len(examples) - len(usable)


def _modes_round(usable: list[dict[str, Any]], sample: int | None
                 ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, str]]]:
    dev, held_out = cases(dev_sets()), cases([eval_set()])
    registry_ = assistant_service.assistant().registry
    if sample is None:
        incumbent_rows = mode_data.labelled_rows(registry_)
        candidate_rows = mode_data.labelled_rows(registry_, extra=usable, skip=corpus_path())
    else:
        base = centre_events.subset(mode_data.labelled_rows(registry_, skip=corpus_path()), sample)
        incumbent_rows = merged(base, mode_data.read_jsonl(corpus_path()))
        candidate_rows = merged(base, usable)
    figures = []
    for rows in (incumbent_rows, candidate_rows):
        model = _fit(rows, sample is not None)
        figures.append({"rows": len(rows), "dev": score(model, dev), "eval": score(model, held_out)})
    return figures[0], figures[1], candidate_rows


def _round(kind: str, version: int) -> dict[str, Any]:
    row = get(kind, version)
    usable, left_out = examples_of(row["corpus_version"], kind)
    if kind == EVENTS:
        before, after, candidate_rows = centre_events.evaluate(usable, row["sample"])
    else:
        before, after, candidate_rows = _modes_round(usable, row["sample"])
    key = "accuracy" if kind == EVENTS else "mode_accuracy"
    before_acc, after_acc = before["dev"][key] or 0.0, after["dev"][key] or 0.0
    after["left_out_held_apart"] = left_out
    passed = after_acc >= before_acc
    decision = (f"开发集准确率 {before_acc:.4f} → {after_acc:.4f}："
                + ("不低于现用模型，上线 / not worse: promoted" if passed else "低于现用模型，拒绝 / worse: refused"))
    _update(kind, version, before=before, after=after, decision=decision, rows=len(candidate_rows),
            rows_sha256=_sha(candidate_rows), finished_at=utcnow(), status="running" if passed else "refused")
    if passed:
        _promote(kind, version, usable)
    return get(kind, version)


def _write_corpus(rows: list[dict[str, Any]] | None, kind: str = ROUTER) -> None:
    """The corpus file the assistant (or the events classifier) learns from: these rows, or none (the
    built-in rows alone)."""
    if kind == EVENTS:
        centre_events.write(rows)
        return
    path = corpus_path()
    if rows is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps({"q": r["q"], "mode": r["mode"], "source": "ops-corpus"}, ensure_ascii=False)
                           + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)


def _promote(kind: str, version: int, rows: list[dict[str, Any]]) -> None:
    _write_corpus(rows, kind)
    with database().session() as s:
        for old in s.scalars(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.status == "active")):
            old.status = "retired"
        row = s.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version))
        if row is not None:
            row.status, row.promoted_at = "active", utcnow()
    bus.publish(PROMOTED, {"kind": kind, "version": version})


def rollback(kind: str, principal: Principal) -> dict[str, Any]:
    """Retire the active version (`rolled_back`) and restore the one promoted before it, or the built-in rows."""
    corpus.require_operator(principal)
    _check_kind(kind)
    with database().session() as s:
        active = s.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.status == "active"))
        if active is None:
            raise Problem(409, "没有可回滚的版本 Nothing to roll back", "当前运行的是内置模型 / the built-in model runs",
                          "nothing-to-roll-back")
        previous = s.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.status == "retired")
                            .order_by(ModelVersion.promoted_at.desc()).limit(1))
        restored = None
        if previous is not None:
            restored = examples_of(previous.corpus_version, kind)[0]
            previous.status = "active"
        active.status = "rolled_back"
        rolled, now_active = active.version, previous.version if previous is not None else None
    _write_corpus(restored, kind)
    bus.publish(PROMOTED, {"kind": kind, "version": now_active, "rolled_back": rolled})
    return {"kind": kind, "rolled_back": rolled, "active": now_active}


def on_promoted(topic: str, payload: dict[str, Any]) -> None:
    """A version was promoted or rolled back (in any process: `broadcast`): the assistant (or the events
    classifier) is rebuilt on next use from the rows now in the data dir."""
    if payload.get("kind") == EVENTS:
        event_classify.reset(topic, payload)
    else:
        assistant_service.reset(topic, payload)
