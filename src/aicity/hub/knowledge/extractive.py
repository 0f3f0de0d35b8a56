"""The extractive answerer: the rule first, then the provision that governs it, quoted and cited.

No model: the question's type (how long, how much, whether, who, what conditions, what happens
if, how) decides which sentences of the retrieved articles answer it — from every 款 and 项 of
the top articles, not only their first paragraph. A provision that a later or higher text
overrides (`relations`) is never the rule: the governing provision takes its place and the answer
says which governs and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import rjieba

from aicity.core.text import STOPWORDS, cn_number, normalize
from aicity.core.tracing import Tracer
from aicity.hub.knowledge import article_ranker
from aicity.hub.knowledge.chunking import ITEM_RE, to_chinese_numeral
from aicity.hub.knowledge.law_prior import law_key
from aicity.hub.knowledge.relations import (
    HIGHER,
    NEWER,
    SPECIAL,
    Override,
    Relations,
    deferred_levels,
    legal_terms,
    relations,
)
from aicity.hub.knowledge.service import (
    GLOBAL_KB,
    NOTHING_FOUND,
    Answer,
    Citation,
    Hit,
    article_votes,
    citing_articles,
    excerpt,
    get_article,
    query_tokens,
    screened,
    screened_text,
    search,
)
from aicity.identity.service import Principal

#: articles whose sentences compete for the rule (the best retrieved, after overrides)
CANDIDATE_ARTICLES = 4
#: articles of a higher text on the candidates' matters, from further down the retrieved ones, that compete too
SUPERIOR_EXTRA = 4
#: the articles the nearest article questions vote for most compete too, from further down the retrieved ones or from
#: the law texts where retrieval missed them, where each has at least this share of their vote (set once, not tuned:
#: the governing article among the candidates 885 → 899 → 913 (from the law texts too) → 918 (two of them) of the 942
#: development questions, leave-one-set-out; the ranker weighs them, `article_ranker`)
VOTED_SHARE = 0.2
#: how many such articles may join (one → two: governs 831 → 835, rule stated 896 → 900 of 942, leave-one-set-out)
VOTED_ARTICLES = 2
#: how much an article's retrieval rank discounts its sentences (retrieval ranks whole articles, and
#: the second often holds the sentence that answers: 0.35 lost such ones on the development sets)
RANK_DISCOUNT = 0.15
#: weight of the question type's pattern against the question's words in a sentence: a number
#: (deadline, amount, age) is the answer to its question; a modal word or a department less surely
TYPE_WEIGHT = {"duration": 3.0, "age": 3.0, "amount": 3.0, "count": 3.0, "penalty": 2.0}
OTHER_TYPE_WEIGHT = 1.5
NUMBER_TYPES = ("duration", "age", "amount", "count")
#: penalty articles naming a candidate duty by its number that compete for a question asking what happens
PENALTY_EXTRA = 3
#: what a sentence without the number its question asks for keeps of its score
UNANSWERED = 0.5
#: a clause's words count this much when they are in the clauses before it in its sentence
CONTEXT_WEIGHT = 0.5
#: a higher text's sentence that states the same rule governs when it scores at least this share of the lead
SUPERIOR_SHARE = 0.6
#: …and says it alike: at least this share of character pairs in common (the law a rule details says
#: the same rule in other words; a provision of the law that only shares the matter does not)
SUPERIOR_ALIKE = 0.18
#: another 款 of the governing article is quoted beside it when its best sentence scores this share of the rule (the
#: rule is often in a later 款 than the sentence that leads: 0.6 → 0.35 on legal_rules_dev10, rule stated 112 → 115 of
#: 150, dev6 80 → 83 of 90, no set lower, leave-one-set-out; scripts/legal_training/extractive_study.py)
SAME_ARTICLE_SHARE = 0.35
#: the word the question attaches its number to (多久内作出 → 作出, 提前多少天 → 提前) found attached to a
#: number in a sentence (60日内作出) adds this much: that number answers the question
ANCHOR_WEIGHT = 2.0
#: what a sentence keeps of its score where another actor acts in it than the one the question is about
OTHER_ACTOR_SHARE = 0.6
#: how far into a clause its actor is named (所在单位, 工伤职工或者其近亲属)
ACTOR_HEAD = 6
#: weight of a sentence stating a quantity of the kind the question states as a fact
FACT_WEIGHT = 1.5
#: weight of a sentence whose condition holds for a quantity the asker states (两年 in 一年以上不满三年)
FIT_WEIGHT = 2.0
#: a question asking for a limit (最长, 最晚, 最多, 最低), or whether the asker's quantity is allowed, is answered
#: by a sentence that states one (不超过12个月)
LIMIT_WEIGHT = 1.0
#: what a penalty clause (法律责任: 处…罚款, 吊销) keeps of its score when the question does not ask what happens
LIABILITY_SHARE = 0.6
#: the next sentence joins the rule when it scores at least this share of the best one (the limit that
#: follows a deadline, 但延长不得超过12个月; the remedy after a first one, 对复核结果有异议的…: 0.5 left them out)
TWO_SENTENCES = 0.3
MAX_RULE_CHARS = 160
#: a question that doubts the law it names (网络安全法说一百万以下，是这样吗？): another text that governs the
#: matter by 上位法/新法/特别法 and states the rule at least this share as well as the named one is the rule
DOUBT_SHARE = 0.5

_NUM = r"[零〇一二两三四五六七八九十百千万\d]+"
#: question type → (cue in the question, what a sentence answering it contains)
QUESTION_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "duration": (
        re.compile(r"多久|多长|多少天|几天|几日|多少日|几个月(?!的?(?:工资|补偿|赔偿))|多少个月|工作日|期限|时限|有效期|什么时候|何时|几年|多少年|"
                   r"几点|多少小时|几个小时|周期|时间限制|时效|多少个工作日|冷静期|最长|最短|how long|how many (?:days|months|years|hours)|"
                   r"deadline|time limit|\bwithin\b|\bwhen\b", re.I),
        re.compile(rf"(?:{_NUM}|半)\s*(?:个)?(?:工作日|日|天|小时|个月|月|年|时|分钟|采暖期)|届满|之日起|以内|之内|永久|自动续期|每(?:年|日|天|月|周|季度|半年)|"
                   r"不受.{0,12}(?:期限|时效).{0,3}限制"),
    ),
    "age": (re.compile(r"多大|几岁|年龄|周岁|how old|\bage\b", re.I), re.compile(rf"{_NUM}\s*周岁")),
    # how many people (见证人, 业主, 职工): a number of persons
    "count": (re.compile(r"几人|多少人|几[个名位][^，。？?]{0,4}人|多少名|多少位|how many (?:people|persons|witnesses|members)", re.I),
              re.compile(rf"{_NUM}\s*(?:个|名|位)?(?:以上|以下)?[^，。；：]{{0,4}}?(?:人|员)")),
    "amount": (
        # 多少天 asks how long, not how much
        # a calculation asks for the amount or the formula (怎么算, 几个月工资), not what the term means
        re.compile(r"多少钱|多少元|罚多少|赔多少|罚款多少|比例|几成|金额|费用|收费|几倍|要钱|多少(?!天|日|个?月|年|小时|个?工作日|分钟|周|人|名|位)|标准|"
                   r"(?:付|赔|补偿|赔偿|支付)什么|怎么赔|[交付花收]钱|收费吗|什么赔偿|哪些赔偿|(?:怎么|怎样|如何)(?:计算|算|核定|确定金额)|计算|算多少|"
                   r"几个月(?:的)?(?:工资|补偿|赔偿)|how much|\bfees?\b|\bcost|compensation|\bamount", re.I),
        re.compile(rf"{_NUM}\s*(?:元|万元|倍)|百分之|万分之|分之|\d+(?:\.\d+)?%|不得收取|免费|收费|费用|不收|"
                   rf"(?:{_NUM}|半)\s*个?月的?.{{0,16}}?工资|工资的?(?:{_NUM}|百分之)|按照?.{{0,24}}(?:计算|标准|比例|基数)"),
    ),
    "penalty": (
        # "有没有违法 / 合法吗" asks whether, not what happens
        re.compile(r"(?<!行政处)罚|法律责任|后果|会怎样|怎么处理|拘留|吊销|(?<!没有)(?<!是否)(?<!算不算)违法(?![吗么嘛])|违反|"
                   r"\bfined?\b|\bfines\b|penalt|punish|what happens|consequence", re.I),
        re.compile(r"罚款|拘留|吊销|没收|警告|责令|处分|刑事责任|赔偿|处.{0,12}以[上下]|不再(?:给予)?(?:行政)?处罚|[不免]予(?:行政)?处罚|"
                   r"失效|无效|不发生.{0,6}效力"),
    ),
    "whether": (
        re.compile(r"能不能|可不可以|可以吗|能否|是否|要不要|需不需要|必须|吗|会不会|允许|禁止|能.{0,8}吗|一样|有没有|合法|违法[吗么嘛]|"
                   r"^(?:can|may|must|is|are|do|does|should)\b|\b(?:allowed|legal|required)\b", re.I),
        re.compile(r"可以|不得|应当|禁止|不需要|无需|严禁|免费|不收取|必须|不予|不再|免予|视为|同等|有权|无权"),
    ),
    "who": (
        re.compile(r"谁|哪个部门|哪些部门|什么部门|哪个机关|由谁|向哪|找谁|哪些人|哪个单位|\bwho\b|which (?:department|authority|"
                   r"agency|office|body)|where (?:do|can|should) i", re.I),
        re.compile(r"部门|机关|机构|人民政府|委员会|负责|配偶|子女|监护人|由.{1,30}(?:进行|负责|办理|承担|审批)|归.{1,8}所有"),
    ),
    "conditions": (
        re.compile(r"条件|情形|什么情况|哪些情况|资格|要求|哪些|什么样|啥样|哪种|哪类|conditions|requirements|eligib", re.I),
        re.compile(r"条件|下列|符合|具备|情形"),
    ),
    "procedure": (
        # "怎么规定" asks what it says, "怎么算" how much
        re.compile(r"怎么办|(?:如何|怎么|怎样)(?!规定|算|计算|赔)|流程|程序|手续|步骤|how (?:do|can|should) i|procedure", re.I),
        re.compile(r"申请|提交|办理|登记|程序|提出|凭|直接"),
    ),
}
#: a quantity the asker states as a fact (13岁的孩子, 过了八个月, 罚款2000元): the rule that answers compares
#: it with a quantity of the same kind (不满十四周岁, 六个月内, 百分之三), so such a sentence bears on the question
FACTS: dict[str, re.Pattern[str]] = {
    "age": re.compile(rf"(?<![多几]){_NUM}\s*(?:周岁|岁)"),
    # 七个多月, 十多天: about so many
    "duration": re.compile(rf"(?<![多几]){_NUM}\s*(?:个)?多?(?:个)?(?:工作日|天|日|个月|月|年|小时)(?!工资)"),
    "amount": re.compile(rf"(?<![多几]){_NUM}\s*(?:元|万元|块)"),
}
#: a quantity's unit → (what it measures, how many of the base unit: days, years of age, yuan)
_UNITS_OF = {"周岁": ("age", 1.0), "岁": ("age", 1.0), "工作日": ("time", 1.0), "日": ("time", 1.0), "天": ("time", 1.0),
             "个月": ("time", 30.0), "月": ("time", 30.0), "年": ("time", 365.0), "元": ("money", 1.0),
             "万元": ("money", 10000.0)}
_QTY = rf"((?:{_NUM}|半))\s*(?:个?多(?=个?月|天|日|年))?(周岁|岁|工作日|个月|月|年|日|天|万元|元)"
#: a calendar date (2020年1月1日, 二〇二二年三月): the day a text takes effect, not how long something lasts
_DATE = re.compile(r"(?:\d{4}|[一二〇零○]{4})年(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})日)?")
_FACT_QTY = re.compile(rf"(?<![多几第]){_QTY}")
#: the conditions a provision sets on a quantity: a range (一年以上不满三年, 已满十四周岁不满十六周岁),
#: an upper bound (不满十四周岁) or a lower one (满一年, 七十周岁以上)
_RANGE = re.compile(rf"(?:已?满)?{_QTY}(?:以上)?[，,]?(?:不满|不足|未满){_QTY}")
_UPPER = re.compile(rf"(?:不满|不足|未满){_QTY}")
_LOWER = re.compile(rf"(?:已?满){_QTY}|{_QTY}以上")
_LIMIT_ASKED = re.compile(r"最长|最多|最晚|最迟|最高|上限|封顶|最少|最低|最短|至少|下限|maximum|minimum|at most|at least|latest")
_LIMIT_STATED = re.compile(rf"(?:不得?超过|不超过|最长|最多|最高|不少于|不低于|至少|最低|最短|不满)\s*(?:为)?\s*(?:{_NUM}|半)"
                           rf"|(?:{_NUM}|半)\s*(?:个)?(?:工作日|日|天|小时|个月|月|年|周岁|元|万元|倍)(?:以内|之内|内|以上|以下|前)"
                           r"|不得(?:低于|高于|超过|超出)")
#: a definition (本法所称…是指…): it answers what a term means, not how much, how long or whether
_DEFINITION = re.compile(r"^(?:本(?:法|条例|办法|规定|细则|条|章|节)(?:所称|中)|前款所称|.{1,30}?，?是指)")
_ASKS_MEANING = re.compile(r"什么是|指什么|什么意思|含义|定义|是指|算不算|属不属于|\bmean(?:s|ing|t)?\b|definition|\bcounts? as\b", re.I)
#: a penalty clause: what happens to whoever breaks a rule (法律责任)
_LIABILITY = re.compile(r"违反本(?:法|条例|办法|规定|细则)|罚款|拘留|吊销|没收违法所得|刑事责任|给予.{0,8}处分")
_TRANSITIONAL = re.compile(r"本(?:法|条例|办法|规定|细则)(?:施行|实施)(?:之日)?(?:前|之前|以前)")
#: English asks about the earlier regime only when it names a text ("12-year-old" or "before I sign" do not)
_BEFORE = re.compile(r"施行前|实施前|之前|以前|原来|原先|原有|过去"
                     r"|\bbefore (?:the |this |that )?(?:new )?(?:law|act|code|regulations?|rules?)\b"
                     r"|(?<!-)\b(?:old|former|previous|original) (?:law|act|code|regulations?|rules?)\b", re.I)
_SENTENCE = re.compile(r"(?<=[。；！？])")
#: the asker cites a text and asks whether it (still) holds, or that two texts differ
_DOUBT = re.compile(r"是这样吗|是不是这样|对吗|对不对|没错吧|还这么|还是这样|还适用|还有效|还算数|不是说|不是.{1,40}吧|"
                    r"不一样|不一致|冲突|矛盾|哪个为准|以哪个|听说")
#: a provision that leaves the matter to other texts (法律另有规定的除外; 法律、法规另有规定的，依照其规定)
_DEFERRED_TEXT = r"(?:法律|(?:行政|地方性)?法规|(?:部门|地方政府)?规章)"
_DEFERS = re.compile(rf"{_DEFERRED_TEXT}(?:(?:、|和|或者|以及){_DEFERRED_TEXT})*另有规定")
_ARTICLE = re.compile(r"^第[零〇一二三四五六七八九十百千]+条")
_ARTICLE_NAMED = re.compile(r"第[零〇一二三四五六七八九十百千]+条")
_ARTICLE_HEAD = re.compile(r"^第[零〇一二三四五六七八九十百千]+条(?:之[零〇一二三四五六七八九十百千]+)?\s*")
_SHARE = re.compile(rf"百分之{_NUM}|\d+(?=%)")
_QUANTITY_UNIT = re.compile(r"工作日|日|天|小时|月|年|岁|分钟|元|倍|%")
_ITEM_LABEL = re.compile(r"[（(][零〇一二三四五六七八九十]+[)）]")
#: who acts in a provision: a person, an organisation (单位 of 用人单位 and 所在单位 too)
_PERSON = re.compile(r"个人|自然人|公民|职工|劳动者|消费者|旅游者|近亲属|本人")
_ORGANISATION = re.compile(r"单位|企业|公司|经营者|组织|法人")
#: a question about the person's rule (个人会被罚多少, 我自己去申请; 把自己的卡借给 is not one)
_PERSON_ASKS = re.compile(r"个人|我自己|本人|\bmyself\b|\bindividuals?\b", re.I)
#: a duty, a power or a penalty: what its actor must, may or shall be made to do
_DUTY = re.compile(r"应当|必须|可以|不得|有权|处(?:警告|[^，；。]{0,16}罚款|[^，；。]{0,8}拘留)")
_FUNCTION_CHARS = frozenset(w for w in STOPWORDS if len(w) == 1)
_PRINCIPLE_WHY = {
    HIGHER: "上位法优于下位法", NEWER: "新法优于旧法", SPECIAL: "特别法优于一般法",
}


def question_types(question: str) -> list[str]:
    """The kinds of answer the question asks for (several may apply: 罚款多少 → penalty, amount)."""
    return [name for name, (cue, _) in QUESTION_TYPES.items() if cue.search(question)] or ["general"]


@dataclass
class Sentence:
    text: str  # the sentence, with the lead-in of its 款 when it is a 项
    locator: str  # 第十四条 第一款 第二项
    quote: str  # the 款 (with its 项) it belongs to, quoted in full
    article: int  # index of its article among the candidates
    score: float = 0.0
    #: its score before its article's retrieval discount (how well it states a rule, wherever found)
    own_score: float = 0.0
    #: the clauses before it in the same sentence (违反…的，责令改正；| 拒不改正的，处…罚款。)
    context: str = ""
    #: a 项's lead-in (the start of `text`): its 款's words, which the 项 shares with its neighbours
    lead_in: str = ""


@dataclass
class _Article:
    hit: Hit  # the retrieved chunk (or the governing provision put in its place)
    text: str  # the whole article
    override: Override | None = None  # why it stands here, when it replaced an overridden provision
    #: its retrieval rank, when not its index (a penalty article ranks with the duty it was found through)
    rank: int | None = None
    voted: bool = False  # found further down as the article the nearest article questions vote for most


def sentences(article: str, text: str, index: int, legal: bool = True) -> list[Sentence]:
    """Every sentence of an article with its 款/项 locator; a 项 carries its 款's lead-in. Text
    that is not a law's article (`legal=False`) keeps its own locator (heading path, paragraph)."""
    lines = [line for line in text.split("\n") if line.strip()]
    paragraphs: list[list[str]] = []
    for line in lines:
        if ITEM_RE.match(line) and paragraphs:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    out: list[Sentence] = []
    many = len(paragraphs) > 1
    for n, (head, *items) in enumerate(paragraphs, start=1):
        where = f"{article} 第{to_chinese_numeral(n)}款" if many and legal else article
        quote = "\n".join([head, *items])
        body = _ARTICLE_HEAD.sub("", head) if n == 1 else head
        context = last = ""  # the clauses of the same sentence before this one (up to the last 。)
        for last in (p.strip() for p in _SENTENCE.split(body) if p.strip()):
            out.append(Sentence(last, where, quote, index, context=context))
            context = "" if last.endswith(("。", "！", "？")) else context + last
        # a 项 carries its 款's whole lead-in sentence (who is fined how much: the clauses before ；)
        lead_in = context or last
        for i, item in enumerate(items, start=1):
            item_at = f"{where} 第{to_chinese_numeral(i)}项" if legal else where
            out.append(Sentence(f"{lead_in}{item.strip()}", item_at, quote, index, lead_in=lead_in))
    return out


def _weights(words: list[str]) -> dict[str, float]:
    """A question word's weight: longer words more (a one-character word not at all, nor a number:
    the asker's own facts, 罚款2000元 or 本人工资6000元, are not what a provision says)."""
    return {w: min(len(w), 4) / 2 for w in set(words) if len(w) > 1 and not re.fullmatch(r"[\d.,]+", w)}


def _distinct(words: set[str]) -> set[str]:
    """Words counted once: not again through their pieces (未成年人 ⊃ 成年人, 未成年, 成年)."""
    return {w for w in words if not any(w != v and w in v for v in words)}


_QUANTITY = re.compile(rf"(?:{_NUM}|半)\s*(?:个)?(?:工作日|日|天|小时|个月|月|年|周岁|岁|分钟|元|万元|倍)?(?:内|以内|之内|以上|以下)?")
#: words between a question's number cue and the word it attaches to (多少天内要退款)
_FILLER = frozenset("内 以内 之内 天内 日内 要 能 才 就 得 可以 必须 应当 需要 天 日 个 月 年 时间 期限 以后 后".split())


@lru_cache(maxsize=256)
def _words(question: str) -> tuple[str, ...]:
    """The question's words in order (precise cut), punctuation dropped."""
    return tuple(w for w in (t.strip() for t in rjieba.cut(normalize(question))) if w and not re.fullmatch(r"\W+", w))


@lru_cache(maxsize=256)
def _anchors(question: str, kinds: tuple[str, ...] = NUMBER_TYPES) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words a question attaches its cue (of the `kinds` of question) to: before the cue (提前多少天 → 提前)
    and after it (多久内作出 → 作出; 多少天内要退款 → 退款 and its synonyms; 需要怎样表决 → 表决)."""
    cues = [QUESTION_TYPES[t][0] for t in kinds]
    words = list(_words(question))
    at = next((i for i, w in enumerate(words) if any(c.fullmatch(w) or c.search(w) for c in cues)), None)
    if at is None:
        return (), ()
    before = words[at - 1] if at > 0 and words[at - 1] not in STOPWORDS and words[at - 1] not in _FILLER else ""
    after = next((w for w in words[at + 1:] if w not in _FILLER), "")
    after = after if len(after) > 1 and after not in STOPWORDS else ""
    expand = lambda w: tuple(dict.fromkeys(query_tokens(w) + [w])) if w else ()  # noqa: E731
    return expand(before), expand(after)


def focused(text: str, question: str, types: list[str]) -> bool:
    """Whether `text` says what a question that asks for no number asks about: the word right after its cue
    (业主改变共有部分用途，需要怎样表决 → 表决), which the sentence answering it says and its neighbours need not."""
    kinds = tuple(t for t in types if t in QUESTION_TYPES and t not in NUMBER_TYPES)
    return bool(kinds) and any(w in text for w in _focus(question, kinds))


@lru_cache(maxsize=256)
def _focus(question: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    # a word that is itself a question's cue (怎么处罚 → 处罚) is weighed as its type already
    return tuple(w for w in _anchors(question, kinds)[1] if not any(c.search(w) for c, _ in QUESTION_TYPES.values()))


def anchored(text: str, question: str) -> bool:
    """Whether a number in `text` is attached to the word the question attaches its number to."""
    before, after = _anchors(question)
    if not (before or after):
        return False
    for m in _QUANTITY.finditer(text):
        if not re.search(r"\d|[一二两三四五六七八九十百千万半]", m.group()):
            continue
        head, tail = text[max(0, m.start() - 4):m.start()], text[m.end():m.end() + 6]
        if any(w in head for w in before) or any(tail.find(w) in (0, 1, 2) for w in after):
            return True
    return False


#: an English question's quantities in the statutes' units (a 9-year-old → 9岁, 3 months → 3个月)
_ENGLISH_UNITS = [(re.compile(rf"(\d+)[- ]?{word}", re.I), unit) for word, unit in (
    (r"years?[- ]old", "岁"), (r"working[- ]days?", "工作日"), (r"days?\b", "日"), (r"months?\b", "个月"),
    (r"years?\b", "年"), (r"hours?\b", "小时"), (r"(?:yuan|rmb)\b", "元"))]


def _in_statute_units(question: str) -> str:
    for pattern, unit in _ENGLISH_UNITS:
        question = pattern.sub(rf"\1{unit}", question)
    return question


@lru_cache(maxsize=256)
def _facts(question: str) -> tuple[str, ...]:
    """The kinds of quantity the question states as facts."""
    question = _in_statute_units(question)
    return tuple(kind for kind, pattern in FACTS.items() if pattern.search(question))


def _quantity(number: str, unit: str) -> tuple[str, float]:
    kind, scale = _UNITS_OF[unit]
    return kind, (0.5 if number == "半" else float(max(numbers(number), default=0))) * scale


@lru_cache(maxsize=256)
def _fact_values(question: str) -> tuple[tuple[str, float], ...]:
    """The ages and spans of time the asker states (签了两年 → time, 730 days; 12岁 → age, 12); a sum
    of money (罚款2000元) is what a provision fixes more often than a condition it sets."""
    found = (_quantity(m.group(1), m.group(2)) for m in _FACT_QTY.finditer(_in_statute_units(question)))
    return tuple(q for q in found if q[0] != "money")


def fits(text: str, question: str) -> bool:
    """Whether a condition the text sets on a quantity holds for one the question states (两年 is in
    一年以上不满三年, 12岁 is 不满十四周岁; 一个月 is not in 超过一个月不满一年): the provision that applies
    to the asker's case."""
    facts = _fact_values(question)
    if not facts:
        return False
    # (what it measures, lower bound, whether the bound itself is excluded (超过), upper bound)
    bounds: list[tuple[str, float | None, bool, float | None]] = []
    for m in _RANGE.finditer(text):
        (kind, low), (other, high) = _quantity(m.group(1), m.group(2)), _quantity(m.group(3), m.group(4))
        if kind == other:
            bounds.append((kind, low, text[max(0, m.start() - 2):m.start()] == "超过", high))
    rest = _RANGE.sub("", text)
    for m in _UPPER.finditer(rest):
        kind, high = _quantity(m.group(1), m.group(2))
        bounds.append((kind, None, False, high))
    for m in _LOWER.finditer(_UPPER.sub("", rest)):
        number, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        kind, low = _quantity(number, unit)
        bounds.append((kind, low, False, None))
    return any(kind == fact and (low is None or value > low or (value == low and not above))
               and (high is None or value < high)
               for kind, low, above, high in bounds for fact, value in facts)


def _score(sentence: Sentence, weights: dict[str, float], types: list[str], question: str = "") -> float:
    # the asked action and object are matched against the sentence itself: a 项 is what it adds to
    # its lead-in, which every 项 of its 款 shares (and which is scored as a sentence of its own)
    body = sentence.text[len(sentence.lead_in):]
    own = {w for w in weights if w in body}
    lexical = sum(weights[w] for w in _distinct(own))
    asks_number = any(t in NUMBER_TYPES for t in types)
    if anchored(sentence.text, question) if asks_number else focused(sentence.text, question, types):
        lexical += ANCHOR_WEIGHT
    # …and so is one asking whether the asker's own quantity is allowed (一个月结一次工资，合法吗)
    if ((_LIMIT_ASKED.search(question) or ("whether" in types and _fact_values(question)))
            and _LIMIT_STATED.search(sentence.text)):
        lexical += LIMIT_WEIGHT
    # the clauses before it in its sentence say whom and what it is about (违反…的，…；拒不改正的，处…)
    around = sentence.context + sentence.lead_in
    near = {w for w in weights if w in around and not any(w in v for v in own)}
    lexical += CONTEXT_WEIGHT * sum(weights[w] for w in _distinct(near))
    # a calendar date (本法自2020年1月1日起施行) is no span of time
    undated = _DATE.sub("", sentence.text)
    matched = [t for t in types if t in QUESTION_TYPES and QUESTION_TYPES[t][1].search(undated)]
    typed = sum(TYPE_WEIGHT.get(t, OTHER_TYPE_WEIGHT) for t in matched)
    typed += FACT_WEIGHT * sum(1 for t in _facts(question) if t not in types and QUESTION_TYPES[t][1].search(undated))
    if fits(sentence.text, question):
        typed += FIT_WEIGHT
    score = lexical + typed
    # a question that does not ask what a term means is not answered by its definition
    if _DEFINITION.search(body) and not _ASKS_MEANING.search(question):
        score *= UNANSWERED
    # a question that does not ask what happens is answered by the duty, not the penalty for breaking it
    if "penalty" not in types and _LIABILITY.search(sentence.text):
        score *= LIABILITY_SHARE
    # a question asking for a number (how long, how much, how old) is not answered without one,
    # nor one asking what happens (a penalty) by a duty that names none
    unanswered = (asks_number and not any(t in NUMBER_TYPES for t in matched)) or (
        not asks_number and "penalty" in types and "penalty" not in matched)
    # a transitional provision (本法施行前…) answers only questions about the time before it
    transitional = _TRANSITIONAL.search(sentence.context + sentence.text) and not _BEFORE.search(question)
    return score * (UNANSWERED if unanswered else 1.0) * (UNANSWERED if transitional else 1.0)


def asker(question: str) -> str | None:
    """Whom the question is about where it says: a person (个人会被罚多少, 我自己去申请), whatever organisation
    it names beside (单位不给我报工伤). An organisation it names is as often where the asker works or buys."""
    return "person" if _PERSON_ASKS.search(question) else None


@lru_cache(maxsize=4096)
def actor(text: str) -> str | None:
    """Who acts in a provision: the person or organisation heading the clause of each duty or penalty,
    or the nearest clause before it that one heads (用人单位未按前款规定提出…的，工伤职工或者其近亲属…
    1年内，可以直接… → person; 单位违反本法规定，有下列行为之一的，…处五千元 → organisation); None where
    it names none, or both."""
    found: set[str] = set()
    for duty in _DUTY.finditer(text):
        for clause in reversed(re.split(r"[，；：,;:]", text[:duty.end()])):
            person, organisation = _PERSON.search(clause[:ACTOR_HEAD]), _ORGANISATION.search(clause[:ACTOR_HEAD])
            if person or organisation:
                first = person is not None and (organisation is None or person.start() < organisation.start())
                found.add("person" if first else "organisation")
                break
    # one that fines both (对单位处…，对个人处…) is every actor's rule
    return found.pop() if len(found) == 1 else None


def _weigh_actors(found: list[Sentence], question: str) -> None:
    """Where an article states the rule for the actor the question is about (个人有前款…行为之一的，处警告 for
    个人会被罚多少), its sentences for another actor (单位…处五千元) answer less."""
    who = asker(question)
    if who is None:
        return
    acts = [actor(s.context + s.text) for s in found]
    own = {s.article for s, a in zip(found, acts, strict=True) if a == who}
    for s, a in zip(found, acts, strict=True):
        if a not in (None, who) and s.article in own:
            s.own_score *= OTHER_ACTOR_SHARE


def numbers(text: str) -> set[int]:
    """The numbers a text states, Arabic or Chinese (三十日 and 30日 both give 30); a 项's label
    （六） is not one."""
    found: set[int] = set()
    for run in re.findall(_NUM, _ITEM_LABEL.sub("", text)):
        value = cn_number(run)
        if value is not None:
            found.add(value)
    return found


def _superior(lead: Sentence, found: list[Sentence], articles: list[_Article], rel: Relations,
              types: list[str]) -> Sentence | None:
    """A sentence of a higher text on the same matters (the law a rule implements) that states
    the lead's rule about as well: 上位法优于下位法, so the higher provision governs and is cited first."""
    lower = articles[lead.article].hit.doc_key
    asks_number = any(t in NUMBER_TYPES for t in types)
    said = _quantities(lead.text) if asks_number else set()
    # a 项 is compared by what it says, not only by the lead-in it shares with the other 项 of its 款
    # (where the lead-in states the rule — 处…罚款： — the whole of it says it too)
    alike = {id(s): max(_alike(_body(s), _body(lead)), _alike(s.text, lead.text) if lead.lead_in else 0.0)
             for s in found}
    rivals = [s for s in found if s.own_score >= SUPERIOR_SHARE * lead.own_score
              and alike[id(s)] >= SUPERIOR_ALIKE
              and rel.outranks(articles[s.article].hit.doc_key, lower) is not None
              and articles[s.article].hit.status == "in_force"
              and (not asks_number or said & _quantities(s.text))]
    # of those, the one that says it most alike (the same rule, not another on the same matters)
    return max(rivals, key=lambda s: (alike[id(s)], s.score), default=None)


def _body(sentence: Sentence) -> str:
    return sentence.text[len(sentence.lead_in):]


def _quantities(text: str) -> set[int]:
    """The numbers a text states as quantities (三十日, 5%, 二倍), not in names (一次性, 一至四级)."""
    found = {n for m in _QUANTITY.finditer(text) if re.search(r"\d|[一二两三四五六七八九十百千万半]", m.group())
             and _QUANTITY_UNIT.search(m.group()) for n in numbers(m.group())}
    return found | {n for share in _SHARE.findall(text) for n in numbers(share.removeprefix("百分之"))}


def _alike(a: str, b: str) -> float:
    """Share of character pairs two sentences have in common (Jaccard)."""
    pa, pb = {a[i:i + 2] for i in range(len(a) - 1)}, {b[i:i + 2] for i in range(len(b) - 1)}
    return len(pa & pb) / (len(pa | pb) or 1)


def _sentences_of(article: _Article, index: int) -> list[Sentence]:
    where = article.hit.locator.split()[0]
    if _ARTICLE.match(where):
        return sentences(where, article.text, index)
    return sentences(article.hit.locator, article.text, index, legal=False)


def _penalties(question: str, articles: list[_Article], rel: Relations, seen: set[tuple[str, str]]) -> list[_Article]:
    """The penalty articles (法律责任) of the candidates' laws that name a candidate duty by its number:
    what happens if one breaks it, where the penalty article does not repeat the duty's words."""
    found: list[_Article] = []
    for i, duty in enumerate(articles):
        where = duty.hit.locator.split()[0]
        if duty.hit.status != "in_force" or not _ARTICLE.match(where) or _LIABILITY.search(duty.text):
            continue
        for cited in citing_articles(duty.hit.doc_key, where, kb=duty.hit.kb):
            key = (cited.doc_key, cited.locator)
            if key in seen or not _LIABILITY.search(cited.text) or rel.is_overridden(*key, question):
                continue
            seen.add(key)
            hit = _screened_hit(cited, duty.hit.kb, duty.hit.score)
            if hit is None:
                continue
            found.append(_Article(hit, hit.text, rank=i))
            if len(found) >= PENALTY_EXTRA:
                return found
    return found


def _candidates(question: str, hits: list[Hit], rel: Relations, types: tuple[str, ...] = (),
                votes: dict[tuple[str, str], float] | None = None, outside: bool = True,
                docs: set[str] | None = None) -> tuple[list[_Article], list[tuple[Hit, str]]]:
    """The top articles in retrieval order, each overridden provision replaced by the one that
    governs it; superseded and overridden text is returned apart (never a candidate for the rule)."""
    articles: list[_Article] = []
    set_aside: list[tuple[Hit, str]] = []
    seen: set[tuple[str, str]] = set()
    for hit in hits:
        article = hit.locator.split()[0]
        if (hit.doc_key, article) in seen:
            continue
        seen.add((hit.doc_key, article))
        override = rel.override_for(hit.doc_key, article, question)
        if override is None and (hit.status == "superseded" or hit.doc_key in rel.superseded):
            set_aside.append((hit.model_copy(update={"status": "superseded"}), "已被替代，不作为依据"))
            continue
        if override is not None:
            label = ("特别规定优先，本事项不适用" if override.principles == [SPECIAL]
                     else f"已被《{override.governed_by.doc}》取代，不作为依据")
            set_aside.append((hit.model_copy(update={"status": "overridden"}), label))
            gov = override.governed_by
            if (gov.doc, gov.article) in seen:
                continue
            seen.add((gov.doc, gov.article))
            cited = get_article(gov.doc, gov.article, gov.paragraph)
            governing = _screened_hit(cited, GLOBAL_KB, hit.score) if cited is not None else None
            if governing is not None:
                articles.append(_Article(governing, governing.text, override))
            continue
        full = get_article(hit.doc_key, article, kb=hit.kb) if _ARTICLE.match(article) else None
        articles.append(_Article(hit, _whole(hit, full)))
        if len(articles) >= CANDIDATE_ARTICLES:
            break
    if "penalty" in types:
        articles += _penalties(question, articles, rel, seen)
    # a higher text on the same matters found further down (the regulation a rule details, the law
    # a regulation details) competes too: where both state the rule, the higher one governs
    lower = {a.hit.doc_key for a in articles}
    for hit in hits:
        article = hit.locator.split()[0]
        if len(articles) >= CANDIDATE_ARTICLES + SUPERIOR_EXTRA:
            break
        if ((hit.doc_key, article) in seen or not _ARTICLE.match(article) or hit.status != "in_force"
                or rel.is_overridden(hit.doc_key, article, question)
                or not any(rel.is_superior(hit.doc_key, doc) for doc in lower)):
            continue
        seen.add((hit.doc_key, article))
        articles.append(_Article(hit, _whole(hit, get_article(hit.doc_key, article, kb=hit.kb))))
    articles += _most_voted(question, hits, rel, votes or {}, seen, outside, docs)
    return articles, set_aside


def _whole(hit: Hit, full: Citation | None) -> str:
    """A retrieved article's whole text through the guard's retrieved stage (`screened_text`: the retrieved chunk
    passed it, but the rest of its article was never searched; not cached, the guard's policy may change while the
    process runs, about 0.1 ms CPU a text); its screened chunk alone where there is none or the whole is withheld."""
    text = screened_text(full.text) if full is not None else None
    return hit.text if text is None else text


def _most_voted(question: str, hits: list[Hit], rel: Relations, votes: dict[tuple[str, str], float],
                seen: set[tuple[str, str]], outside: bool = True, docs: set[str] | None = None) -> list[_Article]:
    """The VOTED_ARTICLES articles the nearest article questions vote for most (each at least VOTED_SHARE of the
    vote) that are not candidates yet: the asker's words may miss the statute's where the vote does not. One the
    retrieved pool holds comes as retrieved, with its whole article; one it lacks, from the public law texts (score 0:
    retrieval did not find it; its hit is already the whole article, screened) where `outside` and `docs` (the texts
    the asker is answered from, None for all) allow."""
    pooled = {(law_key(h.doc_key), h.locator.split()[0]): h for h in reversed(hits)}  # each article's best hit
    found: list[_Article] = []
    for (law, article), share in sorted(votes.items(), key=lambda v: -v[1]):
        if share < VOTED_SHARE or len(found) >= VOTED_ARTICLES:
            break
        retrieved = pooled.get((law, article))
        hit = retrieved or (_law_article(law, article) if outside else None)
        if (hit is None or (hit.doc_key, article) in seen or not _ARTICLE.match(article) or hit.status != "in_force"
                or hit.doc_key in rel.superseded or rel.is_overridden(hit.doc_key, article, question)
                or (docs is not None and hit.doc_key not in docs)):
            continue
        seen.add((hit.doc_key, article))
        text = _whole(hit, get_article(hit.doc_key, article, kb=hit.kb)) if retrieved is not None else hit.text
        found.append(_Article(hit, text, voted=True))
    return found


def _law_article(law: str, article: str) -> Hit | None:
    """An article of the public law texts by the key the votes name its law by (劳动合同法, whether or not the corpus
    prefixes 中华人民共和国), as a hit that retrieval did not score."""
    for doc in (law, f"中华人民共和国{law}"):
        cited = get_article(doc, article)
        if cited is not None:
            return _screened_hit(cited, GLOBAL_KB, 0.0)
    return None


def _screened_hit(cited: Citation, kb: str, score: float) -> Hit | None:
    """A provision read from the corpus rather than retrieved (a penalty article, a governing provision, an article
    the votes name) as a hit, its text through the guard's retrieved stage (`screened_text`: it was never searched);
    None where the text is withheld."""
    text = screened_text(cited.text)
    return None if text is None else Hit(kb=kb, score=score, **{**cited.model_dump(), "text": text})


def _inherit(found: list[Sentence], articles: list[_Article], weights: dict[str, float], question: str) -> None:
    """A penalty sentence that names a candidate duty of its law by number (违反本法第五十八条) is about
    what that duty says: it gains part of the words the duty's best sentence shares with the question."""
    said: dict[int, float] = {}
    for s in found:
        if not _LIABILITY.search(s.text):
            continue
        doc = articles[s.article].hit.doc_key
        duties = [j for j, a in enumerate(articles) if j != s.article and a.hit.doc_key == doc
                  and a.hit.locator.split()[0] in s.context + s.text]
        for j in duties:
            if j not in said:
                said[j] = max((_score(d, weights, [], question) for d in found if d.article == j), default=0.0)
        s.own_score += CONTEXT_WEIGHT * max((said[j] for j in duties), default=0.0)


def _best(found: list[Sentence], question: str) -> Sentence:
    """The sentence that scores best; of those that score alike (a question none of whose words a provision
    shares), one that states a rule before a definition (本法中下列用语的含义：), which states none, unless the
    question asks what a term means."""
    meaning = bool(_ASKS_MEANING.search(question))
    return max(found, key=lambda s: (s.score, meaning or not _DEFINITION.search(s.text)))


def _listed(lead: Sentence, found: list[Sentence], question: str) -> Sentence:
    """A lead-in that announces its 项 (但下列商品除外：, 下列人员不能作为遗嘱见证人：) states no rule by itself:
    its 项 that bears on the question most, said with the lead-in, does (下列人员不能作为遗嘱见证人：（三）继承人、
    受遗赠人). Where the 项 share none of the question's words, the one sharing most of its characters does
    (海鲜, 鲜花 → 鲜活易腐的). Where no 项 stands out (a deadline asked, its exceptions listed) the lead-in stays
    the rule."""
    if not lead.text.endswith(("：", ":")):
        return lead
    items = [s for s in found if s.article == lead.article and s.lead_in.endswith(lead.text)
             and s.locator.startswith(f"{lead.locator} ")]
    # the question's own characters: not the lead-in's, nor those of function words (的, 在, 能)
    chars = {c for c in question if "\u4e00" <= c <= "\u9fff"} - set(lead.text) - _FUNCTION_CHARS
    ranked = sorted(((s.score, len(chars & set(_body(s))), -n) for n, s in enumerate(items)), reverse=True)
    # no 项 stands out, or the best (perhaps the only one retrieved) bears on the question not at all
    if not ranked or ranked[0][:2] <= (0, 0):
        return lead
    tied = [items[-r[2]] for r in ranked if r[:2] == ranked[0][:2]]
    if len(tied) == 1:
        return tied[0]
    # a few 项 bear on it alike (继承人、受遗赠人 and 与继承人、受遗赠人有利害关系的人 for 继承人能不能当见证人):
    # the lead-in said with each of them, in article order, where that is short enough
    said = lead.text + "".join(_body(s) for s in sorted(tied, key=items.index))
    if len(tied) == len(items) or len(said) > MAX_RULE_CHARS:
        return lead
    return replace(tied[0], text=said)


def _rule_text(lead: Sentence, found: list[Sentence]) -> str:
    """The lead sentence, and the next one of the same 款 when it scores nearly as well (an
    answer of one or two sentences: 可以变更经营者。变更经营者的，可以直接申请变更登记。)."""
    # (a lead-in said with several 项 is no sentence of its own: nothing follows it)
    at = next((i for i, s in enumerate(found) if s is lead), None)
    nxt = found[at + 1] if at is not None and at + 1 < len(found) else None
    # a clause that goes on from the one before it (拒不改正的，处…) is said with it
    text = lead.context + lead.text if lead.context and len(lead.context + lead.text) <= MAX_RULE_CHARS else lead.text
    if (nxt is not None and nxt.locator == lead.locator and nxt.score >= TWO_SENTENCES * lead.score
            and len(text) + len(nxt.text) <= MAX_RULE_CHARS):
        return text + nxt.text
    return text


def _same_article(lead: Sentence, found: list[Sentence]) -> list[tuple[str, str]]:
    """The other 款 of the governing article that bear on the question about as much as the rule
    (业主共同决定的事项 in one 款, how they are voted on in the next), each once, in article order."""
    paragraph = lead.locator.split()[:2]
    near: dict[str, str] = {}
    for s in found:
        where = " ".join(s.locator.split()[:2])
        if (s.article == lead.article and len(paragraph) == 2 and where != " ".join(paragraph)
                and "款" in where and s.score >= SAME_ARTICLE_SHARE * lead.score):
            near.setdefault(where, s.quote)
    return list(near.items())


def _best_paragraph(article: _Article, index: int, found: list[Sentence]) -> Hit:
    """Another provision found, cited at the 款 of its best sentence (the part that bears on the
    question, not only its opening paragraph); a whole article when it has a single 款."""
    best = max((s for s in found if s.article == index), key=lambda s: s.score, default=None)
    if best is None or best.locator == article.hit.locator or "款" not in best.locator:
        return article.hit
    paragraph = " ".join(best.locator.split()[:2])  # 第十四条 第二款 (its 项 are quoted with it)
    return article.hit.model_copy(update={"locator": paragraph, "text": best.quote})


def _best_excerpt(hit: Hit, index: int, found: list[Sentence]) -> str:
    """What another provision found is shown by: its 款's opening, or — where its best sentence is further
    on (a 项, a later sentence of a long 款) — that sentence with the clauses it goes on from."""
    best = max((s for s in found if s.article == index), key=lambda s: s.score, default=None)
    head = excerpt(hit.text)
    if best is None or best.text in head.removesuffix("……"):
        return head
    said = best.context + best.text if len(best.context + best.text) <= MAX_RULE_CHARS else best.text
    return excerpt(said, MAX_RULE_CHARS) if best.lead_in else f"……{excerpt(said, MAX_RULE_CHARS)}"


def _named_in(question: str, hits: list[Hit], rel: Relations) -> set[str]:
    """The texts a question names (劳动合同法, 中华人民共和国劳动合同法), of those found or described."""
    keys = {h.doc_key for h in hits} | set(rel.documents)
    # a text replaced as a whole is not doubted but out of force (its replacement says so)
    return {key for key in keys if len(key) > 2 and key in question and key not in rel.superseded}


def _deferral(doc: str, articles: list[_Article]) -> re.Match[str] | None:
    """Where a text's candidate articles leave the matter to other laws (法律另有规定的除外)."""
    return next((m for a in articles if a.hit.doc_key == doc and (m := _DEFERS.search(a.text))), None)


def _deferral_said(doc: str, articles: list[_Article]) -> str:
    found = _deferral(doc, articles)
    return f"（《{doc}》规定“{found.group()}”的，依照其规定）" if found else ""


def defers_to_levels(text: str) -> frozenset[str] | None:
    """The levels of the texts a provision leaves its matter to (法律、行政法规另有规定的除外 → 法律, 行政法规),
    or None where it leaves it to none."""
    found = _DEFERS.search(text)
    return None if found is None else deferred_levels(found.group())


def _defers_to(doc: str, articles: list[_Article]) -> frozenset[str] | None:
    """The levels of the texts a text leaves the matter to (法律 → 法律; 法律、行政法规 → 法律, 行政法规;
    法规 → 行政法规, 地方性法规; never 规章 unless named), or None."""
    deferral = _deferral(doc, articles)
    return None if deferral is None else deferred_levels(deferral.group())


def _governs_doubted(lead: Sentence, found: list[Sentence], articles: list[_Article], rel: Relations,
                     doubted: set[str], types: list[str]) -> tuple[Sentence, Sentence, str] | None:
    """A question doubting a text it names: the sentence that governs, the doubted text's sentence and the
    principle (特别法优于一般法 where the doubted text defers to other laws, 上位法优于下位法, 新法优于旧法).
    When the rule found is in the doubted text, another text's sentence that governs the matter over it
    and states the rule about as well takes its place; when it is in another text, the doubted text's
    best sentence is named beside it (so the answer says why it does not govern)."""
    named = articles[lead.article].hit.doc_key
    if named not in doubted:
        others = [s for s in found if articles[s.article].hit.doc_key in doubted]
        cited = max(others, key=lambda s: s.score, default=None)
        if cited is None:
            return None
        over = articles[cited.article].hit.doc_key
        principle = rel.prevails(named, over, _defers_to(over, articles))
        return None if principle is None else (lead, cited, principle)
    defers_to = _defers_to(named, articles)
    asks_number = any(t in NUMBER_TYPES for t in types)
    rivals: list[tuple[Sentence, str]] = []
    for s in found:
        doc = articles[s.article].hit.doc_key
        if (doc == named or s.own_score < DOUBT_SHARE * lead.own_score or articles[s.article].hit.status != "in_force"
                or (asks_number and not _quantities(s.text))):
            continue
        if (principle := rel.prevails(doc, named, defers_to)) is not None:
            rivals.append((s, principle))
    best = max(rivals, key=lambda r: r[0].score, default=None)
    return None if best is None else (best[0], lead, best[1])


def _why(override: Override, rel: Relations) -> str:
    old, new = override.provision, override.governed_by
    principles = "、".join(_PRINCIPLE_WHY[p] for p in override.principles)
    return (f"适用说明：《{old.doc}》{old.article}（{rel.describe(old.doc)}）与《{new.doc}》{new.article}"
            f"（{rel.describe(new.doc)}）规定不一致，依照{principles}，适用《{new.doc}》{new.article}。"
            f"{''.join(override.reason.split())}")


def ranker_reading(types: list[str], votes: dict[tuple[str, str], float]) -> article_ranker.Reading:
    """What the article ranker's features need of the question's types, the search's article votes and this
    module's patterns."""
    return article_ranker.Reading(types, [QUESTION_TYPES[t][1] for t in types if t in QUESTION_TYPES], _DEFINITION,
                                  _LIABILITY, CANDIDATE_ARTICLES, votes)


def extractive_answer(question: str, principal: Principal, top_k: int = 3, kb: str | None = None,
                      docs: set[str] | None = None, tracer: Tracer | None = None) -> Answer:
    """The rule in one sentence, the governing provision quoted at 条/款/项 level, then the other
    provisions found; overridden and superseded text only as such, never as the rule."""
    rel = relations()
    # the statutes' words for what the asker says in other words (裁员 → 裁减人员, work injury → 工伤)
    asked = " ".join([question, *legal_terms().statute_terms(question)])
    depth = max(12, top_k * 4)
    pool = search(asked, principal, top_k=depth, kb=kb, exhaustive=True)
    doubted = _named_in(question, pool, rel) if _DOUBT.search(question) else set()
    if doubted:
        # a text the asker doubts does not lead the search: the texts that may govern it are searched apart
        plain = asked
        for key in sorted(doubted, key=len, reverse=True):
            plain = plain.replace(f"中华人民共和国{key}", "").replace(key, "")
        first = search(plain, principal, top_k=depth, kb=kb, exhaustive=True)
        ranked = {(h.doc_key, h.locator) for h in first}
        pool = first + [h for h in pool if (h.doc_key, h.locator) not in ranked]
    hits, withheld = screened([h for h in pool if docs is None or h.doc_key in docs], tracer)
    if not hits:
        return Answer(answer="\n".join([NOTHING_FOUND, *withheld]), citations=[], notes=withheld)
    types = question_types(question)
    votes = article_votes(plain if doubted else asked)  # the search that leads the pool
    # the most voted article may come from the public law texts where the pool lacks it: only for an answer from them
    articles, set_aside = _candidates(question, hits, rel, tuple(types), votes, kb in (None, GLOBAL_KB), docs)
    if not articles:  # only superseded text matched: say so, never present it as the rule
        lines = [f"- 《{h.doc_key}》{h.locator}（{label}）[^{n}]：{excerpt(h.text)}"
                 for n, (h, label) in enumerate(set_aside[:top_k], start=1)]
        return Answer(answer="知识库中只找到已被替代的条文，现行规定请咨询12345政务服务热线。\n"
                      + "\n".join(lines + withheld), citations=[h for h, _ in set_aside[:top_k]], notes=withheld)
    words = query_tokens(asked)
    found = [s for i, a in enumerate(articles) for s in _sentences_of(a, i)]
    weights = _weights(words)
    for s in found:
        s.own_score = _score(s, weights, types, question)
    _inherit(found, articles, weights, question)
    _weigh_actors(found, question)
    for s in found:
        rank = articles[s.article].rank
        s.score = s.own_score / (1 + RANK_DISCOUNT * (s.article if rank is None else rank))
    # a question that names an article and asks nothing in particular ("第三十五条怎么规定的") is
    # answered by that article from its start, not by a sentence that happens to share its numerals
    named = set(_ARTICLE_NAMED.findall(question)) if types == ["general"] else set()
    opening = next((s for s in found if s.locator.split()[0] in named), None)
    # the answerer's own lead, unless a question that names its article opens the answer
    own = None if opening else _listed(_best(found, question), found, question)
    # the learned article ranker (`article_ranker`) picks the article that leads, where its weights are shipped; the
    # search's article votes are among its features (the votes leading the answer by a fixed share instead, 0.3–0.8,
    # measured leave-one-set-out by scripts/legal_training/extractive_study.py, won nothing)
    order = [] if own is None else article_ranker.ranked(asked, ranker_reading(types, votes), articles, found)
    chosen = article_ranker.lead_article(order, found)
    lead = opening if own is None else own if chosen in (None, own.article) else \
        _listed(_best([s for s in found if s.article == chosen], question), found, question)
    higher = None if opening else _superior(lead, found, articles, rel, types)
    # where it picks the higher text that states the rule the answerer's own lead states, that lead is still named
    over = _superior(own, found, articles, rel, types) if own is not None and higher is None and lead is not own else None
    if over is not None and over.article == lead.article:
        lead, higher = own, over
    lower, lead = (lead, higher) if higher is not None else (None, lead)
    governs = None if opening or not doubted else _governs_doubted(lead, found, articles, rel, doubted, types)
    if governs is not None and governs[0] is not lead:
        lead, lower = governs[0], None
    first = articles[lead.article]
    rule = _rule_text(lead, found)
    rule_hit = first.hit.model_copy(update={"locator": lead.locator, "text": lead.quote})
    # the other provisions in the ranker's order (the likeliest to govern next), else the search's
    others = [i for i in (order or range(len(articles))) if i != lead.article][: top_k - 1]
    citations = [rule_hit] + [_best_paragraph(articles[i], i, found) for i in others]
    lines = [f"{rule}（《{rule_hit.doc_key}》{lead.locator}）[^1]"]
    notes: list[str] = list(withheld)
    governing = (rule_hit.doc_key, lead.locator.split()[0])
    conflicts = [first.override] if first.override is not None else []
    conflicts += [o for o in rel.overrides if (o.governed_by.doc, o.governed_by.article) == governing
                  and o.applies(question) and o not in conflicts
                  and any(h.doc_key == o.provision.doc and h.locator.split()[0] == o.provision.article
                          for h, _ in set_aside)]
    notes += [_why(o, rel) for o in conflicts]
    if governs is not None:
        named, principle = articles[governs[1].article].hit.doc_key, governs[2]
        where = governs[1].locator.split()[0]
        notes.append(f"适用说明：问题所说的《{named}》{where}（{rel.describe(named)}）与《{rule_hit.doc_key}》"
                     f"{lead.locator.split()[0]}（{rel.describe(rule_hit.doc_key)}）对此规定不一致；依照{principle}"
                     f"{_deferral_said(named, articles) if principle == SPECIAL else ''}，"
                     f"适用《{rule_hit.doc_key}》{lead.locator.split()[0]}。")
    if lower is not None:
        below = articles[lower.article].hit.doc_key
        notes.append(f"适用说明：《{below}》{lower.locator.split()[0]}（{rel.describe(below)}）也有规定；"
                     f"依照{rel.outranks(rule_hit.doc_key, below)}，"
                     f"以《{rule_hit.doc_key}》{lead.locator.split()[0]}（{rel.describe(rule_hit.doc_key)}）为准。")
    # a later version outside the corpus, of the rule's text or of the text it was weighed against
    weighed = [rule_hit.doc_key] + ([articles[governs[1].article].hit.doc_key] if governs is not None else [])
    notes += [f"提示：《{key}》{meta.newer}。" for key in dict.fromkeys(weighed)
              if (meta := rel.documents.get(key)) is not None and meta.newer]
    lines += notes
    lines.append("依据：")
    lines.append(f"- 《{rule_hit.doc_key}》{lead.locator}[^1]：{lead.quote}")
    lines += [f"  同条{where.split()[1]}[^1]：{quote}" for where, quote in _same_article(lead, found)]
    for n, (hit, index) in enumerate(zip(citations[1:], others, strict=True), start=2):
        lines.append(f"- 《{hit.doc_key}》{hit.locator}[^{n}]：{_best_excerpt(hit, index, found)}")
    for n, (hit, label) in enumerate(set_aside[:2], start=len(citations) + 1):
        lines.append(f"- 《{hit.doc_key}》{hit.locator}（{label}）[^{n}]：{excerpt(hit.text)}")
        citations.append(hit)
    return Answer(answer="\n".join(lines), citations=citations, rule=rule, notes=notes)
