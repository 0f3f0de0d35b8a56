"""The 15 kinds of official document (公文种类) of the 党政机关公文处理工作条例 (2012, 第八条), with
what each is for, the sections a draft of it has, whether it carries a 签发人 (上行文: 请示, 报告;
GB/T 9704-2012 7.2.4) and the layout it takes (文件式, 信函式 for 函, 纪要式 for 纪要; GB/T 9704 10).

`kind_of(text)` finds the kind a title or a request names: the last kind word in a title
("关于……的通知" → 通知), so "关于转发……的报告的通知" is a 通知.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Layout = Literal["file", "letter", "minutes"]
#: 行文方向: upward (to a higher organ), downward, parallel / not addressed
Direction = Literal["up", "down", "parallel", "public"]


class OfficeInputError(ValueError):
    """Input the office agent cannot work from (the API answers 422 with the message)."""


class UnknownKind(OfficeInputError):
    """A kind that is not one of the 15."""


@dataclass(frozen=True)
class Kind:
    name: str
    #: what the kind is for (the 条例's words, shortened)
    purpose: str
    #: the sections of the body a draft of this kind has, in order
    sections: tuple[str, ...]
    direction: Direction
    layout: Layout = "file"
    #: the closing sentence customary for the kind (结束语), "" for none
    closing: str = ""

    @property
    def has_signer(self) -> bool:
        """上行文 to a superior organ carry 签发人 in the 版头 (GB/T 9704-2012 7.2.4): 请示 and 报告
        (a 议案 goes to the people's congress, signed by the head of government in its text)."""
        return self.name in ("请示", "报告")

    @property
    def has_recipients(self) -> bool:
        """公报, 公告, 通告, 命令 and 决议 address the public or no one: no 主送机关."""
        return self.direction != "public"


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("决议", "会议讨论通过的重大决策事项", ("会议情况", "决议事项", "工作要求"), "public"),
    Kind("决定", "对重要事项作出决策和部署、奖惩有关单位和人员、变更或者撤销下级机关不适当的决定事项",
         ("决定缘由", "决定事项", "执行要求"), "down"),
    Kind("命令（令）", "公布行政法规和规章、宣布施行重大强制性措施、批准授予和晋升衔级、嘉奖有关单位和人员",
         ("命令缘由", "命令事项", "执行要求"), "public"),
    Kind("公报", "公布重要决定或者重大事项", ("公布事项", "主要情况"), "public"),
    Kind("公告", "向国内外宣布重要事项或者法定事项", ("公告缘由", "公告事项"), "public", closing="特此公告。"),
    Kind("通告", "在一定范围内公布应当遵守或者周知的事项", ("通告缘由", "通告事项", "施行日期"), "public",
         closing="特此通告。"),
    Kind("意见", "对重要问题提出见解和处理办法", ("总体要求", "主要任务", "保障措施"), "down"),
    Kind("通知", "发布、传达要求下级机关执行和有关单位周知或者执行的事项，批转、转发公文",
         ("目的依据", "工作任务", "工作要求"), "down"),
    Kind("通报", "表彰先进、批评错误、传达重要精神和告知重要情况", ("基本情况", "分析评价", "工作要求"), "down"),
    Kind("报告", "向上级机关汇报工作、反映情况，回复上级机关的询问", ("基本情况", "主要做法和成效", "存在问题", "下一步打算"),
         "up", closing="特此报告。"),
    Kind("请示", "向上级机关请求指示、批准", ("请示缘由", "请示事项"), "up", closing="妥否，请批示。"),
    Kind("批复", "答复下级机关请示事项", ("批复引语", "批复意见", "执行要求"), "down", closing="此复。"),
    Kind("议案", "各级人民政府按照法律程序向同级人民代表大会或者人民代表大会常务委员会提请审议事项",
         ("提请事项", "主要内容"), "up", closing="请审议。"),
    Kind("函", "不相隶属机关之间商洽工作、询问和答复问题、请求批准和答复审批事项", ("发函缘由", "商洽事项"), "parallel",
         "letter", closing="请予支持为盼。"),
    Kind("纪要", "记载会议主要情况和议定事项", ("会议概况", "议定事项"), "public", "minutes"),
)}

#: the names people write for a kind → its name in KINDS
ALIASES = {"命令": "命令（令）", "令": "命令（令）", "命令(令)": "命令（令）", "会议纪要": "纪要", "复函": "函"}

#: kind words, the longest first, so 会议纪要 is found before 纪要 and 命令 before 令
_WORDS = sorted([*KINDS, *ALIASES], key=len, reverse=True)
_WORD_RE = re.compile("|".join(re.escape(w) for w in _WORDS if w != "令"))


def get_kind(name: str) -> Kind:
    """The kind called `name` (an alias too); `UnknownKind` otherwise."""
    key = ALIASES.get(name.strip(), name.strip())
    if key not in KINDS:
        raise UnknownKind(f"未知文种「{name}」；公文种类为：{'、'.join(KINDS)} unknown kind")
    return KINDS[key]


def kind_of(text: str) -> str | None:
    """The kind a title or a request names (the last kind word: 关于转发……报告的通知 → 通知), or None."""
    found = _WORD_RE.findall(text)
    if not found:
        # 令 alone only as a title's last character (市人民政府令), never inside a word (命令, 法令)
        return "命令（令）" if re.search(r"(政府|部|署)令\s*$", text.strip()) else None
    word = found[-1]
    return ALIASES.get(word, word)
