"""Numbers as published: Arabic (with decimals, thousands groups) and Chinese numerals, and
amounts scaled to 亿元 without losing the published decimals."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import cn2an

# Chinese numerals that can stand for a count or a round number (两个, 十三期, 一百零三个).
CN_NUM = r"[一二两三四五六七八九十][零〇一二两三四五六七八九十百千]*"
AR_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
NUM = rf"(?:{AR_NUM}|{CN_NUM})"

# Magnitude words before 元, as multipliers to 亿.
TO_YI = {"万亿": Decimal(10000), "千亿": Decimal(1000), "百亿": Decimal(100), "亿": Decimal(1),
         "千万": Decimal("0.1"), "百万": Decimal("0.01"), "万": Decimal("0.0001"), "": Decimal("1e-8")}


def parse_number(text: str) -> Decimal | None:
    """'5782.7' -> Decimal('5782.7'); '1,420' -> 1420; '两' -> 2; '十三' -> 13; else None."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit():
        try:
            return Decimal(text.replace(",", ""))
        except InvalidOperation:
            return None
    if text in ("千", "百"):  # 超千亿元: a bare magnitude is one of it
        return Decimal(1000 if text == "千" else 100)
    try:
        value = cn2an.cn2an(text, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return Decimal(int(value)) if float(value).is_integer() else Decimal(str(value))


def to_yi(value: Decimal, magnitude: str) -> Decimal:
    """Scale an amount to 亿元. '1.8' 万亿 -> 18000; 85000 万 -> 8.5."""
    scaled = value * TO_YI[magnitude]
    if magnitude != "亿":
        scaled = scaled.normalize()
        if scaled == scaled.to_integral_value():
            scaled = scaled.quantize(Decimal(1))
    return scaled


def json_number(value: Decimal) -> int | float:
    """Integers stay integers; published decimals stay (4170.0 is written 4170.0)."""
    if value.as_tuple().exponent >= 0:
        return int(value)
    return float(value)
