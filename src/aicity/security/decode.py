"""What disguised text says, for the attack classifier: attack words typed as pinyin, letters
spaced or joined by separators, digits standing for letters.

    reveal(normalised text) -> Revealed(text, signals)

`text` is what the text reads as once undisguised ('' when nothing was disguised); `signals`
counts the disguises found (an obfuscation feature). Encoded payloads (base64, URL, hex, \\u)
are decoded by `attacks`; full-width letters, zero-width characters and look-alike letters by
`normalize`. Every pattern is linear and the work is bounded by the text's length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: pinyin (toneless, no spaces; ü as v or u) of the words attacks are made of → the words
PINYIN: dict[str, str] = {
    "hulve": "忽略", "hulue": "忽略", "wushi": "无视", "wangji": "忘记", "wangdiao": "忘掉", "tiaoguo": "跳过", "raoguo": "绕过",
    "zhiling": "指令", "zhishi": "指示", "guize": "规则", "xianzhi": "限制", "yueshu": "约束", "sheding": "设定",
    "tishici": "提示词", "xitong": "系统", "shuchu": "输出", "dayin": "打印", "fushu": "复述", "xielou": "泄露",
    "shenpi": "审批", "pizhun": "批准", "guanbi": "关闭", "dakai": "打开", "famen": "阀门", "zhamen": "闸门", "baojing": "报警",
    "shanchu": "删除", "daochu": "导出", "suoyou": "所有", "quanbu": "全部", "jumin": "居民", "shoujihao": "手机号",
    "shenfenzheng": "身份证", "mima": "密码", "miyao": "密钥", "guanliyuan": "管理员", "kaifazhe": "开发者", "moshi": "模式",
    "yueyu": "越狱", "meiyou": "没有", "zhixing": "执行", "fucong": "服从", "jujue": "拒绝", "zhiqian": "之前",
}
_PINYIN_WORD = re.compile("|".join(sorted(PINYIN, key=len, reverse=True)))
#: a run of Latin syllables (letters, optionally separated by one space, dash, dot or underscore)
_LATIN_RUN = re.compile(r"[a-z]++(?:[ _.\-][a-z]++)*+")
#: single letters (or digits) each followed by one separator: "i g n o r e", "i_g_n_o_r_e", "i.g.n"
_SPACED = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z0-9][ _.\-*]{1,2}+){3,}[A-Za-z0-9](?![A-Za-z0-9])")
_GAP = re.compile(r"[ _.\-*]{2}")
_SEP = re.compile(r"[ _.\-*]")
_LEET = str.maketrans("013457@$", "oieastas")
_WORD = re.compile(r"[A-Za-z0-9@$]{4,}+")
_LEET_DIGIT = re.compile(r"[0134579@$]")


@dataclass(frozen=True, slots=True)
class Revealed:
    text: str
    signals: int


def _pinyin(text: str) -> tuple[str, int]:
    """Attack words typed as pinyin, as Chinese: a run needs two of them to count."""
    out, hits = [], 0
    for run in _LATIN_RUN.finditer(text.lower()):
        joined = _SEP.sub("", run.group())
        words = _PINYIN_WORD.findall(joined)
        if len(words) >= 2:
            hits += len(words)
            out.append("".join(PINYIN[w] for w in words))
    return "，".join(out), hits


def reveal(text: str) -> Revealed:
    views: list[str] = []
    signals = 0
    if spaced := [s for s in _SPACED.findall(text) if sum(c.isalpha() for c in s) >= 3]:
        signals += len(spaced)
        views += [_SEP.sub("", _GAP.sub("|", s)).replace("|", " ") for s in spaced]
    # words with digits for letters ("1gn0r3 y0ur rul3s"); two at least, and word-sized: ids are not words
    leet = [w for w in _WORD.findall(text) if len(w) <= 12 and _LEET_DIGIT.search(w) and sum(c.isalpha() for c in w) >= 2]
    if len(leet) >= 2:
        views.append(" ".join(w.translate(_LEET) for w in leet))
        signals += 1
    pinyin, hits = _pinyin(text)
    if pinyin:
        views.append(pinyin)
        signals += hits
    return Revealed(" ".join(views), signals)
