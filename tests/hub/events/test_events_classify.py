"""Event classification and dispatch, the demo city's gazetteer, and `aicity events classify`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aicity.core.errors import Problem
from aicity.hub.events import classify as events
from aicity.hub.events.cli import app, evaluation, ready
from aicity.hub.geo import gazetteer

#: measured on eval.jsonl: 0.959 category, 0.971 department (dense on); 0.930 / 0.951 linear alone
CATEGORY_FLOOR = 0.92
DEPARTMENT_FLOOR = 0.94


@pytest.fixture(scope="module")
def ready_classifier(city: Path) -> events.Classifier:
    ready()
    return events.classifier()


def test_train_and_eval_are_disjoint_and_cover_every_category() -> None:
    train, held_out = events.training_rows(), events.eval_rows()
    assert len(train) >= 900 and len(held_out) >= 300
    assert not {r["text"] for r in train} & {r["text"] for r in held_out}
    assert {r["category"] for r in train} == {r["category"] for r in held_out} == set(events.categories())


def test_accuracy_on_the_held_out_set(ready_classifier: events.Classifier) -> None:
    report = evaluation(events.eval_rows())
    assert report["category_accuracy"] >= CATEGORY_FLOOR
    assert report["department_accuracy"] >= DEPARTMENT_FLOOR


@pytest.mark.parametrize(("text", "category", "reason"), [
    ("楼道里好大一股煤气味", "gas_leak", "燃气泄漏 gas leak"),
    ("对面楼着火了，浓烟滚滚", "fire", "火情 fire"),
    ("幸福路路面突然塌陷了一个大坑", "road_collapse", "塌陷/倒塌 collapse"),
    ("电梯停在半空，我们三个人被困在里面", "elevator_fault", "有人被困 people trapped"),
    ("桥洞积水太深，有辆车里有人被困", "waterlogging", "积水危及人身 people in floodwater"),
])
def test_urgent_rules(ready_classifier: events.Classifier, text: str, category: str, reason: str) -> None:
    result = events.classify(text)
    assert (result.category, result.priority) == (category, "urgent")
    assert reason in result.urgent_reasons and not result.needs_human


def test_smoke_from_a_chimney_or_a_barbecue_is_not_a_fire(ready_classifier: events.Classifier) -> None:
    assert events.classify("工厂烟囱天天冒黑烟").category == "industrial_pollution"
    assert events.classify("路边烧烤摊冒烟很大").priority != "urgent"


def test_electrocution_is_urgent_without_deciding_the_category(ready_classifier: events.Classifier) -> None:
    assert events.classify("路灯杆漏电，有人触电了").priority == "urgent"


def test_routine_reports(ready_classifier: events.Classifier) -> None:
    result = events.classify("小区门口的共享单车乱停乱放")
    assert (result.category, result.department, result.priority) == ("bike_parking", "urban", "low")
    assert events.classify("Garbage bins overflowing for a week outside my building").category == "garbage_overflow"
    assert events.classify("The traffic lights at the junction are dead").department == "traffic_police"
    assert len(result.alternatives) == events.ALTERNATIVES


@pytest.mark.parametrize(("text", "department"), [
    ("楼下餐馆的排烟口正对着我家窗户，满屋油烟味", "ecology"),  # 餐饮油烟: the demo city's ecology bureau
    ("小区里有人遛大狗不牵绳，追着人跑", "public_security"),  # 犬只管理
    ("我们这片从早上停电到现在", "power"),
    ("公园公厕脏得进不去，冲水也坏了", "sanitation"),
    ("公交车到站不停，招手也不理", "transport"),
    ("工厂的机器从早到晚轰隆响，噪音太大", "ecology"),  # 工业噪声, not 社会生活噪声
])
def test_reports_go_to_the_department_whose_duty_covers_them(ready_classifier: events.Classifier, text: str,
                                                             department: str) -> None:
    assert events.classify(text).department == department


@pytest.mark.parametrize("text", ["asdkjh qwe zxc", "？？？", "你好"])
def test_gibberish_goes_to_a_human(ready_classifier: events.Classifier, text: str) -> None:
    assert events.classify(text).needs_human


def test_empty_text_is_a_bad_request() -> None:
    with pytest.raises(Problem) as caught:
        events.classify("  \u200b ")
    assert caught.value.status == 400


def test_the_classifier_learns_only_promoted_corrections(ready_classifier: events.Classifier, city: Path) -> None:
    """An older corrections file is not read (it bypassed review and the gate); the model centre's
    promoted file is, and `reset` drops the process's model."""
    text = "绿道上的共享滑板车横七竖八，真是看不下去了"
    legacy = city / "training" / "events_corrections.jsonl"
    legacy.parent.mkdir(exist_ok=True)
    legacy.write_text(json.dumps({"text": text, "category": "open_bbq"}, ensure_ascii=False) + "\n", encoding="utf-8")
    builtin = len(events.merged_rows(events.training_rows(), []))
    try:
        events.reset()
        assert len(events.classifier().labels) == builtin
        events.promoted_path().write_text(json.dumps({"text": text, "category": "bike_parking"}, ensure_ascii=False)
                                          + "\n", encoding="utf-8")
        events.reset()
        assert len(events.classifier().labels) == builtin + 1 and events.classifier().labels[-1] == "bike_parking"
    finally:
        legacy.unlink()
        events.promoted_path().unlink(missing_ok=True)
        events.reset()


def test_gazetteer_resolves_addresses_and_landmarks() -> None:
    address = gazetteer.resolve("幸福路12号门口垃圾没人收")
    assert address and (address.matched, address.district_name, address.address) == ("address", "东湖区", "幸福路12号")
    bridge = gazetteer.resolve("光谷三路桥下积水很深")
    assert bridge and (bridge.matched, bridge.place, bridge.district) == ("landmark", "光谷三路桥", "guanggu")
    estate = gazetteer.resolve("东湖区碧水小区门口有人烧烤")
    assert estate and (estate.matched, estate.place, estate.district) == ("district", "碧水小区", "donghu")
    assert gazetteer.resolve("北京路上有个坑") is None


def test_every_place_lies_in_its_district() -> None:
    g = gazetteer.gazetteer()
    for place in g.places.values():
        assert (d := gazetteer.locate(place.lat, place.lon)) and d.id == place.district, place
    for road in g.roads.values():
        for number in (1, road.numbers):
            assert (d := gazetteer.locate(*road.point(number))) and d.id == road.district, road


def test_locate_inside_and_outside_the_city() -> None:
    assert (d := gazetteer.locate(30.47, 114.38)) and d.name == "东湖区"
    assert gazetteer.locate(39.9, 116.4) is None
    assert gazetteer.locate(30.39, 114.38) is None


runner = CliRunner()


def test_cli_classify_json(city: Path) -> None:
    result = runner.invoke(app, ["classify", "光谷三路桥下积水很深，车都熄火了", "--json", "--data-dir", str(city)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"category", "department", "confidence", "priority", "needs_human", "location"} <= out.keys()
    assert (out["category"], out["department"], out["location"]["district"]) == ("waterlogging", "water", "guanggu")


def test_cli_batch_with_a_bad_line_from_stdin(city: Path) -> None:
    lines = ['{"text": "井盖被偷了"}', "not json", '{"q": "no text"}', '{"text": "工资被拖欠三个月"}']
    result = runner.invoke(app, ["classify", "--batch", "-", "--data-dir", str(city)], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("category") for r in rows] == ["manhole_cover", None, None, "wage_arrears"]
    assert [r.get("line") for r in rows[1:3]] == [2, 3]


def test_cli_empty_text_exits_2(city: Path) -> None:
    result = runner.invoke(app, ["classify", " ", "--data-dir", str(city)])
    assert result.exit_code == 2
    assert "不能为空" in result.output


def test_cli_retrain_is_retired(city: Path) -> None:
    result = runner.invoke(app, ["retrain"])
    assert result.exit_code == 2 and "ops models retrain --kind events" in result.output


class _CountingEmbedder:
    name = "counting"

    def __init__(self, dim: int) -> None:
        self.dim, self.calls = dim, 0

    def query(self, text: str) -> np.ndarray:
        self.calls += 1
        vector = np.random.default_rng(len(text)).normal(size=self.dim)
        return vector / np.linalg.norm(vector)


class _Vectors:
    def __init__(self, m: np.ndarray) -> None:
        self.m = m

    def get(self) -> np.ndarray:
        return self.m


def test_confident_answers_as_classify_and_embeds_only_when_the_threshold_is_reachable(
        ready_classifier: events.Classifier) -> None:
    rows = np.random.default_rng(0).normal(size=(len(ready_classifier.labels), 8))
    embedder = _CountingEmbedder(8)
    model = replace(ready_classifier, embedder=embedder, vectors=_Vectors(rows / np.linalg.norm(rows, axis=1)[:, None]),
                    dense_weight=events.DENSE_WEIGHT)
    texts = ["早报", "各率分别给张表", "asdkjh qwe zxc", "小区门口的共享单车乱停乱放", "楼道里好大一股煤气味", "路灯不亮了"]
    spared = 0
    for at_least in (0.6, 0.95):
        for text in texts:
            expected = model.classify(text)
            before = embedder.calls
            assert model.confident(text, at_least) == (expected if expected.confidence >= at_least else None)
            linear = model.model.predict_proba([events.normalize(text)])[0].max()
            if linear < events.LINEAR_SURE and (1 - model.dense_weight) * linear + model.dense_weight < at_least \
                    and events.urgent_reasons(events.normalize(text))[1] is None:
                assert embedder.calls == before  # ruled out by the linear model: not embedded
                spared += 1
    assert spared >= 2
