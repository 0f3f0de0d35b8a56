"""Security detectors benchmark.

    .venv/bin/python benchmarks/guard_bench.py

Prints, on the held-out sets shipped with `aicity.security` (never used to train or tune):
- prompt attacks (`data/attacks_eval.jsonl`, written first and apart from the training data;
  `attacks_eval_v1.jsonl`, the previous set): recall per attack class, the per-class average and
  the false-positive rate on benign look-alikes, for rules and classifier together and each alone;
  the development set the threshold is chosen on; 5-fold cross-validation on the training set;
- personal information (`data/pii_eval.jsonl`): recall and precision per type (a finding counts
  when it overlaps a gold span of its type) and how many decoys were touched;
- content risk (`data/content_eval.jsonl`): precision and recall of flagging risky texts,
  recall per type, and how many benign near-misses were touched;
- detection latency per message (median, p95) for PII detection and attack assessment;
- Microsoft Presidio's pattern recognizers on the same Chinese texts, when it is installed
  (`pip install presidio-analyzer`; a comparison only, not a dependency).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from importlib.resources import files

from aicity.security import attack_eval, attacks, content, guard, pii

#: Presidio entity → the PII type compared (mobile and landline numbers are compared as "phone")
PRESIDIO_TYPES = {"CREDIT_CARD": "bank_card", "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone"}
#: plain sentences of a citizen's request, joined into long requests (the classifier scores every window of
#: one to three sentences: `attacks.Classifier.probability`)
REQUEST_SENTENCES = ("我家门口的路灯坏了三天了。", "请问什么时候能修好？", "小区东门的井盖松动，晚上很危险。",
                     "The bus stop sign on Main Street fell down.", "上周报修的工单号是多少？", "谢谢你们的帮助！",
                     "垃圾桶已经满了，能安排清运吗？", "Could you tell me the opening hours of the library?", "楼下施工噪音很大。",
                     "能否在晚上十点后停工？", "我想查询一下社区医院的电话。", "路口的信号灯时间太短，老人过不去。",
                     "Please forward this to the district office.", "昨天下大雨，地下车库积水了。", "希望尽快处理，谢谢。")


def compared(kind: str) -> str:
    return "phone" if kind in ("mobile", "landline") else kind


def load(name: str) -> list[dict]:
    text = (files("aicity.security") / "data" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def attack_report() -> None:
    """Recall per attack class, the per-class average and the benign false-positive rate on each
    held-out set, the development set and, beside them, 5-fold cross-validation on the training set."""
    columns = {**{name: attack_eval.evaluate(rows) for name, rows in attack_eval.held_out_sets().items()},
               "attacks_dev.jsonl (threshold chosen here)": attack_eval.evaluate(attacks.training_rows("attacks_dev.jsonl")),
               "training set, 5-fold CV": attack_eval.cross_validated()}
    print(f"prompt attacks (threshold {attacks.classifier().threshold}; targets: class-average recall ≥ 0.95, FPR ≤ 0.02)")
    for name, r in columns.items():
        print(f"  {name}: {r['attacks']} attacks, {r['benign']} benign")
        print(f"    class-average recall {r['recall_class_average']}  overall {r['recall_overall']}  "
              f"FPR {r['false_positive_rate']} ({r['false_positives']}/{r['benign']})"
              + (f"  [rules alone {r['rules_only']} FPR {r['rules_only_false_positive_rate']}, classifier alone "
                 f"{r['classifier_only']}]" if "rules_only" in r else ""))
        print("    by class: " + ", ".join(f"{k} {v} ({r['count_by_class'][k]})" for k, v in r["recall_by_class"].items()))


def score_pii(rows: list[dict], predict: Callable[[str], list[tuple[str, int, int]]],
              types: set[str] | None = None) -> tuple[dict[str, list[int]], int]:
    """Per type [gold, recalled, predicted, correct]; and how many decoys a prediction touched."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    touched = 0
    for row in rows:
        found = predict(row["text"])
        for gold in row["spans"]:
            if types is None or gold["type"] in types:
                counts[gold["type"]][0] += 1
                counts[gold["type"]][1] += any(t == gold["type"] and s < gold["end"] and gold["start"] < e for t, s, e in found)
        for t, s, e in found:
            counts[t][2] += 1
            counts[t][3] += any(g["type"] == t and s < g["end"] and g["start"] < e for g in row["spans"])
        touched += sum(any(s < d["end"] and d["start"] < e for _, s, e in found) for d in row["decoys"])
    return counts, touched


def print_pii(title: str, counts: dict[str, list[int]], touched: int, decoys: int) -> None:
    print(title)
    for kind in sorted(counts):
        gold, recalled, predicted, correct = counts[kind]
        recall = f"{recalled / gold:.3f}" if gold else "  -  "
        precision = f"{correct / predicted:.3f}" if predicted else "  -  "
        print(f"  {kind:<10} gold {gold:>3}  recall {recall}  precision {precision}")
    print(f"  decoys touched: {touched} of {decoys}")


def ours(text: str) -> list[tuple[str, int, int]]:
    return [(f.type, f.start, f.end) for f in pii.detect(text)]


def presidio() -> Callable[[str], list[tuple[str, int, int]]] | str:
    """Presidio's credit-card, e-mail and phone recognizers (patterns only, no spaCy model), or why not."""
    try:
        import tldextract
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            PhoneRecognizer,
        )
    except ImportError as e:
        return f"Presidio is not installed ({e.name}); `pip install presidio-analyzer` to compare"
    # the e-mail validator would fetch the public-suffix list from the network: use the bundled snapshot
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    recognizers = [CreditCardRecognizer(supported_language="zh"), EmailRecognizer(supported_language="zh"),
                   PhoneRecognizer(supported_language="zh", supported_regions=("CN",))]

    def predict(text: str) -> list[tuple[str, int, int]]:
        out = []
        for recognizer in recognizers:
            out += [(PRESIDIO_TYPES[r.entity_type], r.start, r.end)
                    for r in recognizer.analyze(text, recognizer.supported_entities, None)]
        return out

    return predict


def content_report(rows: list[dict]) -> None:
    """A risky text counts as found when a finding the guard acts on (for illegal and violent
    content: a request for it, not a mention) of its label's type is in it; a benign one as a
    false positive when any such finding is."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    tp = fp = fn = 0
    for row in rows:
        kinds = {f.type for f in content.scan(row["text"]) if f.request or f.category not in ("illegal", "violence")}
        if row["label"] == "none":
            fp += bool(kinds)
            continue
        hit = row["label"] in kinds
        tp, fn = tp + hit, fn + (not hit)
        found[row["label"]][0] += 1
        found[row["label"]][1] += hit
    benign = sum(r["label"] == "none" for r in rows)
    print(f"content risk: {len(rows)} texts ({benign} benign near-misses)")
    print(f"  precision {tp / (tp + fp) if tp + fp else 0:.3f}  recall {tp / (tp + fn):.3f}  "
          f"benign flagged {fp}/{benign}")
    for kind, (total, hit) in sorted(found.items()):
        print(f"  {kind:<10} recall {hit / total:.3f} ({hit}/{total})")


def latency(rows: list[dict], fn: Callable[[str], object]) -> str:
    times = []
    for row in rows:
        start = time.perf_counter()
        fn(row["text"])
        times.append((time.perf_counter() - start) * 1000)
    return f"p50 {statistics.median(times):.3f} ms, p95 {statistics.quantiles(times, n=20)[-1]:.3f} ms"


def main() -> None:
    attack_rows, pii_rows = load("attacks_eval.jsonl"), load("pii_eval.jsonl")
    start = time.perf_counter()
    attacks.classifier()
    print(f"classifier trained in {time.perf_counter() - start:.2f} s on {len(attacks.training_rows())} labelled texts")
    attack_report()

    content_report(load("content_eval.jsonl"))

    decoys = sum(len(r["decoys"]) for r in pii_rows)
    counts, touched = score_pii(pii_rows, ours)
    print_pii(f"personal information: {len(pii_rows)} texts (target recall ≥ 0.99 on structured identifiers, decoys untouched)",
              counts, touched, decoys)

    users = [r for r in attack_rows if r["source"] == "user"] + pii_rows
    chars = statistics.median(len(r["text"]) for r in users)
    print(f"latency per message ({len(users)} messages, median {chars:.0f} characters; target p50 ≤ 1 ms):")
    print(f"  pii.detect        {latency(users, pii.detect)}")
    print(f"  attacks rules     {latency(users, lambda t: attacks.scan(t, use_classifier=False))}")
    print(f"  attacks.assess    {latency(users, attacks.assess)}")
    print(f"  content.scan      {latency(users, content.scan)}")
    print(f"  both (rules+clf)  {latency(users, lambda t: (pii.detect(t), attacks.assess(t)))}")
    print("guard.check(text, 'input', 'citizen') on long requests (every window of 1–3 sentences scored):")
    for count in (1, 3, 15, 60):
        text = "".join(("" if i < len(REQUEST_SENTENCES) else f"{i + 1}号楼") + REQUEST_SENTENCES[i % len(REQUEST_SENTENCES)]
                       for i in range(count))
        rows = [{"text": text}] * max(20, 600 // count)
        print(f"  {count:>2} sentences ({len(text)} characters)  {latency(rows, lambda t: guard.check(t, 'input', 'citizen'))}")

    predict = presidio()
    if isinstance(predict, str):
        print(predict)
        return
    covered = set(PRESIDIO_TYPES.values())
    phone_rows = [{**r, "spans": [{**g, "type": compared(g["type"])} for g in r["spans"]]} for r in pii_rows]
    theirs, their_touched = score_pii(phone_rows, predict, covered)
    mine, my_touched = score_pii(phone_rows, lambda t: [(compared(k), s, e) for k, s, e in ours(t)
                                                      if compared(k) in covered], covered)
    print("Presidio (pattern recognizers, offline) beside aicity on the same texts, the types Presidio covers:")
    for kind in sorted(covered):
        g, r, p, c = theirs[kind]
        g2, r2, p2, c2 = mine[kind]
        print(f"  {kind:<10} Presidio recall {r / g:.3f} precision {c / p if p else 0:.3f}   "
              f"aicity recall {r2 / g2:.3f} precision {c2 / p2 if p2 else 0:.3f}")
    print(f"  decoys touched: Presidio {their_touched}, aicity {my_touched} (of {decoys})")
    print(f"  Presidio latency {latency(pii_rows, predict)}; types it has no recognizer for here: "
          + ", ".join(sorted({compared(s["type"]) for r in pii_rows for s in r["spans"]} - covered)))


if __name__ == "__main__":
    main()
