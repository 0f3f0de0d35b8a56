"""Personal-information detection and masking: validated identifiers, decoys, adversarial forms."""

from __future__ import annotations

import time

import pytest
from stdnum import luhn
from stdnum.cn import ric, uscc

from aicity.security import pii
from aicity.security.findings import Finding, without_overlaps
from aicity.security.normalize import MAX_CHARS, digit_runs, normalize


def resident_id(body: str) -> str:
    """A resident ID number with the right check digit for its 17-digit body."""
    return body + ric.calc_check_digit(body + "0")


ID = resident_id("42010219900307123")  # Wuhan, born 1990-03-07
CARD = "622202123456789012"
CARD += luhn.calc_check_digit(CARD)  # 19-digit UnionPay
USCC = "91420100MA4K" + "12345"
USCC += uscc.calc_check_digit(USCC + "0")


def found(text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start:f.end]) for f in pii.detect(text)]


def test_resident_id_needs_checksum_and_birth_date() -> None:
    assert found(f"我的身份证号是{ID}，请帮我查社保") == [("ric", ID)]
    wrong_digit = ID[:-1] + ("0" if ID[-1] == "X" else str((int(ID[-1]) + 1) % 10))
    assert found(f"身份证号{wrong_digit}为什么提示无效") == []
    bad_date = resident_id("42010219901332123")  # the 32nd of the 13th month
    assert found(f"身份证号{bad_date}") == []
    future = resident_id("42010221990307123")
    assert found(f"身份证号{future}") == []


def test_mobile_forms_and_landlines() -> None:
    assert found("电话13812345678") == [("mobile", "13812345678")]
    assert found("手机：+86 138-1234-5678，谢谢") == [("mobile", "+86 138-1234-5678")]
    assert found("请打008613812345678") == [("mobile", "008613812345678")]
    assert found("座机(027)87654321或0755-12345678") == [("landline", "(027)87654321"), ("landline", "0755-12345678")]
    assert found("两个号码 13812345678 13912345678") == [("mobile", "13812345678"), ("mobile", "13912345678")]


def test_bank_card_uscc_email_passport_plate() -> None:
    text = (f"卡号{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}，信用代码{USCC}，"
            "邮箱 zhang.san@example.com.cn，护照号E12345678，车牌鄂A12345，新能源粤BD12345")
    assert [t for t, _ in found(text)] == ["bank_card", "uscc", "email", "passport", "plate", "plate"]
    broken_card = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert found(f"卡号{broken_card}") == []
    assert found(f"信用代码{USCC[:-1]}{'0' if USCC[-1] != '0' else '1'}") == []
    assert found("型号E12345678的配件") == []  # no passport without a passport cue


def test_names_and_addresses_need_context() -> None:
    assert found("我叫张三想问一下公积金") == [("name", "张三")]
    assert found("姓名：欧阳娜娜，联系人：李四") == [("name", "欧阳娜娜"), ("name", "李四")]
    assert found("我住在武汉市洪山区珞喻路12号3栋附近") == [("address", "武汉市洪山区珞喻路12号3栋")]
    assert found("我是来办事的，申请人身份证丢了") == []
    assert found("办理地址：江汉区新华路20号政务服务中心") == []  # a public office, not a person's home
    assert found("张先生在武汉市工作") == []


@pytest.mark.parametrize("decoy", [
    "根据国办发〔2023〕12号文件，补贴标准是多少",
    "我的订单号是2023120113812345678，什么时候发货",
    "快递单号2023138123456780001查不到",
    "这笔罚款是16372776458元吗",
    "办理时间2024-03-15上午9点，坐标114.305539, 30.592760",
    "工单编号WO202405010011处理进度",
    "热线12345可以投诉吗",
])
def test_decoys_are_left_alone(decoy: str) -> None:
    assert pii.detect(decoy) == []
    assert pii.mask(decoy).text == decoy


def test_full_width_zero_width_and_split_identifiers() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ID)
    assert found(f"身份证：{full_width}") == [("ric", full_width)]
    hidden = "138\u200b1234\u200d5678"
    assert found(f"电话{hidden}") == [("mobile", hidden)]
    split = f"{ID[:4]} {ID[4:8]} {ID[8:12]} {ID[12:16]} {ID[16:]}"
    assert found(f"身份证{split}号") == [("ric", split)]
    assert found(f"ID {ID[:6]}-{ID[6:14]}-{ID[14:]}") == [("ric", f"{ID[:6]}-{ID[6:14]}-{ID[14:]}")]
    assert found("电话１３８\u202e１２３４５６７８") == [("mobile", "１３８\u202e１２３４５６７８")]  # a bidi control inside


def test_emoji_and_mixed_scripts_keep_offsets() -> None:
    text = f"😀👨‍👩‍👧 Hello 你好，my phone is 13812345678 😀 身份证{ID} ✅"
    assert found(text) == [("mobile", "13812345678"), ("ric", ID)]
    masked = pii.mask(text).text
    assert masked.startswith("😀👨‍👩‍👧 Hello 你好") and masked.endswith(" ✅")
    assert "138****5678" in masked and f"{ID[:4]}{'*' * 10}{ID[-4:]}" in masked


def test_masking_styles() -> None:
    text = f"我叫张三，电话13812345678，身份证{ID}"
    partial = pii.mask(text)
    assert partial.text == f"我叫张*，电话138****5678，身份证{ID[:4]}**********{ID[-4:]}"
    assert [f.type for f in partial.findings] == ["name", "mobile", "ric"]
    assert partial.complete
    assert pii.mask(text, style="full").text == "我叫[姓名]，电话[手机号]，身份证[身份证号]"
    only_ids = pii.mask(text, style="full", types={"ric"})
    assert only_ids.text == "我叫张三，电话13812345678，身份证[身份证号]"


def test_token_masking_round_trip() -> None:
    vault = pii.MemoryVault()
    text = f"我叫张三，电话+86 138 1234 5678，身份证{ID}，再说一遍电话+86 138 1234 5678"
    masked = pii.mask(text, style="token", vault=vault)
    assert "13812345678" not in masked.text.replace(" ", "") and "张三" not in masked.text
    tokens = pii.TOKEN.findall(masked.text)
    assert [kind for kind, _ in tokens] == ["name", "mobile", "ric", "mobile"]
    assert tokens[1] == tokens[3]  # the same value gets the same token
    assert pii.reveal(masked.text, vault) == text
    assert pii.reveal(masked.text, pii.MemoryVault()) == masked.text  # another vault reveals nothing
    with pytest.raises(ValueError):
        pii.mask(text, style="token")


def test_very_long_input_is_bounded() -> None:
    text = ("我的电话13812345678，" + "数" * 50 + "1 " * 40) * 12_000  # about 1.3 MB
    start = time.perf_counter()
    result = pii.mask(text)
    assert time.perf_counter() - start < 10
    assert not result.complete
    assert result.findings and all(f.end <= MAX_CHARS for f in result.findings)
    assert result.text.endswith(text[-100:])  # the tail beyond the limit is returned unread
    for adversarial in ("1" * 1_000_000, "a@" * 500_000, "1 " * 500_000, "京A" * 500_000):
        start = time.perf_counter()
        pii.detect(adversarial)
        assert time.perf_counter() - start < 10


def test_normalize_maps_back_to_original_offsets() -> None:
    norm = normalize("电话：１３８\u200b１２３４５６７８")
    assert norm.text == "电话:13812345678"
    start = norm.text.index("1")
    assert norm.span(start, len(norm.text)) == (3, 15)
    assert normalize("plain ascii").source is None
    digits = "号码 4201 0219-9001 和 12ab 34"
    runs = [[digits[s:e] for s, e in run] for run in digit_runs(digits)]
    assert runs == [["4201", "0219", "9001"], ["34"]]


def test_overlapping_findings_keep_the_most_confident() -> None:
    weak, strong = Finding("pii", "bank_card", 0, 19, "a", 0.8), Finding("pii", "ric", 1, 19, "b", 0.99)
    other = Finding("pii", "mobile", 20, 31, "c", 0.9)
    assert without_overlaps([weak, other, strong]) == [strong, other]
