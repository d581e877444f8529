"""Numbers written out in words: the targets of the capstone's translation tasks.

Both converters accept integers 0 <= n < 10**8 (at most eight digits, the range the tasks draw
from) and reject anything else with a ValueError or TypeError that says what was expected.
"""

from __future__ import annotations

import numbers

LIMIT = 10 ** 8

ZH_DIGITS = "零一二三四五六七八九"
ZH_UNITS = ("", "十", "百", "千")  # inside a four-digit group: ones, tens, hundreds, thousands
ZH_WAN = "万"

EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
           "fifteen sixteen seventeen eighteen nineteen").split()
EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _checked(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"expected an int, got {type(n).__name__} ({n!r})")
    n = int(n)
    if not 0 <= n < LIMIT:
        raise ValueError(f"expected 0 <= n < 10**8 (at most eight digits), got {n}")
    return n


def _zh_group(n: int) -> str:
    """A group 1 <= n <= 9999 read with units; a run of zeros between digits reads as one 零."""
    out, pending_zero = [], False
    for power in (3, 2, 1, 0):
        digit = n // 10 ** power % 10
        if digit == 0:
            pending_zero = bool(out)  # only zeros after a digit can need a 零
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(ZH_DIGITS[digit] + ZH_UNITS[power])
    return "".join(out)


def to_chinese(n: int) -> str:
    """Chinese numerals for 0 <= n < 10**8, e.g. 1204 → 一千二百零四.

    Rules (the usual school rules, as ``cn2an.an2cn`` writes them):

    * the number splits into groups of four digits, the upper group followed by 万;
    * inside a group every non-zero digit is read with its unit (千, 百, 十); zeros at the end of a
      group are silent, and any run of zeros between two digits is read as a single 零;
    * the lower group starts with 零 when it is below 1000 and the upper group is not empty
      (10010 → 一万零一十, 10000001 → 一千万零一), but 10001000 → 一千万一千;
    * 2 is always 二, never 两 (20000 → 二万);
    * a number that starts with 1 in the tens place drops that 一 (10 → 十, 12 → 十二,
      100000 → 十万); inside a longer number it stays (110 → 一百一十).
    """
    n = _checked(n)
    if n == 0:
        return ZH_DIGITS[0]
    high, low = divmod(n, 10_000)
    text = ""
    if high:
        text = _zh_group(high) + ZH_WAN
        if low and low < 1000:
            text += "零"
    if low:
        text += _zh_group(low)
    if text.startswith("一十"):
        text = text[1:]
    return text


def _en_below_thousand(n: int) -> list[str]:
    """Words for 1 <= n <= 999."""
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [EN_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(EN_TENS[tens] + (f"-{EN_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(EN_ONES[rest])
    return words


def to_english(n: int) -> str:
    """English words for 0 <= n < 10**8, e.g. 1204 → "one thousand two hundred four".

    Rules: short-scale names (thousand, million); compound tens between 21 and 99 take a
    hyphen ("twenty-one"); no "and" and no commas; zero groups are silent
    (1000001 → "one million one"); every word is lower case, separated by single spaces.
    """
    n = _checked(n)
    if n == 0:
        return EN_ONES[0]
    millions, rest = divmod(n, 1_000_000)
    thousands, ones = divmod(rest, 1000)
    words = []
    if millions:
        words += _en_below_thousand(millions) + ["million"]
    if thousands:
        words += _en_below_thousand(thousands) + ["thousand"]
    if ones:
        words += _en_below_thousand(ones)
    return " ".join(words)


__all__ = ["LIMIT", "to_chinese", "to_english"]
