"""Intent checks where the text guard cannot see: at the tool and at the data (issue 21).

The input guard judges wording; these judge what a call would do, whatever the wording, and
run where the call is made, so they hold when the guard is switched off, set permissive for a
role, or the call's arguments were written by a model:

- `tool_call(text, params)`: a call of an `actuate` skill (valves, gates, signals, device
  commands) that asks for everything at once (the whole city; every device or all pending
  requests beyond one district — "every gate at 滨江泵站" (`scoped`) and "every gate in 东湖区"
  (`district_named`, issue 13: real orders in a storm) are requests for approvers to weigh, every
  gate in the city, in several districts or places (a second one maybe without 区), beside or beyond a
  district (东湖区以外, 附近, "except Donghu District"), or in a district the city does not have never
  is) or is forged (made in someone else's name, naming its own approver, claiming an approval it
  does not have, carrying approval fields in its arguments). `approvals.submit` refuses it before
  anything is queued; the role check stays there too.
- `approvals_needed(text, params)`: how many distinct approvers, never the requester, a call
  `tool_call` lets through needs, read as the device skills resolve it: two when a district is named
  anywhere in the text or the arguments (they then act on every device there), one for a device
  argument or one site with no district named.
- `personal_data(text)`: a request for the personal data of many people (phone numbers, ID
  numbers, addresses, contacts of residents, callers, reporters…). The data hub and its grading
  do not exist yet; the refusal sits where personal data is read today — the governance agent's
  event queries (`agents/governance`), the only conversational read of event records, whose
  reporters' contacts are never returned at all — and it offers the aggregate instead.

    tool_call(text, params) -> Refusal | None
    approvals_needed(text, params) -> 1 | 2
    district_named(text) -> district id | None
    personal_data(text) -> Refusal | None
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from aicity.security.normalize import normalize


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a call is refused (`kind`: bulk | forged | bulk-personal-data), for people (`reason`,
    Chinese first) and what may be asked instead (`alternative`)."""

    kind: str
    reason: str
    alternative: str


_I = re.IGNORECASE
#: what an order acts on: the city's devices, and its records (requests, approvals, work orders, ledgers)
_DEVICES_ZH = r"阀门?|闸门?|信号[灯机]?|设备|报警|告警|传感器|水泵|摄像头|路灯"
_RECORDS_ZH = r"申请|审批|工单|事件|记录|账本"
_DEVICES_EN = r"valves?|gates?|signals?|traffic lights?|devices?|alarms?|sensors?|pumps?|cameras?|street lights?"
_RECORDS_EN = r"requests?|approvals?|work orders?|events?|records?|ledger"


def _every(zh: str, en: str, stop: str = "。！？") -> str:
    """Every one of the targets `zh` / `en` at once (所有闸门, 闸门全部打开, "all the gates"), within a sentence (`stop`
    ends it)."""
    return (rf"(?:所有|全部|全市|全城|整个城市|每一[个台处]|一律|统统|通通|挨个|批量|一次性|一并)[^{stop}\n]{{0,12}}?(?:{zh})|"
            rf"(?:{zh})[^{stop}\n]{{0,6}}?(?:全部|统统|通通|一律|都)(?:给我)?(?:关|开|打开|启|批|删|清|改|停|撤|设|调|切)|"
            rf"\b(?:all|every|each|the entire|all of the|every single)\b(?:\s+\w+){{0,4}}?\s+(?:{en})\b")


#: every device / the whole city / all pending requests
_BULK = re.compile(rf"{_every(f'{_DEVICES_ZH}|{_RECORDS_ZH}', f'{_DEVICES_EN}|{_RECORDS_EN}')}|"
                   r"\b(?:city-?wide|across the (?:whole )?city|in bulk|at once|en masse)\b", _I)
#: all requests, approvals, work orders or records at once, within a clause: never one district's devices (a clause
#: apart, 全部打开，走紧急审批 sends the order through approval)
_ALL_RECORDS = re.compile(_every(_RECORDS_ZH, _RECORDS_EN, "。！？，,；;"), _I)
#: the whole city, never one place
CITYWIDE = re.compile(r"全市|全城|整个城市|所有(?:区|街道|片区)|各个区|\b(?:city-?wide|across the (?:whole )?city|in the (?:whole )?city|"
                      r"every district)\b", _I)
#: the rest of the city beside a district named (东湖区以外, 除东湖区外, 不在东湖区, 其余, "except / outside / other
#: than / beyond Donghu District", "the rest"): read only where a district is named (`_reach`)
BEYOND = re.compile(r"(?<!此)[以之]外|(?<![清排删解消免扣剔切])除(?!此|非)|不在|不属于|其[他它余]|剩[下余]|别的|"
                    r"\b(?:except|excluding|outside|other than|beyond|apart from|aside from|but not|not in|the rest|"
                    r"remaining|(?:all|every|the) others?)\b", _I)
#: the places around one: right after a district's name, or before a district (东湖区附近, 隔壁区, "nearby districts")
_AROUND = r"(?:的)?(?:附近|周边|周围|隔壁|邻近|相邻)|\s+(?:nearby|around|next door)"
_AROUND_DISTRICT = re.compile(r"(?:附近|周边|周围|隔壁|邻近|相邻)的?(?:区|片区)|"
                              r"\b(?:nearby|neighbou?ring|surrounding|adjacent) (?:districts?|areas?)\b", _I)
#: one site: numbered devices (3号闸门, 4号和6号, V-203, gate 4), one street or one site named (幸福路, 小河泵站,
#: 朝阳小区, "at Xiaohe Park", "on Qingnian Road"); an English name counts only with its site word ("on Monday",
#: "along the River" name no site)
_SITE_ZH = r"(?:路(?![灯口])|街(?!道)|大道|广场|公园|泵站|隧道|桥|小区|社区|园区)"
_SITE_EN = (r"(?i:road|rd|street|st|avenue|ave|lane|square|plaza|park|bridge|tunnel|(?:pumping |pump |gas |regulator )?station|"
            r"compound|estate)")
SCOPE = re.compile(rf"\d+号(?:[和、与及]\d+号)+|\d+号[\u4e00-\u9fff]{{0,4}}?(?:泵站|站|闸|阀|泵|灯|机)|\b[A-Za-z]{{1,3}}-\d+\b|(?:(?![全各整本该每所这那此把将给在的和与])[\u4e00-\u9fff]){{2,8}}?{_SITE_ZH}|"
                   r"\b(?i:valves?|gates?|signals?|pumps?|lights?|cameras?|stations?|controllers?|sensors?|units?|no\.?|number)"
                   r" ?#?[A-Za-z]?-?\d+\b|"
                   rf"\b(?i:at|on|in|along|near) (?:the )?(?:[A-Z][a-z]+ )+{_SITE_EN}\b")
#: beyond one site, whatever else is named: the city or a district (汉阳区, 武汉市, "in Hanyang District"), every
#: place of a kind (所有小区, 每个小区, 全部道路, "all the parks"), several places (江岸区、汉阳区; 幸福路和解放路;
#: "Hanyang and Wuchang"), a range of numbers (1号到20号), everything at once
WIDE = re.compile(
    rf"{CITYWIDE.pattern}|(?<![小园社景校厂营])区|(?<!超)市(?![场民])|城区|[县镇乡省]|片区|街道|"
    rf"(?:所有|全部|每[个一条座处]?|各(?:个)?|全|整个|这些|那些|多个|几个|若干)[^。！？\n]{{0,3}}?"
    rf"(?:{_SITE_ZH}|道路|站点|点位|地方|地段|路段)|"
    rf"{_SITE_ZH}[、，,和与及跟]+(?:以及)?(?:[\u4e00-\u9fff]{{1,8}}?|\d+号){_SITE_ZH}|\d+号?(?:到|至|-|~|—)\d+号|"
    r"一次性|统统|通通|一个不落|批量|"
    r"\b(?:whole|entire|every (?:district|street|road|area|neighbou?rhood|site|station|park)|at once|in bulk|en masse)\b|"
    r"\b(?:district|city|town|county|province|borough|region|zone)\b|"
    r"\b(?:streets|roads|avenues|lanes|squares|plazas|parks|bridges|tunnels|stations|sites|areas|neighbou?rhoods|"
    r"compounds|estates|communities|towns|cities|districts)\b|"
    rf"\b{_SITE_EN}\b(?:,| and| &| or)+ (?:the )?(?-i:[A-Z])|\b(?-i:[A-Z][a-z]+)(?:,| and| &| or)+ (?-i:[A-Z][a-z]+)", _I)


def scoped(text: str) -> bool:
    """Whether a request for every device names one site only (numbered devices, one street or site): such a
    request is one for the approver to weigh; a district, the city or several places never are."""
    return SCOPE.search(text) is not None and WIDE.search(text) is None


@lru_cache(maxsize=1)
def _gazetteer_districts() -> tuple[dict[str, str], ...]:
    """The demo city's districts from the gazetteer's data (`demo/data/gazetteer.yaml`, the districts the assistant
    resolves places to): security sits below the hub in the layers and never imports `hub.geo.gazetteer`."""
    data = yaml.safe_load((resources.files("aicity") / "demo" / "data" / "gazetteer.yaml").read_text(encoding="utf-8"))
    return tuple(data["districts"])


@lru_cache(maxsize=1)
def _districts() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The districts as (id, what names it: 东湖区, Donghu District, Donghu). A bare 东湖 is no district here: it begins
    东湖路 and 东湖新城小区 (`_bare_named` reads it)."""
    return tuple((d["id"], re.compile(rf"{re.escape(d['name'])}|\b(?:{re.escape(d['name_en'].removesuffix(' District'))}"
                                      rf"|{re.escape(d['id'])})(?: district)?\b", _I))
                 for d in _gazetteer_districts())


def _named(read: str) -> set[str]:
    """The districts a text names in full (东湖区, Donghu)."""
    return {district for district, names in _districts() if names.search(read)}


def _bare_named(read: str) -> set[str]:
    """The districts a text names by their bare Chinese names too (东湖 in 东湖路, 江滨 in 江滨也开): the device skills
    resolve a place to a district by these (`hub.geo.gazetteer.district_in`) and act on every device there."""
    return {d["id"] for d in _gazetteer_districts() if d["name"].removesuffix("区") in read} | _named(read)


@lru_cache(maxsize=1)
def _around_named() -> re.Pattern[str]:
    """A district's name, bare or in full, and the places around it (东湖区附近, 东湖周边, "Donghu District nearby")."""
    names = sorted({n for d in _gazetteer_districts() for n in (d["name"], d["name"].removesuffix("区"), d["name_en"],
                                                               d["name_en"].removesuffix(" District"), d["id"])},
                   key=len, reverse=True)
    return re.compile(rf"(?:{'|'.join(map(re.escape, names))})(?:{_AROUND})", _I)


def _beyond(read: str) -> bool:
    """Whether a request naming a district asks for the places beyond or around it (the rest of the city)."""
    return bool(BEYOND.search(read) or _AROUND_DISTRICT.search(read) or _around_named().search(read))


#: another place joined to a district's name (东湖区和幸福路, 幸福路、东湖区, "Donghu District and Xingfu Road")
_JOINED_AFTER = re.compile(r"\s*(?:[、和与及跟&]|以及|and\b|or\b|plus\b)", _I)
_JOINED_BEFORE = re.compile(r"(?:[、和与及跟&]|以及|\band|\bor|\bplus)\s*$", _I)


def district_named(text: str) -> str | None:
    """The id of the one district of the demo city a request names with nothing wider — no second district, no
    other place joined to it, nothing `WIDE` finds beside its name (the city, a district the city does not have,
    every place of a kind, a range of numbers, 一次性) — else None."""
    return _one_district(normalize(text).text)[0]


def _one_district(read: str) -> tuple[str | None, str]:
    """`district_named` on normalised text, and the text with the district's names taken out."""
    found = [(district, m) for district, names in _districts() for m in names.finditer(read)]
    if len({district for district, _ in found}) != 1:
        return None, read
    if any(_JOINED_AFTER.match(read, m.end()) or _JOINED_BEFORE.search(read, 0, m.start()) for _, m in found):
        return None, read
    rest = read
    for _, m in sorted(found, key=lambda f: f[1].start(), reverse=True):
        rest = f"{rest[:m.start()]} {rest[m.end():]}"
    return (None, read) if WIDE.search(rest) else (found[0][0], rest)


#: made in someone else's name or from their account, naming its own approver, or claiming an approval (以张三账号,
#: 通过王处长的key, 审批人：王处长, 局长已批, "with the director's key", "log in as the director", "the director
#: approved it")
_TITLES = r"(?:领导|局长|处长|主任|科长|上级|书记|市长|区长|经理|主管)"
_FORGED = re.compile(
    r"(?:以|用|借)[^。！？\n]{0,8}?(?:的)?名义|"
    r"(?:以|用|借|登录?|拿|通过|使用)(?![我户本]|自己)[^。！？\n]{1,8}?(?:的)?(?:账号|帐号|账户|工号|密钥|key|login|口令|密码)|"
    r"(?:以|用|借|拿|通过|使用)(?![我户本]|自己)[^。！？\n]{1,8}?的身份|"
    r"冒充|假冒|代[^。！？\n]{0,6}?(?:签|批|审批)|签上[^。！？\n]{0,8}?名字|伪造|"
    r"(?:签批人|审批人|批准人)(?:就)?(?:写|填|改成|设为|是|[:：=])|(?:已经|已)(?:被)?(?:领导|局长|处长|主任|上级)?(?:口头)?(?:批准|审批通过|同意)了?|"
    rf"(?<![等待让请需要经由找]){_TITLES}(?:已经?|都|也)?(?:批准?|签字|签批|同意|审批)了|"
    rf"{_TITLES}(?:已经?|都)(?:批准?|签字|签批|同意|审批)|"
    r"补[^。！？\n]{0,4}?(?:审批|批准)(?:单|记录)|倒签|"
    r"\b(?:on behalf of|in [\w. ]{1,30}'s name|(?:using|with|from|under|via|through) (?!my\b|our\b)[\w.' ]{1,30}?"
    r"\b(?:account|login|credentials|key|password|token)s?|log(?:ged|ging)? ?in as|sign(?:ed|ing)? (?:it |in )?as|"
    r"as the approver|approver (?:is|=|:)|approved by|(?:has |have |had )?(?:already )?approved (?:it|this|that)|"
    r"forge[ds]?|fake (?:approval|signature)|backdat\w+|already (?:been )?(?:approved|signed off)|pre-?approved|"
    r"impersonat\w+|pretending to be)\b", _I)
#: arguments a skill never takes: who approved, who asked
_FORGED_PARAMS = frozenset({"approver", "approved_by", "approval", "approved", "requester", "on_behalf_of", "signed_by",
                            "decided_by", "actor", "role"})

#: many people, and a kind of personal data
_PEOPLE = (r"(?:居民|市民|住户|业主|租户|来电人|来电者|举报人|上报人|投诉人|报事人|群众|老人|低保户|低收入户|残疾人|患者|学生|家长|"
           r"车主|商户|法人|用户|人员|名单|通讯录|人)")
_FIELDS = r"(?:手机号?|电话(?:号码)?|身份证(?:号码?)?|住址|家庭地址|地址|姓名|联系方式|个人信息|证件号|通讯录|号码)"
#: data about a person whatever it is attached to (an address may be an event's place)
_PERSONAL = r"(?:手机号|身份证(?:号码?)?|联系方式|个人信息|证件号|通讯录|电话号码)"
_MANY = (r"(?:所有|全部|全体|全市|全区|整个|每[一个位户]|一个不落|批量|完整|名单|清单|列表|表格|汇总|导出|打包|全量|"
         r"一批|这批|这些|多个|大量)")
_BULK_PII = re.compile(
    rf"{_MANY}[^。！？\n]{{0,16}}?{_PEOPLE}[^。！？\n]{{0,12}}?{_FIELDS}|{_MANY}[^。！？\n]{{0,8}}?{_PERSONAL}|"
    rf"{_PEOPLE}(?:的)?{_FIELDS}[^。！？\n]{{0,6}}?(?:全部|都|一起|统统|名单|清单|列表|表格|导出|打包|汇总)|"
    r"\b(?:all|every|each|the (?:whole|full|complete) (?:list|set) of|list of|bulk|export|dump|compile|spreadsheet of)\b"
    r"(?:\s+[\w'-]+){0,6}?\s+(?:residents?|citizens?|callers?|reporters?|complainants?|households?|tenants?|people|users?|"
    r"recipients?|patients?|owners?|parents?|workers?)\b|"
    r"\b(?:phone numbers?|phone book|id (?:card )?numbers?|home addresses|contact details|personal (?:data|details|information))\b"
    r"(?:\s+[\w'-]+){0,4}?\s+(?:of|for)\s+(?:all|every|each|the)\b", _I)
_AGGREGATE = ("可以提供汇总统计（按区域、类别、状态的数量），或由您按单个事件、并出于办理需要依职权查看；"
              "个人信息按《个人信息保护法》不批量提供。 Ask for counts by district, category or status instead.")


def tool_call(text: str, params: dict[str, str] | None = None) -> Refusal | None:
    """Why a call of an `actuate` skill must be refused, or None: it asks for everything at once beyond one
    district, or it is forged."""
    read, values = _arguments(text, params)
    if _FORGED_PARAMS & {k.lower() for k in (params or {})} or _FORGED.search(read) or _FORGED.search(values):
        return Refusal("forged", "该操作以他人名义提出、自带审批人或声称已获批准，不能受理；操作须由本人以自己的身份提出，"
                                 "由另一位有审批权限的人员在审批队列中批准。 A forged request (someone else's name, its own "
                                 "approver, or a claimed approval) is refused.",
                       "请以您本人的身份重新提出申请，审批由审批人在审批队列中完成。")
    if _reach(read, values, params) == "wide":
        return Refusal("bulk", "一次申请只能针对指定的设备、点位或一个区，不能对全部设备、全市范围、多个区域或全部申请批量操作。"
                               " Acting on every device, the whole city, several districts or all requests at once "
                               "is refused.",
                       "请指明设备编号、易涝点或一个区后分别申请；紧急情况请拨打 119 或燃气抢修电话。")
    return None


def _arguments(text: str, params: dict[str, str] | None) -> tuple[str, str]:
    """The request as read (`normalize`) and the call's argument values as one text."""
    return normalize(text).text, " ".join(str(v) for v in (params or {}).values())


#: arguments that name one device by its id (valve-01, sim-jiangbin-gate-01, G-12, 3): a value with a digit
_DEVICE_PARAMS = frozenset({"device", "gate", "valve", "signal", "sensor", "alarm"})
_DEVICE_ID = re.compile(r"[\w.:-]*\d[\w.:-]*")


def _reach(read: str, values: str, params: dict[str, str] | None) -> str:
    """How far a call reaches, read as the device skills resolve it (`agents.city_safety.valves.resolve_devices`: a
    device named by id, else the watch point named, else every device of the district the text or a place names,
    bare 东湖 included): `site` (a device argument, or one site with no district named anywhere), `district` (a
    district named anywhere in the text or the arguments, a site in it or not: the skills act on every device
    there) or `wide` (the city or the rest of it; several districts or places; every device of none named; all
    requests or records)."""
    both = f"{read} {values}"
    one_device = any(k.lower() in _DEVICE_PARAMS and _DEVICE_ID.fullmatch(str(v)) for k, v in (params or {}).items())
    full, bare = _named(both), _bare_named(both)
    if CITYWIDE.search(both) or _ALL_RECORDS.search(both) or (bare and _beyond(both)):
        return "wide"
    if len(full) > 1 or (full and bare - full):  # several districts (the second one maybe without 区)
        return "site" if one_device else "wide"
    if one_device:
        return "site"
    if full:  # one district, nothing wider beside its name (another place joined, every place of a kind, a range)
        return "district" if _one_district(both)[0] else "wide"
    if _BULK.search(both) and not scoped(both):
        return "wide"
    if bare:  # 东湖路, 东湖新城小区: the skills read the district in them
        return "wide" if WIDE.search(both) else "district"
    return "site"


def approvals_needed(text: str, params: dict[str, str] | None = None) -> int:
    """How many distinct approvers, never the requester, a call `tool_call` lets through needs: two when a district
    is named anywhere in the text or the arguments (a site in it or not); one for a device argument or one site with
    no district named."""
    return 2 if _reach(*_arguments(text, params), params) == "district" else 1


def personal_data(text: str) -> Refusal | None:
    """Why a request for personal data must be refused (the personal data of many people), or None."""
    if _BULK_PII.search(normalize(text).text):
        return Refusal("bulk-personal-data", "不能批量提供个人信息（手机号、身份证号、住址、联系方式等）。"
                                             " Personal data of many people is not provided in bulk.", _AGGREGATE)
    return None
