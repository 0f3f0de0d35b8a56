"""Build the assistant's mode-routing training set (`src/aicity/demo/data/training/modes.jsonl`).

Hand-written requests (`*.txt` beside this script, one per line) are labelled by mode file and an `@code`
suffix; slot templates over the demo city's own ids (items, bundles, policies, departments, districts,
roads, landmarks) and register transforms (typos/homophones, dialect) add variety. Every id is checked
against the demo data; duplicates (after normalising punctuation and spaces) are dropped.

    .venv/bin/python scripts/mode_training/generate.py   # refuses to drop rows added to modes.jsonl directly

Mode boundaries (one rule each, so that the same request never carries two labels):
- report vs duty: a concrete problem that exists now (a place, a thing that happened to the asker) is a
  report even when it asks who is responsible ("我家门前的路灯坏了，找谁修") — the report is filed and
  dispatched to that department; duty is a question about a kind of matter with no incident in it
  ("路灯归哪个部门管").
- report vs emergency: danger to people now (gas smell, fire or smoke, someone trapped, deep or fast
  water with people in it, collapse, live wires, crowd crush) is an emergency; a hazard that may hurt
  someone later (a loose cover, a rusty pipe, a blocked exit) is a report.
- report vs legal: asking to have something handled is a report; asking what the law says about it
  (whether it is legal, who is liable, what the penalty is) is legal.
- service_guide vs bundle: one named procedure is a guide; everything to do for a life event or for
  opening / closing a business (several procedures, "一共/全部/哪些手续") is a bundle.
- service_guide vs policy: how to apply for a named item is a guide; whether one qualifies for, or what
  support exists (补贴, 优惠, 减免), is policy.
- briefing vs data: what is happening now (alarms, open urgent events, today's summary) is a briefing;
  counts, rankings and trends over a period are data.
`varied.txt` (mode|role|request|code, like `hard.txt`) adds everyday phrasings across registers; the
development sets `demo/data/training/modes_dev.jsonl` and `modes_dev3.jsonl` were written apart from all of
these and are never merged into them.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT / "src/aicity/demo/data"
OUT = DATA / "training/modes.jsonl"

MODES = ("emergency", "report", "event_status", "service_guide", "bundle", "precheck", "policy", "legal", "duty",
         "data", "briefing", "city_action", "office", "industry", "simulation", "smalltalk", "out_of_scope")
ROLES = {"c": "citizen", "e": "enterprise", "o": "official", "p": "operator"}
DEFAULT_ROLE = {m: "official" for m in ("data", "briefing", "city_action", "office", "industry", "simulation")}
STAFF_MODES = ("data", "briefing", "city_action")
# who asks template requests: (role, weight)
ROLE_POOLS = {
    "staff": [("official", 2), ("operator", 1)],
    "emergency": [("citizen", 17), ("operator", 2), ("enterprise", 1)],
    "report": [("citizen", 15), ("operator", 3), ("enterprise", 2)],
    "asker": [("citizen", 7), ("enterprise", 2), ("official", 1)],
}

# emergency hazard -> (departments, event category or None)
HAZARDS = {
    "gas": (["gas"], "gas_leak"), "fire": (["fire"], "fire"), "lift": (["market"], "elevator_fault"),
    "trapped": (["fire"], None), "water": (["water"], "waterlogging"), "collapse": (["housing"], None),
    "road_collapse": (["transport"], "road_collapse"), "electric": (["power"], None),
    "chem": (["emergency"], None), "crowd": (["public_security"], "crowd_gathering"),
}
BUNDLE_DEPTS = {
    "convenience_store": ["market"], "restaurant_opening": ["market"], "newborn": ["health", "public_security"],
    "enterprise_info_change": ["market"], "enterprise_deregistration": ["market", "tax"],
    "utility_connection": ["power", "water", "gas"], "retirement": ["hrss"], "school_enrollment": ["education"],
    "second_hand_house_transfer": ["natural_resources"], "disability_services": ["disabled_federation"],
    "social_security_card": ["hrss"], "enterprise_opening": ["market"],
    "posthumous_affairs": ["public_security", "hrss"], "transport_enterprise_opening": ["market", "transport"],
    "internet_cafe_opening": ["market", "culture_tourism"], "hair_salon_opening": ["market", "health"],
}
LIFE_EVENT_DEPTS = {
    "birth": ["health", "public_security"], "school_entry": ["education"], "job_or_startup": ["hrss"],
    "open_shop": ["market"], "marriage": ["civil_affairs"], "house_purchase": ["natural_resources"],
    "retiring": ["hrss"], "disability": ["disabled_federation"], "unemployment": ["hrss"],
    "moving": ["public_security"], "elderly_care": ["civil_affairs"], "bereavement": ["public_security", "hrss"],
    "enterprise_start": ["market"], "enterprise_change": ["market"], "enterprise_close": ["market"],
    "construction": ["natural_resources", "housing"],
}
DATA_SKILLS = {"stats": (["city_ops.service_stats"], ["data_bureau"]), "query": (["governance.event_query"], []),
               "hotspot": (["governance.hotspot_insight"], [])}
# no briefing skill exists yet: the daily briefing is linked from the governance insight skills
BRIEFING_SKILLS = {"brief": ["governance.hotspot_insight"], "situation": ["city_safety.safety_situation"],
                   "water": ["city_safety.waterlogging_watch"]}
ACTION_SKILLS = {"valve": (["city_safety.close_gas_valve"], ["gas"]),
                 "gate": (["city_safety.operate_flood_gate"], ["water"]),
                 "signal": (["city_safety.set_signal_plan"], ["traffic_police"]),
                 "device": (["city_safety.device_command"], [])}

TYPOS = [("公积金", "公积今"), ("申请", "伸请"), ("营业执照", "营业职照"), ("社保", "社宝"), ("身份证", "身分证"),
         ("登记", "登纪"), ("办理", "半理"), ("材料", "才料"), ("怎么", "怎莫"), ("需要", "须要"), ("补贴", "补帖"),
         ("部门", "部们"), ("路灯", "路登"), ("井盖", "井概"), ("垃圾", "拉圾"), ("煤气", "媒气"),
         ("电梯", "电题"), ("户口", "户囗"), ("驾驶证", "驾使证"), ("医保", "医宝"), ("结婚", "结昏"),
         ("投诉", "投述"), ("工资", "工姿"), ("噪音", "燥音"), ("已经", "以经"), ("什么", "神马"), ("退休", "退修"),
         ("预约", "予约"), ("报销", "报消"), ("清运", "清云"), ("积水", "积氺")]
TYPO_MARKS = ("公积今", "伸请", "职照", "社宝", "驾找", "身分证", "登纪", "半理", "才料", "怎莫", "补帖", "部们",
              "路登", "井概", "拉圾", "媒气", "电题", "户囗", "驾使证", "医宝", "结昏", "投述", "工姿", "燥音",
              "以经", "神马", "退修", "予约", "报消", "清云", "积氺", "煤气泄露")
DIALECT_MARKS = ("俺", "咋", "啥子", "侬", "阿拉", "伐", "唔该", "咗", "啲", "屋头", "莫得", "晓得", "娃", "哈子",
                 "整啥", "弄啥嘞", "咋个", "么子", "冇", "老鼻子", "贼拉")
FORMAL_MARKS = ("贵部门", "贵中心", "兹", "特此", "恳请", "敬请", "本公司", "本人", "予以", "事宜", "请告知", "几何", "我司", "拟于", "拟申请", "拟办理",
                "本企业", "请问贵")
MULTI_MARKS = ("本来想", "先不说", "先不问", "哦不", "顺便", "另外", "再把", "还有就是", "本来是想", "，再")
DIALECT_WRAPS = [("俺想问哈，", ""), ("", "，咋整嘛"), ("侬好，", ""), ("", "，啥子情况嘛"), ("我跟你讲哦，", "，咋个办"),
                 ("", "，整不明白"), ("老乡问一哈，", ""), ("", "，晓得不")]
COLLOQUIAL_WRAPS = [("那个，", ""), ("请问一下，", ""), ("", "？急"), ("你好，", "，谢谢"), ("麻烦问下，", ""),
                    ("", "，在线等"), ("哎，", "")]


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class City:
    """The demo city's ids and place names, read from its data files."""

    def __init__(self) -> None:
        self.departments = {d["id"]: d for d in load_yaml(DATA / "departments.yaml")}
        self.categories = {c["id"]: c for c in load_yaml(DATA / "event_categories.yaml")}
        self.items = {}
        for path in sorted((DATA / "catalog/items").glob("*.yaml")):
            self.items.update({i["id"]: i for i in load_yaml(path)})
        self.bundles = {b["id"]: b for b in load_yaml(DATA / "catalog/bundles.yaml")}
        self.life_events = {e["id"]: e for e in load_yaml(DATA / "catalog/life_events.yaml")}
        self.policies = {p["id"]: p for p in load_yaml(DATA / "catalog/policies.yaml")}
        gaz = load_yaml(DATA / "gazetteer.yaml")
        self.districts = [d["name"] for d in gaz["districts"]]
        self.district_en = [d["name_en"] for d in gaz["districts"]]
        self.roads = [r["name"] for r in gaz["roads"]]
        self.landmarks = [m["name"] for m in gaz["landmarks"]]
        self.communities = [m["name"] for m in gaz["landmarks"] if m["kind"] == "community"]
        self.watch_points = [w["name"] for w in load_yaml(DATA / "waterlogging.yaml")["points"]]


def register_of(q: str, forced: str | None = None) -> str:
    if forced:
        return forced
    cjk = len(re.findall(r"[\u4e00-\u9fff]", q))
    words = re.findall(r"[A-Za-z]+", q)
    if any(m in q for m in TYPO_MARKS):
        return "typo"
    if any(m in q for m in DIALECT_MARKS):
        return "dialect"
    if cjk == 0 and words:
        pinyin = sum(1 for w in words if w.islower() and re.fullmatch(r"[bcdfghjklmnpqrstwxyz]?h?[aeiouv]+n?g?r?", w))
        return "pinyin" if pinyin >= max(2, len(words) // 2) and len(words) >= 3 else "english"
    if words and re.search(r"\b[a-z]{2,6}( [a-z]{1,6}){1,}\b", q) and not re.search(r"[A-Z]", q):
        return "pinyin"
    if any(len(w) >= 3 for w in words if not w.startswith("evt")):
        return "mixed"
    if cjk <= 6:
        return "short"
    if len(q) >= 50:
        return "long"
    if any(m in q for m in MULTI_MARKS):
        return "multi_intent"
    if any(m in q for m in FORMAL_MARKS):
        return "formal"
    return "colloquial"


class Builder:
    def __init__(self, city: City) -> None:
        self.city = city
        self.rows: list[dict] = []
        self.seen: set[str] = set()
        self.errors: list[str] = []

    @staticmethod
    def key(q: str) -> str:
        return re.sub(r"[\s，。！？!?,.、~…：:；;“”\"']", "", q).lower()

    def label(self, mode: str, code: str | None, q: str) -> tuple[list[str], list[str], str | None, dict]:
        c = self.city
        extra: dict = {}
        code = None if code in (None, "", "-") else code
        if mode == "emergency":
            depts, cat = HAZARDS[code]
            extra = {"hazard": code, "category": cat}
            return ["city_safety.emergency"], list(depts), None, extra
        if mode == "report":
            extra = {"category": code}
            return ["governance.report_event"], [c.categories[code]["department"]], None, extra
        if mode == "event_status":
            kind, _, dept = (code or "status").partition(":")
            skill = "governance.event_status" if kind == "status" else "governance.event_action"
            return [skill], [dept] if dept else [], None, extra
        if mode in ("service_guide", "precheck") and code in c.items:
            skill = "gov_service.guide" if mode == "service_guide" else "gov_service.precheck"
            return [skill], [c.items[code]["department"]], code, extra
        if mode in ("bundle", "precheck") and code in c.bundles:
            skill = "gov_service.bundle" if mode == "bundle" else "gov_service.precheck"
            return [skill], BUNDLE_DEPTS[code], code, extra
        if mode == "service_guide" and code is None:  # a service the catalog lacks: the guide skill says so
            return ["gov_service.guide"], [], None, extra
        if mode == "bundle" and code in c.life_events:
            return ["gov_service.proactive"], LIFE_EVENT_DEPTS[code], code, extra
        if mode == "policy":
            if code is None:
                return ["gov_service.proactive"], [], None, extra
            return ["gov_service.proactive"], [c.policies[code]["department"]], code, extra
        if mode == "legal":
            if code == "fire":
                return ["fire_safety.consult"], ["fire"], None, extra
            return ["policy.legal_qa"], [], None, extra
        if mode == "duty":
            if code is None:
                return ["city_ops.department_duty"], [], None, extra
            if code not in c.departments:
                raise KeyError(code)
            return ["city_ops.department_duty"], [code], code, extra
        if mode == "data":
            skills, depts = DATA_SKILLS[code]
            return list(skills), list(depts), None, extra
        if mode == "briefing":
            return list(BRIEFING_SKILLS[code]), [], None, extra
        if mode == "city_action":
            skills, depts = ACTION_SKILLS[code]
            return list(skills), list(depts), None, extra
        if mode in ("office", "industry", "simulation", "smalltalk", "out_of_scope"):
            return [], [], None, extra
        raise KeyError(f"{mode}: unknown code {code!r}")

    def add(self, mode: str, role: str, q: str, code: str | None, source: str, register: str | None = None) -> bool:
        q = q.strip()
        if not q or self.key(q) in self.seen:
            return False
        try:
            skills, depts, target, extra = self.label(mode, code, q)
        except KeyError as exc:
            self.errors.append(f"{mode} {code!r} ({exc}): {q}")
            return False
        self.seen.add(self.key(q))
        row = {"q": q, "role": role, "mode": mode, "skills": skills, "departments": depts, "target": target}
        row.update({k: v for k, v in extra.items() if v is not None})
        row["register"] = register_of(q, register)
        row["source"] = source
        self.rows.append(row)
        return True


def parse_hand(path: Path, mode: str) -> list[tuple[str, str, str | None]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        role = DEFAULT_ROLE.get(mode, "citizen")
        m = re.match(r"^([ceop]):(.*)$", line)
        if m:
            role, line = ROLES[m.group(1)], m.group(2).strip()
        code = None
        m = re.match(r"^(.*?)\s*@(\S+)$", line)
        if m:
            line, code = m.group(1).strip(), m.group(2)
        out.append((role, line, code))
    return out


def hand_written(b: Builder, rnd: random.Random) -> list[tuple[str, str, str, str | None]]:
    """Add every hand-written request; return them for the register transforms."""
    added = []
    for mode in MODES:
        for role, q, code in parse_hand(HERE / f"{mode}.txt", mode):
            if mode in STAFF_MODES and role == "official" and rnd.random() < 0.3:
                role = "operator"
            if b.add(mode, role, q, code, "hand"):
                added.append((mode, role, q, code))
    lines = [line for name in ("hard.txt", "registers.txt", "varied.txt")
             for line in (HERE / name).read_text(encoding="utf-8").splitlines()]
    for line in lines:
        if line.strip():
            mode, r, q, code = line.split("|")
            if b.add(mode, ROLES[r], q, code, "hand"):
                added.append((mode, ROLES[r], q, code))
    return added


def place(c: City, rnd: random.Random) -> str:
    kind = rnd.random()
    if kind < 0.35:
        return f"{rnd.choice(c.roads)}{rnd.randint(1, 260)}号"
    if kind < 0.6:
        return rnd.choice(c.landmarks)
    if kind < 0.8:
        return f"{rnd.choice(c.districts)}{rnd.choice(c.roads)}"
    return f"{rnd.choice(c.communities)}{rnd.randint(1, 18)}栋"


def pick_role(rnd: random.Random, role: str) -> str:
    pool = ROLE_POOLS.get(role)
    if not pool:
        return role
    return rnd.choices([r for r, _ in pool], weights=[w for _, w in pool])[0]


def fill(b: Builder, rnd: random.Random, mode: str, role: str, forms: list[str], phrases: dict[str, list[str]],
         n: int, slots=None) -> None:
    """Add up to n template fills: a code's phrase in a random form, with random places and slots."""
    codes = list(phrases)
    tries = 0
    made = 0
    while made < n and tries < n * 20:
        tries += 1
        code = rnd.choice(codes)
        values = {"loc": place(b.city, rnd), "phr": rnd.choice(phrases[code]), "district": rnd.choice(b.city.districts),
                  "road": rnd.choice(b.city.roads), "landmark": rnd.choice(b.city.landmarks),
                  "point": rnd.choice(b.city.watch_points), "n": rnd.randint(2, 12)}
        if slots:
            values.update(slots(rnd))
        q = rnd.choice(forms).format(**values)
        r = pick_role(rnd, role)
        if b.add(mode, r, q, code, "template"):
            made += 1


def emergency_templates(b: Builder, rnd: random.Random) -> None:
    phrases = {
        "gas": ["一股臭鸡蛋味越来越重", "闻到很浓的煤气味", "燃气管子在嘶嘶地漏气", "天然气味道特别冲，头都晕了",
                "燃气报警器一直在叫", "液化气罐在往外冒气", "有股怪味像是漏气了"],
        "fire": ["着火了，烟很大", "冒黑烟，还有火光", "有房子烧起来了", "一股焦糊味还在冒烟", "火苗从窗户里窜出来"],
        "lift": ["电梯卡住了，里面有人", "有人被困在电梯里", "电梯停在半空门打不开，里面有小孩", "电梯突然下坠后卡住，有人在里面喊"],
        "trapped": ["有人掉进水里了", "有人被压在下面出不来", "小孩被困在屋里出不来", "有人掉进了深坑里"],
        "water": ["水已经没过车轮了，还有车往里开", "积水齐腰深，有人在蹚水", "车被淹在水里，人还在车上",
                  "水流得很急，路都看不见了"],
        "collapse": ["楼墙裂了大口子还在掉渣", "房顶塌了一块", "老楼在往一边歪", "围墙倒了压到人了"],
        "road_collapse": ["路面突然塌了个大洞", "地面在往下陷，车轮掉进去了"],
        "electric": ["电线掉在地上冒火花", "有人触电倒在地上", "积水里的电箱在漏电", "高压线断了垂到路上"],
        "chem": ["飘来一股刺鼻的化学气味，眼睛睁不开", "罐车在漏不明液体，味道很呛", "冒黄烟，好多人咳嗽"],
        "crowd": ["人挤人，有人被踩了", "人太多挤得动不了，有人摔倒", "出口堵死了，有人被挤晕"],
    }
    forms = ["{loc}{phr}", "{loc}这边{phr}，快来人", "紧急！{loc}{phr}", "{phr}，位置在{loc}", "救命，{loc}{phr}",
             "{loc}现在{phr}，怎么办", "快派人到{loc}，{phr}", "{phr}！地址{loc}", "我在{loc}，{phr}"]
    fill(b, rnd, "emergency", "emergency", forms, phrases, 115)
    en = {"gas": ["there's a strong gas smell", "gas is leaking from a pipe"], "fire": ["a building is on fire", "thick smoke is pouring out"],
          "lift": ["people are stuck in the elevator"], "water": ["a car is stuck in deep flood water"],
          "electric": ["a live wire is down on the road"], "crowd": ["people are being crushed in the crowd"],
          "collapse": ["part of a building has collapsed"], "chem": ["there's a toxic chemical smell"]}
    fill(b, rnd, "emergency", "citizen", ["Help, {phr} at {landmark}", "Emergency: {phr} near {road}", "{phr}, {district}, hurry"],
         en, 30)


def report_templates(b: Builder, rnd: random.Random) -> None:
    phrases = {
        "garbage_overflow": ["垃圾桶满了几天没人清运", "垃圾堆在路边没人收", "垃圾站臭气熏天没人管"],
        "road_dirty": ["路面全是渣土没人扫", "人行道上脏得很没人清扫"],
        "illegal_ads": ["墙上贴满了小广告", "到处是喷涂的办证广告"],
        "outdoor_sign": ["招牌摇摇欲坠", "广告牌锈得快掉了"],
        "street_vending": ["有流动摊贩占道经营", "人行道被小摊占满了"],
        "outside_store": ["店家把东西摆到门外占道", "饭店在人行道上摆桌子"],
        "illegal_construction": ["有人私搭乱建", "楼顶加盖了违建"],
        "open_bbq": ["有露天烧烤烟熏火燎", "烧烤摊天天烤到半夜"],
        "bike_parking": ["共享单车乱停堵住了路", "电动车乱停占了盲道"],
        "streetlight": ["路灯不亮了", "路灯坏了好多天", "路灯白天一直亮着"],
        "illegal_parking": ["有车乱停堵了路", "消防通道上停着车", "车停在人行道上"],
        "traffic_signal": ["红绿灯坏了", "信号灯一直闪黄灯"],
        "road_damage": ["路上有个大坑", "路面坑坑洼洼", "护栏被撞坏了"],
        "road_collapse": ["路面陷下去一小块"],
        "manhole_cover": ["井盖没了", "井盖坏了一半", "井盖松动哐哐响"],
        "waterlogging": ["下雨后积水一直不退", "路上积水走不过去"],
        "water_pipe_burst": ["水管爆了在冒水", "停水一整天了", "水压小得用不了水"],
        "sewer_blockage": ["下水道堵了污水外溢", "雨水口堵死了"],
        "fire_hazard": ["消防通道被杂物堵了", "楼道里有人飞线给电动车充电", "安全出口被锁了"],
        "tree_hazard": ["大树倒了挡住路", "树枝快断了悬在路上", "绿地被人毁了"],
        "construction_noise": ["工地半夜还在施工", "工地一大早就打桩"],
        "neighborhood_noise": ["广场舞音响太吵", "有人半夜大声唱歌", "商铺喇叭一整天循环播放"],
        "industrial_pollution": ["工厂排的废气很刺鼻", "有人往河里偷排污水", "饭馆油烟直排居民楼"],
        "food_safety": ["店里卖过期食品", "小作坊卫生极差还在卖吃的"],
        "consumer_complaint": ["商家办卡后跑路不退钱", "店家乱收费不退款", "商家虚假宣传不认账"],
        "elevator_fault": ["电梯老是坏", "电梯运行异响还经常停"],
        "property_dispute": ["物业收费不办事", "物业乱收停车费"],
        "wage_arrears": ["老板拖欠工资好几个月", "包工头欠着工钱不给"],
        "crowd_gathering": ["有一群人聚集在那吵闹"],
    }
    forms = ["{loc}{phr}", "反映一下，{loc}{phr}，麻烦处理", "帮我报个事：{loc}{phr}", "{phr}，地点在{loc}",
             "我要投诉，{loc}{phr}", "{loc}{phr}，请派人来看看", "{loc}那里{phr}，已经好几天了", "报修：{loc}{phr}",
             "我要举报{loc}{phr}", "请登记一下，{loc}{phr}"]
    fill(b, rnd, "report", "report", forms, phrases, 135)
    en = {"streetlight": ["the street light is out"], "manhole_cover": ["a manhole cover is missing"],
          "road_damage": ["there's a big pothole"], "garbage_overflow": ["garbage hasn't been collected for days"],
          "neighborhood_noise": ["loud music every night"], "illegal_parking": ["cars are parked on the sidewalk"],
          "wage_arrears": ["my employer hasn't paid wages for months"], "sewer_blockage": ["the sewer is overflowing"]}
    fill(b, rnd, "report", "citizen", ["I'd like to report that {phr} at {landmark}", "{phr} on {road}, please fix it",
                                         "Complaint: {phr} near {landmark}"], en, 30)


def clean_name(name: str) -> str:
    return re.sub(r"（[^）]*）", "", name)


def service_templates(b: Builder, rnd: random.Random) -> None:
    c = b.city
    forms = ["{n}怎么办理", "{n}需要哪些材料", "{n}在哪里办", "{n}要多长时间", "请问{n}的办理流程", "{n}收费吗",
             "办{n}要本人到场吗", "{n}能网上办吗", "想办{n}，找哪个窗口", "{n}的条件是什么", "咨询一下{n}",
             "{n}怎么弄", "{n}，去哪办，带什么"]
    en_forms = ["How do I apply for {n}?", "What documents are needed for {n}?", "Where do I go for {n}?"]
    for item in c.items.values():
        role = "enterprise" if item.get("audience") == ["enterprise"] else "citizen"
        names = [clean_name(item["name"])] + [str(k) for k in item.get("keywords", []) if re.search(r"[\u4e00-\u9fff]", str(k))]
        b.add("service_guide", role, rnd.choice(forms).format(n=rnd.choice(names)), item["id"], "template")
        if rnd.random() < 0.7 and item.get("name_en"):
            b.add("service_guide", role, rnd.choice(en_forms).format(n=item["name_en"].lower()), item["id"], "template")


def bundle_templates(b: Builder, rnd: random.Random) -> None:
    c = b.city
    forms = ["{n}要办哪些手续", "{n}都涉及哪些部门", "{n}能一次办完吗", "{n}的办事清单", "{n}怎么一起办",
             "关于{n}，要跑几个地方"]
    for bid, bundle in c.bundles.items():
        names = [bundle["name"], bundle["name"].replace("一件事", "")]
        for f in rnd.sample(forms, 5):
            b.add("bundle", "citizen", f.format(n=rnd.choice(names)), bid, "template")
    en_forms = ["What do I need to do for {n}?", "Which permits and steps are involved in {n}?",
                "Can I handle {n} all at once?"]
    for bid, bundle in c.bundles.items():
        b.add("bundle", "citizen", rnd.choice(en_forms).format(n=bundle["name_en"].lower()), bid, "template")
    tails = ["，要办哪些事", "，接下来要办什么", "，有什么手续", "，需要准备啥", "，都得跑哪些部门"]
    for eid, event in c.life_events.items():
        role = "enterprise" if eid.startswith(("enterprise", "construction")) else "citizen"
        for t in rnd.sample(event["triggers"], min(5, len(event["triggers"]))):
            b.add("bundle", role, t + rnd.choice(tails), eid, "template")


def precheck_templates(b: Builder, rnd: random.Random) -> None:
    c = b.city
    forms = ["办{n}，我已经有{a}和{b}，还缺什么", "{n}：{a}、{b}都准备好了，材料齐吗", "帮我预审一下{n}，手里有{a}",
             "我带了{a}，办{n}还差哪些", "{n}只有{a}可以吗，还要补什么"]
    items = [i for i in c.items.values() if len(i.get("materials", [])) >= 2]
    for item in rnd.sample(items, min(70, len(items))):
        mats = [re.sub(r"（[^）]*）", "", m["name"]) for m in item["materials"]]
        a, bb = rnd.sample(mats, 2)
        role = "enterprise" if item.get("audience") == ["enterprise"] else "citizen"
        b.add("precheck", role, rnd.choice(forms).format(n=clean_name(item["name"]), a=a, b=bb), item["id"], "template")


def policy_templates(b: Builder, rnd: random.Random) -> None:
    forms = ["{k}我能享受吗", "我符合{n}的条件吗", "有没有{k}的政策", "{n}怎么享受", "{k}，我们这种情况适用吗",
             "{n}能拿多少", "想了解{n}"]
    for pid, pol in b.city.policies.items():
        role = "enterprise" if "enterprise" in pol.get("audience", []) and "citizen" not in pol.get("audience", []) else "citizen"
        en = rnd.choice(["Am I eligible for the {n}?", "How do I get the {n}?", "Does the {n} apply to me?"])
        b.add("policy", role, en.format(n=pol["name_en"].lower()), pid, "template")
        for _ in range(4):
            q = rnd.choice(forms).format(n=pol["name"].strip("“”"), k=rnd.choice(pol.get("keywords") or [pol["name"]]))
            b.add("policy", role, q, pid, "template")


LEGAL_TOPICS = ["拖欠工资", "试用期辞退", "不签劳动合同", "加班不给加班费", "违章停车", "噪声扰民", "占道经营",
                "私搭乱建", "卖过期食品", "无证经营", "预付卡不退款", "个人信息泄露", "高空抛物", "遛狗不拴绳",
                "偷排污水", "工地夜间施工", "物业乱收费", "房东不退押金", "电动车进楼充电", "堵塞消防通道",
                "价格欺诈", "虚假广告", "不交社保", "工伤赔偿", "离婚财产分割", "遗产继承", "未成年人打工",
                "行政处罚听证", "政府信息公开", "乱扔垃圾", "醉酒驾驶", "交通事故逃逸", "商家拒开发票",
                "快递丢件", "网购退货", "特种设备未登记使用", "燃气设施私自改装", "餐饮油烟超标"]


LEGAL_TOPICS_EN = ["unpaid wages", "dismissal during probation", "working without a contract", "unpaid overtime",
                   "noise at night", "illegal parking", "selling expired food", "unlicensed business", "prepaid card refunds",
                   "personal data leaks", "throwing objects from buildings", "unleashed dogs", "blocking fire exits",
                   "work injury compensation", "inheritance without a will", "landlords keeping deposits"]
DUTY_EN = {"urban": ["street vendors", "shop signs", "illegal construction"], "sanitation": ["garbage collection", "public toilets"],
           "water": ["waterlogged roads", "manhole covers", "water outages"], "traffic_police": ["traffic lights", "illegal parking"],
           "market": ["elevator safety", "consumer complaints", "food safety"], "hrss": ["wage arrears", "pensions"],
           "public_security": ["residence permits", "neighbourhood noise"], "ecology": ["air pollution", "factory emissions"],
           "transport": ["potholes", "buses and taxis"], "housing": ["construction noise", "property management"],
           "gas": ["gas pipelines"], "fire": ["fire safety inspections"], "greening": ["fallen trees", "parks"]}


def legal_templates(b: Builder, rnd: random.Random) -> None:
    en_forms = ["What does the law say about {t}?", "Is there a legal rule on {t}?", "How does the law treat {t}?",
                "What are my rights regarding {t}?"]
    for t in LEGAL_TOPICS_EN:
        for f in rnd.sample(en_forms, 2):
            b.add("legal", pick_role(rnd, "asker"), f.format(t=t), None, "template")
    forms = ["{t}法律怎么规定", "{t}会被怎么处罚", "{t}违法吗", "{t}，依据哪条法律", "关于{t}有什么法律规定",
             "{t}罚款多少", "{t}要承担什么法律责任", "{t}的追诉时效是多久", "{t}，我有什么权利"]
    for t in LEGAL_TOPICS:
        for f in rnd.sample(forms, 4):
            b.add("legal", pick_role(rnd, "asker"), f.format(t=t), None, "template")


def duty_templates(b: Builder, rnd: random.Random) -> None:
    en_forms = ["Which department is responsible for {d}?", "Who handles {d}?", "Who's in charge of {d}?"]
    for did, topics in DUTY_EN.items():
        for d in topics:
            b.add("duty", pick_role(rnd, "asker"), rnd.choice(en_forms).format(d=d), did, "template")
    forms = ["{d}归哪个部门管", "{d}该找谁", "{d}是谁负责的", "{d}向哪个部门反映", "{d}由哪个单位主管",
             "{d}的主管部门是哪个"]
    for did, dept in b.city.departments.items():
        duties = dept.get("duties", [])
        for d in rnd.sample(duties, min(3, len(duties))):
            b.add("duty", pick_role(rnd, "asker"), rnd.choice(forms).format(d=d), did, "template")


def staff_templates(b: Builder, rnd: random.Random) -> None:
    c = b.city
    cats = {k: v["name"].split("/")[0] for k, v in c.categories.items()}

    def slots(r: random.Random) -> dict:
        return {"cat": r.choice(list(cats.values())), "period": r.choice(["今天", "昨天", "本周", "上周", "本月", "近三天",
                                                                          "近七天", "上个月", "今年以来"])}

    fill(b, rnd, "data", "staff", ["{district}{period}有多少{cat}事件", "{period}{cat}事件有哪些还没办结",
                                    "列出{district}{period}超时的事件", "{period}各区{cat}事件数量对比"],
         {"query": ["-"]}, 40, slots)
    fill(b, rnd, "data", "staff", ["{period}{cat}投诉是不是在上升", "{period}哪个区{cat}最多", "{district}{period}的事件热点",
                                    "{cat}{period}的变化趋势", "{period}反映最集中的问题"],
         {"hotspot": ["-"]}, 35, slots)
    fill(b, rnd, "briefing", "staff", ["{district}现在的安全态势", "{district}有没有在办的告警", "{district}当前燃气告警情况",
                                        "给我一份{district}的实时态势"], {"situation": ["-"]}, 25)
    fill(b, rnd, "briefing", "staff", ["{district}未来一小时会不会内涝", "{point}快积水了吗", "{district}哪些易涝点有风险",
                                        "{road}接下来会被淹吗"], {"water": ["-"]}, 30)
    fill(b, rnd, "briefing", "staff", ["{district}今天的简报", "今日{district}运行情况汇总", "{district}今天有什么要情"],
         {"brief": ["-"]}, 15)
    fill(b, rnd, "city_action", "staff", ["关闭{landmark}附近的燃气阀门", "{road}燃气告警，下发关阀指令",
                                           "隔离{district}{road}的燃气阀门"], {"valve": ["-"]}, 25)
    fill(b, rnd, "city_action", "staff", ["打开{district}的排水闸门", "关闭{point}附近的闸门", "{district}开闸排涝"],
         {"gate": ["-"]}, 25)
    fill(b, rnd, "city_action", "staff", ["{road}的信号机切到内涝绕行配时", "{landmark}周边信号改成全红",
                                           "把{district}信号配时恢复常规", "{road}切换高峰信号方案"], {"signal": ["-"]}, 25)


def misc_templates(b: Builder, rnd: random.Random) -> None:
    c = b.city
    cats = [v["name"].split("/")[0] for v in c.categories.values()]

    def slots(r: random.Random) -> dict:
        return {"cat": r.choice(cats), "when": r.choice(["昨天", "上周", "三天前", "上个月", "前天"])}

    fill(b, rnd, "event_status", "citizen", ["我{when}报的{cat}处理了没有", "{when}反映的{cat}，进度怎么样了",
                                              "帮我催一下{when}报的{cat}", "{when}投诉的{cat}怎么还没人管"],
         {"status": ["-"]}, 45, slots)
    fill(b, rnd, "event_status", "operator", ["evt_{n}0{n} 派给{dept}", "evt_{n}{n} 受理", "evt_0{n} 已办结"],
         {"action": ["-"]}, 12, lambda r: {"dept": r.choice(["水务局", "城管", "交警", "环卫"])})
    fill(b, rnd, "office", "official", ["起草一份关于{district}{topic}的通知", "帮我写{district}{topic}工作的汇报提纲",
                                         "写一份{topic}专项行动的方案", "拟一份{topic}的情况通报", "帮我润色这份{topic}的讲话稿"],
         {"-": ["-"]}, 45, lambda r: {"topic": r.choice(["防汛", "燃气安全", "垃圾分类", "背街小巷整治", "消防安全",
                                                         "文明城市创建", "营商环境", "电梯安全", "冬季供暖", "道路改造"])})
    fill(b, rnd, "industry", "official", ["{district}适合引进哪些{ind}企业", "{ind}产业链我们缺哪些环节",
                                           "给我几条{ind}方向的招商线索", "{ind}的链主企业有哪些可以对接"],
         {"-": ["-"]}, 45, lambda r: {"ind": r.choice(["新能源汽车", "集成电路", "生物医药", "光电子", "人工智能",
                                                        "储能", "新材料", "低空经济", "智能制造", "软件信息"])})
    fill(b, rnd, "simulation", "official", ["如果{district}下{mm}毫米的雨，会怎样", "假如封闭{road}{n}天，交通会怎么变",
                                             "推演一下{point}积水到{cm}公分的影响", "要是{road}全天禁止货车通行，会怎样",
                                             "模拟{district}降雨{mm}毫米时的内涝情况"],
         {"-": ["-"]}, 45, lambda r: {"mm": r.choice([50, 80, 100, 120, 150, 200]), "cm": r.choice([20, 30, 50])})
    fill(b, rnd, "out_of_scope", "citizen", ["{city}的{svc}怎么办", "我在{city}，{svc}去哪办"], {"-": ["-"]}, 20,
         lambda r: {"city": r.choice(["北京", "上海", "广州", "成都", "杭州", "西安"]),
                    "svc": r.choice(["居住证", "公积金提取", "社保卡补办", "落户", "新车上牌"])})


def transforms(b: Builder, rnd: random.Random, hand: list[tuple[str, str, str, str | None]]) -> None:
    """Typo/homophone and dialect variants of hand-written Chinese requests."""
    chinese = [h for h in hand if re.search(r"[\u4e00-\u9fff]{6,}", h[2]) and register_of(h[2]) not in ("dialect", "typo")]
    rnd.shuffle(chinese)
    typo_budget, dialect_budget, colloquial_budget = 170, 110, 60
    used: Counter = Counter()
    for mode, role, q, code in chinese:
        if typo_budget > 0:
            hits = [(a, z) for a, z in TYPOS if a in q]
            if hits:
                a, z = min(hits, key=lambda h: (used[h[1]], rnd.random()))
                used[z] += 1
                if b.add(mode, role, q.replace(a, z, 1), code, "transform", "typo"):
                    typo_budget -= 1
                    continue
        if dialect_budget > 0 and role == "citizen" and mode not in STAFF_MODES:
            pre, post = rnd.choice(DIALECT_WRAPS)
            text = pre + q.rstrip("？?。！!") + post
            if b.add(mode, role, text, code, "transform", "dialect"):
                dialect_budget -= 1
                continue
        if colloquial_budget > 0:
            pre, post = rnd.choice(COLLOQUIAL_WRAPS)
            if b.add(mode, role, pre + q.rstrip("？?。！!") + post, code, "transform"):
                colloquial_budget -= 1


def main() -> int:
    rnd = random.Random(13)
    city = City()
    b = Builder(city)
    hand = hand_written(b, rnd)
    for gen in (emergency_templates, report_templates, service_templates, bundle_templates, precheck_templates,
                policy_templates, legal_templates, duty_templates, staff_templates, misc_templates):
        gen(b, rnd)
    transforms(b, rnd, hand)
    if b.errors:
        print("\n".join(b.errors), file=sys.stderr)
        return 1
    rows = sorted(b.rows, key=lambda r: (MODES.index(r["mode"]), r["source"] != "hand"))
    # OUT is also edited directly (writers' rows appended by near_copies.py, rows removed after reviews as too close
    # to evaluation lines): never drop or revive such rows silently
    old = set(OUT.read_text(encoding="utf-8").splitlines()) if OUT.is_file() else set()
    new = {json.dumps(r, ensure_ascii=False) for r in rows}
    if old - new and "--force" not in sys.argv:
        print(f"{OUT.relative_to(ROOT)} holds {len(old - new)} rows this script would drop (and {len(new - old)} it "
              "would add): merge them into the .txt files first, or pass --force", file=sys.stderr)
        return 1
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} requests -> {OUT.relative_to(ROOT)}")
    print("by mode:", dict(Counter(r["mode"] for r in rows)))
    print("by source:", dict(Counter(r["source"] for r in rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
