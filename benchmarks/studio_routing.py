"""智能体共创 routing benchmark: does publishing ten co-created agents break the super assistant's routing?

    .venv/bin/python benchmarks/studio_routing.py [--json results.json] [--apart] [--quick]

A fresh temporary city (the demo load). Before and after publishing the demo city's ten co-created agents
(`demo/data/studio/agents/*.yaml`, for the whole city), every request of the assistant's development sets
(`training/modes_dev.jsonl`, `training/modes_dev3.jsonl`; never the held-out `eval/assistant_modes.jsonl`)
goes through the whole assistant (`ops/mode_evaluation.evaluate`): mode accuracy, abstention, wrong-and-
confident answers, emergency recall. After: how many development requests a new agent took (listed, to be
judged by eye: a legal question about 公积金 going to 公积金小助手 is right), each agent's own examples
(what it was built from) and PROBES, requests written for this benchmark apart from the examples,
routed to their agent (PROBES were used to tune how a published agent competes, `agents/studio/runtime.py`),
and the development set `benchmarks/data/studio_probes_dev2.jsonl` (written apart from the agents' examples and
the routing code, like the held-apart set: six requests per agent, two of them in English, and 25 near-misses;
used for tuning). `--quick`: only the published agents' figures (no before, no mode development sets).

`--apart`: the held-apart set `benchmarks/data/studio_probes_apart.jsonl`, written by someone who read only
each agent's name, description and audience (never its examples, PROBES or the routing code) and never used
for tuning: six requests per agent, which should reach it, and near-misses (`"agent": null`: a service
application, an emergency, a report, out of scope), which no co-created agent should take.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

APART = Path(__file__).parent / "data" / "studio_probes_apart.jsonl"
DEV2 = Path(__file__).parent / "data" / "studio_probes_dev2.jsonl"

#: requests each agent should answer, written apart from its examples (a paraphrase, another detail)
PROBES: dict[str, list[str]] = {
    "garbage_sorting": ["家里的过期药品应该扔到哪类垃圾桶", "小区里有人把装修垃圾混进生活垃圾桶，这样合规吗",
                        "饭店每天的剩菜剩饭能直接倒进下水道吗"],
    "housing_fund": ["租房子能不能用公积金付房租", "公司没给我交住房公积金我能去哪里投诉", "公积金贷款最多能贷多少年"],
    "noise_helper": ["楼下饭馆的排风机晚上吵得睡不着有规定管吗", "工地晚上十一点还在打桩合法吗",
                     "小区里有人凌晨在家唱卡拉OK"],
    "property_disputes": ["物业把小区绿地改成停车场收费可以吗", "业委会换届选举要走什么程序",
                          "物业公司合同没到期就撤走了怎么办"],
    "consumer_rights": ["健身房办卡后老板跑路了钱怎么要回来", "直播间买的衣服质量很差商家不给退",
                        "超市卖过期食品我能索赔多少"],
    "wage_arrears": ["在工地干了半年活老板一直不给钱", "施工单位说等甲方结款才能发工资合理吗",
                     "项目完工了农民工的工资由谁兜底"],
    "gas_safety_tips": ["家里的燃气热水器能自己挪位置吗", "燃气表能不能装在卧室里", "饭店用液化气罐有哪些安全要求"],
    "minor_protection": ["酒吧让十六岁的孩子进去喝酒违法吗", "孩子在学校被同学欺负老师不管怎么办",
                         "小孩玩网游一天能玩多久"],
    "accessibility_helper": ["地铁站没有无障碍电梯合规吗", "人行道上的盲道被共享单车占了", "坐轮椅去政务大厅办事有什么便利"],
    "marriage_registration": ["外地户口在本地能办结婚证吗", "协议离婚后反悔了怎么办", "再婚需要带离婚证吗"],
}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def held_apart(routed: list[tuple[dict[str, Any], list[str]]], ids: set[str]) -> dict[str, Any]:
    """The held-apart rows' figures: how many for an agent reached it, how many near-misses an agent took."""
    mine = [(row, skills) for row, skills in routed if row.get("agent")]
    misses = [(row, skills) for row, skills in routed if not row.get("agent")]
    reached = [any(s.startswith(row["agent"] + ".") for s in skills) for row, skills in mine]
    stolen = [(row, skills) for row, skills in misses if any(s.split(".")[0] in ids for s in skills)]
    return {"for_agents": len(mine), "reached": sum(reached), "reach_rate": round(sum(reached) / max(len(mine), 1), 3),
            "near_misses": len(misses), "stolen": len(stolen),
            "missed": [{"id": row.get("id"), "agent": row["agent"], "text": row["text"], "skills": skills}
                       for (row, skills), ok in zip(mine, reached, strict=True) if not ok],
            "stolen_rows": [{"id": row.get("id"), "text": row["text"], "skills": skills} for row, skills in stolen]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--apart", action="store_true", help=f"also the held-apart set ({APART.name})")
    parser.add_argument("--quick", action="store_true", help="only the published agents' routing (tuning runs)")
    args = parser.parse_args()
    os.environ.setdefault("AICITY_DATA_DIR", tempfile.mkdtemp(prefix="aicity-studio-bench-"))
    from aicity.agents.studio import service as studio  # noqa: PLC0415 — after the data dir is chosen
    from aicity.agents.studio import templates  # noqa: PLC0415
    from aicity.assistant.cli import ready_assistant  # noqa: PLC0415
    from aicity.core import slices  # noqa: PLC0415
    from aicity.core.cli import open_city, set_city_loader  # noqa: PLC0415
    from aicity.core.errors import Problem  # noqa: PLC0415
    from aicity.demo.loader import ensure_city  # noqa: PLC0415
    from aicity.identity.models import Role  # noqa: PLC0415
    from aicity.identity.service import Principal  # noqa: PLC0415
    from aicity.ops import mode_evaluation  # noqa: PLC0415

    deactivate = slices.activate()
    set_city_loader(ensure_city)
    open_city(None)
    training = Path(str(resources.files("aicity") / "demo" / "data" / "training"))
    dev = {name: _rows(training / f"{name}.jsonl") for name in ("modes_dev", "modes_dev3")}
    definitions = templates.demo_definitions()
    ids = {d["id"] for d in definitions}

    def routed(text: str, role: str = "citizen") -> tuple[str | None, list[str]]:
        try:
            events = dict(ready_assistant().run(text, Principal(role=Role(role))))
        except Problem as exc:  # refused by the guard before any routing
            return f"(refused: {exc.type_})", []
        return events["answer"].mode, [f"{t['agent']}.{t['skill']}" for t in events["plan"]["subtasks"]]

    def measure(label: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        ready_assistant()
        built = time.perf_counter() - t0
        out: dict[str, Any] = {"assistant_build_s": round(built, 1)}
        for name, cases in (() if args.quick else dev.items()):
            report = mode_evaluation.evaluate(cases)
            out[name] = {k: report[k] for k in ("cases", "mode_accuracy", "answered_accuracy", "abstention_rate",
                                                 "wrong_confident_rate", "emergency_recall",
                                                 "emergency_false_alarm_rate")}
            # mode accuracy per mode (the report's `by_mode` scores whole answers; these rows name no skills)
            for mode in ("legal", "policy"):
                expected = [c for c in cases if c["mode"] == mode]
                wrong = sum(1 for r in report["failures"] if r["expected"] == mode and not r["mode_ok"])
                out[name][f"by_mode_{mode}"] = round(1 - wrong / len(expected), 3) if expected else None
        taken, probes, examples = [], {}, {}
        for name, cases in (dev.items() if label.startswith("after") and not args.quick else ()):
            for case in cases:
                mode, skills = routed(case["q"], case.get("role", "citizen"))
                if any(s.split(".")[0] in ids for s in skills):
                    taken.append({"set": name, "q": case["q"], "expected_mode": case["mode"], "got_mode": mode,
                                  "skills": skills})
        for agent_id, texts in PROBES.items():
            probes[agent_id] = [{"q": q, "skills": routed(q)[1]} for q in texts]
        for d in definitions:
            examples[d["id"]] = [routed(q)[1] for q in d["examples"]]
        out["dev_requests_taken_by_new_agents"] = taken
        out["probe_accuracy"] = round(sum(any(s.startswith(a + ".") for s in p["skills"])
                                          for a, rows in probes.items() for p in rows) / sum(map(len, PROBES.values())), 3)
        out["example_accuracy"] = round(sum(any(s.startswith(a + ".") for s in skills)
                                            for a, rows in examples.items() for skills in rows)
                                        / sum(len(d["examples"]) for d in definitions), 3)
        out["probes"] = probes
        if label.startswith("after"):
            out["dev2"] = held_apart([(row, routed(row["text"], row.get("role", "citizen"))[1])
                                      for row in _rows(DEV2)], ids)
        if args.apart and label.startswith("after"):
            out["apart"] = held_apart([(row, routed(row["text"], row.get("role", "citizen"))[1])
                                       for row in _rows(APART)], ids)
        print(f"\n== {label} (assistant built in {built:.1f} s)")
        for name in (n for n in dev if n in out):
            r = out[name]
            print(f"{name:<11} n={r['cases']}  mode {r['mode_accuracy']:.3f}  answered {r['answered_accuracy']:.3f}  "
                  f"abstain {r['abstention_rate']:.3f}  wrong-confident {r['wrong_confident_rate']:.3f}  "
                  f"emergency recall {r['emergency_recall']:.3f}  legal {r['by_mode_legal']}  policy {r['by_mode_policy']}")
        print(f"new agents' own examples routed to them: {out['example_accuracy']:.3f}; "
              f"probes: {out['probe_accuracy']:.3f}; dev requests taken by a new agent: {len(taken)}")
        for key, title in (("dev2", "development set dev2"), ("apart", "held-apart set")):
            if key in out:
                a = out[key]
                print(f"{title}: {a['reached']}/{a['for_agents']} reached their agent ({a['reach_rate']:.3f}); "
                      f"near-misses taken by a co-created agent: {a['stolen']}/{a['near_misses']}")
        return out

    before = {} if args.quick else measure("before: the built-in agents")
    admin = Principal(role=Role.admin, department="gov_office", key_id="studio-bench")
    t0 = time.perf_counter()
    for d in definitions:
        studio.create(d, admin)
        studio.publish(d["id"], admin, visibility="city")
    print(f"\npublished {len(definitions)} agents in {time.perf_counter() - t0:.1f} s")
    after = measure("after: ten co-created agents published for the city")
    for row in after["dev_requests_taken_by_new_agents"]:
        print(f"  taken [{row['set']}] {row['q']}  (expected {row['expected_mode']}, got {row['got_mode']}) → "
              f"{', '.join(row['skills'])}")
    missed = [(a, p["q"], p["skills"]) for a, rows in after["probes"].items() for p in rows
              if not any(s.startswith(a + ".") for s in p["skills"])]
    for agent_id, q, skills in missed:
        print(f"  probe missed {agent_id}: {q} → {', '.join(skills) or '(none)'}")
    for row in after["dev2"]["missed"]:
        print(f"  dev2 missed {row['agent']}: {row['text']} → {', '.join(row['skills']) or '(none)'}")
    for row in after["dev2"]["stolen_rows"]:
        print(f"  dev2 near-miss taken: {row['text']} → {', '.join(row['skills'])}")
    if args.json:
        args.json.write_text(json.dumps({"before": before, "after": after}, ensure_ascii=False, indent=2,
                                        default=str), encoding="utf-8")
    deactivate()


if __name__ == "__main__":
    main()
