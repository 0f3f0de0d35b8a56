"""The embedded question parser of 一句话问数 (offline, no model): a question becomes a `Plan` over
the semantic layer — table, metric and aggregate, filters (dimension values, flags, numeric
comparisons, joined dimensions), time window, grouping, top-k, share, 同比/环比, per 10,000
residents — and how much of the question it understood. Every word it used is consumed; what
is left that it cannot place lowers `confidence`, so a question it half understands is answered
"not understood" rather than with a confident wrong number."""

from __future__ import annotations

import calendar
import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from aicity.core.text import cn_number, normalize
from aicity.hub.data import timewin
from aicity.hub.data.semantic import Dimension, Layer, Metric, Relation, Table, qualify

#: cheap typo tolerance: frequent mis-typed words (homophones, slips) → the intended word
TYPOS = {"泄露": "泄漏", "处理时常": "处理时长", "办理时常": "办理时长", "办结时常": "办结时长", "alowance": "allowance", "allowence": "allowance",
         "投拆": "投诉", "满义": "满意", "满以": "满意", "东胡": "东湖", "光古": "光谷", "江宾": "江滨", "西成": "西城",
         "南胡": "南湖", "北岗": "北港", "平局": "平均", "评价": "平均", "工当": "工单", "公单": "工单", "热限": "热线",
         "企叶": "企业", "起业": "企业", "营收入": "营业收入", "纳锐": "纳税", "低宝": "低保", "空汽": "空气",
         "车留量": "车流量", "车流两": "车流量", "同币": "同比", "环币": "环比", "站比": "占比", "占必": "占比",
         "季读": "季度", "上伴年": "上半年", "下伴年": "下半年", "多扫": "多少", "多小": "多少", "几岁": "",
         "pm2。5": "pm2.5", "pm 2.5": "pm2.5", "没个": "每个", "吊消": "吊销", "安月": "按月", "安区": "按区",
         "安季度": "按季度"}

_AVG = ("平均", "均值", "平均值", "平均数", "均数", "年均", "月均", "户均", "平均每户", "每户平均", "平均每家", "每家平均",
        "average", "mean", "avg", "on average", "per household", "per low-income household", "per low income household", "per firm", "per company", "per enterprise")
_MEDIAN = ("中位数", "中位值", "中值", "median")
_SUM = ("总和", "合计", "总计", "总共", "一共", "累计", "总额", "总量", "加起来", "total", "sum", "combined", "altogether")
_MAX = ("最高", "最大", "峰值", "最长", "maximum", "highest", "max", "longest", "peak")
_MIN = ("最低", "最小", "最短", "minimum", "lowest", "min", "shortest")
_MOST = ("最多", "最高", "最大", "最长", "第一", "最严重", "排第一", "最突出", "最繁忙", "最忙", "最快", "最热", "最集中",
         "排名第一", "排名第1", "排第1", "第1", "居首", "领先", "fastest", "busiest", "most", "highest", "largest", "biggest",
         "longest", "top")
_LEAST = ("最少", "最低", "最小", "最短", "最慢", "倒数第一", "倒数第1", "垫底", "slowest", "least", "lowest", "fewest", "smallest", "shortest")
_SHARE = ("所占比重", "所占比例", "所占份额", "所占百分比", "占比重", "占几成", "几成", "占比", "比例", "比重", "份额", "百分比", "百分之几", "百分之多少", "占多少", "占全市", "占全部", "占总", "占了", "所占", "占",
          "share", "proportion", "percentage", "percent", "fraction", "what part")
_YOY = ("同比", "year-over-year", "year-on-year", "比去年", "较去年", "与去年同期", "较去年同期", "比去年同期", "和去年同期比", "跟去年比", "和去年比",
        "与去年相比", "较上年同期", "比上年", "较上年", "上年同期", "去年同期", "year-on-year", "year on year",
        "year over year", "yoy", "compared with last year", "compared to last year")
_MOM = ("环比", "month-over-month", "month-on-month", "比上月", "较上月", "比上个月", "较上个月", "与上月", "比上季度", "较上季度", "比上一期", "month-on-month",
        "month on month", "month over month", "mom", "compared with the previous", "compared to the previous",
        "previous month", "previous quarter")
_GROWTH = ("增长率", "增长", "提高", "提升", "上升", "降低", "增加", "增加了", "减少了", "增速", "增幅", "涨幅", "变化率", "变动", "下降", "减少", "growth", "grew", "grow", "grown",
           "increase", "increased", "rise", "rose", "fell", "fall", "drop", "dropped", "change", "decline")
_DIFFERENCE = re.compile(
    r"比.{0,16}?(?:多|少|高|低|大|小|快|慢|长|短)了?(?:多少|几|百分之几|多少个百分点)|相差|差距|差多少|差值|差额|高出多少|多出多少|"
    r"低多少|高多少|少多少|多多少|how (?:much|many) (?:more|higher|lower|less|fewer|bigger|larger)|difference between|"
    r"(?:more|fewer|higher|lower|less) than .{0,40} by how much|gap between")
_INCLUDING = re.compile(r"(?:含|包括|包含|连同|算上|including|incl\.?)\s*(?:已|被)?(?:注销|吊销|注吊销|deregistered|revoked)"
                        r"(?:[和、及与/]?(?:已|被)?(?:注销|吊销))?(?:的|企业|ones| ones| firms)?")
_SUM_CUE = re.compile(r"总|合计|一共|共计|共有|加起来|累计|合起来|总和|total|combined|together|altogether|\bsum\b|in all")
_PER_CAPITA = ("每万人", "万人", "每万常住人口", "万常住人口", "每万人口", "万人口", "每万名居民", "每万居民", "每万名常住人口",
               "per 10,000", "per 10000", "per ten thousand", "per 10k", "per 10,000 residents", "per 10000 residents",
               "per 10,000 people", "per 10,000 inhabitants", "per 10k residents", "per ten thousand residents",
               "per 10,000 population", "每万名常住居民", "每万常住居民", "万名常住居民", "万常住居民")
_LIST = ("列出", "列一下", "名单", "明细", "清单", "导出", "是谁", "哪些人", "都有谁", "详细信息", "具体是", "list", "export",
         "who are", "names of", "show me the")
_DISTRICT_GROUP = ("各区", "每个区", "分区", "按区", "哪个区", "哪些区", "哪一个区", "哪区", "各城区", "各个区", "六个区",
                   "6个区", "区排名", "分区县", "各辖区", "rank districts", "rank the districts", "districts ranked",
                   "ranking of districts", "districts by", "by district", "per district", "each district", "which district",
                   "which districts", "across districts", "every district", "district by district", "for each district")
_MONTH_GROUP = ("每月", "的月份", "哪个月份", "几月份", "各月", "逐月", "按月", "月度", "每个月", "各个月", "分月", "月份分布", "哪个月", "哪一个月", "哪月",
                "哪几个月", "哪些月份", "哪些月",
                "趋势", "走势", "月变化", "monthly", "by month", "per month", "each month", "which month", "trend")
_QUARTER_GROUP = ("每季度", "各季度", "分季度", "按季度", "每个季度", "哪个季度", "季度分布", "quarterly", "by quarter",
                  "per quarter", "each quarter", "which quarter")
_DAY_GROUP = ("每天", "每日", "逐日", "按天", "按日", "哪一天", "哪天", "的一天", "那一天", "哪一日", "daily", "by day",
              "per day", "each day", "which day", "the day")
#: 每千常住户, 每百名65岁以上老人, per 1,000 households: a figure over another base of the district statistics
_PER_BASE = re.compile(
    r"每\s*(?P<n>十万|万|千|百|10000|1000|100)\s*(?:名|个|位)?\s*(?P<base>常住家庭户|常住户数|常住户|家庭户|户籍户|户(?:常住户|常住家庭户|家庭户)?|"
    r"65岁(?:及)?以上(?:的)?(?:老年人口|老年人|老人|人口)|老年人口|老年人|老人|中小学(?:在校)?生|在校学?生|学生|"
    r"常住人口|常住居民|人口|居民|人)|"
    r"per\s+(?P<en>10,000|10000|1,000|1000|100|ten thousand|thousand|hundred)\s+(?P<enbase>households|elderly|seniors|"
    r"students|pupils|residents|people|inhabitants|population)")
#: 每平方公里: a figure over the district's land area
_PER_AREA = re.compile(r"每\s*(?:平方公里|平方千米|km²|km2)|per (?:square kilometre|square kilometer|km²|km2)")
#: 低保户占常住户数的比例: a count over a base of the district statistics, in percent
_BASE_SHARE = re.compile(r"占(?:全区|本区|各区|该区|所在区)?的?(?P<base>常住户数|常住户|户数|家庭户数|常住人口|人口|"
                         r"65岁(?:及)?以上(?:老年)?(?:人口|老人)|老年人口|老人|中小学(?:在校)?生|在校生)(?:总数|数)?的?"
                         r"(?:比例|比重|占比|百分比|比率)")
_BASES = (("户", "households", "常住户"), ("老", "elderly_65_plus", "65岁及以上老人"),
          ("65", "elderly_65_plus", "65岁及以上老人"), ("生", "students_k12", "中小学在校生"),
          ("household", "households", "常住户"), ("elder", "elderly_65_plus", "65岁及以上老人"),
          ("senior", "elderly_65_plus", "65岁及以上老人"), ("student", "students_k12", "中小学在校生"),
          ("pupil", "students_k12", "中小学在校生"))
_BASE_SCALE = {"十万": 100_000, "万": 10_000, "千": 1_000, "百": 100, "10000": 10_000, "1000": 1_000, "100": 100,
               "10,000": 10_000, "1,000": 1_000, "ten thousand": 10_000, "thousand": 1_000, "hundred": 100}
_SCALE_WORD = {100_000: "十万", 10_000: "万", 1_000: "千", 100: "百"}


def _base_of(word: str) -> tuple[str, str]:
    """The district statistics' column a per-base word divides by, and how it reads."""
    return next(((col, label) for key, col, label in _BASES if key in word), ("resident_population", "常住人口"))


#: （用2025年人口）, (2025 population): which year's residents a per-10,000 figure divides by
_POPULATION_YEAR = re.compile(r"(?:[（(]|[，,]\s*)\s*(?:用|按|以|采用)?\s*(\d{4})\s*年?(?:末|底)?的?"
                              r"(?:常住)?(?:人口|户数|老人数|老年人口数|老年人数|老人|学生数|在校生数)(?:数|口径|计算|计|算)?"
                              r"\s*(?:[)）]|$)|"
                              r"\(\s*(\d{4}) (?:resident )?population\s*\)")
_BOTH_WAYS = re.compile(r"[两双]个?方向(?:合计|加起来|相加|一起|都算)?|双向(?:合计)?|both directions")
_ALL_DISTRICTS = ("六个区", "6个区", "所有区", "全部区", "all six districts", "all districts", "six districts")
_COMPARE_CUE = re.compile(r"对比|比较|分别|相比|compare|versus|\bvs\b")
_PER_DAY = ("平均每天", "每天平均", "平均每日", "每日平均", "日均", "平均一天", "一天平均", "average daily", "daily average",
            "per day on average", "average per day")
_WEEKDAY_GROUP = ("星期几", "周几", "一周各天", "day of week", "weekday distribution")
_COMPARE_OPS = {"超过": ">", "大于": ">", "高于": ">", "多于": ">", "不低于": ">=", "不少于": ">=", "至少": ">=",
                "达到": ">=", "以上": ">=", "及以上": ">=", "低于": "<", "小于": "<", "少于": "<", "不足": "<",
                "以内": "<=", "之内": "<=", "内": "<=", "within": "<=", "no more than": "<=", "等于": "=",
                "不到": "<", "不超过": "<=", "以下": "<=", "及以下": "<=", "more than": ">", "over": ">",
                "above": ">", "greater than": ">", "at least": ">=", "less than": "<", "below": "<", "under": "<",
                "fewer than": "<", "at most": "<=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}
#: how a condition reads in the answer when the question put it otherwise (24小时内 → 不超过24小时)
_SAID_AS = {"以内": "不超过", "之内": "不超过", "内": "不超过", "within": "不超过", "no more than": "不超过",
            "more than": "超过", "over": "超过", "above": "超过", "greater than": "超过", "at least": "不少于",
            "less than": "低于", "below": "低于", "under": "低于", "fewer than": "少于", "at most": "不超过"}
#: a span of days or weeks in hours (办理时长超过3天)
_SPAN_HOURS = {"天": 24, "日": 24, "day": 24, "days": 24, "周": 168, "星期": 168, "个星期": 168, "week": 168, "weeks": 168}
_SCALE = {"万": 10_000, "亿": 100_000_000, "千": 1_000, "百": 100, "k": 1_000}
#: money units → yuan
_MONEY = {"元": 1, "万元": 10_000, "亿元": 100_000_000, "万": 10_000, "亿": 100_000_000}
#: words that carry no content in a question (what is left after them counts against confidence)
FILLER = re.compile(
    r"小区|马路|马|路上|街上|门口|附近|求助|老板|雇主|包工头|坏了|坏掉|出故障|出问题|拿到过|获得过|得到过|拿过|拿到|获得|得到|"
    r"是啥|咋样|咋回事|咋|啥|跟|既是|又是|既|并且|而且|且|处理|办理|咱们|俺们|那边|这边|那个|这个|拉一下|拉一份|拉个|拉下|统计下|算下|查下|看下|领导|的(?:城|辖)?区|浓度|提交|提出|打进|拨打|问题|承办|负责|处置|主要集中在|主要集中|集中在|集中|主要|通过|经由|经过|来自|反映的|反映|上报|收到|受理|产生|发生|登记|记录|出现|接到|一共有|总共有|累计有|"
    r"亿元|万元|千元|元|块钱|钱|亿|万|平方公里|平方千米|km²|km/h|公里|千米|小时|分钟|辆|口径|到目前为止|目前为止|为止|迄今|至今|"
    r"截至目前|到现在|年末|年底|末|上|链|已经|仍然|仍|还|同时|覆盖|处于|对应|库里|库|链上|本地|营业执照|"
    r"辖区内|辖区|区内|要|需要|花了|花|用了|平均要|一般|通常|大约要|"
    r"当天|当日|当月|当年|发放|发了|发|领取|领|拿|家庭|一共发|总共发|能不能|可以|能否|帮我看|想看|想了解|了解一下|了解|"
    r"两|全月|全年|全天|含所有状态|包括所有状态|只算|只要|只看|只统计|仅统计|仅算|不论|不管|拥有|两个方向|两方向|双向|合计|各自|国标|绝对数|绝对值|用|接了|接到|来了|底|份|"
    r"列一列|列|排一排|排|张|才|算|接|户均|分组|名称|重点|完成|即|比一比|群众|市民|总部|领导|我们区|我区|我们|现有|规模|关于|有关|关心|最关心|怎么|怎样|落在|位于|属于|处在|释放|发出|"
    r"本区|该区|所在区|各自|国民经济|涉及|覆盖了|打进来|进来|里面|这一类|这一块|这类|补的是|所补的?|"
    r"请问|请|帮我|帮忙|麻烦|查一下|查查|查询|查下|查|看一下|看看|看下|统计一下|统计|计算|算一下|告诉我|给我|我想知道|想知道|"
    r"一下|是多少|有多少|多少|有几|几|多大|多长|多高|怎么样|如何|情况|数据|数值|分别|大概|大约|总体|整体|"
    r"全市|我市|本市|全城|江城|城市|市里|全部|所有|全体|总共|一共|共计|共有|合计|总计|总数|数量|数目|个数|"
    r"哪个|哪些|哪一个|哪|什么|是|有|在|的|了|吗|呢|啊|呀|吧|和|与|及|以及|或|还有|中|里|内|期间|时候|时|之间|当中|"
    r"各|每|按|分|排名|排行|排序|从高到低|从低到高|由高到低|依次|对比|比较|相比|比|较|变化|分布|构成|结构|"
    r"为|达|达到|到|至|共|总|个|家|条|件|起|户|人|位|名|项|次|天|年|月|日|号|度|值|率|量|额|数|类|型|种|所|"
    r"前|后|第|最|都|也|又|再|就|还|被|把|对|向|让|给|这|那|其|该|本|今|现在|目前|当前|截至|截止|以来|"
    r"平均|合计|累计|增长|提高|下降|减少|上升|多|少|高|低|大|小|长|短|好|差|"
    r"[\s,，.。?？!！、:：;；\"'“”‘’()（）\[\]【】《》<>=+\-*/%~—_·]|\d+(?:\.\d+)?")
_EN_FILLER = frozenset(
    "what whats is are was were the a an of in on at for to from by with and or how many much total number numbers "
    "count amount show me give list tell please which each per all whole city entire during over between there "
    "did does do has have had be been being that this these those it its their than as into across within sum "
    "average mean overall value values level levels figure figures compare compared versus vs rate percent "
    "percentage share top most least highest lowest biggest largest smallest first second third last past "
    "previous year years month months quarter quarters day days week weeks half recorded registered record "
    "records reported data statistics stats what's out our my get see find rank ranked ranking order sorted "
    "citywide up down so far until through about around roughly approximately were got made filed file submitted "
    "lodged logged received opened created raised came come via using use used handled processed tell "
    "receive receives received routed route carried carry carries take takes took grow cumulative nominal "
    "citywide million billion "
    "can could would you i we us need want know like please kindly currently now today right just only also "
    "across overall every any some been being handled there's here let's show display report reported hours hour "
    "yuan rmb km km/h people persons percent whole among sit sits located currently counts volume volumes district "
    "districts handles handle handled still end wide city-wide make makes sit paid pay broken new counted covered "
    "live lives living aged passed pass include includes account accounts accounted".split())

_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Filter:
    sql: str
    label: str
    span: tuple[int, int]
    kind: str  # value | flag | compare | district
    table: str
    dim: str | None = None
    words: int = 1  # how many words of the question named its values
    values: tuple[str, ...] = ()  # the values named, in the order the question names them


@dataclass
class Plan:
    table: Table
    metric: Metric
    agg: str | None = None
    filters: list[Filter] = field(default_factory=list)
    window: timewin.Window | None = None
    group: Dimension | None = None
    group_table: str | None = None
    time_group: str | None = None  # month | quarter | day | weekday
    top: int | None = None
    descending: bool = True
    which: bool = False  # "which X is the most": the answer is the group's label
    share: bool = False
    share_drop: Filter | None = None
    compare: str | None = None  # yoy | mom | growth | pair (two windows the question names)
    previous: timewin.Window | None = None
    per_capita: bool = False
    per_day: bool = False  # a total divided by the days it covers (日均)
    per_hour: bool = False  # a total divided by the hours it covers (平均每小时)
    #: a total divided by the number of groups it covers (平均每个区, 月均): (SQL key over the table, how it reads)
    per_group: tuple[str, str] | None = None
    #: the caller reads the table only in aggregate (set before the SQL is written): no FILTERed counts
    aggregate_only: bool = False
    population_year: int | None = None  # the residents' year a per-10,000 figure divides by, when named
    #: what a per-base figure divides by: (districts column, multiplier, how it reads) — 每万常住人口 by default
    per_base: tuple[str, float, str] = ("resident_population", 10_000.0, "每万常住人口")
    confidence: float = 1.0
    residual: str = ""
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # why it cannot be answered as asked (coverage, missing columns)
    scale: float = 1.0  # the metric in the money unit the question asks for (人均GDP（万元/人）)
    unit: str | None = None
    #: a comparison answered as a difference (增加了多少, 提高了几个百分点) rather than a growth rate
    absolute: bool = False
    #: 年均增长率 between two years (compound annual growth)
    annual: bool = False
    #: "A比B多多少": the two values of the grouped dimension, A first (the answer is A − B)
    difference: tuple[str, str] | None = None
    #: 相差, 差距: the size of the difference without its sign
    unsigned: bool = False
    #: a condition on each group's figure (工单超过1000件的类别, 满意率超过90%的区): (SQL operator, value)
    having: tuple[str, float | None] | None = None  # None: the city's figure (高于全市平均的区)
    having_metric: Metric | None = None
    #: 光谷区的满意率比全市高多少: the named value's figure minus the city's (a count or a sum: minus the
    #: average over that dimension's values, 比全市平均)
    against_city: Filter | None = None
    #: 比…少多少, 低多少: the difference the other way round, so that it reads as asked (positive when it is less)
    lower: bool = False
    #: A是B的几倍: the first value's figure over the second's
    times: bool = False
    #: 工单超过2000件的类别有几个: how many groups the condition on their figure keeps
    count_groups: bool = False


@dataclass
class Refusal:
    reason: str
    alternative: str
    table: str | None


@lru_cache(maxsize=8192)
def _word_pattern(word: str) -> re.Pattern[str]:
    if word.isascii() and re.search(r"[a-z0-9]", word):
        return re.compile(r"(?<![a-z0-9])" + re.escape(word) + r"(?![a-z0-9])")
    return re.compile(re.escape(word))


class _Text:
    """The question with the spans already used."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.used: list[tuple[int, int]] = []

    def free(self, a: int, b: int) -> bool:
        return not any(a < y and x < b for x, y in self.used)

    def take(self, a: int, b: int) -> None:
        self.used.append((a, b))

    def find(self, word: str, take: bool = True) -> tuple[int, int] | None:
        """The first free occurrence of `word` (ASCII words on word boundaries)."""
        if not word or word not in self.text:
            return None
        for m in _word_pattern(word).finditer(self.text):
            if self.free(*m.span()):
                if take:
                    self.take(*m.span())
                return m.span()
        return None

    def any(self, words: tuple[str, ...], take: bool = True) -> tuple[int, int] | None:
        for w in sorted(words, key=len, reverse=True):
            if span := self.find(w, take):
                return span
        return None

    def residual(self) -> str:
        chars = list(self.text)
        for a, b in self.used:
            for i in range(a, b):
                chars[i] = " "
        return "".join(chars)


#: a clause that says why or for whom the figure is wanted (下周区长办公会要用, 写材料用): context, not content
_CONTEXT_CLAUSE = re.compile(r"要用|急用|开会用|会上用|办公会|常务会|例会|汇报|写材料|做材料|准备材料|领导要|领导问|"
                             r"领导想|写报告|写简报|统计要用|想比一比|比一比|写.{0,6}总结|做.{0,6}总结|总结用|for (?:a|the|my|our) (?:meeting|report|briefing)")
#: what happened on the days a question names (寒潮期间, 暴雨那天): a label of those days, not a condition
_DATED_EVENT = re.compile(r"(?:寒潮|暴雨|大雨|强降雨|台风|高温|降雪|大雪|冰冻|大风|雾霾|国庆|春节|节日|假期|小长假|长假|黄金周|假日)"
                          r"(?:期间|那天|那一天|当天|那几天|几天|时)?|(?:期间|那天|那一天|当天|那几天)")
_CLAUSE_SPLIT = re.compile(r"([，,。；;！!？?：:])")


def _drop_context(text: str) -> str:
    """Clauses that only give the occasion are dropped when they carry no figure or question word."""
    parts = _CLAUSE_SPLIT.split(text)
    clauses = ["".join(parts[i:i + 2]) for i in range(0, len(parts), 2)]
    if len(clauses) < 2:
        return text
    kept = [c for c in clauses if not (_CONTEXT_CLAUSE.search(c) and not re.search(r"\d|多少|几|哪|what|how|which", c))]
    return "".join(kept) if kept else text


def clean(question: str) -> str:
    text = _drop_context(normalize(question).lower().replace("_", " ").replace("'s ", " ").replace("’s ", " "))
    text = re.sub(r"[（(][^（）()]{0,20}口径[）)]", " ", text)  # （2025年常住人口口径）: how it is counted
    text = re.sub(r"[（(]\s*(?:或|还是|or)\s*[少低多高小大短长慢快]\s*[）)]", "", text)  # 多（或少）几个小时: signed
    text = re.sub(r"[（(][^（）()]{0,20}?(?:记录|各自)[^（）()]{0,12}?平均[）)]", " ", text)  # （按小时、方向记录平均）: the records' average
    text = re.sub(r"(?:公里|千米)(?:每|/)(?:小时|时)|km每小时", "km/h", text)  # 多少公里每小时: the unit, not an hourly breakdown
    text = re.sub(r"(?:一|1)\s*(?:周|星期)\s*[（(]\s*(\d+)\s*(?:个)?小时\s*[)）]", r"\1小时", text)  # 一周（168小时）
    # 用区名显示, （显示区名）, 给我区名: how the answer names the districts (it always does)
    text = re.sub(r"[（(]?\s*(?:请|并)?(?:用|以|按|带|显示|给出|给我|带上|附上|列出|列)?区(?:的)?名(?:称|字)?"
                  r"(?:显示|展示|回答|列出来|列出|写出来|给出)?[哈啊吧呀]?\s*[)）]?", " ", text)
    text = re.sub(r"\b(?:and )?(?:give|tell|show)(?: me)? (?:its|the district|the district's) name\b", " ", text)
    text = re.sub(r"(?:未|没有?|尚未|还没有?)(?:被)?(?:评价|回访)(?:过)?", "未回访", text)  # not rated
    text = re.sub(r"(?:已|有|参与|做了)评价(?:过)?", "已回访", text)  # rated (before 评价 → 平均 below)
    for wrong, right in TYPOS.items():
        text = text.replace(wrong, right)
    # 第三季度（7到9月）也就是汛期后半段: a second name of the period already given, not a condition
    text = re.sub(r"[（(]?(?:也就是|也即|亦即)[^，,。；;（）()\d]{1,10}(?:期间|阶段|时段|时期|半段|期)[）)]?", " ", text)
    # 办结率（已办结/总数）: how the rate is defined, not a condition on the rows
    text = re.sub(r"(率|比例|占比)\s*[（(][^（）()]{1,14}[/÷][^（）()]{1,14}[)）]", r"\1", text)
    text = re.sub(r"^全是(?=\S)", "全市", text)  # 全是工单办结率: a slip for 全市
    text = re.sub(r"谁(?=更?[高低多少大小快慢长短好差])", "", text)
    text = re.sub(r"\b(1[0-2]|0?\d)\s*(a\.?m\.?|p\.?m\.?)(?![a-z])", lambda m: f"{_clock(int(m.group(1)), m.group(2))}点", text)
    text = re.sub(r"地均(?=\s*(?:gdp|地区生产总值|生产总值|财政收入|一般公共预算收入|税收))", "每平方公里", text)  # 地均GDP
    text = re.sub(r"[交缴]了?(多少|几)?(?:钱的?)?税", r"纳税\1", text)  # 一共交了多少税: taxes paid
    text = re.sub(r"(?:为|等于|是)\s*(?:零|0)(?![.\d])", "等于0", text)  # 专利数为零
    text = re.sub(r"(?<![超经通越不难路错])过([千百]?)(亿|万)", lambda m: "超过" + {"千": "1000", "百": "100"}.get(m.group(1), "1")
                  + m.group(2), text)  # 营收过亿: more than 100 million
    # minimum living allowance: 低保 (its households, or the allowance itself), not a minimum
    text = re.sub(r"\bminimum[- ]living[- ](?:allowance|security|guarantee)\s+(?:households?|families|family|recipients)\b",
                  "dibao", text)
    text = re.sub(r"\bminimum[- ]living[- ](?:allowance|security|guarantee)\b",
                  "dibao" if re.search(r"how many|number of", text) else "dibao allowance", text)  # A和B谁高: both, the higher first
    # PM10日均值: the daily records' own figure (one row a station a day), not a count per day
    text = re.sub(r"(pm2\.5|pm25|pm10|aqi|no2|o3|臭氧|二氧化氮|细颗粒物|可吸入颗粒物|空气质量指数)\s*的?日均(?:值|浓度)", r"\1", text)
    text = timewin.digits(text)
    # 7、8月份 / 7和8月: each month named (三、四季度 likewise)
    text = re.sub(r"(?<![\d.年])(1[0-2]|0?[1-9])\s*(?:月份|月)?\s*[、,，和及与跟]\s*(?=(?:1[0-2]|0?[1-9])\s*(?:月份|月)(?![\d日号]))",
                  r"\1月、", text)
    text = re.sub(r"(?:第)?([一二三四1-4])\s*[、,，和及与]\s*(?:第)?(?=(?:[一二三四1-4])\s*季度)",
                  lambda m: f"{cn_number(m.group(1))}季度、", text)
    text = re.sub(r"(?<![\d.一二两三四五六七八九十])([千百])亿", lambda m: ("1000" if m.group(1) == "千" else "100") + "亿", text)
    text = re.sub(r"(?<![超经通越不难路错])过(?=\d)", "超过", text)  # GDP过千亿的区: more than 1000亿
    # 春季/夏季/秋季: meteorological seasons by month (demo-city convention: 3–5, 6–8, 9–11; winter spans two years
    # and stays unplaced); 9月上旬/中旬/下旬: days 1–10, 11–20, 21 to the month's end
    text = re.sub(r"春季|春天", "3月到5月", text)
    text = re.sub(r"夏季|夏天", "6月到8月", text)
    text = re.sub(r"秋季|秋天", "9月到11月", text)
    text = re.sub(r"(\d{1,2})月(?:份)?(上|中|下)旬", lambda m: _dekad(int(m.group(1)), m.group(2)), text)
    # 2021到2025年: both ends are years
    return re.sub(r"(?<!\d)((?:19|20)\d{2})\s*(到|至|-|—|–|~|～)\s*((?:19|20)\d{2})年", r"\1年\2\3年", text)


def _clock(hour: int, half: str) -> int:
    """8 am → 8, 5 pm → 17, 12 am → 0, 12 pm → 12."""
    return hour % 12 + (12 if half.startswith("p") else 0)


def _dekad(month: int, part: str) -> str:
    if not 1 <= month <= 12:
        return f"{month}月{part}旬"
    last = calendar.monthrange(2001, month)[1] if month != 2 else 28
    first, end = {"上": (1, 10), "中": (11, 20), "下": (21, last)}[part]
    return f"{month}月{first}日到{month}月{end}日"


# ---- personal data -------------------------------------------------------------------------------

_PERSONAL_WORDS: dict[str, tuple[str, ...]] = {
    "low_income_households": ("身份证", "证件号", "身份证号", "姓名", "名字", "户主", "电话", "手机", "联系方式", "住址",
                              "地址", "社区", "家庭编号", "户编号", "是谁", "哪些人", "哪些家庭", "名单", "明细", "清单",
                              "id number", "names", "name", "phone", "mobile", "address", "who", "community"),
    "enterprises": ("法人", "法定代表人", "法人代表", "负责人", "联系人", "联系电话", "手机", "电话", "联系方式",
                    "legal representative", "contact", "phone", "mobile"),
    "hotline_tickets": ("来电人", "投诉人", "反映人", "举报人", "来电号码", "市民电话", "市民姓名", "市民的电话",
                        "市民的姓名", "caller", "callers", "complainant"),
}
_ALTERNATIVE = {
    "low_income_households": "可以提供汇总数据：如“各区低保户数”“东湖区低保保障人数”“有残疾成员的低保户占比”（按区汇总，不含个人信息）。",
    "enterprises": "可以提供汇总数据：如“各区企业数”“高新技术企业数量”“制造业企业2024年营业收入合计”；"
                   "企业法定代表人和联系电话属个人信息，不通过问数提供。",
    "hotline_tickets": "可以提供汇总数据：如“各区工单数”“积水类工单的平均办理时长”；"
                       "热线工单数据集不含来电人的姓名、电话和地址。",
}


#: a request for records themselves rather than figures about them (any dataset: ask answers aggregates only)
_ROW_DUMP = re.compile(
    r"select\s*\*|select\s+[a-z_, ]+\s+from|前\s*\d+\s*(?:行|条记录|条数据|条明细)|\d+\s*行(?:数据|记录)?$|原始数据|原始记录|"
    r"原始表|源数据|全表|整张表|整个表|整表|全量数据|全量|明细|名单|花名册|清单|逐条|逐户|逐个|一条一条|每一条|每条记录|"
    r"所有记录|全部记录|所有数据|全部数据|详细信息|详细资料|详情|具体信息|个人信息|个人资料|导出|下载|拷贝|复制一份|"
    r"\bexport|\bdump|\bdownload|raw (?:data|rows|records|table)|\brows?\b|full table|entire table|whole table|"
    r"all (?:the )?records|every record|each record|individual (?:records|households|rows|people|cases|entries)|"
    r"record-level|row-level|line by line|one by one|\bdetails? of (?:each|every|all)|personal (?:data|details|information)")
#: words that ask for people: who they are, how to reach them, where they live
_PERSON = re.compile(
    r"身份证|证件号|证件|身份号|姓名|名字|叫什么|户主|本人|是谁|是哪些人|哪些人|都有谁|有谁|哪位|哪几位|谁家|哪些家庭|哪几户|"
    r"哪些户|哪家人|具体是|具体哪|电话|手机|号码|联系方式|联系人|联系电话|微信号|住址|地址|住在|住哪|家住|门牌|楼栋|"
    r"小区|社区|银行卡|账号|残疾证|病情|法人|法定代表人|(?:他|她)(?:家|住|的|是|们家)|(?:是不是|是否|有没有)在?(?:领|吃|享受|拿)|"
    r"\bwho\b|\bwhose\b|(?<!its )(?<!district )(?<!districts )\bnames?\b|\bid (?:numbers?|cards?|nos?)\b|identity|\bphones?\b|mobile|contact|"
    r"\baddress(?:es)?\b|where (?:they|each|the) (?:live|lives)|community|communities|bank (?:card|account)s?|legal rep|"
    r"residents? who|people who|households? who|families who")
#: the same for the hotline, whose channel is the telephone (电话 and mobile app name a channel there)
_CALLER = re.compile(r"身份证|姓名|名字|是谁|哪些人|都有谁|哪位|电话号码|手机号|号码是|联系方式|住址|家庭地址|来电人|投诉人|举报人|"
                     r"反映人|市民的(?:姓名|电话|手机|地址|信息)|\bwho\b|\bwhose\b|(?<!its )(?<!district )(?<!districts )\bnames?\b|phone numbers?|"
                     r"\baddress(?:es)?\b|(?<!satisfied )(?<!dissatisfied )(?<!unsatisfied )callers?|complainants?")
#: 查一下何菊香家…, 查查张伟是不是…: one named person's or household's record (common surnames, then one or two characters)
_NAMED_PERSON = re.compile(
    r"(?:^|[，,。；;！!？?\s])(?:查一下|查查|查询|查|问一下|问问|看一下|看看|帮我查|帮忙查|核实)?\s*"
    r"([王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    r"金石廖贾夏韦付方白邹孟熊秦邱侯薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔向汤][\u4e00-\u9fff]{1,2}?)"
    r"(?:家|是不是|是否|有没有|的低保|领|在不在)")
#: a figure about the records (a count, a total, a grouping): not a request for the rows themselves
_AGG_CUE = re.compile(r"多少|几[户家个条件人位]|最多|最少|最高|最低|排名|前\d|各|每|按|most|highest|top|数量|总数|个数|户数|人数|合计|总和|总计|平均|占比|比例|各区|按区|分区|每个区|"
                      r"哪些区|哪几个区|的(?:城|辖)?区(?:有|是|都有|都是)哪|"
                      r"how many|number of|count|total|average|sum|share|per district|by district")
_PERSONAL_TABLES = ("low_income_households", "enterprises", "hotline_tickets")
#: "list them", "which households": rows unless a figure is asked for
_LISTING = re.compile(r"列出|列一下|列个|列举|罗列|一一|分别是哪|具体有哪|有哪些|是哪些|哪些(?:低保)?(?:家庭|户|人)|哪几(?:家|户)|"
                      r"\blist\b|show me (?:all|each|every|the)|which (?:households|families|people|persons)")


def personal_request(text: str, table: Table | None) -> Refusal | None:
    """A question asking for people's personal data or for a dataset's records themselves: refused
    before anything else is parsed (ask returns aggregates only, never personal rows)."""
    words = _PERSONAL_WORDS.get(table.id, ()) if table else ()
    text = re.sub(r"\b(?:dis|un)?satisfied callers?\b", "satisfied", text)  # how the ticket was rated, not who called
    t = _Text(text)
    hit = t.any(words, take=False)
    word = text[hit[0]:hit[1]] if hit else None
    person = _CALLER if table is not None and table.id == "hotline_tickets" else _PERSON
    if word is None and table is not None and table.id in _PERSONAL_TABLES and (m := person.search(text)):
        word = m.group(0)
    if word is None and table is not None and table.id == "low_income_households" and (m := _NAMED_PERSON.search(text)) \
            and "区" not in m.group(1):
        word = m.group(1)
    if word is None and (m := _ROW_DUMP.search(text)):
        personal = table is None or table.personal or table.id in _PERSONAL_TABLES
        if personal or not _AGG_CUE.search(text):
            word = m.group(0)
    if word is None and table is not None and table.personal and (m := _LISTING.search(text)) \
            and not _AGG_CUE.search(text):
        word = m.group(0)
    if word is None and table is None and (m := re.search(r"户主|是谁|谁是|姓名|名字|身份证|证件号|手机号|电话号码|住址|家庭地址|\bwho\b|id number|"
                                                           r"phone number|home address", text)):
        word = m.group(0)
    if word is None:
        return None
    title = table.title if table else "数据"
    return Refusal(
        reason=f"“{word.strip()}”是在要个人信息或逐条记录：{title}中的个人信息和原始记录不通过问数提供（个人信息保护法"
               f"第二十八条、GB/T 43697-2024 分级管理；导出须走数据目录的受控申请），问数只提供不含个人信息的汇总结果。",
        alternative=_ALTERNATIVE.get(table.id if table else "", "可以提供不含个人信息的汇总数据，如各区数量、合计、平均值、占比。"),
        table=table.id if table else None)


# ---- table choice --------------------------------------------------------------------------------

def _table_lexicon(table: Table, layer: Layer) -> list[tuple[str, float]]:
    words: list[tuple[str, float]] = [(w, 3.0) for w in table.words]
    for m in table.metrics.values():
        if not m.is_count:
            words += [(w, 2.0) for w in m.words]
    for d in table.dimensions.values():
        if d.id == "district_id":
            continue
        words += [(w, 1.5) for w in d.words]
        for ws in d.values.values():
            words += [(w, 2.0) for w in ws]
        words += [(w, 2.0) for w in d.aliases]
    words += [(w, 2.0) for w in table.flags]
    if table.time:
        words += [(w, 2.0) for w in table.time.trigger]
    for r in layer.relations_from(table.id):
        for did in r.via:
            d = layer.tables[r.target].dimensions[did]
            for ws in d.values.values():
                words += [(w, 1.0) for w in ws]
    return words


_LEXICONS: dict[tuple[int, str], list[tuple[str, float]]] = {}


def _lexicon(layer: Layer, tid: str) -> list[tuple[str, float]]:
    key = (id(layer), tid)
    if key not in _LEXICONS:
        words = [(w, n) for w, n in _table_lexicon(layer.tables[tid], layer) if w not in _EN_FILLER]  # city, whole …
        _LEXICONS[key] = sorted(words, key=lambda x: -len(x[0]))
    return _LEXICONS[key]


def choose_table(text: str, layer: Layer) -> tuple[Table | None, float]:
    """The table the question is about, and how clearly (0..1)."""
    scores: dict[str, float] = {}
    masked = _Text(text)
    while masked.any(_PER_CAPITA):  # 每万常住人口: the divisor, not what is asked about
        pass
    for pattern in (_PER_BASE, _BASE_SHARE, _PER_AREA):
        for m in pattern.finditer(text):
            masked.take(*m.span())
    if (span := _district_condition_span(text, layer)) and not re.fullmatch(
            r"[\s，,。？?]*(?:是|有)?(?:哪个|哪一个|哪)?[\s，,。？?]*", text[:span[0]] + text[span[1]:]):
        masked.take(*span)  # 常住人口超过100万的区的工单数: the districts are a condition, the tickets are asked about
    for t in layer.tables.values():
        probe = _Text(text)
        probe.used = list(masked.used)
        score = 0.0
        for word, weight in _lexicon(layer, t.id):
            if len(word) < 2 and not word.isascii():
                continue
            if probe.find(word):
                score += weight * min(len(word), 6) / 2
        scores[t.id] = score
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, best_score = ranked[0]
    if best_score <= 0 and span:  # 人口超过100万的区有哪些: the districts themselves are asked about
        return choose_table(text.replace(text[span[0]:span[1]], text[span[0]:span[1]] + "区情"), layer)
    if best_score <= 0:
        return None, 0.0
    runner = ranked[1][1] if len(ranked) > 1 else 0.0
    clarity = 1.0 if best_score >= 2 * runner or best_score - runner >= 3 else 0.6
    return layer.tables[best], clarity


# ---- the plan ------------------------------------------------------------------------------------

def _number(raw: str, scale: str | None) -> float:
    n = float(raw.replace(",", ""))
    return n * _SCALE.get(scale or "", 1)


_RANGE = re.compile(r"(?:在|介于)?\s*(\d+(?:\.\d+)?)\s*(万|亿|千)?\s*(元|万元|亿元|人|小时|件|辆)?\s*(?:到|至|-|~|～|—)\s*"
                    r"(\d+(?:\.\d+)?)\s*(万|亿|千)?\s*(元|万元|亿元|人|小时|件|辆)?\s*(之间|以内|范围内)?(?![\d点时月日号年])")


def _ranges(t: _Text, table: Table, plan: Plan) -> None:
    """注册资本在500万到1000万之间, 从业人员50到100人: a column between two numbers (both ends included)."""
    column_metrics = [m for m in table.metrics.values() if m.column]
    for m in _RANGE.finditer(t.text):
        lo_raw, lo_scale, lo_unit, hi_raw, hi_scale, hi_unit, between = m.groups()
        unit, scale = hi_unit or lo_unit, hi_scale or lo_scale
        if not t.free(*m.span()) or not (unit or scale or between):
            continue  # a bare 3到5 is no condition on a figure
        before = t.text[max(0, m.start() - 12):m.start()]
        metric = next((c for c in column_metrics if any(before.rstrip("在为是 ").endswith(w) for w in c.words)), None) \
            or _metric_by_unit(column_metrics, unit or "")
        if metric is None:
            continue
        bounds = []
        for raw, sc in ((lo_raw, lo_scale or scale), (hi_raw, sc2 := hi_scale or scale)):
            value = _number(raw, sc)
            money = _MONEY.get(metric.unit.removesuffix("/月"))
            if money and (sc or unit in _MONEY):
                value = value * _MONEY.get(unit or "", 1) / money
            bounds.append(value)
        del sc2
        word_span = _metric_word_span(t, metric, m.start() + (1 if t.text[m.start()] in "在介" else 0))
        t.take(*m.span())
        if word_span:
            t.take(*word_span)
        shown_unit = unit or ("元" if scale and metric.unit.endswith("元") else metric.unit)
        plan.filters.append(Filter(f"{metric.column} BETWEEN {bounds[0]:g} AND {bounds[1]:g}",
                                   f"{metric.name}{lo_raw}{lo_scale or ''}—{hi_raw}{hi_scale or ''}{shown_unit}",
                                   m.span(), "compare", table.id))


def _comparisons(t: _Text, table: Table, plan: Plan) -> None:
    """`注册资本超过1000万元`, `AQI大于150`, `办理时长超过48小时`, `3人以上`: conditions on a column."""
    ops = "|".join(re.escape(o) for o in sorted(_COMPARE_OPS, key=len, reverse=True))
    number = r"(\d+(?:[.,]\d+)*)\s*(万|亿|千|百|k)?\s*(元|万元|亿元|人|小时|个小时|hours?|h|件|µg/m³|微克|辆|km/h|公里|天|日|周|个星期|星期|days?|weeks?)?"
    patterns = [re.compile(rf"(?P<op>{ops})\s*{number}"),
                re.compile(rf"{number}\s*(?P<op>以上|以下|及以上|及以下|以内|之内|内)")]
    column_metrics = [m for m in table.metrics.values() if m.column]
    for pattern in patterns:
        for m in pattern.finditer(t.text):
            if not t.free(*m.span()):
                continue
            groups = [g for g in m.groups()]
            op = m.group("op")
            raw, scale, unit = (groups[1], groups[2], groups[3]) if groups[0] == op else (groups[0], groups[1], groups[2])
            before = t.text[max(0, m.start() - 12):m.start()]
            metric = None
            for cand in column_metrics:
                if any(w in before for w in cand.words):
                    metric = cand
            if metric is None:
                metric = _metric_by_unit(column_metrics, unit or "")
            if metric is None:
                continue
            value = _number(raw, scale)
            money = _MONEY.get(metric.unit.removesuffix("/月"))
            if money and (scale or unit in _MONEY):
                value = value * _MONEY.get(unit or "", 1) / money
                unit = unit or "元"  # 1亿: yuan
            if metric.unit == "小时" and unit in _SPAN_HOURS:  # 超过3天, 超过一周: in hours
                value, raw, unit = value * _SPAN_HOURS[unit], f"{raw}{unit}", "（" + f"{value * _SPAN_HOURS[unit]:g}小时）"
            word_span = _metric_word_span(t, metric, m.start())
            t.take(*m.span())
            if word_span:
                t.take(*word_span)
            sql_op = _COMPARE_OPS[op]
            shown = f"{value:g}"
            said = _SAID_AS.get(op, op)
            amount = f"{raw}{scale or ''}{unit or metric.unit}"
            label = f"{metric.name}{amount}{op}" if op in ("以上", "以下", "及以上", "及以下") else f"{metric.name}{said}{amount}"
            plan.filters.append(Filter(f"{metric.column} {sql_op} {shown}", label, m.span(), "compare", table.id))


_MISSING = r"没(?:有)?(?:报|填|申报|填报)|未(?:填|申|填)?报|未填|缺报|漏报|缺失|空缺|为空|是空的|没有数据|无数据"


def _missing(t: _Text, table: Table, plan: Plan) -> None:
    """没报2024年营收的企业, 营收缺失的: the rows where the column is empty (a count of them)."""
    if not plan.metric.is_count:
        return
    for cand in (m for m in table.metrics.values() if m.column):
        words = "|".join(re.escape(w) for w in sorted(cand.words, key=len, reverse=True) if len(w) > 1)
        if not words:
            continue
        for m in re.finditer(rf"(?P<neg>{_MISSING})\s*(?:\d{{4}}\s*年\s*(?:度)?)?的?\s*(?P<w>{words})|"
                             rf"(?P<w2>{words})\s*(?:数据|数值|一项|这一项)?\s*(?P<neg2>{_MISSING})", t.text):
            neg, word = ("neg", "w") if m.group("neg") else ("neg2", "w2")
            if not (t.free(*m.span(neg)) and t.free(*m.span(word))):
                continue
            t.take(*m.span(neg))
            t.take(*m.span(word))
            plan.filters.append(Filter(f"{cand.column} IS NULL", f"{cand.name}空缺", m.span(), "compare", table.id))
            if plan.window is not None and len(plan.window.years) == 1 and f"_{plan.window.years[0]}_" in cand.column:
                plan.window = None  # 没报2024年营收: the year names the figure's year, not a time filter
            return


_GROUP_CONDITION_UNITS = r"(%|％|件|条|起|次|家|个|户|人)?"


_CITY_CONDITION = re.compile(r"(?P<op>高于|低于|超过|大于|小于|不及|不到|不足)\s*(?:全市|全市的|本市|全城)(?:平均(?:水平|值|数)?|"
                             r"的?(?:整体|总体)?水平)?\s*(?=的)")
_CITY_FIGURE = re.compile(r"全市|本市|全城|city(?:-wide)? average|the city|citywide")


def _named_before(t: _Text, table: Table, at: int) -> Metric | None:
    """The metric whose word ends right before `at` (满意率|超过90%), the longest word winning."""
    before = re.sub(r"\s*(?:在|为|是|都在)\s*$", "", t.text[max(0, at - 10):at])  # AQI在50以下: the figure is AQI's
    named = [(len(w), metric) for metric in table.metrics.values() for w in metric.words if before.endswith(w)]
    return max(named, key=lambda x: x[0])[1] if named else None


def _group_condition(t: _Text, table: Table, plan: Plan) -> None:
    """`工单超过1000件的类别`, `满意率超过90%的区`: a condition on each group's figure, not on rows. Only the
    metric the question names (or the count) is conditioned; a condition right after another metric stays unplaced."""
    if plan.having is not None:
        return
    ops = "|".join(re.escape(o) for o in sorted(_COMPARE_OPS, key=len, reverse=True))
    pattern = re.compile(rf"(?P<op>{ops})\s*(\d+(?:\.\d+)?)\s*(万|千|百)?\s*{_GROUP_CONDITION_UNITS}"
                         rf"|(\d+(?:\.\d+)?)\s*(万|千|百)?\s*{_GROUP_CONDITION_UNITS}\s*(?P<op2>以上|以下|及以上|及以下)")
    city = _CITY_CONDITION.search(t.text)
    if city and t.free(*city.span()):  # 满意率高于全市的区, 工单数高于全市平均的区
        metric = _named_before(t, table, city.start()) or table.count
        if metric is not None and (metric.expr is not None or metric.agg in ("sum", "avg")):
            t.take(*city.span())
            plan.having, plan.having_metric = (_COMPARE_OPS[city.group("op")], None), metric
            for w in metric.words:
                t.find(w)
            return
    for m in pattern.finditer(t.text):
        if not t.free(*m.span()):
            continue
        op = m.group("op") or m.group("op2")
        raw, scale, unit = (m.group(2), m.group(3), m.group(4)) if m.group("op") else (m.group(5), m.group(6), m.group(7))
        if not re.match(r"\s*的", t.text[m.end():]):
            continue  # 工单超过1000件的类别: the condition names the groups it keeps
        metric = _named_before(t, table, m.start()) or table.count
        if metric is None or metric.column is not None:
            continue  # a column's condition is a row filter (注册资本超过1000万元的企业)
        if unit in ("%", "％") and metric.unit != "%" or unit not in (None, "%", "％") and not metric.is_count:
            continue
        if metric.is_count and unit not in (None, metric.unit, "个") and unit in ("人", "户") and metric.unit != unit:
            continue  # 员工规模500人以上的企业: people are a column's condition, not a count of firms
        t.take(*m.span())
        plan.having, plan.having_metric = (_COMPARE_OPS[op], _number(raw, scale)), metric
        for w in metric.words:
            t.find(w)
        return


def _condition_group(t: _Text, table: Table, plan: Plan) -> None:
    """The groups a condition on their figure keeps (…的区, …的类别) when nothing else grouped."""
    if plan.having is None or plan.group is not None:
        return
    dims = sorted(((w, d) for d in table.dimensions.values() for w in d.words), key=lambda x: len(x[0]), reverse=True)
    if "district_id" in table.dimensions:
        dims.append(("区", table.dimensions["district_id"]))
    for word, dim in dims:
        for m in re.finditer(r"的\s*" + re.escape(word), t.text):
            plan.group, plan.group_table = dim, table.id
            t.take(*m.span())
            return


_DISTRICT_OPS = r"超过|大于|高于|多于|不低于|不少于|至少|达到|低于|小于|少于|不足|不到|不超过"


@lru_cache(maxsize=8)
def _district_condition_re(words: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?P<w>{names})\s*(?:(?P<op>{_DISTRICT_OPS})\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<s>万|亿|千)?\s*"
                      rf"(?:人|户|亿元|万元|元|平方公里|km²)?|(?P<top>最[高多大低少小]))\s*的\s*(?:那个|那些|几个)?\s*(?:城|辖)?区")


def _district_metrics(layer: Layer) -> list[Metric]:
    districts = layer.tables.get("districts")
    return [m for m in districts.metrics.values() if m.column] if districts else []


def _district_condition_span(text: str, layer: Layer) -> tuple[int, int] | None:
    """常住人口超过100万的区, GDP最高的区: a condition on districts through their statistics."""
    words = tuple(w for m in _district_metrics(layer) for w in m.words if not w.isascii() or len(w) > 2)
    m = _district_condition_re(words).search(text) if words else None
    return m.span() if m else None


def _district_condition(t: _Text, table: Table, layer: Layer, plan: Plan) -> None:
    """The rows of the districts a condition on the district statistics keeps (the declared join to districts):
    常住人口超过100万的区的工单数, GDP最高的区有多少家企业 (the latest year's statistics)."""
    if table.id == "districts" or not any(r.target == "districts" for r in layer.relations_from(table.id)):
        return
    metrics = _district_metrics(layer)
    words = tuple(w for m in metrics for w in m.words if not w.isascii() or len(w) > 2)
    for m in _district_condition_re(words).finditer(t.text):
        if not t.free(*m.span()):
            continue
        metric = next(x for x in metrics if m.group("w") in x.words)
        latest = "d2.year = (SELECT MAX(d3.year) FROM districts AS d3)"
        if m.group("top"):
            order = "DESC" if m.group("top")[1] in "高多大" else "ASC"
            sql = (f"district_id = (SELECT d2.district_id FROM districts AS d2 WHERE {latest} "
                   f"ORDER BY d2.{metric.column} {order} LIMIT 1)")
            label = f"{metric.name}{m.group('top')}的区"
        else:
            value = _number(m.group("n"), m.group("s"))
            money = _MONEY.get(metric.unit)
            if money and m.group("s"):
                value = value / money
            sql = (f"district_id IN (SELECT d2.district_id FROM districts AS d2 WHERE {latest} "
                   f"AND d2.{metric.column} {_COMPARE_OPS[m.group('op')]} {value:g})")
            label = f"{metric.name}{m.group('op')}{m.group('n')}{m.group('s') or ''}的区"
        t.take(*m.span())
        plan.filters.append(Filter(sql, label, m.span(), "value", table.id, "district_condition"))
        return


def _metric_by_unit(metrics: list[Metric], unit: str) -> Metric | None:
    unit = unit.strip()
    if not unit:
        return None
    wanted = {"人": "人", "小时": "小时", "个小时": "小时", "h": "小时", "hour": "小时", "hours": "小时", "件": "件",
              "辆": "辆", "km/h": "km/h", "公里": "km/h", "µg/m³": "µg/m³", "微克": "µg/m³", "元": "元", "万元": "万元",
              "亿元": "亿元"}.get(unit)
    found = [m for m in metrics if m.unit == wanted or (wanted in ("元", "万元", "亿元") and m.unit in
                                                          ("元", "万元", "亿元", "元/月"))]
    return found[0] if len(found) == 1 else None


def _metric_word_span(t: _Text, metric: Metric, before: int) -> tuple[int, int] | None:
    best = None
    for w in metric.words:
        i = t.text.rfind(w, 0, before)
        if i >= 0 and before - (i + len(w)) <= 4 and t.free(i, i + len(w)) and (best is None or i < best[0]):
            best = (i, i + len(w))
    return best


def _dimension_filters(t: _Text, table: Table, layer: Layer, plan: Plan) -> None:
    """Values of the table's dimensions (and of dimensions reached through declared joins)."""
    candidates: list[tuple[str, str, Dimension, tuple[str, ...]]] = []
    sources: list[tuple[str, Table]] = [(table.id, table)]
    for r in layer.relations_from(table.id):
        if r.via:
            sources.append((r.target, layer.tables[r.target]))
    for owner, tbl in sources:
        for d in tbl.dimensions.values():
            if owner != table.id and d.id not in _via(layer, table.id, owner):
                continue
            for value, words in d.values.items():
                candidates += [(w, owner, d, (value,)) for w in words]
            candidates += [(w, owner, d, values) for w, values in d.aliases.items()]
    candidates.sort(key=lambda c: -len(c[0]))
    longer = [w for m in table.metrics.values() for w in m.words] + list(table.flags) + [
        w for _, tbl in sources for d in tbl.dimensions.values() for w in d.words if len(w) > 2]
    shadows = [(i, i + len(w)) for w in longer for i in _occurrences(t.text, w)]
    chosen: dict[tuple[str, str], tuple[list[str], list[tuple[int, int]], list[str]]] = {}
    released: list[tuple[int, int]] = []
    first: dict[tuple[str, str, str], int] = {}  # where each value is first named
    named: dict[tuple[str, str], list[tuple[str, ...]]] = {}  # the value sets each word named
    for word, owner, d, values in candidates:
        if len(word) < 2 and not word.isascii():
            continue
        while span := t.find(word, take=False):
            if any(a <= span[0] and span[1] <= b and b - a > span[1] - span[0] for a, b in shadows):
                t.take(*span)  # part of a longer metric or flag word (办结 in 办结率): released below
                released.append(span)
                continue
            t.take(*span)
            if len(values) == 1 and d.id != "district_id":
                span = _value_context(t, span, d.label(values[0]))
            vals, spans, words = chosen.setdefault((owner, d.id), ([], [], []))
            named.setdefault((owner, d.id), []).append(values)
            vals += [v for v in values if v not in vals]
            for v in values:
                first[(owner, d.id, v)] = min(first.get((owner, d.id, v), span[0]), span[0])
            spans.append(span)
            words.append(word)
    for span in released:
        t.used.remove(span)
    for (owner, did), (vals, spans, words) in chosen.items():
        sets = [set(v) for v in named.get((owner, did), [])]
        for broad in sets:  # 噪音…工地施工和邻居吵闹: the broad word is narrowed by the specific ones it covers
            rest = set().union(*(x for x in sets if x is not broad and x < broad)) if sets else set()
            narrower = {frozenset(x) for x in sets if x < broad}
            if len(narrower) > 1 and rest < broad and all(x <= broad or x.isdisjoint(broad) for x in sets):
                vals[:] = [v for v in vals if v in rest or not any(v in x for x in sets if x is broad)]
        d = (layer.tables[owner]).dimensions[did]
        vals.sort(key=lambda v: first.get((owner, did, v), 0))
        quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in vals)
        sql = f"{d.expr} = {quoted}" if len(vals) == 1 else f"{d.expr} IN ({quoted})"
        label = "、".join(d.label(v) for v in vals)
        if (neg := _negated(t, spans)) is not None:  # 非电话渠道, 除了光谷区以外: every other value
            sql, label = f"NOT ({sql})", f"{neg}{label}"
        kind = "district" if did == "district_id" else "value"
        # 线上渠道（网站、APP、小程序）: the list restates what one word named — one condition, not values side by side
        said = 1 if any(set(v) >= set(vals) for v in named.get((owner, did), [])) else len(set(words))
        plan.filters.append(Filter(sql, label, (min(s[0] for s in spans), max(s[1] for s in spans)), kind, owner, did,
                                   said, tuple(vals)))


def _negated(t: _Text, spans: list[tuple[int, int]]) -> str | None:
    """非电话渠道, 除了光谷区以外(的), 除光谷区外, not by phone: the values named are excluded (the words taken)."""
    if len(spans) != 1:
        return None
    a, b = spans[0]
    if a > 0 and t.text[a - 1] == "非" and t.free(a - 1, a):
        t.take(a - 1, a)
        return "非"
    before = re.search(r"(?:除了|除去|除)\s*$", t.text[:a])
    after = re.match(r"\s*(?:以外|之外|外)(?:的)?(?:其他|其余|别的)?(?:的)?(?:城区|辖区|区(?![a-z\u4e00-\u9fff]*?区))?",
                     t.text[b:])
    if before and after and t.free(before.start(), a) and t.free(b, b + after.end()):
        t.take(before.start(), a)
        t.take(b, b + after.end())
        return "除"
    return None


def _value_context(t: _Text, span: tuple[int, int], label: str) -> tuple[int, int]:
    """The characters right beside a value's word that belong to the value's own name are part of naming it
    (下水道|堵 of 下水道堵塞, 危化品|泄漏 of 危险化学品泄漏); taken with it."""
    bag = set(_CJK.findall(label))
    a, b = span
    while b < len(t.text) and b - span[1] < 4 and t.text[b] in bag and t.free(b, b + 1):
        b += 1
    while a > 0 and span[0] - a < 4 and t.text[a - 1] in bag and t.free(a - 1, a):
        a -= 1
    if (a, b) != span:
        t.take(a, b)
    return a, b


def _occurrences(text: str, word: str) -> list[int]:
    found, i = [], text.find(word)
    while i >= 0:
        found.append(i)
        i = text.find(word, i + 1)
    return found


def _via(layer: Layer, source: str, target: str) -> tuple[str, ...]:
    return next((r.via for r in layer.relations_from(source) if r.target == target), ())


_HOUR = re.compile(r"(?:每天|每日)?(?<![\d.])([01]?\d|2[0-3])\s*(?:点钟?|时)(?:那个小时|这个小时|那一小时|这一小时|这一个小时|"
                   r"那一个小时)?(?!\d{1,2}分|半|\d+[:：])")


_HOUR_SPAN = re.compile(r"(?<![\d.])([01]?\d|2[0-3])\s*(?:点|时)?\s*(?:-|—|–|~|～|到|至)\s*([01]?\d|2[0-4])\s*(?:点钟?|时)(?![\d半])")


def _hour_filter(t: _Text, table: Table, plan: Plan) -> None:
    """8点那个小时: one hour of the day; 17-19点: the hours from 17 up to 19 (records of 17 and 18 o'clock)."""
    if "hour" not in table.dimensions:
        return
    for m in _HOUR_SPAN.finditer(t.text):
        lo, hi = int(m.group(1)), int(m.group(2))
        if t.free(*m.span()) and lo != hi:
            t.take(*m.span())
            sql = f"hour >= {lo} AND hour < {hi}" if lo < hi else f"(hour >= {lo} OR hour < {hi})"  # 22点到6点: overnight
            plan.filters.append(Filter(sql, f"{lo}–{hi}时", m.span(), "value", table.id, "hour"))
            break
    spanned = any(f.dim == "hour" for f in plan.filters)
    found = [m for m in _HOUR.finditer(t.text) if t.free(*m.span())]
    listed = len(found) > 1 and not _COMPARE_CUE.search(t.text) and all(
        re.fullmatch(r"\s*[、和及,，]\s*", t.text[a.end():b.start()]) for a, b in itertools.pairwise(found))
    if listed:  # （即7点、8点两个小时）: the hours named one by one, together
        hours = sorted({int(m.group(1)) for m in found})
        for m in found:
            t.take(*m.span())
        plan.filters.append(Filter(f"hour IN ({', '.join(map(str, hours))})", "、".join(f"{h}时" for h in hours),
                                   found[0].span(), "value", table.id, "hour"))
        return
    for m in found[:0 if spanned else 1]:
        t.take(*m.span())
        hour = int(m.group(1))
        plan.filters.append(Filter(f"hour = {hour}", f"{hour}时", m.span(), "value", table.id, "hour", 1, (str(hour),)))


def _asked_unit(t: _Text, plan: Plan) -> None:
    """多少万元, （亿元）: the figure in the money unit the question names, when the metric is money."""
    base = plan.metric.unit.removesuffix("/月")
    if base not in ("元", "万元", "亿元"):
        return
    for m in re.finditer(r"亿元|万元|元", t.text):
        if t.free(*m.span()):
            t.take(*m.span())
            if m.group(0) != base:
                plan.scale = _MONEY[base] / _MONEY[m.group(0)]
                plan.unit = m.group(0) + plan.metric.unit[len(base):]
            return


def _flags(t: _Text, table: Table, plan: Plan) -> None:
    for word in sorted(table.flags, key=len, reverse=True):
        while span := t.find(word):
            if any(f.kind == "flag" and f.sql == table.flags[word] for f in plan.filters):
                continue
            sql, label = table.flags[word], word
            if (neg := re.search(r"(?:非|不是|并非)\s*$", t.text[:span[0]])) and t.free(neg.start(), span[0]):
                t.take(neg.start(), span[0])  # 非高新企业: the rows without it
                sql, label = f"NOT ({sql})", t.text[neg.start():span[1]]
            plan.filters.append(Filter(sql, label, span, "flag", table.id))
    flags = sorted((f for f in plan.filters if f.kind == "flag"), key=lambda f: f.span[0])
    for a, b in itertools.pairwise(flags):  # 高新技术企业或专精特新企业: either one
        if (m := re.fullmatch(r"\s*(?:企业|公司|工单|家庭)?\s*(或者|或是|或|\bor\b)\s*", t.text[a.span[1]:b.span[0]])):
            t.take(a.span[1] + m.start(1), a.span[1] + m.end(1))
            plan.filters = [f for f in plan.filters if f is not a and f is not b]
            plan.filters.append(Filter(f"({a.sql} OR {b.sql})", f"{a.label}或{b.label}", (a.span[0], b.span[1]), "flag",
                                       table.id))
            return


def _metric(t: _Text, table: Table, plan: Plan) -> bool:
    """The metric the question names (the longest word wins), else the table's count."""
    best: tuple[int, Metric, tuple[int, int]] | None = None
    of = t.text.find("占")
    dim_spans = [(i, i + len(w)) for d in table.dimensions.values() for w in d.words if len(w) > 2
                 for i in _occurrences(t.text, w)]
    named = [(w, m, probe) for m in table.metrics.values() for w in m.words if (probe := t.find(w, take=False))
             and not any(a <= probe[0] and probe[1] <= b and b - a > len(w) for a, b in dim_spans)]
    if of >= 0 and any(p[1] <= of for _, _, p in named) and any(p[0] > of for _, m, p in named if m.column):
        named = [c for c in named if c[2][1] <= of]  # 纳税额占营业收入的比例: the part is named before 占
    # how many people / how many vehicles: the figure named right after the generic words, not the count of rows
    named = [c for c in named if not (c[1].is_count and c[0] in ("how many", "number of") and any(
        not m.is_count and 0 <= p[0] - c[2][1] <= 2 for _, m, p in named))]
    counted = [c for c in named if c[1].is_count]
    for w, m, probe in named:
        if counted and not m.is_count and re.match(r"的\s*(?:" + "|".join(map(re.escape, table.words + table.nouns))
                                                     + ")", t.text[probe[1]:]):
            continue  # 拿到过融资的招商线索有几家: the figure names which rows are counted
        if best is None or len(w) > best[0] or (len(w) == best[0] and m.is_count is False):
            best = (len(w), m, probe)
    if best is None or best[1].is_count:  # 平均要多少个小时: the one metric measured in the unit asked
        asked = re.search(r"(?:多少|几)\s*个?\s*(小时|辆|km/h|公里)", t.text)
        by_unit = _metric_by_unit([m for m in table.metrics.values() if m.column], asked.group(1)) if asked else None
        if asked and by_unit is not None and t.free(*asked.span(1)):
            t.take(*asked.span(1))
            best = (0, by_unit, asked.span(1))
    if best is None:
        fallback = table.metrics.get(table.default_metric or "") or table.count
        if table.count is not None and table.count.unit == "站日" and re.search(
                r"(?:多少|几)个?[^，,。？?\d]{0,6}?(?:天|站日)(?!气)", t.text):
            fallback = table.count  # 每个站点平均有多少个污染天: the days are counted
        if fallback is None:
            return False
        plan.metric = fallback
        plan.notes.append("default-metric")
        return True
    plan.metric = best[1]
    t.take(*best[2])
    for m in table.metrics.values():  # the same metric named twice (工单数量 … 多少件); 人均每月补助: the column it divides
        if m is plan.metric or m.column and plan.metric.expr and re.search(rf"SUM\({m.column}\)\s*\*\s*1\.0\s*/",
                                                                           plan.metric.expr):
            for w in m.words:
                t.find(w)
    return True


#: a plain dimension word (行业, 渠道) groups only when the question asks for a breakdown
_GROUP_CUE = re.compile(r"\d+\s*条(?!记录|数据)|历年|逐年|近几年|这几年|近\d年|各|每|按|分别|哪|排名|排行|分布|构成|占比|变化|趋势|走势|前\d|后\d|倒数|最.{0,3}的|top|bottom|by |per |each |which |"
                        r"breakdown|trend|\b(?:most|least|highest|lowest|fewest|largest|biggest|smallest|bottom)\b")
_ENTITY_DIMS = ("name", "company")
_GROUP_PREFIX = ("各", "每", "按", "哪", "分", "by ", "per ", "each ", "which ")
_DISTRICT_GROUP_RE = re.compile(r"(?:哪|各|每|按|分)[个一些]?(?:城|辖)?区|的(?:城|辖)?区(?=(?:有|是|都有|都是)哪)|(?<=[\d一二两三四五六七八九十]个)(?:城|辖)?区|(?<=前\d)的?(?:城|辖)?区|(?<=[前后]\d[位名个])的?(?:城|辖)?区|(?<=第[一二三四五六\d])的?(?:城|辖)?区|(?<=\d )districts|(?<=(?:two|six|ten) )districts|(?<=(?:four|five|nine) )districts|(?<=(?:three|seven|eight) )districts|(?<=几个)(?:城|辖)?区|(?<=最多|最高|最少|最低|最大|最小|最快|最慢|最长|最短)的(?:城|辖)?区")


def _group(t: _Text, table: Table, layer: Layer, plan: Plan) -> None:
    if t.any(("平均每小时", "每小时平均", "平均每个小时", "平均一小时", "小时均", "时均", "average hourly",
              "per hour on average", "average per hour")):
        if "hour" in table.dimensions and plan.metric.column is not None and plan.metric.agg == "sum" and re.search(
                r"[两双]个?方向(?:合计|加起来|相加|一起)|双向合计|合计两个?方向|both directions", t.text):
            plan.per_hour = True  # 平均每小时车流量（两方向合计）: the total over the hours it covers
        else:  # the records are hourly (per road and direction): their average
            plan.agg = "avg"
    if table.time and table.time.kind != "year" and t.any(_PER_DAY):
        plan.per_day = True
    if "district_id" in table.dimensions and _SUM_CUE.search(t.text) and not re.search(
            r"各|每|分别|哪|each|which|by district", t.text) and t.any(_ALL_DISTRICTS):
        return  # 六个区2024年GDP加起来: the districts together
    together = r"一共|合计|总共|共计|总计|加起来" if plan.metric.is_count or plan.agg not in ("avg", None) else \
        r"一共|合计|总共|共计|总计|加起来|平均|均值"
    if (re.search(r"全市(?:的)?.{0,6}?[（(]?各", t.text) and re.search(together, t.text)
            or re.search(r"各(?:个)?(?:监测)?站(?:点)?.{1,20}?(?:一共|总共)(?:有)?(?:多少|几)", t.text)) and not re.search(
            r"分别|哪|最|排名|前\d|每|各自", t.text):  # 全市各站点…一共多少, 全年各站点…一共有多少个: all of them together
        words = [w for d in table.dimensions.values() for w in d.words if w.startswith("各")] + ["各区", "各城区"]
        if t.any(tuple(words)):
            return
    if "district_id" in table.dimensions and (t.any(_DISTRICT_GROUP) or _take_re(t, _DISTRICT_GROUP_RE)):
        plan.group, plan.group_table = table.dimensions["district_id"], table.id
        while t.any(_DISTRICT_GROUP) or _take_re(t, _DISTRICT_GROUP_RE):
            pass  # 按区排，列最低的三个区: the districts named twice
        return
    timed = table.time is not None and table.time.kind != "year" and (
        not table.time.trigger or any(w in t.text for w in table.time.trigger))
    for words, grain in ((_QUARTER_GROUP, "quarter"), (_MONTH_GROUP, "month"), (_DAY_GROUP, "day"),
                         (_WEEKDAY_GROUP, "weekday")):
        if timed and t.any(words):
            plan.time_group = grain
            return
    while _take_re(t, _BOTH_WAYS):  # 两个方向合计: both directions together, not a breakdown by direction
        pass
    dims = [(table.id, d) for d in table.dimensions.values()]
    for r in layer.relations_from(table.id):
        dims += [(r.target, layer.tables[r.target].dimensions[v]) for v in r.via]
    best = None
    cued = _GROUP_CUE.search(t.text) is not None
    ranked = re.search(r"前\d|后\d|倒数|\d\s*(?:家|条)|哪|top|bottom|which|最|most|highest|largest|biggest|least|lowest|fewest",
                       t.text) is not None
    for owner, d in dims:
        if d.id in _ENTITY_DIMS and not ranked:
            continue  # firms one by one only for a ranking (前5家企业), never 平均每家企业
        for w in d.words:
            if not cued and not w.startswith(_GROUP_PREFIX):
                continue
            span = t.find(w, take=False)
            if span and not w.startswith(_GROUP_PREFIX) and any(
                    f.kind == "value" and f.span[1] == span[0] for f in plan.filters):
                continue  # 上游环节的企业占比: the noun of the value named just before, not a breakdown
            score = len(w) + (0.5 if w.startswith(_GROUP_PREFIX) else 0)
            if span and re.search(r"(?:各|每|按|分|哪)[个一些]?$", t.text[:span[0]]):
                score += 2  # 有哪些省份，每个省几条: the word the question groups by, over a longer one it names

            if span and (best is None or score > best[0]):
                best = (score, owner, d, span)
    if best is None and ranked and re.search(r"(?:前|最\S{0,3}的|top)\s*[\d一二两三四五六七八九十]+\s*(?:家|(?:名|位|条)?的?\s*"
                                             r"(?:在营|存续|高新技术|高新|专精特新)?(?:企业|公司|招商线索|线索))", t.text):
        entity = next((d for d in table.dimensions.values() if d.id in _ENTITY_DIMS), None)
        if entity is not None:  # 营业收入最高的3家在营企业: firms one by one
            plan.group, plan.group_table = entity, table.id
            return
    if best:
        t.take(*best[3])
        plan.group, plan.group_table = best[2], best[1]


#: 平均每个区, 平均每条产业链, 月均: an additive figure over the groups it spreads across (the total ÷ their number)
_PER_GROUP = re.compile(r"(?:平均|average)\s*(?:每|一)(?:一)?(?:个|条|座|类|种)?\s*(?P<w>区|个月|月份?|季度|监测站|站点|站|道路|路段|路|"
                        r"产业链|链|环节|行业|类别|类|部门|渠道|省份|省|城市)|(?P<m>月均)|"
                        r"(?:每|一)(?:一)?(?:个|条|座|类|种)?(?P<w2>区|个月|月|季度|监测站|站点|站|道路|路段|条路|产业链|环节|行业|"
                        r"部门|渠道|省份|省|城市)(?:平均|均)|"
                        r"\baverage\b.{0,40}?\bper (?P<en>district|month|station|road|chain|industry|category|department|"
                        r"channel|province|city)\b|(?P<enm>average monthly|monthly average)")
_PER_GROUP_DIMS = (("区", "district_id"), ("月", "month"), ("季度", "quarter"), ("站", "station_name"),
                   ("路", "road_name"), ("产业链", "chain"), ("链", "chain"), ("环节", "chain_node"),
                   ("行业", "industry_name"), ("类", "category"), ("部门", "department"), ("渠道", "channel"),
                   ("省", "province"), ("城市", "city"))


def _per_group(t: _Text, table: Table, plan: Plan) -> None:
    """平均每个区有多少家高新技术企业, 月均工单数: a count or a sum divided by the number of groups it covers."""
    if not (plan.metric.is_count or plan.metric.column is not None and plan.metric.agg == "sum") or plan.agg:
        return
    for m in _PER_GROUP.finditer(t.text):
        english = {"district": "区", "month": "月", "station": "站", "road": "路", "chain": "产业链", "industry": "行业",
                   "category": "类", "department": "部门", "channel": "渠道", "province": "省", "city": "城市"}
        word = m.group("w") or m.group("w2") or english.get(m.group("en") or "", "") or (
            "月" if m.group("m") or m.group("enm") else "")
        did = next((d for key, d in _PER_GROUP_DIMS if key in word), None)
        spans = [m.span()] if not m.group("en") else [m.span("en"), (m.start(), m.start() + len("average"))]
        if did is None or not all(t.free(*span) for span in spans):
            continue
        if did in ("month", "quarter"):
            if table.time is None or table.time.kind == "year" or table.time.trigger:
                continue
            col = table.time.column
            key = f"strftime({col}, '%Y-%m')" if did == "month" else \
                f"CAST(year({col}) AS VARCHAR) || '-Q' || CAST(quarter({col}) AS VARCHAR)"
            label = "月" if did == "month" else "季度"
        elif did in table.dimensions:
            key, label = table.dimensions[did].expr, table.dimensions[did].name
        else:
            continue
        for span in spans:
            t.take(*span)
        t.any(("per",))
        if table.time is not None and table.time.kind != "year" and did not in ("month", "quarter") and (
                day := re.search(r"每(?:一)?(?:天|日)", t.text)) and t.free(*day.span()):
            t.take(*day.span())  # 平均每条道路每天: per road and day
            key, label = f"{key} || '|' || CAST(CAST({table.time.column} AS DATE) AS VARCHAR)", f"{label}每天"
        plan.per_group = (key, label)
        return


#: 多少个不同的省份, 涉及多少个承办部门: how many distinct values of a dimension the rows have
_DISTINCT = re.compile(r"(?:多少|几)\s*(?:个|家|条|类|种|位)?\s*(?P<d>不同|不一样|不重复)?\s*的?\s*(?P<w>[^\s，,。？?的]{1,10})|"
                       r"how many (?:different|distinct|unique) (?P<en>[a-z ]{2,30})|"
                       r"how many (?P<en2>(?:monitoring )?stations|roads|categories|departments|channels|provinces|cities|"
                       r"industries)\b")
#: what the rows name, as the question counts them (几条主干道: the roads)
_COUNTED = {"主干道": "road_name", "道路": "road_name", "条路": "road_name", "监测站": "station_name", "站点": "station_name"}
_DISTINCT_CUE = re.compile(r"不同|不一样|不重复|涉及|覆盖|分布在|来自|distinct|different|unique")


def _distinct(t: _Text, table: Table, plan: Plan) -> None:
    """招商线索的企业总部来自多少个不同省份, 东湖区有多少个监测站: COUNT(DISTINCT) of the dimension the question names."""
    if not _DISTINCT_CUE.search(t.text) and not re.search(r"(?:多少|几)\s*(?:个|条|座|类|种)|how many", t.text):
        return
    for m in _DISTINCT.finditer(t.text):
        tail = m.group("w") or m.group("en") or m.group("en2") or ""
        for word in sorted(table.words, key=len, reverse=True):  # 几个空气监测站: the table's own name before the thing
            if tail.startswith(word) and len(tail) > len(word):
                tail = tail[len(word):]
                break
        cued = bool(m.group("d") or m.group("en")) or _DISTINCT_CUE.search(t.text[max(0, m.start() - 6):m.start()])
        if not cued and not re.match(r"(?:多少|几)\s*(?:个|条|座|类|种)|how many", m.group(0)):
            continue
        dims = [(w, d) for d in table.dimensions.values() for w in (*d.words, d.name.lower()) if len(w) >= 2]
        dims += [(w, table.dimensions[did]) for w, did in _COUNTED.items() if did in table.dimensions]
        if "district_id" in table.dimensions:
            dims += [(w, table.dimensions["district_id"]) for w in ("区", "城区", "districts")]
        found = [(w, d) for w, d in dims if tail.startswith(w) or cued and tail.endswith(w)]
        if not cued:  # 东湖区有多少个监测站: things the rows name, not the district the question is about
            found = [(w, d) for w, d in found if d.id != "district_id" and len(w) >= 2]
        if not found:
            continue
        word, dim = max(found, key=lambda x: len(x[0]))
        start = m.start("w") if m.group("w") else m.start("en") if m.group("en") else m.start("en2")
        at = t.text.find(word, start)
        if at < 0 or not t.free(at, at + len(word)):
            continue
        t.take(at, at + len(word))
        if m.group("d"):
            t.take(*m.span("d"))
        t.any(("different", "distinct", "unique"))
        plan.metric = Metric(f"distinct_{dim.id}", f"{dim.name}数", "个", (), expr=f"COUNT(DISTINCT {dim.expr})")
        return


def _take_re(t: _Text, pattern: re.Pattern[str]) -> bool:
    for m in pattern.finditer(t.text):
        if t.free(*m.span()):
            t.take(*m.span())
            return True
    return False


_NUM = r"(\d+|[一二两三四五六七八九十]+|one|two|three|four|five|six|seven|eight|nine|ten)"
_EN_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
               "ten": 10}
_RANK_UNIT = r"\s*(?:名|个|家|条|位|大|类|项|种|座|所)?"
_TOP_RE = re.compile(r"(?:排名前|排前|前|top\s*|最多的|最高的|最大的|最长的|最快的|最繁忙的|最忙的|哪|which\s+|the\s+|first\s+)\s*"
                     + _NUM + r"(?![\d年月日号天])")
_BOTTOM_RE = re.compile(r"(?:排名后|后|倒数|bottom\s*|最少的|最低的|最小的|最短的|最慢的)\s*" + _NUM + r"(?![\d年月日号天])")
#: "3 busiest roads", "five districts with the most": a number right before a group word and a most/least word
_EN_COUNTED = re.compile(_NUM + r"\s+(?=(?:busiest|biggest|largest|highest|lowest|smallest|most|least|fewest|worst|best|"
                         r"districts|categories|types|departments|roads|stations|industries|chains|sectors|months|"
                         r"provinces|cities|rounds)\b)")
#: metrics where a higher figure is worse (best air = the lowest AQI; the best handling = the shortest)
_HIGHER_IS_WORSE = ("aqi", "pm25", "pm10", "no2", "o3", "handling_hours")
_GOOD = ("最好", "最佳", "最优", "最干净", "最清洁", "best", "cleanest")
_BAD = ("最差", "最糟", "最脏", "worst", "dirtiest")


def _rank_number(raw: str) -> int | None:
    n = _EN_NUMBERS.get(raw) or cn_number(raw)
    return n if n and 0 < n <= 100 else None


_ASCENDING = re.compile(r"[从由]\s*(?:少到多|低到高|小到大|短到长|慢到快)|升序|ascending|from (?:lowest|smallest|fewest) to "
                        r"(?:highest|largest|most)")
_DESCENDING = re.compile(r"[从由]\s*(?:多到少|高到低|大到小|长到短|快到慢)|降序|descending|from (?:highest|largest|most) to "
                         r"(?:lowest|smallest|fewest)")


def _ranking(t: _Text, plan: Plan) -> None:  # noqa: C901 — one branch per phrasing
    for pattern, descending in ((_TOP_RE, True), (_BOTTOM_RE, False), (_EN_COUNTED, True)):
        for m in pattern.finditer(t.text):
            n = _rank_number(m.group(1))
            if n is None or not t.free(*m.span()) or plan.top is not None:
                continue
            if m.group(0).startswith(("哪", "which", "the", "first")) and plan.group is None and plan.time_group is None:
                continue
            t.take(*m.span())
            plan.top, plan.descending = n, descending
    if plan.group is None and plan.time_group is None:
        return
    if _take_re(t, _ASCENDING):  # 从少到多: the smallest first
        plan.descending = False
    _take_re(t, _DESCENDING)
    listed = re.search(r"(?:有|是|都有|都是|包括)哪(?:些|几)", t.text) and any(
        f.kind == "compare" or f.dim == "district_condition" for f in plan.filters)
    if listed and t.any(("哪几个", "哪几", "哪些")):  # 人口超过100万的区有哪些: every group the condition keeps
        return
    if not t.any(_MOST + _LEAST, take=False) and re.search(r"(?:每|各)个?[^，,。？?、]{0,4}(?:多少|几)|分别|各有", t.text) \
            and t.any(("哪几个", "哪几", "哪些")):  # 有哪些省份，每个省几条: every group with its figure
        return
    if plan.top is None and plan.having is None and t.any(("哪几个", "哪几", "哪些")):  # 集中在哪几个月: the top three, most first
        plan.top, plan.descending = 3, not t.any(_LEAST)
        t.any(_MOST)
        return
    worse = plan.metric.id in _HIGHER_IS_WORSE
    if t.any(_GOOD):
        plan.descending = not worse
        plan.which = plan.top is None
        plan.top = plan.top or 1
    elif t.any(_BAD):
        plan.descending = worse
        plan.which = plan.top is None
        plan.top = plan.top or 1
    elif t.any(_LEAST):
        plan.descending = False
        plan.which = plan.top is None
        plan.top = plan.top or 1
    elif t.any(_MOST):
        plan.which = plan.top is None
        plan.top = plan.top or 1
    agree = (_MOST + (_BAD if worse else _GOOD)) if plan.descending else (_LEAST + (_GOOD if worse else _BAD))
    if plan.top is not None:
        while t.any(agree):  # 空气最好（AQI最低）: the same ranking said twice
            pass
    if plan.which:
        t.any(("哪个", "哪一个", "哪", "which", "what"))


def _aggregate(t: _Text, plan: Plan) -> None:
    if plan.metric.column is None:
        if t.any(_AVG + _SUM) and t.text[t.used[-1][0]:t.used[-1][1]] in _AVG and plan.metric.is_count \
                and not (plan.per_day or plan.per_hour or plan.per_capita or plan.per_group):
            plan.notes.append("平均")  # the average of a count: of what per what?
        return
    if t.any(_MEDIAN):
        plan.agg = "median"
    elif t.any(_AVG):
        plan.agg = "avg"
    elif t.any(_SUM):
        plan.agg = "sum"
    elif plan.group is None and plan.time_group is None and (span := t.any(_MAX)):
        plan.agg = "max"
        del span
    elif plan.group is None and plan.time_group is None and t.any(_MIN):
        plan.agg = "min"


def _share_drop(plan: Plan, t: _Text, share_at: int) -> Filter | None:
    text = t.text
    if re.search(r"占(?:全市|全部|总|所有)|全市的?(?:比例|比重|占比)|of (?:the )?(?:city|all|total)", text) and any(
            f.kind == "district" for f in plan.filters):
        return next(f for f in plan.filters if f.kind == "district")
    candidates = [f for f in plan.filters if f.kind not in ("district", "default")] or [
        f for f in plan.filters if f.kind != "default"]
    if not candidates:
        return None
    if (of := re.search(r"占(?:全部|所有)?", text)) and len(candidates) > 1:
        after = text[of.end():].lstrip("了的")
        whole = [f for f in candidates if of.end() <= f.span[0] <= of.end() + 1 or after.startswith(f.label)]
        part = [f for f in candidates if f.span[0] < of.start() and f not in whole]
        if whole and part:  # 超过72小时才办结的工单占已办结的比例: what follows 占 is the whole
            return max(part, key=lambda f: f.span[0])
    base = re.search(r"\bamong\b", text) or re.search(
        r"(?:企业|工单|家庭|户|线索)?(?:里面|里|当中|之中|中间|中)|\bof (?:all )?(?=\w)", text)
    if base and (after := [f for f in candidates if f.span[0] > base.start()]) and any(
            f.span[0] < base.start() for f in candidates):
        if base.group(0) == "among":  # share of high-tech firms among SMEs: the part comes before "among"
            return max((f for f in candidates if f.span[0] < base.start()), key=lambda f: f.span[0])
        return min(after, key=lambda f: abs(f.span[0] - share_at))  # 专精特新企业里多大比例是高新: the part after 里
    before = [f for f in candidates if f.span[0] < share_at]
    return max(before or candidates, key=lambda f: f.span[0])


_ANNUAL_GROWTH = re.compile(r"年均(?:复合)?(?:增长率|增速|增幅|增长|涨幅)|年复合增长率|复合(?:年)?增长率|cagr|"
                            r"compound annual growth(?: rate)?|annual(?:ized)? (?:average )?growth(?: rate)?|"
                            r"average annual growth(?: rate)?")
#: a comparison answered in percent (增长率, 百分之几), in percentage points, or as a difference (增加了多少)
_PERCENT_CUE = re.compile(r"百分之几|百分之多少|百分比|增长率|增速|增幅|涨幅|降幅|跌幅|变化率|变动率|几成|%|percent(?!age points?)|"
                          r"growth rate|rate of (?:growth|increase)")
_POINTS_CUE = re.compile(r"百分点|percentage points?")
_ABSOLUTE_CUE = re.compile(r"绝对数|绝对值|绝对量|(?:增长|增加|增多|减少|下降)(?:得)?最多|增量|(?:增长|增加|减少|下降)了?(?:多少|几)(?=[人家件个户元辆张条亿万千百])|(?:多|少|增加|增多|减少|减|提高|提升|降低|高|低|差)了?(?:多少|几)|相差|差距|差值|差额|"
                           r"how (?:much|many) (?:more|less|fewer|higher|lower)|by how much|difference|\bgap\b")
#: the words that name the change itself (what lies between 比 and them was read already)
_CHANGE_WORDS = re.compile(r"相差|差距|差值|差额|差多少|(?:多|少|高|低|大|小|快|慢|长|短|增加|增多|减少|提高|提升|降低|"
                           r"上升|下降|增长|变化)了?(?:多少个百分点|几个百分点|百分之几|百分之多少|多少|几)|个?百分点|"
                           r"percentage points?|by how much|\bthan\b|\bmore\b|\bfewer\b|\bless\b|\bhigher\b|\blower\b|"
                           r"difference|\bgap\b")
_POINTS_WORDS = re.compile(r"个?百分点|percentage points?")
_UNSIGNED = re.compile(r"相差|差距|差值|差额|差多少|difference|\bgap\b")
_LISTED = re.compile(r"[和与及、跟同比,，/]|\band\b|\bvs\b|versus|\bthan\b")


def _ratio_of_metrics(t: _Text, table: Table, plan: Plan) -> None:
    """65岁以上人口占常住人口的比例: one summed column over another summed column of the same rows."""
    part = plan.metric
    if part.column is None or part.agg != "sum" or plan.agg not in (None, "sum"):
        return
    best: tuple[int, Metric, tuple[int, int]] | None = None
    for m in table.metrics.values():
        if m is part or m.column is None or m.agg != "sum":
            continue
        for w in m.words:
            for found in _word_pattern(w).finditer(t.text):
                a, b = found.span()
                if t.free(a, b) and re.search(r"(?:占|of|to)\s*(?:全市|全区|全部|总|the |total )?\s*$", t.text[max(0, a - 6):a]) \
                        and (best is None or len(w) > best[0]):
                    best = (len(w), m, (a, b))
    if best is None:
        return
    whole = best[1]
    t.take(*best[2])
    same = f"SUM({part.column}) * 100.0 / SUM({whole.column})"
    if known := next((m for m in table.metrics.values() if m.expr == same), None):
        plan.metric, plan.share = known, False  # 65岁以上老人占常住人口的比例（老龄化率）: a metric of its own
        for w in sorted(known.words, key=len, reverse=True):
            while t.find(w):
                pass
        return
    plan.metric = Metric(f"{part.id}_per_{whole.id}", f"{part.name}占{whole.name}的比例", "%", (),
                         expr=f"SUM({part.column}) * 100.0 / NULLIF(SUM({whole.column}), 0)", decimals=2)
    plan.share = False


_LOWER_ASKED = re.compile(r"比.{0,16}?(?:低|少|小|短|慢)了?(?:多少|几)|(?:lower|less|fewer) than .{0,40} by how much|"
                          r"how (?:much|many) (?:lower|less|fewer)")


def _against_city(plan: Plan, text: str) -> Filter | None:
    """The one named value a figure is set against the city's (比全市高多少), when the question says so:
    a rate or an average against the city's own; a count or a sum only against the city's average (比全市平均)."""
    if plan.group is not None or plan.time_group is not None or plan.share or not _CITY_FIGURE.search(text):
        return None
    named = [f for f in plan.filters if f.dim and f.kind in ("value", "district") and len(f.values) == 1
             and f.table == plan.table.id]
    if len(named) > 1:  # 南湖区已办结工单…比全市: the place is set against the city, the other conditions stay
        named = [f for f in named if f.dim == "district_id"]
    if len(named) != 1:
        return None
    additive = plan.metric.is_count or plan.metric.expr is None and (plan.agg or plan.metric.agg) == "sum"
    if additive and not re.search(r"(?:全市|本市|全城)的?平均|city(?:-wide)? average", text):
        return None
    return named[0]


def _differences(t: _Text, layer: Layer, plan: Plan, windows: list[timewin.Window], annual: bool) -> None:
    """Two figures set against each other: two values of one dimension (光谷区比东湖区多多少: A − B, or
    each in its own row when the question just lists them), two periods (2025年比2024年增加了多少: a
    difference, 增长了百分之几: a rate), or compound annual growth between two years."""
    text = t.text
    difference = _DIFFERENCE.search(text) is not None
    if plan.compare is None and difference and len(windows) == 2 and plan.previous is None:
        first, second = windows
        if first.end <= second.start or second.end <= first.start:  # 2025年和2024年的工单数相差多少
            plan.window, plan.previous, plan.compare = first, second, "pair"
    if annual:
        if plan.compare is None and len(windows) == 2 and plan.previous is None:
            earlier, later = sorted(windows, key=lambda w: w.start)
            if earlier.end <= later.start:
                plan.window, plan.previous, plan.compare = later, earlier, "pair"
        if plan.compare is None and len(windows) == 1 and len(windows[0].years) > 1 and windows[0].grain != "year":
            years = windows[0].years  # 2021—2025年: the last year against the first
            plan.window = timewin.Window(date(years[-1], 1, 1), date(years[-1] + 1, 1, 1), f"{years[-1]}年", "year")
            plan.previous = timewin.Window(date(years[0], 1, 1), date(years[0] + 1, 1, 1), f"{years[0]}年", "year")
            plan.compare = "pair"
        if plan.compare == "pair" and plan.window and plan.previous and plan.window.grain == "year" \
                and plan.previous.grain == "year" and plan.window.start.year != plan.previous.start.year:
            if plan.window.start < plan.previous.start:
                plan.window, plan.previous = plan.previous, plan.window
            plan.annual = True
        else:
            plan.problem = "annual-years"  # 年均增长率 needs two years
        return
    if plan.compare is not None:
        percent = _PERCENT_CUE.search(text) is not None
        rate = plan.metric.unit == "%"
        if _POINTS_CUE.search(text) or (rate and not percent) or (_ABSOLUTE_CUE.search(text) and not percent):
            plan.absolute = True  # 增加了多少, 满意率提高了几个百分点: the difference itself
            plan.unsigned = _UNSIGNED.search(text) is not None
    if difference and _LOWER_ASKED.search(text):
        plan.lower = True  # 比9月13日少多少辆: how much less, the second's figure minus the first's
    while (plan.compare is not None or difference) and (_take_re(t, _CHANGE_WORDS) or _take_re(t, _POINTS_WORDS)):
        pass
    defaulted = plan.table.default_filter[2] if plan.table.default_filter else None
    multi = [f for f in plan.filters if f.words > 1 and f.dim and f.dim != defaulted and len(f.values) > 1
             and _LISTED.search(text[f.span[0]:f.span[1]])]
    listed = len(multi) == 1 and (plan.group is None or plan.group.id == multi[0].dim) and plan.time_group is None \
        and not plan.share
    times = re.search(r"(?:几|多少)\s*倍|how many times", text)
    if times and plan.compare is None and plan.group is None and plan.time_group is None and not plan.share:
        pair = [f for f in plan.filters if f.dim and f.dim != defaulted and len(f.values) == 2 and f.words > 1]
        if len(pair) == 1:  # 光谷区GDP是东湖区的几倍: the first named over the second
            f = pair[0]
            t.take(*times.span())
            _take_re(t, re.compile(r"是|的"))
            plan.group, plan.group_table = layer.tables[f.table].dimensions[f.dim or ""], f.table
            plan.difference, plan.times = (f.values[0], f.values[1]), True
            return
        plan.problem = "difference"
    if listed and plan.compare is None and difference and len(multi[0].values) == 2:
        f = multi[0]  # 光谷区比东湖区多多少: the first named minus the second
        plan.group, plan.group_table = layer.tables[f.table].dimensions[f.dim or ""], f.table
        plan.difference = (f.values[0], f.values[1])
        plan.unsigned = _UNSIGNED.search(text) is not None
        plan.problem = None
    elif plan.compare is None and difference and (against := _against_city(plan, text)) is not None:
        plan.against_city = against  # 光谷区的满意率比全市高多少: the value's figure minus the city's
        plan.unsigned = _UNSIGNED.search(text) is not None
        if "平均" in plan.notes:
            plan.notes.remove("平均")  # 比全市平均: the average over the values, not the average of a count
            plan.agg = None
    elif plan.compare is None and difference:
        plan.problem = "difference"  # a figure against one the question does not name
    elif multi and plan.group is None and plan.time_group is None and not plan.share and not _SUM_CUE.search(text):
        if len(multi) > 1:
            plan.problem = "ambiguous-values"  # two lists of values: which one is broken down?
        else:  # 东湖区和光谷区的工单数: each value its own row (分别), unless 一共/合计 is said
            plan.group, plan.group_table = layer.tables[multi[0].table].dimensions[multi[0].dim or ""], multi[0].table


def _per_base(t: _Text, plan: Plan) -> None:
    """每万常住人口, 每千常住户, 每百名65岁以上老人, 占常住户数的比例: the figure over a base of the district
    statistics (the declared per-capita join), scaled as asked."""
    if plan.table.id != "districts" and (m := _PER_AREA.search(t.text)) and t.free(*m.span()):
        t.take(*m.span())
        plan.per_capita, plan.per_base = True, ("area_km2", 1.0, "每平方公里")
        return
    for m in _PER_BASE.finditer(t.text):
        if t.free(*m.span()):
            t.take(*m.span())
            scale = float(_BASE_SCALE[m.group("n") or m.group("en")])
            column, label = _base_of(m.group("base") or m.group("enbase"))
            plan.per_capita = True
            plan.per_base = (column, scale, f"每{_SCALE_WORD[int(scale)]}{label}")
            return
    for m in re.finditer(r"(?:多少|几|约|近|上)\s*(?P<u>万人|万户|万)(?![口元])", t.text):
        if t.free(*m.span("u")):  # 常住人口有多少万人: the unit of the answer, not a per-10,000 base
            t.take(*m.span("u"))
            plan.notes.append(m.group("u"))
    if t.any(_PER_CAPITA):
        plan.per_capita = True
        return
    for m in _BASE_SHARE.finditer(t.text):
        if t.free(*m.span()) and plan.table.id != "districts":
            t.take(*m.span())
            column, label = _base_of(m.group("base"))
            plan.per_capita = True
            plan.per_base = (column, 100.0, f"占{label}的比例（%）")
            return


#: 没有在营企业的产业链环节, 哪些区没有吊销企业: rows of one dataset with no matching rows in another
_NEGATION = r"(?:本地|本市|全市)?(?:还?没有|尚无|缺少|缺乏|缺失|空白|并无|\b无|无)(?:本地|本市)?"
_ANTI_HEADS = r"产业链环节|链上环节|环节|城区|辖区|区"
_ANY = r"(?:任何|一家|一个|一条|1家|1个|1条)?"
_ANTI = (re.compile(rf"{_NEGATION}{_ANY}(?P<sub>[^，,。？?；;的]{{1,24}}?)的(?P<head>{_ANTI_HEADS})"),
         re.compile(rf"(?:^|哪些|哪几个|哪个|哪|几个|多少个|的|[，,])(?P<head>{_ANTI_HEADS})(?:里|中|当中)?{_NEGATION}{_ANY}(?P<sub>[^，,。？?；;]{{1,24}}?)(?=[，,。？?；;]|$|"
                    rf"的?(?:有|是)(?:多少|几|哪))"),
         re.compile(rf"(?:^|哪些|哪几个|哪个|哪|几个|多少个|的|[，,])(?P<head>{_ANTI_HEADS})(?:里|中|当中)?(?:本地|本市)?(?:连)?(?:任何|一家|一个|一条|1家|1个|1条)"
                    rf"(?P<sub>[^，,。？?；;]{{1,24}}?)(?:都|也)(?:还)?(?:没有|没)"))
_ANTI_TABLE = {"区": "districts", "城区": "districts", "辖区": "districts", "districts": "districts"}
_ANTI_EN = re.compile(r"(?P<head>chain nodes|nodes|districts)\s+(?:that |which )?(?:have|has|with)\s+no\s+(?:local\s+)?"
                      r"(?P<sub>[a-z -]{2,40}?)(?:\s+(?:at all|locally|in the city))?(?=[?.,;]|$)")


def _anti_clause(text: str, layer: Layer, as_of: date) -> tuple[str, Plan | None, Refusal | None, str] | None:
    """A negated clause (没有在营企业的): the text without it, the plan of what is negated (or the refusal
    of a personal request in it), and the table its head names (环节: chain_nodes, 区: districts)."""
    for pattern in (*_ANTI, _ANTI_EN):
        m = pattern.search(text)
        if m is None:
            continue
        sub = m.group("sub").strip()
        if not sub or re.search(r"\d|超过|以上|以下|达到", sub) and not re.search(r"[企工低线站路]", sub):
            continue
        plan, refusal, _ = plan_question(sub, layer, as_of)
        head = _ANTI_TABLE.get(m.group("head"), "chain_nodes")
        start, end = (m.start(), m.start("head")) if pattern is _ANTI[0] else (m.end("head"), m.end())
        if pattern is _ANTI_EN:
            sub = re.sub(r"\blocal\b", " ", sub)
            plan, refusal, _ = plan_question(sub, layer, as_of)
        if pattern is _ANTI[0] and head == "districts":
            end = m.end()  # 没有重污染天的区有几个: the districts are the rows counted
        elif pattern is _ANTI[0] and (place := re.search(r"(?:^|[，,\s])(?P<d>[^，,。？?；;的\s]{1,4}区)$", text[:start])):
            # 光谷区没有在营企业的产业链环节: the district is a condition of the firms, not of the chain map
            start = place.start("d")
            plan, refusal, _ = plan_question(place.group("d") + sub, layer, as_of)
        return text[:start] + " " * (end - start) + text[end:], plan, refusal, head
    return None


def _anti_filter(layer: Layer, main: Table, negated: Plan, exists: bool = False) -> Filter | None:
    """NOT EXISTS over the negated dataset, joined through a declared relation (directly, or both
    datasets related to the same one by the same keys: firms and leads through the chain map);
    with `exists`, the EXISTS of a clause that says the rows do have it (有招商线索但…)."""
    other = negated.table
    pairs: list[tuple[str, str]] = []
    direct = next((r for r in layer.relations_from(other.id) if r.target == main.id), None)
    if direct is not None:
        pairs = [(b_col, t_col) for b_col, t_col in direct.on]
    else:
        for r_other in layer.relations_from(other.id):
            r_main = next((r for r in layer.relations_from(main.id) if r.target == r_other.target), None)
            if r_main is not None:
                by_key = {k: c for c, k in r_main.on}
                pairs = [(c, by_key[k]) for c, k in r_other.on if k in by_key]
                break
    if not pairs or any(f.table != other.id for f in negated.filters):
        return None
    conds = [f"b.{b_col} = t.{t_col}" for b_col, t_col in pairs]
    conds += [qualify(f.sql, "b") for f in negated.filters]
    label = "、".join(f.label for f in negated.filters if f.kind != "default") or negated.table.noun
    sql = f"{'' if exists else 'NOT '}EXISTS (SELECT 1 FROM {other.id} AS b WHERE {' AND '.join(conds)})"
    return Filter(sql, f"{'有' if exists else '没有'}{label}的{other.noun}", (0, 0), "anti", main.id)


#: 有招商线索但本地没有在营企业的环节: the rows have the one and lack the other
_HAVE_BUT = re.compile(r"(?:^|[，,\s])(?P<v>有|存在)(?P<sub>[^，,。？?；;的\s]{2,16}?)(?:但|却|而)\s*(?:本地|本市)?\s*(?=\s|$)")


def _have_clause(text: str, layer: Layer, main: Table, as_of: date) -> tuple[str, Filter | None] | None:
    """The EXISTS of a clause 有X但 before a negation (the negation already blanked out of `text`)."""
    m = _HAVE_BUT.search(text)
    if m is None:
        return None
    have, refusal, _ = plan_question(m.group("sub"), layer, as_of)
    if have is None or refusal is not None or have.confidence < 0.6 or have.window or have.group or have.share:
        return text, None
    found = _anti_filter(layer, main, have, exists=True)
    return text[:m.start("v")] + " " * (m.end() - m.start("v")) + text[m.end():], found


def _listed_periods(t: _Text, table: Table, plan: Plan, windows: list[timewin.Window]) -> None:
    """3月和5月的工单数, 2022年和2024年的GDP: periods named one by one, each its own row (together only when
    一共/合计 is said)."""
    window = plan.window
    if window is None or not window.parts or plan.compare is not None or plan.group is not None \
            or plan.time_group is not None or plan.share or table.time is None or _SUM_CUE.search(t.text):
        return
    if all(x[1] >= y[0] for x, y in itertools.pairwise(window.parts)) and not re.search(
            r"各|分别|每|对比|比较|respectively|\beach\b", t.text):
        return  # 7月和8月的积水工单: the months run on, together unless each is asked
    grains = {w.grain for w in windows}
    if table.time.kind == "year" and "year" in table.dimensions and grains == {"year"}:
        plan.group, plan.group_table = table.dimensions["year"], table.id
    elif table.time.kind != "year" and len(grains) == 1 and (grain := grains.pop()) in ("month", "quarter", "day"):
        plan.time_group = grain
    t.any(("分别", "各自", "对比", "比较", "respectively"))


def plan_question(question: str, layer: Layer, as_of: date) -> tuple[Plan | None, Refusal | None, str]:
    """The plan for `question` (None when no table fits), or the refusal of a personal-data request,
    and the cleaned text."""
    text = clean(question)
    anti = _anti_clause(text, layer, as_of)
    if anti is not None:
        if anti[2] is not None:
            return None, anti[2], text
        rest, having = anti[0], None
        head_table = layer.tables.get(anti[3])
        if head_table is not None and (have := _have_clause(rest, layer, head_table, as_of)) is not None:
            rest, having = have
            if having is None:
                return None, None, text
        plan, refusal, _ = _plan(rest, layer, as_of, anti[3])
        if plan is None or refusal is not None or anti[1] is None:
            return plan, refusal, text
        if having is not None:
            if having.table != plan.table.id:
                return None, None, text
            plan.filters.append(having)
        negated = anti[1]
        found = _anti_filter(layer, plan.table, negated)
        if found is None or negated.window is not None or negated.group is not None or negated.share:
            plan.confidence = min(plan.confidence, 0.3)
            plan.notes.append("没有")
            plan.residual = plan.residual or "没有"
            return plan, None, text
        plan.filters.append(found)
        listing = re.search(r"哪些|哪几|有哪|列出|列一下|是什么|分别是|which|list", text) is not None
        if listing and not re.search(r"前\s*[\d一二三四五六七八九十]|top\s*\d", text):
            plan.top, plan.which = None, False  # 哪些环节没有本地企业: every one of them
            key = "node" if plan.table.id == "chain_nodes" else "district_id"
            if key in plan.table.dimensions and (plan.group is None or plan.group.id != key) and not re.search(
                    r"各|每|按", text):
                plan.group, plan.group_table = plan.table.dimensions[key], plan.table.id
        if plan.table.count is None:
            plan.metric = Metric("count", f"{plan.table.noun}数", "个", (), expr="COUNT(*)")
        plan.confidence = min(plan.confidence, negated.confidence)
        return plan, None, text
    return _plan(text, layer, as_of)


def _plan(text: str, layer: Layer, as_of: date, head: str | None = None
          ) -> tuple[Plan | None, Refusal | None, str]:
    population_year = None
    if (any(w in text for w in _PER_CAPITA) or _PER_BASE.search(text) or _BASE_SHARE.search(text)
            or _PER_AREA.search(text)) and (
            m := _POPULATION_YEAR.search(text)):
        population_year = int(m.group(1) or m.group(2))  # （用2025年人口）: the divisor's year, not a time filter
        text = text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]
    table, clarity = choose_table(text, layer)
    if head is not None and (table is None or table.id in ("districts", "chain_nodes")):
        table, clarity = layer.tables[head], 1.0  # the rows the negated clause is about (区, 环节)
    if refusal := personal_request(text, table):
        return None, refusal, text
    if table is None:
        return None, None, text
    t = _Text(text)
    plan = Plan(table=table, metric=table.count or next(iter(table.metrics.values())),
                population_year=population_year)
    # order matters: the longest, most specific readings first
    masked = text
    for word in _YOY:  # 较去年同期: a comparison, not the year 去年
        masked = masked.replace(word, " " * len(word)) if "去年" in word or "上年" in word else masked
    windows = timewin.find(masked, as_of)
    for w in windows:
        t.take(*w.span)
    plan.window = timewin.merge(windows)
    if plan.window is not None and plan.window.parts and not (
            all(re.fullmatch(r"\s*(?:、|,|，|和|及|与|跟|以及|还有|and|or|或)\s*", text[a.span[1]:b.span[0]])
                for a, b in itertools.pairwise(windows))
            and not re.search(r"(?:between|from)\s*(?:the\s+)?$", text[:windows[0].span[0]])):
        first, last = windows[0], windows[-1]  # between March and May, 3月…至5月: the span, not the periods
        plan.window = dataclasses.replace(plan.window, parts=(), label=f"{first.label}至{last.label}")
    if len(windows) == 2 and windows[0].end <= windows[1].start or len(windows) == 2 and windows[1].end <= windows[0].start:
        between = text[windows[0].span[1]:windows[1].span[0]] + text[windows[1].span[1]:]
        if re.search(r"比|较|相比|对比|同.{0,2}比|compared?|versus|vs|against", between):
            plan.window, plan.previous, plan.compare = windows[0], windows[1], "pair"
            inside = text[windows[0].span[1]:windows[1].span[0]]
            if not re.search(r"比|较|compared?|versus|vs|against", inside) and windows[0].start < windows[1].start:
                plan.window, plan.previous = windows[1], windows[0]  # 2024年和2025年对比: the later against the earlier
    if plan.compare is None and len(windows) == 1 and re.search(r"(?:比|较|相比|相较于?|compared (?:with|to))\s*$",
                                                                  text[:windows[0].span[0]]) \
            and (_DIFFERENCE.search(text) or re.search("|".join(map(re.escape, _GROWTH)), text[windows[0].span[1]:])):
        plan.window, plan.previous, plan.compare = None, windows[0], "pair"  # 人口比2021年增加了多少: the latest against it
    named_change = any(("同比" in w or "环比" in w) and w in text for m in table.metrics.values() for w in m.words)
    if named_change:  # 专利申请同比增速: a metric that is itself a change, not a comparison to compute
        pass
    elif span := t.any(_YOY):
        plan.compare = "yoy"
    elif t.any(_MOM):
        plan.compare = "mom"
    elif plan.compare == "pair":
        t.any(("相比", "对比", "比较", "compared with", "compared to", "versus", "vs", "比", "较", "怎么样", "如何"))
    if windows and all(w.grain in ("day", "days", "range") for w in windows):
        while _take_re(t, _DATED_EVENT):  # 12月14号到17号寒潮期间: the event is the days named, not a condition
            pass
    _per_base(t, plan)
    _district_condition(t, table, layer, plan)
    _group_condition(t, table, plan)
    _ranges(t, table, plan)
    _comparisons(t, table, plan)
    switched_off = False
    if table.default_filter is not None:
        for m in _INCLUDING.finditer(text):  # 含注销吊销, including deregistered: every registered firm
            if t.free(*m.span()):
                t.take(*m.span())
                switched_off = True
    while table.default_filter is not None and t.any(table.default_filter[3]) is not None:
        switched_off = True
    _dimension_filters(t, table, layer, plan)
    _hour_filter(t, table, plan)
    _missing(t, table, plan)
    if not _metric(t, table, plan) and table.id == "districts":
        if re.search(r"(?:几|多少)个?(?:城|辖)?区|区(?:有|是|一共有|共有)?(?:几|多少)个|how many districts", text):
            plan.metric = Metric("count", "区数", "个", (), expr="COUNT(*)")  # GDP超过1000亿的区有几个: districts counted
        elif (shown := next((m for f in plan.filters if f.kind == "compare" for m in table.metrics.values()
                             if m.column and f.sql.startswith(m.column + " ")), None)) and re.search(
                r"(?:有|是)哪|哪些|哪几|which", text) and "district_id" in table.dimensions:
            plan.metric = shown  # GDP超过500亿的区有哪些: the districts it keeps, each with that figure
            plan.group, plan.group_table = table.dimensions["district_id"], table.id
        elif any(f.kind == "compare" for f in plan.filters):
            clarity = min(clarity, 0.3)  # GDP超过1000亿的区: a condition, and no figure asked of the districts it keeps
            plan.notes.append("只有条件")
    if table.id == "districts" and plan.metric.column and plan.metric.agg == "sum" and plan.metric.column != "area_km2" \
            and (m := _PER_AREA.search(t.text)) and t.free(*m.span()):
        t.take(*m.span())  # 每平方公里GDP, 地均GDP: the figure over the land area
        base = plan.metric
        plan.metric = Metric(f"{base.id}_per_km2", f"每平方公里{base.name}", f"{base.unit}/km²", (),
                             expr=f"SUM({base.column}) * 1.0 / SUM(area_km2)", decimals=2)
    if plan.having_metric is not None:
        plan.metric = plan.having_metric  # the figure the condition is on is the one shown
    else:
        _distinct(t, table, plan)
    for unit in ("万人", "万户", "万"):
        if unit in plan.notes:
            plan.notes.remove(unit)
            if plan.metric.unit == unit[1:] or unit == "万" and plan.metric.unit in ("人", "户"):
                plan.scale, plan.unit = 0.0001, "万" + plan.metric.unit  # in 10,000 persons or households
            elif unit == "万" and plan.metric.unit.startswith("万元"):
                pass  # 平均纳税多少万: the figure is in 10,000 yuan already
            elif unit == "万" and plan.metric.unit.startswith("元"):
                plan.scale, plan.unit = 0.0001, "万" + plan.metric.unit  # 低保金一共多少万: in 10,000 yuan
            else:
                clarity = min(clarity, 0.3)  # 多少万人 of a figure that is not people
    _flags(t, table, plan)
    flags = [f for f in plan.filters if f.kind == "flag"]
    if len({f.sql for f in flags}) > 1 and len({re.split(r"[ =<>]", f.sql)[0] for f in flags}) < len(flags) and re.search(
            r"对比|比较|相比|和|与|跟|vs|versus|compared", text):
        clarity = min(clarity, 0.3)  # 周末和工作日的车流量对比: two conditions on one column set side by side
        plan.notes.append("两个条件对比")
    seen: set[str] = set()
    plan.filters = [f for f in plan.filters if not (f.sql in seen or seen.add(f.sql))]  # 优良（≤100）: said twice
    _asked_unit(t, plan)
    if table.default_filter:
        sql, label, unless, _ = table.default_filter
        if not switched_off and not any(f.dim == unless for f in plan.filters):
            plan.filters.append(Filter(sql, label, (0, 0), "default", table.id))
    if table.time and table.time.trigger:
        if t.any(table.time.trigger) is None and plan.window is not None and not any(w in text for w in table.time.trigger):
            if plan.per_capita and plan.population_year is None and len(plan.window.years) == 1 \
                    and plan.window.grain == "year":
                plan.population_year, plan.window = plan.window.years[0], None  # 低保户占常住户数的比例（2025年）
            elif re.search(r"截至|截止|为止|as of", text) and plan.window.end > as_of:
                plan.window = None  # 截至2025年底的低保户数: the records as they stand at the snapshot
            else:
                plan.problem = "time-not-applicable"
    share = t.any(_SHARE)
    if share:
        plan.share = True
        if re.search(r"占(?:了)?(?:全部|全市|所有|总)", text):
            plan.notes.append("whole-all")  # 上游环节企业占全部在营企业: the whole is not limited to the joined rows
        unless = table.default_filter[2] if table.default_filter else None
        if table.time and table.time.trigger and plan.window is not None and any(
                w in text for w in table.time.trigger) and all(f.dim == unless or f.kind == "default" for f in plan.filters):
            plan.notes.append("window-part")  # 2015年及以前成立的企业占比: the founding window is the part's condition
        while t.any(_SHARE):
            pass
        _ratio_of_metrics(t, table, plan)
        if plan.metric.column and plan.metric.agg == "avg" and table.count and any(
                plan.metric.column in f.sql for f in plan.filters):
            plan.metric = table.count  # AQI优良的站日占比: the share of the days the condition on AQI holds
            for w in table.count.words:
                t.find(w)
    elif (plan.metric.is_count or "default-metric" in plan.notes and table.count is not None) and (
            named := next((f for f in plan.filters if f.kind in ("value", "flag") and f.dim != "district_id"
                           and re.search(re.escape(f.label) + "率", text)), None)):
        plan.share, plan.share_drop = True, named  # 注销率, 空气优良率: the share of the rows with that value
        plan.metric = table.count or plan.metric
        plan.notes.append("rate-of-value")
    _per_group(t, table, plan)
    _group(t, table, layer, plan)
    if table.id == "districts" and plan.metric.id == "count" and plan.group is not None \
            and plan.group.id == "district_id" and not re.search(r"哪|which|列|分别", text):
        plan.group, plan.group_table = None, None  # 有几个区的GDP超过500亿: the districts counted, not listed
    _condition_group(t, table, plan)
    _listed_periods(t, table, plan, windows)
    if plan.having is not None and plan.group is None:
        plan.notes.append("条件需要分组")
        clarity = min(clarity, 0.3)  # a condition on a figure that grouped nothing
    if table.default_filter and table.time and table.time.trigger and not plan.share and any(
            w in text for w in table.time.trigger) and (plan.window is not None or plan.time_group is not None or (
            plan.group is not None and plan.group.expr.startswith(f"year({table.time.column})"))):
        plan.filters = [f for f in plan.filters if f.kind != "default"]  # 2024年新成立的企业: every firm founded then
    if table.default_filter and plan.group is not None and plan.group.id == table.default_filter[2]:
        plan.filters = [f for f in plan.filters if f.kind != "default"]  # 各登记状态: every status
    if plan.group is None and plan.time_group is None and _COMPARE_CUE.search(t.text):
        listed = [f for f in plan.filters if f.dim and f.words > 1]
        if listed:  # 东湖区和光谷区的工单数对比: one row per value named
            owner = listed[0].table
            plan.group, plan.group_table = layer.tables[owner].dimensions[listed[0].dim], owner
            t.any(("对比", "比较", "分别", "相比", "compare", "versus", "vs"))
    if plan.group is not None and any(f.dim == plan.group.id and len(f.values) == 1 for f in plan.filters):
        listed = [f for f in plan.filters if f.dim and f.dim != plan.group.id and f.words > 1 and len(f.values) > 1
                  and f.kind == "value" and _LISTED.search(text[f.span[0]:f.span[1]])
                  and not (table.default_filter and f.dim == table.default_filter[2])]
        if len(listed) == 1:  # 集成电路产业链上游、中游、下游各有多少家: the named chain is a filter, the list groups
            owner = listed[0].table
            plan.group, plan.group_table = layer.tables[owner].dimensions[listed[0].dim or ""], owner
    if plan.compare in ("yoy", "mom") and plan.group is not None and plan.group.id == "year":
        plan.group = plan.group_table = None  # GDP同比变化: 变化 names the comparison, not a breakdown by year
    if plan.share and plan.group is not None and any(
            f.dim == plan.group.id and f.sql.count("'") == 2 for f in plan.filters):
        plan.group = plan.group_table = None  # 电话渠道的工单占比: the share of that one value, not a breakdown
    _ranking(t, plan)
    if plan.having is not None and plan.group is not None and plan.top is None and not re.search(
            r"各|每|分别|哪|which|list", t.text) and (m := re.search(r"(?:有|共有|一共有|总共有)?(?:几|多少)\s*(?:个|类|种|条|家)|"
                                                                   r"how many", t.text)) and t.free(*m.span()):
        t.take(*m.span())
        plan.count_groups = True  # 工单超过2000件的类别有几个: the groups counted
    if plan.group is not None or plan.time_group is not None:
        while t.any(("趋势", "走势", "变化情况", "变化", "分布情况", "分布", "trend", "trends", "breakdown")):
            pass
    annual = _take_re(t, _ANNUAL_GROWTH)  # 年均增长率: compound growth, not the average 年均
    _aggregate(t, plan)
    if plan.agg == "avg" and plan.metric.unit.endswith("/月") and "月均" in text and re.search(r"总额|总量|合计|总共|一共",
                                                                                            text):
        plan.agg = None  # 低保金月均发放总额: the figure is monthly already; 月均 restates it, 总额 asks the sum
    if plan.per_hour and plan.agg == "avg":
        plan.agg = None  # 平均每小时…平均: the hourly average said twice
    if span := t.any(_GROWTH):
        if plan.compare is None:
            plan.compare = "growth"
    del span
    if plan.compare == "growth" and len(windows) == 2 and plan.previous is None:
        earlier, later = sorted(windows, key=lambda w: w.start)
        if earlier.end <= later.start:  # 2021年到2025年增长了多少: the later against the earlier
            plan.window, plan.previous, plan.compare = later, earlier, "pair"
    elif plan.compare == "growth" and table.snapshot and plan.window is not None and len(plan.window.years) > 1 \
            and plan.previous is None and not plan.window.parts:
        years = [y for y in plan.window.years if y <= as_of.year]  # 2021年以来增长了多少: the last year against the first
        if len(years) > 1:
            plan.window = timewin.Window(date(years[-1], 1, 1), date(years[-1] + 1, 1, 1), f"{years[-1]}年", "year")
            plan.previous = timewin.Window(date(years[0], 1, 1), date(years[0] + 1, 1, 1), f"{years[0]}年", "year")
            plan.compare = "pair"
    if plan.share and plan.group is None and plan.time_group is None and "rate-of-value" not in plan.notes:
        first = min((m.start() for w in _SHARE for m in _word_pattern(w).finditer(text)), default=0)
        plan.share_drop = _share_drop(plan, t, first)
        if plan.share_drop is None and plan.window is not None and "window-part" not in plan.notes and re.search(
                r"占(?:了)?(?:全年|今年|本年|全部|所有|总)", text):
            plan.notes.append("window-part")  # 8月工单占全年的比例: the window is the part, every row the whole
    elif plan.share and plan.group is not None and plan.metric.is_count and not re.search(
            r"占(?:全市|全部|总|所有|全城)|全市的?(?:比例|比重|占比)|of (?:the )?(?:city|all|total)", text):
        defaulted = table.default_filter[0] if table.default_filter else None
        conditions = [f for f in plan.filters if f.kind in ("flag", "value", "compare") and f.dim != plan.group.id
                      and not (defaulted and f.sql == defaulted)]  # 在营企业: the default rows, named, not a part
        if conditions:  # 各区专精特新企业中高新技术企业的占比: within each group, the share the condition keeps
            first = min((m.start() for w in _SHARE for m in _word_pattern(w).finditer(text)), default=0)
            group_filters = [f for f in plan.filters if f not in conditions]
            plan.filters = conditions + group_filters
            plan.share_drop = _share_drop(plan, t, first)
            plan.filters = [f for f in plan.filters if f in conditions or f in group_filters]
    if plan.share and plan.share_drop is not None and len(plan.share_drop.values) > 1 and "占" not in text and re.search(
            r"[与和跟及]", text[plan.share_drop.span[0]:plan.share_drop.span[1]]):
        clarity = min(clarity, 0.3)  # 已办结工单与未办结工单的比例: one to the other, or each of all?
        plan.notes.append("两个值之比")
    if plan.group is not None or plan.time_group is not None:
        t.any(_LIST)  # 列出各区的…: a list of groups
    via = [layer.tables[r.target].dimensions[v] for r in layer.relations_from(table.id) for v in r.via]
    for d in [*table.dimensions.values(), *via]:  # a dimension's name that did not group (上游环节的企业)
        for w in sorted(d.words, key=len, reverse=True):
            while t.find(w):
                pass
    for w in sorted(table.words + table.nouns, key=len, reverse=True):
        while t.find(w):
            pass
    _differences(t, layer, plan, windows, annual)
    if "平均" in plan.notes:
        clarity = min(clarity, 0.3)
    if plan.top is not None and plan.group is None and plan.time_group is None:
        plan.notes.append("排名需要分组")
        clarity = min(clarity, 0.3)  # a top-N of nothing: a ranking word that grouped nothing
    residual = t.residual()
    unplaced = re.findall(r"最(?:多|少|高|低|大|小|长|短|快|慢|好|差)|前几|几名|中位|众数|方差|标准差|分位|"
                          r"\b(?:mode|variance|percentile|deviation)\b|\b(?:most|least|highest|lowest|largest|smallest|fewest|"
                          r"biggest|longest|shortest)\b", residual)
    if unplaced:  # 平均办结时长最长的3类工单: a superlative that ranked nothing
        clarity = min(clarity, 0.3)
        plan.notes.append("、".join(unplaced))
    residual = FILLER.sub(" ", residual)
    leftover_cjk = _CJK.findall(residual)
    leftover_en = [w for w in re.findall(r"[a-z][a-z0-9'.-]*", residual) if w not in _EN_FILLER and len(w) > 1]
    plan.residual = " ".join(residual.split())
    confidence = clarity - 0.45 * len(leftover_cjk) - 0.45 * len(leftover_en)
    plan.confidence = max(0.05, min(1.0, confidence))
    return plan, None, text


__all__ = ["Filter", "Plan", "Refusal", "Relation", "clean", "plan_question"]
