"""Structure-aware parsing of Chinese legal text: 章/节/条/款/项 become units with locators.

A law in the bundled corpus is Markdown: `# title`, issuing lines, `<!-- INFO END -->`,
`## 第X章` / `### 第X节` headings, then one paragraph per article beginning `第X条`;
further paragraphs of the article are its 款, and `（一）` paragraphs are 项 of the 款 before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CN_NUM = "零〇一二三四五六七八九十百千"
ARTICLE_RE = re.compile(rf"^(第[{CN_NUM}]+条(?:之[{CN_NUM}]+)?)[\s　]*(.*)$", re.S)
CHAPTER_RE = re.compile(rf"^(第[{CN_NUM}]+[编章节])[\s　]*(.*)$")
ITEM_RE = re.compile(rf"^[（(][{CN_NUM}]+[)）]")
#: a long article is split into pieces of about this many characters, never mid-sentence
MAX_CHUNK_CHARS = 700
SENTENCE_END = re.compile(r"(?<=[。！？；])")


@dataclass
class Article:
    locator: str  # 第三十五条
    headings: list[str]  # [第四章 食品生产经营, 第一节 一般规定]
    paragraphs: list[str]  # 款 in order; each 款 carries its 项 joined by newlines

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class ParsedLaw:
    title: str
    preamble: list[str] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)


def parse_law(markdown: str) -> ParsedLaw:
    lines = [normalize_line(line) for line in markdown.splitlines()]
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), "")
    law = ParsedLaw(title=title)
    in_body = "<!-- INFO END -->" not in markdown
    headings: dict[str, str] = {}
    current: Article | None = None
    for line in lines:
        if not line:
            continue
        if line == "<!-- INFO END -->":
            in_body = True
            continue
        if not in_body:
            if not line.startswith("# "):
                law.preamble.append(line)
            continue
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            match = CHAPTER_RE.match(heading)
            level = match.group(1)[-1] if match else "章"
            if level in "编章":
                headings = {"章": heading} if level == "章" else {"编": heading}
            else:
                headings[level] = heading
            current = None
            continue
        match = ARTICLE_RE.match(line)
        if match:
            current = Article(
                locator=match.group(1), headings=[h for h in headings.values()], paragraphs=[line]
            )
            law.articles.append(current)
        elif current is not None:
            if ITEM_RE.match(line) and current.paragraphs:
                current.paragraphs[-1] += "\n" + line
            else:
                current.paragraphs.append(line)
    return law


def normalize_line(line: str) -> str:
    """Trim only: quotes must stay exactly as the official text has them."""
    return line.replace("\u3000", " ").strip()


def paragraph_locator(article: str, index: int) -> str:
    """`第三十五条`, 2 → `第三十五条 第二款` (index is 1-based)."""
    return f"{article} 第{to_chinese_numeral(index)}款"


def to_chinese_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + digits[rest] if rest < 10 else to_chinese_numeral(rest) if rest >= 20 else "一" + to_chinese_numeral(rest))
    return digits[n // 100] + "百" + tail


@dataclass
class Chunk:
    locator: str
    article: str
    headings: list[str]
    text: str


def chunk_article(article: Article) -> list[Chunk]:
    """One chunk per article; a long one splits by 款, then by sentence, never mid-sentence."""
    if len(article.text) <= MAX_CHUNK_CHARS:
        return [Chunk(article.locator, article.locator, article.headings, article.text)]
    chunks: list[Chunk] = []
    for i, para in enumerate(article.paragraphs, start=1):
        locator = paragraph_locator(article.locator, i) if len(article.paragraphs) > 1 else article.locator
        for piece in _split_sentences(para):
            chunks.append(Chunk(locator, article.locator, article.headings, piece))
    return chunks


def _split_sentences(text: str) -> list[str]:
    """Pieces of at most MAX_CHUNK_CHARS, cut at sentence ends; a sentence longer than that
    (text without punctuation) is cut hard, so no chunk is ever longer."""
    if len(text) <= MAX_CHUNK_CHARS:
        return [text]
    sentences = [s[i : i + MAX_CHUNK_CHARS] for s in SENTENCE_END.split(text) if s
                 for i in range(0, len(s), MAX_CHUNK_CHARS)]
    pieces: list[str] = []
    buf = ""
    for sentence in sentences:
        if buf and len(buf) + len(sentence) > MAX_CHUNK_CHARS:
            pieces.append(buf)
            # one sentence of overlap keeps the context of the cut (when the piece still fits)
            last = _last_sentence(buf)
            buf = last if len(last) < MAX_CHUNK_CHARS // 3 and len(last) + len(sentence) <= MAX_CHUNK_CHARS else ""
        buf += sentence
    if buf:
        pieces.append(buf)
    return pieces


def _last_sentence(text: str) -> str:
    parts = [s for s in SENTENCE_END.split(text) if s]
    return parts[-1] if parts else ""


def chunk_generic(blocks: list[tuple[str, int]]) -> list[Chunk]:
    """Heading- and paragraph-aware chunks for documents that are not article-structured:
    paragraphs under one heading path are packed up to MAX_CHUNK_CHARS; a long paragraph
    splits on sentence ends. The locator is the heading path and the paragraph number."""
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []
    buf: list[str] = []
    first_para = 0
    para_no = 0

    def flush() -> None:
        nonlocal buf
        if buf:
            section = path[-1][1] if path else "正文"
            where = f"第{first_para}段" if len(buf) == 1 else f"第{first_para}-{first_para + len(buf) - 1}段"
            locator = " > ".join([h for _, h in path] + [where])
            for piece in _split_sentences("\n".join(buf)):
                chunks.append(Chunk(locator, section, [h for _, h in path], piece))
            buf = []

    for text, level in blocks:
        if level:
            flush()
            path = [(lv, h) for lv, h in path if lv < level] + [(level, text)]
            para_no = 0
            continue
        para_no += 1
        if buf and len("\n".join(buf)) + len(text) > MAX_CHUNK_CHARS:
            flush()
        if not buf:
            first_para = para_no
        buf.append(text)
    flush()
    return chunks
