"""Prompt-attack detection (Prompt 攻击监测), Chinese and English.

Two detectors over normalised text (`normalize`):
- weighted rules, one family each: instruction override, role-play jailbreaks, system-prompt
  extraction, fake role markers, instructions aimed at the assistant inside retrieved or tool
  text (indirect injection), text hidden in Unicode tag characters; encoded payloads (base64,
  hex, URL encoding, \\u escapes) are decoded and scanned again, to a bounded depth and size;
- a calibrated classifier over what carries an attack's intent (claims of authority, orders to
  drop checks, requests for the assistant's configuration or secrets, commands aimed at tools,
  bulk and personal-data words, persona and markup cues, how many disguises were undone) and
  character n-grams, trained on first use from `data/attacks_train.jsonl`, its threshold chosen
  on `data/attacks_dev.jsonl` to `attacks_dev4.jsonl`. It reads the text after decoding: encoded payloads, pinyin of
  attack words, spaced and digit-for-letter writing (`decode`), full-width, zero-width and
  look-alike characters (`normalize`). Figures: `aicity eval guard` (`attack_eval`).

    scan(text, source="user") -> list[Finding]
    assess(text, source="user") -> Verdict(score, flagged, findings)
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import re
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal

import numpy as np

from aicity.security import decode, intent
from aicity.security.findings import ATTACK_THRESHOLD, Finding
from aicity.security.normalize import CONFUSABLE_LETTERS, MAX_CHARS, normalize

if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

Source = Literal["user", "retrieved", "tool"]

#: a verdict flags text whose score reaches this (findings.py, shared with the guard's policy)
THRESHOLD = ATTACK_THRESHOLD
_MAX_DEPTH = 2  # decode → scan → decode → scan
_MAX_DECODED = 20_000  # characters decoded per request, all payloads together
_MAX_PAYLOADS = 16

_I = re.IGNORECASE
_AI = r"(?:AI|人工智能|大模型|语言模型|模型|智能助理|智能助手|助手|智能体|机器人|GPT|assistant|LLM|chatbot|language model)"
_NO_LIMITS = (r"(?:(?:没有|不受|无|毫无|不需要考虑|不用考虑|不考虑|解除|去掉|摆脱|不讲|无视)(?:任何|一切)?的?"
              r"(?:限制|约束|审查|过滤|规则|道德|伦理|法律|底线|安全|政策|规矩|禁区|禁止事项|顾忌|后果)|不受[^。！？\n]{0,12}?(?:约束|限制|管制))")
_EN_VERB = r"(?:ignore|disregard|forget|override|bypass|skip|drop|stop following|pay no attention to|do not follow|don't follow)"
_EN_RULES = (r"(?:instructions?|directions?|rules|guidelines|prompts?|constraints|restrictions|directives|polic(?:y|ies)|"
             r"safety|checks|filter(?:ing|s)?|everything you were told|context|system message)")
_EN_FREE = (r"(?:DAN|AIM|STAN|no (?:restrictions|rules|limits|limitations|ethics|filters?|content polic\w+)|unrestricted|unfiltered|"
            r"uncensored|jailbr\w+|evil|without (?:any )?(?:restrictions|rules|limitations|ethics|filters?)|freed|machiavellian)")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    type: str
    pattern: re.Pattern[str]
    score: float
    sources: frozenset[Source]


_ALL: frozenset[Source] = frozenset({"user", "retrieved", "tool"})
_EXTERNAL: frozenset[Source] = frozenset({"retrieved", "tool"})


#: `\b` between Latin letters and anything else: Python's `\b` sees no boundary in "你好ignore"
_LATIN_BOUNDARY = r"(?:(?<![A-Za-z])(?=[A-Za-z])|(?<=[A-Za-z])(?![A-Za-z]))"


def _rule(id: str, type: str, pattern: str, score: float, sources: frozenset[Source] = _ALL) -> Rule:
    return Rule(id, type, re.compile(pattern.replace(r"\b", _LATIN_BOUNDARY), _I), score, sources)


RULES: tuple[Rule, ...] = (
    # instruction override
    _rule("override.zh.verb", "override",
          r"(?:忽略|忽视|无视|忘记|忘掉|不要(?:再)?(?:遵守|理会|遵循|执行|管)|(?<!特)别(?:再)?(?:理会|管)|不必理会|不用(?:再)?管|"
          r"不再受|抛开|丢弃|丢到一边|跳过|绕过|取消|撤销|解除|覆盖|重置|放弃|停止遵循)"
          # a legal act undone is not an order to the assistant (解除合同 … 要求: 消费者权益保护法 第二十四条)
          # nor is a verb that qualifies a noun (重置的规则: the rules for a reset)
          r"(?!合同|劳动关系|婚姻|收养|登记|许可|资格|处分|处罚|强制措施|或者终止|的)"
          r"[^。！？\n]{0,14}?(?:指令|指示|命令|规则|设定|限制|约束|提示词|提示|要求|策略|准则|规矩|条条框框|审查|过滤|prompt|"
          r"(?:你的|原来的|原有的|之前的)任务)", 0.8),
    _rule("override.zh.void", "override",
          r"(?:之前|以上|上面|前面|上述|原来|原有|原始|此前|先前|你)[^。！？\n]{0,6}?(?:指令|指示|命令|规则|设定|设置|提示词|约束|限制|要求)"
          r"[^。！？\n]{0,8}?(?:已|都|均|全部|统统)?(?:失效|作废|不作数|不算数?|无效|取消|不适用|被更新|被重置|重置为空|暂停|是测试|是假的|解除|丢到一边)", 0.8),
    _rule("override.zh.new", "override",
          r"(?:新的?|真正的|最高优先级的?)(?:指令|指示|规则|设定|命令)(?:如下|是|为|[:：])|优先于你的|最高优先级指令", 0.7),
    _rule("override.zh.authority", "override",
          r"我是(?:你的|平台的?|系统的?)?(?:管理员|开发者|开发人员|创造者|主人)[^。！？\n]{0,12}?"
          r"(?:授权你|命令你|关闭|解除|取消|给我导出|过滤|限制|规则)", 0.75),
    # "skip the queue, is that against the rules?" asks about rules, it does not drop them
    _rule("override.en.verb", "override", rf"\b{_EN_VERB}\b[^.!?\n]{{0,40}}?(?<!against the )(?<!against )\b{_EN_RULES}\b", 0.8),
    _rule("override.en.void", "override",
          r"\b(?:previous|prior|above|earlier|original|old)\s+(?:instructions|prompt|directives|rules|guidelines)\s+"
          r"(?:are|is|no longer|have been)\b[^.!?\n]{0,20}?\b(?:void|cancel\w*|apply|appl(?:y|ies)|invalid|revoked)", 0.75),
    _rule("override.en.new", "override", r"\bnew (?:instructions|rules)\b[^.!?\n]{0,20}?\b(?:supersede|override|replace|follow)", 0.7),
    # role-play jailbreaks
    _rule("roleplay.mode", "roleplay",
          r"(?:进入|开启|切换(?:成|到|至)?|启用|打开|处于|现在是)[^。！？\n]{0,4}?"
          r"(?:开发者|上帝|越狱|无限制|无审查|不受限|DAN|维护|管理员|自由|无约束)模式", 0.85),
    _rule("roleplay.zh.free", "roleplay", rf"{_NO_LIMITS}[^。！？\n]{{0,12}}?{_AI}|{_AI}[^。！？\n]{{0,12}}?{_NO_LIMITS}", 0.8),
    _rule("roleplay.zh.you_free", "roleplay",
          rf"(?:假设|假如|想象|设想|假装|如果|当作|扮演|充当|你(?:现在|就|已经)?(?:是|成为|变成))[^。！？\n]{{0,10}}?"
          rf"(?:{_NO_LIMITS}|邪恶|不守规矩|不讲规矩|无所不答|什么都敢说|从不拒绝|不会拒绝|不拒绝|解除封印|被解锁|越狱|反向助手|坏蛋)", 0.8),
    _rule("roleplay.dan", "roleplay",
          r"(?:你(?:现在|就)?是|叫|成为|扮演|as|are(?: now)?)\s*DAN\b|\bDAN\s*(?:模式|mode)|\bDo Anything Now\b|进入DAN", 0.9),
    _rule("roleplay.jailbroken", "roleplay", r"越狱(?:成功|模式|了)|已(?:经)?越狱|你被解锁|jailbr(?:eak|oken)", 0.8),
    _rule("roleplay.grandma", "roleplay",
          r"(?:扮演|假装|当)(?:我|成我)?(?:过世|去世|已故|死去)的(?:奶奶|爷爷|外婆|外公|祖母|祖父)|"
          r"\b(?:act|pretend|roleplay)\b[^.!?\n]{0,20}?\b(?:deceased|late|dead)\s+(?:grandma|grandmother|grandpa|grandfather)", 0.8),
    _rule("roleplay.two_personas", "roleplay", r"两个人格|双重人格|两种回答|\btwo (?:responses|personas|answers)\b", 0.6),
    _rule("roleplay.en.act", "roleplay",
          r"\b(?:you are|you're|act as|acting as|pretend (?:to be|you are|you're)|roleplay as|role-play as|imagine (?:you are|you're)|"
          rf"respond as|behave as|you have been)\b[^.!?\n]{{0,40}}?\b{_EN_FREE}", 0.85),
    _rule("roleplay.en.mode", "roleplay",
          r"\b(?:enable|enter|switch to|activate|turn on|you are (?:now )?in)\b[^.!?\n]{0,12}?"
          r"\b(?:developer|jailbreak|unrestricted|god|DAN|uncensored)\s+mode\b", 0.85),
    _rule("roleplay.en.hypothetical", "roleplay",
          r"\bif you (?:had|have|were) (?:no|without) (?:safety|rules|restrictions|filters|ethics|limits)", 0.7),
    # system-prompt extraction
    # "系统" names the assistant's set-up when the thing follows it closely or is given to "you" (系统给你的指令);
    # further off, or 提示 as a verb, it is the software a person uses (学校系统发的安全指令, 系统提示重置)
    _rule("extraction.zh", "extraction",
          r"(?:(?:初始|原始|隐藏|内部|预设|元|最开始|最初|第一条|开发者|后台)[^，。？！\n]{0,8}?"
          r"(?:提示词|提示语|提示|指令|设定|prompt|消息|规则|配置|指示)|"
          r"系统(?:[^，。？！\n“”\"「」]{0,2}?|[^，。？！\n]{0,6}?(?:你|给|对话|会话)[^，。？！\n]{0,4}?)"
          r"(?:提示词|提示语|提示(?!重置|错误|出错|失败|成功|已|需|不|请|您|说|信息|框|我|用户|要|输入|验证|登录|密码|账号|异常|网络|无|没|该|此|这|当前|超时|过期|未)|指令|设定|prompt|消息|规则|配置|指示)|你的(?:提示词|提示语|设定|指令|prompt|配置|角色设定|规则)|(?:你被|给你)设定的|system\s*(?:prompt|message))"
          r"[^。？！\n]{0,24}?(?:输出|打印|复述|重复|告诉|显示|展示|发给|发出|发我|给我看|贴出|泄露|列出|导出|翻译|背诵|复制|写出|原样|一字不差|逐字|原文|全文|原封不动|是什么|写了什么)", 0.85),
    _rule("extraction.zh.verb_first", "extraction",
          r"(?:输出|打印|复述|重复|告诉我|显示|展示|泄露|列出|导出|背诵|复制|写出)[^。？！\n]{0,16}?"
          r"(?:你的(?:系统|初始|隐藏|预设)?(?:提示词|提示语|设定|指令|prompt)|(?:系统|初始|隐藏|预设)(?:提示词|提示语|指令|设定)|"
          r"(?:对话|会话)开始(?:之)?前|隐藏的指令|system\s*prompt)", 0.85),
    _rule("extraction.en", "extraction",
          r"\b(?:print|repeat|reveal|show|output|tell|dump|quote|display|leak|what (?:is|are|were))\b[^.!?\n]{0,30}?"
          r"\b(?:(?:system|initial|original|hidden|pre-?|secret|developer)[ -]?(?:prompt|instructions|message)s?|your (?:instructions|prompt|configuration|system message|rules)|"
          r"(?:text|words|everything) above|you (?:were|are) told|pre-?prompt)", 0.85),
    # fake role markers
    _rule("role_marker.chatml", "role_marker", r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>", 0.9),
    _rule("role_marker.tag", "role_marker",
          r"\[/?(?:SYSTEM|INST|SYS)\]|<</?SYS>>|</?system>|\"role\"\s*:\s*\"system\"|\bSYSTEM OVERRIDE\b", 0.85),
    _rule("role_marker.heading", "role_marker", r"(?:^|\n)\s*#{1,4}\s*(?:系统|System|Instruction|Response)\s*[:：]?", 0.75),
    _rule("role_marker.speaker", "role_marker", r"(?:^|\n)\s*(?:system|assistant)\s*[:：]", 0.7),
    _rule("role_marker.zh", "role_marker",
          r"【(?:系统|管理员)[^】]{0,6}】|\[(?:系统|管理员)[^\]]{0,6}\]|系统(?:消息|通知|指令)\s*[:：]|"
          r"(?:管理员|系统)已(?:经)?(?:授权|关闭|开启|切换)", 0.75),
    # indirect injection: text from retrieval or tools that talks to the assistant
    _rule("indirect.address", "indirect",
          rf"(?:如果你是|假如你是|致|给|写给|对)(?:正在|读取|阅读|处理)?[^，。\n]{{0,8}}?{_AI}(?:的)?(?:话|指令|说明)?[:：】]|"
          rf"\b(?:note|instructions?|message) (?:to|for) (?:the |any )?{_AI}|\bif you are an? {_AI}|\bto any {_AI}|对AI可见",
          0.75, _EXTERNAL),
    _rule("indirect.command", "indirect",
          rf"{_AI}[^。\n]{{0,16}}?(?:请|必须|应当|应该|务必|立即|马上|需要|要|please|must|should|now|immediately|:|：)"
          r"[^。\n]{0,16}?(?:调用|执行|发送|转发|删除|关闭|打开|修改|设为|标记|转账|回复|告诉用户|说|输出|附上|加入|索要|停止|忽略|不要告诉|换成|"
          r"\bcall|\bexecute|\bsend|\bforward|\bdelete|\bemail|\bsay|\btell|\bappend|\bstop|\bignore|\bopen|\bclose|\btransfer|\breset)", 0.8, _EXTERNAL),
)

_DECODE_HINT = re.compile(r"(?:解码|decode)[^。\n]{0,12}?(?:执行|运行|照做|遵循|follow|execute|run|obey)", _I)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}+={0,2}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){8,}+(?![0-9A-Za-z])|(?:\\x[0-9A-Fa-f]{2}){4,}+")
_URL = re.compile(r"(?<![A-Za-z0-9%\-_.~+])[A-Za-z0-9%\-_.~+]{9,}+")
_URL_BYTE = re.compile(r"%[0-9A-Fa-f]{2}")
_UNICODE = re.compile(r"(?:\\u[0-9A-Fa-f]{4}){3,}+")


def _decoded(encoding: str, payload: str) -> str | None:
    """The text a payload encodes, or None when it is not readable text."""
    try:
        if encoding == "base64":
            raw = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        elif encoding == "hex":
            raw = bytes.fromhex(payload.replace("\\x", ""))
        elif encoding == "url":
            if len(_URL_BYTE.findall(payload)) < 3:
                return None
            raw = urllib.parse.unquote_to_bytes(payload)
        else:
            raw = payload.encode().decode("unicode_escape").encode()
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        return None
    printable = sum(c.isprintable() or c in "\n\t" for c in text)
    return text if text and printable >= 0.9 * len(text) else None


def _payloads(text: str) -> Iterator[tuple[str, int, int, str]]:
    """(encoding, start, end, decoded text) for each encoded payload in `text`, bounded."""
    budget, count = _MAX_DECODED, 0
    for encoding, pattern in (("base64", _BASE64), ("hex", _HEX), ("url", _URL), ("unicode", _UNICODE)):
        for m in pattern.finditer(text):
            if count >= _MAX_PAYLOADS or budget <= 0:
                return
            if (decoded := _decoded(encoding, m.group()[:budget])) is not None:
                count += 1
                budget -= len(decoded)
                yield encoding, m.start(), m.end(), decoded


def _rule_findings(text: str, source: Source, depth: int) -> list[tuple[str, str, int, int, float]]:
    """(type, rule, start, end, score) in normalised `text`, decoded payloads included."""
    found = [(r.type, r.id, m.start(), m.end(), r.score)
             for r in RULES if source in r.sources for m in r.pattern.finditer(text)]
    if depth < _MAX_DEPTH:
        hinted = _DECODE_HINT.search(text) is not None
        for encoding, start, end, decoded in _payloads(text):
            inner = _rule_findings(normalize(decoded).text, source, depth + 1)
            if not inner and hinted and (p := classifier_score(normalize(decoded).text)) >= classifier().threshold:
                inner = [("classifier", "classifier.intent_lr", 0, 0, classifier_finding_score(p))]
            found += [(kind, f"{encoding}>{rule}", start, end, score) for kind, rule, _, _, score in inner]
    return found


#: a quoted phrase: what someone else wrote, cited by the user
_QUOTED = re.compile(r"“[^”\n]{1,300}”|\"[^\"\n]{1,300}\"|「[^」\n]{1,300}」|『[^』\n]{1,300}』|‘[^’\n]{1,300}’")
#: a rule's score when its match lies inside a quotation that the user asks about: reported, not flagged
QUOTED_SCORE = 0.4
#: a question about what a term means
_ASKS_TERM = re.compile(r"什么是|是什么意思|什么意思|是指什么|\b(?:what (?:is|are|does) (?:a|an|the)\b|what does .{1,40} mean\b|mean\?)", _I)


def _asked_quotes(text: str) -> list[tuple[int, int]]:
    """What in a user's `text` the user asks about (what it means, whether it is real, who enforces
    it, how to word it) rather than passes on, as spans: the quotations, when the text outside them
    is a question that gives the assistant no order and names none of its own rules; or, without
    quotations, the whole text when it is such a question about someone else's words or a term."""
    spans = [m.span() for m in _QUOTED.finditer(text)]
    outside = "".join(text[a:b] for a, b in zip([0] + [e for _, e in spans], [s for s, _ in spans] + [len(text)],
                                                   strict=True)).lower()
    asks = any(_CUES[name].search(outside) for name in ("question", "yesno", "about"))
    orders = any(_CUES[name].search(outside) for name in ("you_order", "your_config", "obey"))
    if not asks or orders:
        return []
    if spans:
        return spans
    return [(0, len(text))] if _CUES["reported"].search(outside) or _ASKS_TERM.search(outside) else []


def _rule_score(quotes: list[tuple[int, int]], start: int, end: int, score: float) -> float:
    return min(score, QUOTED_SCORE) if any(a <= start and end <= b for a, b in quotes) else score


def scan(text: str, source: Source = "user", use_classifier: bool = True, limit: int = MAX_CHARS) -> list[Finding]:
    """Prompt-attack findings in the first `limit` characters of `text` (offsets in the original).
    `source` says where the text came from: instructions aimed at the assistant count only in
    retrieved or tool text. A user's question about a quotation ("the notice says 'previous rules
    no longer apply', what does it mean?") keeps a rule's finding at `QUOTED_SCORE`, below the
    verdict's threshold: the classifier judges the whole request."""
    norm = normalize(text, limit)
    quotes = _asked_quotes(norm.text) if source == "user" else []
    findings = [Finding("attack", kind, *norm.span(start, end), rule, _rule_score(quotes, start, end, score))
                for kind, rule, start, end, score in _rule_findings(norm.text, source, 0)]
    if norm.hidden:
        findings.append(Finding("attack", "hidden_text", 0, norm.examined, "hidden_text.unicode_tags", 0.9))
    if use_classifier and norm.text and (p := classifier_score(norm.text, text[:limit])) >= classifier().threshold:
        findings.append(Finding("attack", "classifier", 0, norm.examined, "classifier.intent_lr", classifier_finding_score(p)))
    return sorted(findings, key=lambda f: (f.start, -f.score))


@dataclass(frozen=True, slots=True)
class Verdict:
    """`score` is the strongest finding's; `flagged` when it reaches `THRESHOLD`."""

    score: float
    flagged: bool
    findings: list[Finding]


def verdict(findings: list[Finding]) -> Verdict:
    score = max((f.score for f in findings), default=0.0)
    return Verdict(score, score >= THRESHOLD, findings)


def assess(text: str, source: Source = "user", use_classifier: bool = True) -> Verdict:
    return verdict(scan(text, source, use_classifier))


# ---- classifier ------------------------------------------------------------------------------

#: cues that carry an attack's intent, each a feature (how often it occurs, capped); pairs of them
#: are features too (a bulk word next to personal-data words, a claim of authority next to an
#: order to drop checks), so a linear model can weigh what a word means by what it goes with
_CUES: dict[str, re.Pattern[str]] = {name: re.compile(pattern.lower()) for name, pattern in {
    "authority": r"我是[^，。,\n]{0,12}?(?:主任|局长|处长|科长|领导|管理员|负责人|工程师|督[察查]|民警|秘书|组长|主管|开发)|"
                 r"授权|批示|上级|奉命|督查组|检查组|巡查|渗透测试|\b(?:inspect\w*|audit\w*|authori[sz]\w*|clearance|"
                 r"supervisor|director|commissioner|chief|head of|orders? from|on behalf of|i'?m the|i am the|speaking as)",
    "drop": r"不用(?:再)?(?:核验|审批|检查|审核|走)|跳过|绕过|免审批|暂停|关闭?[^。,，\n]{0,4}(?:过滤|审查|护栏|安全|限制|校验)|别拦|"
            r"不需要(?:走|审批|检查)|流程|手续|限制|规定|审查|校验|\b(?:skip\w*|bypass\w*|without (?:any )?(?:approval|check)|"
            r"waive[ds]?|suspend\w*|disabled?|off\b|no need|don'?t (?:check|verify|block)|procedures?\b|restrictions?\b|limits?\b|safeguards?)",
    "obey": r"服从|照做|无条件|不许|不准|禁止|不要(?:任何)?(?:警告|免责)|开头|第一句|只能回答|遵命|没有(?:拒绝|说.不)|"
            r"\b(?:obey|comply|never (?:refuse|say)|not allowed to say|start (?:your )?(?:answer|reply)|begin (?:your )?(?:answer|reply)|"
            r"first sentence|no warnings|disclaimers|refus\w+ is|do not apologi[sz]e|just do)",
    "secret": r"提示词|提示模板|设定|配置|密钥|令牌|密码|守则|说明书|交代|被告知|看不到|最初|最开始|开工前|之前收到|第一条消息|"
              r"\b(?:prompt(?:s|ed|ing)?\b|instructions? you|configur\w*|config|api keys?|tokens?|password|setup|set up with|were told|were given|"
              r"before (?:this|my first|our)|can'?t see|hidden (?:rules|guidance)|context window|endpoints)",
    "reveal": r"复述|原样|逐字|一字不[改差]|翻译|打印|抄|念|贴出|列出|引用|总结|输出|\b(?:repeat(?:s|ed|ing)?|verbatim|word for word|"
              r"translat(?:e|es|ed|ing)|print(?:s|ed|ing)?|cop(?:y|ies|ied|ying)|recit(?:e|es|ed|ing)|quot(?:e|es|ed|ing)|echo(?:es|ed|ing)?|"
              r"past(?:e|es|ed|ing)|spell out|write out|summari[sz](?:e|es|ed|ing)|enumerat(?:e|es|ed|ing)|list(?:s|ed|ing)?)\b",
    "header": r"【[^】]{0,8}(?:系统|运维|平台|测试|沙箱|通知)|系统(?:通知|消息|公告|提示|升级)|维护|测试模式|演练|沙箱|调试|debug|"
              r"\[(?:system|test|sys)|\b(?:maintenance|sandbox|test mode|drills?\b|automated message|system (?:notice|update|message)|upgrade)",
    "tool": r"阀|闸|信号灯|报警|告警|审批|申请|账本|审计|工单|事件|传感器|阈值|水泵|摄像头|路灯|设备|指令|"
            r"\b(?:valves?|gates?|signals?|traffic lights?|alarms?|approv\w*|ledger|audit|work orders?|events?|sensors?|"
            r"thresholds?|pumps?|cameras?|street lights?|devices?|commands?)\b",
    "act": r"关闭|关掉|关上|打开|开启|删除|删掉|清空|清除|消掉|批准|批了|通过|改成|改写|设成|调到|停掉|撤销|下发|"
           r"\b(?:clos(?:e|es|ed|ing)|shut(?:s|ting|down)?|open(?:s|ed|ing)?|delet(?:e|es|ed|ing)|eras(?:e|es|ed|ing)|wip(?:e|es|ed|ing)|"
           r"clear(?:s|ed|ing)?|approv(?:e|es|ed|ing)|pass(?:es|ed|ing)?|mark(?:s|ed|ing)?|set(?:s|ting)?|rais(?:e|es|ed|ing)|max out|"
           r"stop(?:s|ped|ping)?|turn(?:s|ed|ing)? off|revok(?:e|es|ed|ing)|rewrit(?:e|es|ing)|rewritten|rewrote|send(?:s|ing)?|sent)\b",
    "bulk": r"所有(?!权|制)|全部|全市|每一个|一次性|统统|整个|全区|一个不落|批量|都|完整|名单|通讯录|"
            r"\b(?:all|every(?:one|body|thing|where)?|each|whole|entire|bulk|at once|full list|complete)\b",
    "pii": r"身份证|手机号|电话|住址|姓名|联系方式|个人信息|通讯录|号码|"
           r"\b(?:phone ?numbers?|phones?\b(?! ?chargers?)|id (?:card )?numbers?|addresses|contact details|personal data|names|phone book)\b",
    "forge": r"名义|冒充|签上|伪造|假的|代签|补一条|签批人|审批人|\b(?:on behalf|in \w+ ?\w*'s name|pretend\w* to be|"
             r"forg(?:e|es|ed|ing|ery)\b|fake|sign(?:ing|ed)? (?:as|it)|backdate|approver|signed off)",
    "persona": r"扮演|假装|你现在(?:是|叫)|角色|游戏|小说|剧本|模拟|模式|奶奶|外婆|爷爷|外公|人格|(?<![a-z])dan(?![a-z])|"
               r"\b(?:pretend\w*|play(?:s|ed|ing)?|roles?|games?|novels?|story|stories|screenplay|simulat\w+|modes?|grandma|"
               r"grandfather|grandpa|personas?|act as|opposite|characters?)\b",
    "free": r"不受|没有(?:任何)?(?:限制|约束|道德|规则|审查)|无限制|无审查|不受限|越狱|邪恶|叛逆|一切都|相反|从不拒绝|"
            r"\b(?:no (?:restrictions|rules|limits|ethics|morals)|unrestricted|unfiltered|uncensored|jailbr\w+|evil|rogue|"
            r"anything|nothing is real|don'?t apply|without (?:rules|restrictions))",
    "markup": r"<!--|-->|```|\]\(|<div|<span|<meta|<p>|hidden|display:\s*none|!\[|\|\s*<|> \[!",
    "address": r"助手|智能体|模型|(?<![a-z])(?:ai|(?:chat)?gpt)(?![a-z])|机器人|\b(?:assistant|model|bot)\b",
    "request": r"^(?:请|麻烦|帮我|帮忙|能不能|可以|你帮我)|\b(?:please|could you|can you)",
    "question": r"[?？]|吗|怎么|如何|什么|多久|哪|几|多少|多长|为什么|为何|何时|咋|啥|\b(?:how|what|when|where|who|why|which)\b",
    # what separates talk about a word from an instruction to the assistant: an order aimed at "you",
    # a reference to the assistant's own rules or set-up, a question about whether something is
    # allowed or how to do it oneself, and someone else's demand reported
    "you_order": r"你(?:必须|得|只能|只许|不许|不准|不能拒绝|没有拒绝|现在(?:是|就|开始|进入)|从现在|直接|照做|马上|立刻|立即)|从现在(?:开始|起)|"
                 r"接下来(?:不管|无论|你)|\b(?:you (?:must|will now|shall|are now|have to|may not|can'?t refuse|are not allowed)|"
                 r"from now on|stay in character|confirm (?:and|by)|proceed)",
    "your_config": r"你的(?:规则|设定|指令|提示|配置|限制|过滤|安全|审查|要求|守则|工作说明|初始)|给你的|你被(?:设定|交代|告知|要求|配置)|"
                   r"你(?:收到|看到|开工前)|对话(?:开始|最开始)|\b(?:your (?:rules|instructions|prompt|guidelines|configuration|filters?|"
                   r"restrictions|polic(?:y|ies)|safety|setup|constraints|checks|system)|you were (?:told|given|configured|set up))",
    "about": r"合法吗|合规吗|正常吗|违规吗|诈骗|是真的吗|有必要吗|合理吗|怎么办|怎么(?:举报|投诉|反映|申请|办理|操作|重置|补办|处理|恢复|关闭|报修)|"
             r"能不能|可以吗|会不会|什么意思|是什么|在哪|找谁|哪个部门|\b(?:is (?:that|it|this) (?:legal|allowed|normal|necessary|a scam|"
             r"real|fair|safe|right|against)|how (?:do|can|should|long) (?:i|we)|can i|do i|should i|what does|what is|who (?:do|should|"
             r"can|is|needs)|where (?:do|can|is)|is there|which (?:department|one))",
    "reported": r"房东|物业|领导|老板|同事|有人|别人|对方|楼长|老师|开发商|商家|单位|公司|广告|通知|骗子|"
                r"\b(?:landlord|boss|manager|colleague|someone|a caller|employer|teacher|neighbour|captain|the (?:ad|notice|letter|"
                r"council|developer|seller|app|portal)|says|said|wants|asked (?:me|us)|told (?:me|us)|claim(?:s|ed))",
    # questions about the world rather than requests to the assistant (issue 21, third pass): a yes/no or
    # wh- question, a conditional whose subject is not "you", a question whose subject is a third
    # party or a thing (the approval, the system, every intersection), and a task over quoted text
    # (translate or polish "this notice") rather than over the assistant's own set-up
    "yesno": r"吗|会不会|是不是|是否|有没有|算不算|要不要|需不需要|能否|可否|合不合|[?？]|"
             r"(?:^|[.!?,;:。！？，；：]\s*)(?:does|do|is|are|am|was|were|would|will|did|has|have|should|can|could|may|might)\s+"
             r"(?!you\b|u\b)",
    "conditional": r"(?:如果|假如|要是|万一|一旦|倘若|若是)(?!你)|\b(?:if|when|in case|suppose|what happens if)\s+(?!you\b)",
    "third_subject": r"(?:审批|系统|流程|设备|告警|报警器?|账号|密码|数据|记录|证书|权限|平台|单位|物业|摄像头|阀门|"
                     r"助手|管理员|部门|通知|政府|法律|规定)(?:会|能|可以|需要|要|是|算|还|就|也|都)[^。，,！\n]{0,14}?(?:吗|[?？])|"
                     r"\b(?:does|do|is|are|would|will|can|could|should)\s+(?:the|every|each|all|a|an|my|our|this|that|it|someone|"
                     r"anyone|my \w+)\b",
    "quoted_task": r"(?:翻译|译成|润色|改写成|改得|念|读)[^。\n]{0,10}?(?:这段|这句|这份|这个|这封|下面|以下|通知|公告|合同|信|话)|"
                   r"\b(?:translate|polish|proofread|rephrase|read (?:out|back))\b[^.!?\n]{0,12}?\b(?:this|these|the following|"
                   r"notice|letter|sentence|paragraph|message|email|sign)\b|(?:翻译|译成)[^。：:\n]{0,10}?[：:]|"
                   r"\btranslate\b[^.!?:\n]{0,24}?:",
    # the asker's own things (my password, my data, my street light): people ask about and for their own
    "own": r"我的|我家|我们家|本人|自己的|\b(?:my|mine|our)\b",
    # an order to carry out now: urgency words, and a sentence that opens on 把 (the Chinese
    # disposal construction, "take X and close it") rather than asking how to
    "urgent": r"直接|马上|立即|立刻|现在就|赶紧|统统|\b(?:right now|immediately|at once|now)\b",
    "ba_order": r"(?:^|[，,。！!；;\n])\s*(?:请|你|请你|麻烦你|现在|直接|马上|立即|立刻|帮我|给我)?把",
}.items()}
_PAIRS = (("bulk", "pii"), ("bulk", "tool"), ("bulk", "act"), ("authority", "drop"), ("authority", "act"), ("drop", "act"),
          ("drop", "tool"), ("secret", "reveal"), ("header", "drop"), ("header", "act"), ("persona", "free"),
          ("persona", "act"), ("markup", "address"), ("markup", "act"), ("obey", "act"), ("obey", "drop"), ("forge", "act"),
          ("forge", "tool"), ("act", "tool"), ("question", "act"), ("question", "secret"), ("you_order", "act"),
          ("you_order", "drop"), ("you_order", "reveal"), ("your_config", "reveal"), ("your_config", "drop"), ("about", "act"),
          ("about", "pii"), ("about", "secret"), ("reported", "pii"), ("reported", "bulk"), ("reported", "authority"),
          ("yesno", "act"), ("yesno", "bulk"), ("yesno", "tool"), ("conditional", "act"), ("conditional", "tool"),
          ("third_subject", "act"), ("third_subject", "bulk"), ("quoted_task", "reveal"), ("quoted_task", "act"),
          ("own", "pii"), ("own", "act"), ("urgent", "act"), ("ba_order", "act"), ("ba_order", "bulk"))
_OBFUSCATION = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\uff21-\uff3a\uff41-\uff5a" + CONFUSABLE_LETTERS + "]")
_REVERSED = re.compile(r"倒[过着]来|反过来|倒序|从后往前|\b(?:reversed?|backwards)\b", _I)
_FEATURES = len(_CUES) + len(_PAIRS) + 1
#: cues whose match in a window of sentences can be no match in the whole text: those anchored at the
#: text's start (^), and those whose negative look-ahead after whitespace meets the next sentence there
_EDGE_CUES = frozenset({"request", "yesno", "ba_order", "conditional"})
#: a text of more sentences than this is judged by its most suspicious window of this many adjacent
#: sentences (issue 13: a long request gathers "all", "now", "approve", "system" across sentences that each
#: ask something plain); the maximum, not an average, so an attack padded with plain sentences keeps its score
WINDOW_SENTENCES = 3
#: a sentence (or clause ended by ; or a line break), its end kept with it (the windows together are the whole
#: text); a full stop ends one only before a space or the end, so a web address or an encoded payload stays in one piece
_WINDOW_SENTENCE = re.compile(r"[^。！？；!?;.\n]*(?:\.(?!\s|$)[^。！？；!?;.\n]*)*(?:[。！？；!?;.\n]+\s*|$)")
#: the development sets' false-positive budget the threshold is chosen for
DEV_FPR = 0.01
#: thresholds tried, from 0.5 up: a calibrated probability flags no text it judges less likely an
#: attack than not, however few false positives the development set would show below that
_THRESHOLD_GRID = [round(0.50 + 0.01 * i, 2) for i in range(46)]


#: a device of the city, in English
_DEVICE_EN = (r"(?:valves?|gates?|signals?|(?:traffic |street )?lights?|pumps?|devices?|cameras?|fans?|sprinklers?|barriers?|"
              r"sirens?)\b")


#: English set phrases whose "all", "every…", "now" or "off" is no bulk, urgency or switching off: a thank-you
#: or goodbye ("that's all for now", "I'm all set"), "at all", litter "all over the pavement", "worn off" (issue 13:
#: such closings were refused);
#: whose "open" or "fake" is no device order or forgery: a business opened (no device named after it: "open the
#: factory gates" stays an order), counterfeit goods bought (no approval, permit or signature); and a full list of
#: what a procedure asks for (licences, documents, steps), no list of people
_IDIOMS = re.compile(r"\bopen(?:s|ed|ing)? (?:up )?(?:a |an |my |our |his |her |their )?(?:new |small |second )?"
                     r"(?:restaurant|shop|store|business|company|firm|caf[eé]|bar|salon|clinic|factory|branch|office|"
                     rf"(?:bank )?account|stall|studio|kindergarten)s?\b(?!(?: [a-z-]+)? {_DEVICE_EN})|"
                     r"\b(?:sold|sell|sells|selling|bought|buy|buying)(?: me| us| them)? (?:a |an |some )?(?:fake|counterfeit)\b"
                     r"(?!(?: [a-z-]+)? (?:approvals?|permits?|signatures?|licen[cs]es?|stamps?|seals?|certificates?|"
                     r"documents?|ids?|papers?|authori[sz]ations?|orders?|sign-?offs?)\b)|"
                     r"\b(?:full|complete|whole) list of (?:the )?(?:licen[cs]es|permits|steps|documents|requirements|procedures|"
                     r"materials|forms|fees|paperwork)\b|"
                     r"\b(?:that['’]?s|that is|that was|thats|it['’]?s|that covers it) (?:all|everything|it)\b|"
                     r"\ball (?:for now|for today|for the moment|from me|from my side|set|good|clear|sorted|done|the best)\b|"
                     r"\ball over (?:the |my |our |this |that |his |her |their )?(?:pavement|sidewalk|floor|ground|place|walls?|stairs|"
                     r"staircase|corridor|hallway|lawn|grass|yard|courtyard|entrance|alley|news|internet|again)\b|"
                     r"\b(?:for now|for the moment|for today|just now|by now|at all|after all|all right|thanks?(?: you)?,? all|"
                     r"covers? (?:it )?all|(?:worn|wore|peeled|fallen|fell|falling|came|come|coming|broke|broken|"
                     r"day|time|log(?:ged)?) off|(?:bus|tram|metro) stops?|stops? (?:no\.? ?)?\d+|"
                     r"(?:at|near|by|from|next to) (?:the |a |this |that |my |our )?stop|(?:until|till|up to|as of) now)\b|"
                     r"\b(?:have|got|know|understand|see|get) (?:it|everything|all)(?: now)?(?=\s*(?:[.!,;]|$))")


def intent_features(text: str, obfuscation: int) -> list[float]:
    """The intent cues of classifier-ready `text` (English set phrases such as a goodbye set aside,
    `_IDIOMS`), each capped at 3 and scaled to 0..1, their pairs, and how many disguises were undone
    (capped likewise). Nothing is scaled by the text's length: padding an attack with plain sentences must
    not weaken it (a long request is judged by its windows of a few sentences, `Classifier.probability`)."""
    return _features(_IDIOMS.sub(" ", text.lower()), obfuscation)


def _features(lowered: str, obfuscation: int, absent: frozenset[str] = frozenset()) -> list[float]:
    """`intent_features` of `lowered` (lower-cased, set phrases set aside), the cues named `absent` known not to occur."""
    found = {name: 0.0 if name in absent else min(len(p.findall(lowered)), 3) / 3 for name, p in _CUES.items()}
    return [*found.values(), *(found[a] * found[b] for a, b in _PAIRS), min(obfuscation, 3) / 3]


def reading(text: str, raw: str = "") -> tuple[str, int]:
    """What the classifier reads of normalised `text` (the original `raw` when known): the text
    with its encoded payloads decoded and its disguises undone, appended; and how many disguises."""
    parts = [_ids_as_words(text)]
    signals = len(_OBFUSCATION.findall(raw)) // 3 if raw else 0
    for _, _, _, decoded in _payloads(text):
        parts.append(normalize(decoded).text)
        signals += 1
    if _REVERSED.search(text):
        parts.append(text[::-1])
        signals += 1
    revealed = decode.reveal(text)
    if revealed.text:
        parts.append(revealed.text)
    return "\n".join(parts), signals + revealed.signals


#: what every encoded payload `_payloads` decodes holds (a base64 or hex run, a \\x or \\u escape, a %-escaped
#: byte), with none of its look-arounds: a window's payload is found in the whole text
_MAYBE_PAYLOAD = re.compile(r"[A-Za-z0-9+/]{16}|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|%[0-9A-Fa-f]{2}")
#: what letters spaced out for `decode.reveal` hold, with none of its look-arounds
_MAYBE_SPACED = re.compile(r"(?:[A-Za-z0-9][ _.\-*]{1,2}){3}[A-Za-z0-9]")
#: a word of the classifier's character n-grams (`str.split`)
_WORD_RUN = re.compile(r"\S+")


def _plain(text: str) -> bool:
    """Whether no window of sentences of normalised `text` (`Classifier.probability`) holds anything
    `reading` decodes or undoes — no encoded payload, no cue of reversed writing, no spaced, digit-for-letter
    or pinyin writing — and its reading lower-cases letter by letter (no capital sigma, whose lower case
    depends on what follows). Each check holds for every window when it holds for the whole text: a window
    is a run of the text's sentences; a match inside it is a match in the text (the look-arounds of
    `_REVERSED` meet the same non-word characters at a sentence's edge), and digit-for-letter words and
    pinyin runs never span sentences, so a window has no more of them than the text."""
    return (_MAYBE_PAYLOAD.search(text) is None and _REVERSED.search(text) is None and _MAYBE_SPACED.search(text) is None
            and not decode.reveal(text).text and "\u03a3" not in text)


def training_rows(name: str = "attacks_train.jsonl") -> list[dict]:
    """A shipped labelled set: {"text", "label": "attack" | "benign", "family"?, "source"}."""
    path = files("aicity.security") / "data" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True, slots=True)
class Classifier:
    """Character 1–4-grams (TF-IDF, sublinear, L2) and the intent features, logistic regression,
    its decision calibrated by Platt scaling fitted on 3-fold out-of-fold decisions. `threshold`
    is chosen on the development sets (`DEV_SETS`): the lowest whose false-positive rate
    there (the mean over the sets) is at most `DEV_FPR`. Scoring one text is plain arithmetic over its n-grams (no
    per-call library overhead: a fraction of a millisecond)."""

    analyzer: Callable[[str], list[str]]
    grams: dict[str, tuple[float, float]]  # n-gram → (idf, weight)
    dense: tuple[float, ...]  # the intent features' weights
    intercept: float
    platt: tuple[float, float]  # p = 1 / (1 + exp(-(a · decision + b)))
    threshold: float = 0.5

    def probability(self, text: str, raw: str = "") -> float:
        """The calibrated probability that normalised `text` (originally `raw`) is an attack: the highest
        over its windows of one to `WINDOW_SENTENCES` adjacent sentences (the whole text among them when it
        is that short; the disguises counted in all of `raw` go with each window). A window repeated is
        scored once. When no window can hold anything to decode or undo (`_plain`), every window reads as
        its own sentences and all windows are scored together (`_plain_windows`); else one by one."""
        parts = [part for part in _WINDOW_SENTENCE.findall(text) if part]
        if len(parts) <= 1:
            return self._probability(text, raw)
        spans = [(i, i + size) for size in range(1, WINDOW_SENTENCES + 1) for i in range(len(parts) - size + 1)]
        if _plain(text):
            return self._plain_windows(parts, spans, raw)
        return max(self._probability(window, raw) for window in {"".join(parts[i:j]) for i, j in spans})

    def _probability(self, text: str, raw: str) -> float:
        read, signals = reading(text, raw)
        num = square = 0.0
        for gram, count in Counter(self.analyzer(read)).items():
            if (known := self.grams.get(gram)) is not None:
                value = (1.0 + math.log(count)) * known[0]
                square += value * value
                num += value * known[1]
        return self._calibrated(num / math.sqrt(square) if square else 0.0, read, signals)

    def _calibrated(self, grams: float, read: str, signals: int, features: list[float] | None = None) -> float:
        """The probability from the n-grams' part of the decision and the intent features of `read` (`features`
        when known)."""
        features = intent_features(read, signals) if features is None else features
        decision = grams + self.intercept + sum(w * f for w, f in zip(self.dense, features, strict=True))
        z = self.platt[0] * decision + self.platt[1]
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def _plain_windows(self, parts: list[str], spans: list[tuple[int, int]], raw: str) -> float:
        """`probability` over the windows (`spans` of `parts`) of a text `_plain` holds nothing to decode or
        undo in: a window reads as `_ids_as_words` of its sentences, each sentence's reading its own (an id
        never spans sentences), and its n-grams (`analyzer`: character 1–4-grams of each whitespace-separated
        word padded with a space) are those of the whole text's reading inside the window, a word cut at
        the window's edge padded there. Each n-gram of the whole text is looked up once; the counts and
        TF-IDF sums of all windows are taken together."""
        read = [_ids_as_words(part) for part in parts]
        lowered = [part.lower() for part in read]
        whole = "".join(lowered)
        starts = [0]
        for part in lowered:
            starts.append(starts[-1] + len(part))
        windows = {"".join(read[i:j]): (starts[i], starts[j]) for i, j in spans}
        table: dict[str, int] = {}
        known: list[tuple[float, float]] = []

        def gram_id(gram: str) -> int:
            if (found := table.get(gram)) is None:
                weights = self.grams.get(gram)
                found = table[gram] = -1 if weights is None else len(known)
                if weights is not None:
                    known.append(weights)
            return found

        words = [m.span() for m in _WORD_RUN.finditer(whole)]
        word_starts, ends = [s for s, _ in words], [e for _, e in words]
        inner = {n: [-1] * len(whole) for n in range(1, 5)}  # the id of the n-gram starting at a position, inside a word
        for s, e in words:
            for n in range(1, 5):
                for x in range(s, e - n + 1):
                    inner[n][x] = gram_id(whole[x:x + n])
        in_order: dict[tuple[int, int], list[int]] = {}  # a word's n-grams in the analyzer's order

        def word_grams(s: int, e: int) -> list[int]:
            if (found := in_order.get((s, e))) is None:
                word, found = whole[s:e], []
                for n in range(1, min(4, e - s + 2) + 1):
                    if n == e - s + 2:
                        found.append(gram_id(" " + word + " "))
                    else:
                        found += [gram_id(" " + word[:n - 1]), *inner[n][s:e - n + 1], gram_id(word[e - s - n + 1:] + " ")]
                in_order[(s, e)] = found
            return found

        ids: list[int] = []
        sizes: list[int] = []
        for a, b in windows.values():
            found = [g for s, e in words[bisect.bisect_right(ends, a):bisect.bisect_left(word_starts, b)]
                     for g in word_grams(max(s, a), min(e, b))]
            ids += found
            sizes.append(len(found))
        # summed as `_probability` sums (each window's n-grams in the order they first occur, logarithms from
        # `math`), so the result is the same to the last bit
        every = np.asarray(ids, dtype=np.int64)
        size = max(len(known), 1)
        keys = (np.repeat(np.arange(len(windows), dtype=np.int64), sizes) * size + every)[every >= 0]
        keys, first, counts = np.unique(keys, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        keys, counts = keys[order], counts[order]
        logs = np.array([math.log(count) for count in range(1, int(counts.max(initial=1)) + 1)])
        weights = np.asarray(known, dtype=np.float64).reshape(-1, 2)[keys % size]
        value = (1.0 + logs[counts - 1]) * weights[:, 0]
        num = np.bincount(keys // size, value * weights[:, 1], minlength=len(windows))
        square = np.bincount(keys // size, value * value, minlength=len(windows))
        signals = len(_OBFUSCATION.findall(raw)) // 3 if raw else 0
        # the intent cues: a window's lower-cased text with its set phrases set aside is, when each sentence's is
        # its own, a run of the whole text's, bounded by what no cue's word boundary joins (an end of sentence or a
        # space); a cue (bar `_EDGE_CUES`) absent from the whole text is absent from every window
        sentences = [_IDIOMS.sub(" ", part) for part in lowered]
        cleaned = {text: _IDIOMS.sub(" ", text.lower()) for text in windows}
        absent: frozenset[str] = frozenset()
        if all(cleaned["".join(read[i:j])] == "".join(sentences[i:j]) for i, j in spans):
            whole_cleaned = "".join(sentences)
            absent = frozenset(name for name, p in _CUES.items() if name not in _EDGE_CUES and p.search(whole_cleaned) is None)
        return max(self._calibrated(float(n / math.sqrt(q)) if q else 0.0, text, signals, _features(cleaned[text], signals, absent))
                   for text, n, q in zip(windows, num.tolist(), square.tolist(), strict=True))

    def probabilities(self, texts: list[str]) -> list[float]:
        return [self.probability(normalize(t).text, t) for t in texts]


def _matrix(vectorizer: TfidfVectorizer, read: list[tuple[str, int]]) -> sparse.csr_matrix:
    from scipy import sparse  # scikit-learn's own dependency, loaded with it when a model is trained (`fit`)

    dense = np.array([intent_features(t, n) for t, n in read], dtype=np.float64).reshape(-1, _FEATURES)
    return sparse.hstack([vectorizer.transform([t for t, _ in read]), sparse.csr_matrix(dense)], format="csr")


def fit(rows: list[dict]) -> Classifier:
    """Train on labelled rows (also used by the cross-validation in `aicity eval guard`); the
    threshold is left at 0.5 for the caller to choose (`with_dev_threshold`). scikit-learn is loaded here, when
    the model is first trained: scoring needs none of it, and a command that never screens text (`aicity kb
    --help`) does not pay its import (about a second on 2 cores)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    read = [reading(normalize(r["text"]).text, r["text"]) for r in rows]
    labels = np.array([r["label"] == "attack" for r in rows])
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=True, min_df=2)
    vectorizer.fit([t for t, _ in read])
    features = _matrix(vectorizer, read)
    model = LogisticRegression(C=10.0, class_weight="balanced", solver="liblinear", dual=True)
    decisions = cross_val_predict(model, features, labels, cv=3, method="decision_function")
    platt = LogisticRegression(C=1e6).fit(decisions.reshape(-1, 1), labels)
    model.fit(features, labels)
    weights = model.coef_[0]
    n = len(vectorizer.idf_)
    grams = {gram: (float(vectorizer.idf_[i]), float(weights[i])) for gram, i in vectorizer.vocabulary_.items()}
    return Classifier(vectorizer.build_analyzer(), grams, tuple(float(w) for w in weights[n:]), float(model.intercept_[0]),
                      (float(platt.coef_[0][0]), float(platt.intercept_[0])))


def dev_threshold(probabilities: list[float], labels: list[bool], fpr: float = DEV_FPR,
                  groups: list[str] | None = None) -> float:
    """The lowest threshold on the grid whose false-positive rate on these rows is at most `fpr`;
    with `groups` (each row's development set), the sets pooled with equal weight: the mean of
    their false-positive rates, so a large easy set cannot outvote a small hard one."""
    by_group: dict[str, list[float]] = {}
    for p, attack, group in zip(probabilities, labels, groups or [""] * len(labels), strict=True):
        if not attack:
            by_group.setdefault(group, []).append(p)
    for t in _THRESHOLD_GRID:
        rates = [sum(p >= t for p in negatives) / len(negatives) for negatives in by_group.values()]
        if not rates or sum(rates) / len(rates) <= fpr + 1e-12:
            return t
    return _THRESHOLD_GRID[-1]


#: the development sets the threshold is chosen on, together: the first (templates' unseen frames, city
#: requests, hand-written benign requests), the second to the fourth (hand-written hard look-alikes,
#: `hard_set.py`, `hard3_set.py`; thanks, street reports and long requests, `hard4_set.py`)
DEV_SETS = ("attacks_dev.jsonl", "attacks_dev2.jsonl", "attacks_dev3.jsonl", "attacks_dev4.jsonl")


def with_dev_threshold(model: Classifier) -> Classifier:
    """`model` with its threshold chosen on the development sets, pooled with equal weight per set."""
    dev = [(name, row) for name in DEV_SETS for row in training_rows(name)]
    threshold = dev_threshold(model.probabilities([r["text"] for _, r in dev]), [r["label"] == "attack" for _, r in dev],
                              groups=[name for name, _ in dev])
    return replace(model, threshold=threshold)


_training = threading.Lock()


@lru_cache(maxsize=1)
def _trained() -> Classifier:
    return with_dev_threshold(fit(training_rows()))


def classifier() -> Classifier:
    """Trained once (a few seconds) from the shipped set, threshold from the development sets;
    the server starts it at start-up (`warm`), a CLI command on first use."""
    with _training:
        return _trained()


def warm() -> None:
    """Train the classifier in the background, so the first request does not wait for it."""
    threading.Thread(target=classifier, name="guard-classifier", daemon=True).start()


#: a run of id characters (linear: lookaheads here would rescan the run at every position)
_TOKEN = re.compile(r"[A-Za-z0-9_=+/-]{8,}")
_DIGIT = re.compile(r"[0-9]")
_LETTER = re.compile(r"[A-Za-z]")


def _ids_as_words(text: str) -> str:
    """Opaque tokens with letters and digits (event ids, order numbers, keys) read as one word
    to the classifier: their random characters are no evidence either way, and encoded payloads
    are decoded before reading."""
    return _TOKEN.sub(lambda m: " 编号 " if _DIGIT.search(m[0]) and _LETTER.search(m[0]) else m[0], text)


def classifier_score(text: str, raw: str = "") -> float:
    """The classifier's calibrated probability that normalised `text` (originally `raw`) is an attack."""
    return classifier().probability(text, raw)


def classifier_finding_score(probability: float) -> float:
    """A classifier finding's score: its probability rescaled so the development-set threshold
    sits at the verdict's `THRESHOLD` (what the guard's `attack_threshold` compares)."""
    t = classifier().threshold
    return round(THRESHOLD + (1 - THRESHOLD) * (probability - t) / (1 - t), 4)


# ---- staff work the classifier mistakes for an attack ---------------------------------------------

#: cues of the attack classes that stay attacks whoever asks: claims of authority, checks dropped,
#: orders on how to answer, secrets and the assistant's own set-up, fake system notices, forged
#: approvals, personas, markup, orders aimed at "you", personal data. Narrower than the classifier's
#: cues where those hold device words (关闭…安全阀, turn off, 模式 of a signal are a device's, not a persona's)
_NOT_STAFF_WORK: tuple[re.Pattern[str], ...] = tuple(re.compile(p.lower()) for p in (
    _CUES["authority"].pattern, _CUES["obey"].pattern, _CUES["header"].pattern, _CUES["forge"].pattern,
    _CUES["free"].pattern, _CUES["markup"].pattern, _CUES["you_order"].pattern, _CUES["your_config"].pattern,
    _CUES["pii"].pattern,
    r"不用(?:再)?(?:核验|审批|检查|审核|走)|跳过|绕过|免审批|别拦|不需要(?:走|审批|检查)|过滤|审查|护栏|不审|先斩后奏|"
    r"(?:不|别|没|无需|甭|免)[^。！？\n]{0,3}?(?:报|走|提交|发起|送)?审批|"
    r"\b(?:don'?t|do not|never|without|skip\w*|no need to)(?:\s+\w+){0,3}?\s+(?:for |to |through )?(?:approval|sign-?off)|"
    r"\b(?:skip\w*|bypass\w*|without (?:any )?(?:approval|check|sign-?off)|no (?:approval|sign-?off|checks?)|waive[ds]?|"
    r"don'?t (?:check|verify|block|ask)|safeguards?|guardrails?|filters?)",
    r"提示词|提示语|系统提示|密钥|令牌|密码|口令|\b(?:prompts?|api keys?|tokens?|passwords?|secrets?|credentials?)\b",
    r"扮演|假装|你(?:现在)?(?:是|叫|成为)|奶奶|外婆|人格|相反|拒绝|\bdan\b|"
    r"\b(?:pretend\w*|act as|role-?play\w*|persona|in character|opposite|refus\w*)\b",
    # orders on obedience and notices of switched-off checks (这是命令，不是请求; >>> system >>>; … disabled)
    r"这是命令|不是请求|别问|少废话|别废话|已(?:被)?(?:关闭|停用|禁用|下线)|>>>|"
    r"\b(?:don'?t question|no questions|just,|disabled|deactivated|turned off for|platform team|system\s*[:>])",
))
#: a device of the city (the order's object): a command to it goes through approvals
_DEVICE = re.compile(rf"阀|闸|信号[灯机]|水泵|泵站|路灯|灯|设备|摄像头|风机|喷淋|排水泵|\b{_DEVICE_EN}", _I)
#: a device's own operations beyond the classifier's action words (switch it to, start, stop)
_DEVICE_ACT = re.compile(r"切换|切到|调为|调至|设为|启动|停止|停机|开度|\b(?:switch\w*|turn on|start|run|activate)\b", _I)
#: what was done or a record's state, no order: "how many … were closed", "list open events", "still open", 未关闭的工单
_STATE = re.compile(r"\b(?:(?:is|are|was|were)(?: not| still| already| all)?|(?:events?|work orders?|orders?|cases?|tickets?|"
                    r"complaints?|issues?|reports?|requests?|faults?|records?)(?: [a-z]+)?) "
                    r"(?:closed|opened|stopped|cleared|passed|raised|shut down)\b|"
                    r"\bopen(?= (?:[a-z-]+ )?(?:events?|work orders?|cases?|tickets?|complaints?|issues?|alarms?|alerts?|"
                    r"incidents?|faults?)\b)|"
                    r"\b(?:is|are|was|were|still|remains?|stays?) open\b|"
                    r"(?:已|未|没有?)(?:关闭|通过|清除|批准)")
#: a signal plan's name, not a bulk word ("switch signal 2 to the all-red plan": one device, 全红 in Chinese)
_SIGNAL_PLAN = re.compile(r"\ball[- ]red\b")
#: a list or the state of the city's records (events, work orders), asked by staff: no act, a query like a count
_LISTING = re.compile(r"列出|列给|列一下|列个|清单|有哪些|哪些|状态|进展|进度|简报|概况|汇总|按(?:区|街道|类别|类型|严重程度|状态)|"
                      r"\b(?:list|which|status of|progress of|briefing|summary|overview|"
                      r"by (?:severity|district|category|type|status))\b", _I)
#: an order sent the way it must go, through approval (报审批, 审批走紧急流程): no record of approvals changed; never
#: when a negation comes just before it (不走审批, 先别报审批, "don't submit it for approval": refused, `_NOT_STAFF_WORK`)
_VIA_APPROVAL = re.compile(r"(?:报|走|提交|发起|送)(?:紧急)?审批|审批走[^。！？\n]{0,6}?流程|"
                           r"\b(?:submit|send|route|put) (?:it |this )?(?:for|to|through) approval\b", _I)
_NEGATION = re.compile(r"(?:不|别|没|无需|甭|免)[^。！？\n]{0,3}$|\b(?:don'?t|do not|never|without|skip\w*|not|no need to)\b"
                       r"(?:\s+\w+){0,2}\s*$", _I)


def _via_approval(lowered: str) -> str:
    """`lowered` with its orders sent through approval set aside, unless negated."""
    return _VIA_APPROVAL.sub(lambda m: m[0] if _NEGATION.search(lowered[max(0, m.start() - 16):m.start()]) else " ",
                             lowered)


#: records and data changed or deleted, approvals given: neither a device order nor a question
_EDIT = re.compile(r"删|清空|清除|消掉|批准|批了|改|撤销|\b(?:delete|erase|wipe|clear|approve|pass|revoke|rewrite|modify|edit|"
                   r"alter|change|update)\b", _I)
#: not a device's order: records, approvals, logs, data
_RECORDS = re.compile(r"审批|审计|账本|记录|历史|工单|名单|金额|\b(?:records?|history|ledger|audit|logs?|approvals?)\b", _I)
#: a question about counts, shares and totals (比例, 占比, how many): an official's statistics
_STATISTICS = re.compile(r"比例|占比|百分比|比率|比重|多少|总数|总量|数量|总共|一共|合计|统计|平均|同比|环比|排名|分布|"
                         r"\b(?:how (?:many|much)|number of|in total|totals?|percentage|proportion|share of|rate of|average|counts?|"
                         r"statistics|breakdown)\b", _I)
StaffIntent = Literal["command", "statistics"]


def staff_intent(text: str, limit: int = MAX_CHARS) -> StaffIntent | None:
    """What a request is when it carries only the intent of staff work — `command` (an order, not a
    question, to a named device, or to every device of one site: numbered devices, one street or site,
    `intent.scoped`; or of one district of the city, `intent.district_named`, which approvals hold for two
    approvers; never the city, several districts or places) or `statistics` (a question of counts or shares, or a
    list or the state of records, no act, no personal data in bulk) — and none of the cues of the other attack
    classes, nothing encoded or disguised;
    else None. The guard lets a staff role's `command` or `statistics` pass the classifier (its
    finding still recorded): what such a request would do is checked where it acts (approvals,
    `intent.tool_call`, permissions), and a rule's finding blocks as before."""
    norm = normalize(text, limit)
    read, signals = reading(norm.text, text[:limit])
    lowered = read.lower()
    if signals or norm.hidden or any(p.search(lowered) for p in _NOT_STAFF_WORK):
        return None
    act = _CUES["act"].search(lowered) is not None or _DEVICE_ACT.search(lowered) is not None
    asked = _STATE.sub(" ", lowered)  # "how many … were closed" counts what was done, it orders nothing
    if (_STATISTICS.search(lowered) or _LISTING.search(lowered)) and not _CUES["act"].search(asked) \
            and not _DEVICE_ACT.search(asked) and not _EDIT.search(asked) and not intent.personal_data(text):
        return "statistics"
    bulk = _CUES["bulk"].search(_SIGNAL_PLAN.sub(" ", lowered)) is not None
    ordered = _via_approval(lowered)
    if act and _DEVICE.search(lowered) and not _EDIT.search(ordered) and not _RECORDS.search(ordered) \
            and (not bulk or intent.scoped(read) or intent.district_named(read)) \
            and not _CUES["question"].search(lowered) and not intent.tool_call(text):
        return "command"
    return None
