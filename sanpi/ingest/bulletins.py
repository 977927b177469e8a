"""Read a structured bulletin (JSON in the bulletin reader's output shape) into typed records."""
from __future__ import annotations

import json
from decimal import Decimal


class BulletinFormatError(ValueError):
    pass


def _decimals(value: int | Decimal) -> int:
    """Decimals as published: 4364 -> 0, 5782.7 -> 1, 5782.0 -> 1. Sets the rounding tolerance."""
    return 0 if isinstance(value, int) else max(0, -value.as_tuple().exponent)


def read_bulletin_json(data: bytes) -> tuple[dict, list[dict]]:
    try:
        # Decimal keeps the published decimals (5782.0 is not 5782).
        doc = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BulletinFormatError(f"not a JSON bulletin: {exc}") from exc
    if not isinstance(doc, dict) or "figures" not in doc:
        raise BulletinFormatError("JSON bulletin has no 'figures' list")
    cumulative = doc.get("cumulative") or {}
    bulletin = {
        "province": doc.get("province"),
        "round_no": doc.get("round"),
        "held_on": doc.get("held_on"),
        "main_venue": doc.get("main_venue"),
        "source_url": doc.get("source_url"),
        "cumulative_rounds": cumulative.get("rounds"),
        "cumulative_projects": cumulative.get("projects"),
        "cumulative_investment_yi": cumulative.get("investment_yi"),
        "cumulative_qualifier": cumulative.get("qualifier"),
    }
    figures = []
    for i, fig in enumerate(doc["figures"], start=1):
        try:
            breakdown = fig.get("breakdown") or {}
            figures.append({
                "figure_number": i,
                "unit": fig["unit"], "unit_level": fig["unit_level"], "stage": fig["stage"],
                "measure": fig["measure"], "value": Decimal(fig["value"]),
                "value_decimals": _decimals(fig["value"]),
                "qualifier": fig.get("qualifier", "exact"),
                "breakdown_dimension": breakdown.get("dimension"),
                "breakdown_category": breakdown.get("category"),
                "source_text": fig.get("source_text"),
            })
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise BulletinFormatError(f"figure {i} is incomplete: {exc!r}") from exc
    return bulletin, figures
