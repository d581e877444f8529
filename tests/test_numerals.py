"""Number → words converters: hand-worked tables, an independent parser for round trips, cn2an as an
oracle when installed, and proof that each check rejects the usual wrong converters."""

from __future__ import annotations

import random

import numpy as np
import pytest

from course.numerals import to_chinese, to_english

ZH_TABLE = {
    0: "零", 1: "一", 2: "二", 10: "十", 11: "十一", 12: "十二", 19: "十九", 20: "二十", 22: "二十二",
    100: "一百", 101: "一百零一", 110: "一百一十", 111: "一百一十一", 200: "二百", 1000: "一千", 1001: "一千零一",
    1010: "一千零一十", 1100: "一千一百", 1204: "一千二百零四", 2222: "二千二百二十二", 9999: "九千九百九十九",
    10000: "一万", 10001: "一万零一", 10010: "一万零一十", 10100: "一万零一百", 11000: "一万一千",
    20000: "二万", 22000: "二万二千", 100000: "十万", 100010: "十万零一十", 110000: "十一万", 150003: "十五万零三",
    1000000: "一百万", 1000100: "一百万零一百", 1010101: "一百零一万零一百零一", 10000000: "一千万",
    10000001: "一千万零一", 10001000: "一千万一千", 10100101: "一千零一十万零一百零一",
    12345678: "一千二百三十四万五千六百七十八", 99999999: "九千九百九十九万九千九百九十九",
}

EN_TABLE = {
    0: "zero", 5: "five", 13: "thirteen", 20: "twenty", 21: "twenty-one", 99: "ninety-nine", 100: "one hundred",
    101: "one hundred one", 115: "one hundred fifteen", 1000: "one thousand", 1204: "one thousand two hundred four",
    10010: "ten thousand ten", 100000: "one hundred thousand", 1000001: "one million one",
    2000300: "two million three hundred", 40506070: "forty million five hundred six thousand seventy",
    99999999: "ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine",
}

ZH_VALUES = {c: i for i, c in enumerate("零一二三四五六七八九")}
ZH_UNITS = {"十": 10, "百": 100, "千": 1000}


def parse_chinese(text: str) -> int:
    """Independent reader: sums digit × unit inside each 万 section (also reads 两 and a bare 十)."""
    def section(s: str) -> int:
        total, digit = 0, None
        for ch in s:
            if ch in ZH_VALUES or ch == "两":
                digit = 2 if ch == "两" else ZH_VALUES[ch]
            elif ch in ZH_UNITS:
                total += (1 if digit is None else digit) * ZH_UNITS[ch]
                digit = None
            else:
                raise ValueError(ch)
        return total + (digit or 0)
    high, _, low = text.rpartition("万")
    return section(high) * 10_000 + section(low) if "万" in text else section(text)


EN_SMALL = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                        "fourteen fifteen sixteen seventeen eighteen nineteen".split())}
EN_SMALL.update({w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)})


def parse_english(text: str) -> int:
    total, current = 0, 0
    for word in text.split(" "):
        if word == "hundred":
            current *= 100
        elif word in ("thousand", "million"):
            total += current * (1000 if word == "thousand" else 1_000_000)
            current = 0
        else:
            current += sum(EN_SMALL[part] for part in word.split("-"))
    return total + current


def random_numbers(count: int, seed: int = 0) -> list[int]:
    """Uniform digit count 1..8, half of them rich in zeros (where the 零 rules live)."""
    r = random.Random(seed)
    out = []
    for i in range(count):
        d = r.randint(1, 8)
        n = r.randrange(10 ** (d - 1) if d > 1 else 0, 10 ** d)
        if i % 2:
            s = str(n)
            n = int(s[0] + "".join(c if r.random() < 0.4 else "0" for c in s[1:]))
        out.append(n)
    return out


def zh_mismatches(fn) -> list:
    return [(n, fn(n)) for n, text in ZH_TABLE.items() if fn(n) != text]


def en_mismatches(fn) -> list:
    return [(n, fn(n)) for n, text in EN_TABLE.items() if fn(n) != text]


def test_chinese_table():
    assert zh_mismatches(to_chinese) == []


def test_english_table():
    assert en_mismatches(to_english) == []


@pytest.mark.parametrize("wrong", [
    lambda n: to_chinese(n).replace("二万", "两万").replace("二千", "两千"),  # 两 instead of 二
    lambda n: to_chinese(n).replace("零", ""),  # zeros never read
    lambda n: "一" + to_chinese(n) if to_chinese(n).startswith("十") else to_chinese(n),  # 一十二
    lambda n: to_chinese(n).replace("万零", "万"),  # no 零 after 万
    lambda n: to_chinese(n).replace("一十", "十"),  # drops 一 inside numbers too
])
def test_chinese_table_rejects_wrong_rules(wrong):
    assert zh_mismatches(wrong)


@pytest.mark.parametrize("wrong", [
    lambda n: to_english(n).replace("hundred ", "hundred and "),
    lambda n: to_english(n).replace("-", " "),
    lambda n: to_english(n).replace("thousand ", "thousand, "),
])
def test_english_table_rejects_wrong_rules(wrong):
    assert en_mismatches(wrong)


def test_round_trips_through_independent_parsers():
    for n in random_numbers(3000, seed=1):
        zh, en = to_chinese(n), to_english(n)
        assert parse_chinese(zh) == n, (n, zh)
        assert parse_english(en) == n, (n, en)
        assert "两" not in zh and " and " not in en and "  " not in en


def test_a_dropped_zero_reading_fails_the_round_trip_or_the_table():
    def wrong(n):
        return to_chinese(n).replace("零", "")
    assert any(parse_chinese(wrong(n)) != n for n in random_numbers(200)) or zh_mismatches(wrong)


def test_matches_cn2an_oracle():
    cn2an = pytest.importorskip("cn2an", reason="cn2an (PyPI) is not installed: no oracle to compare with")
    numbers = random_numbers(5000, seed=2) + list(range(0, 1200)) + [10 ** k for k in range(8)]
    bad = [(n, to_chinese(n), cn2an.an2cn(n)) for n in numbers if to_chinese(n) != cn2an.an2cn(n)]
    assert bad == []


def test_cn2an_oracle_rejects_a_wrong_converter():
    cn2an = pytest.importorskip("cn2an", reason="cn2an (PyPI) is not installed")
    wrong = lambda n: to_chinese(n).replace("万零", "万")  # noqa: E731
    assert any(wrong(n) != cn2an.an2cn(n) for n in random_numbers(500, seed=3))


def test_numpy_integers_are_accepted():
    assert to_chinese(np.int64(1204)) == "一千二百零四"
    assert to_english(np.int32(21)) == "twenty-one"


@pytest.mark.parametrize("fn", [to_chinese, to_english])
@pytest.mark.parametrize("bad, error", [
    (-1, ValueError), (10 ** 8, ValueError), (True, TypeError), (3.0, TypeError), ("12", TypeError), (None, TypeError),
])
def test_bad_input_is_a_clear_error(fn, bad, error):
    with pytest.raises(error, match="expected"):
        fn(bad)
