"""Whose figures a text reports by default: the province, a city (我市) or a county (我县)."""
from __future__ import annotations

import re
from collections import Counter

from sanpi.bulletin.units import PROVINCE, Unit, find_mentions, is_subject, unit_for

_CITY_DEICTIC = re.compile(r"我市|全市|本市|(?<![省])市委书记|(?<![省副])市长")
_COUNTY_DEICTIC = re.compile(r"我县|全县|本县|县委书记|(?<!副)县长")


def home_units(text: str) -> tuple[Unit | None, Unit | None, Unit | None]:
    """(home unit, home city, home county). The city a text is about is the one it names most,
    counting its counties; a text that speaks of 我市/全市 is that city's, one whose figures
    have 全省/我省/河南省 as subject is the province's."""
    city_votes: Counter[str] = Counter()
    county_votes: Counter[str] = Counter()
    province_subject = False
    for m in find_mentions(text):
        if m.unit is None:
            continue
        if m.unit.level == "city":
            city_votes[m.unit.name] += 1
        elif m.unit.level == "county":
            county_votes[m.unit.name] += 1
            if m.unit.city:
                city_votes[m.unit.city] += 1
        elif m.unit.level == "province" and is_subject(text, m):
            province_subject = True

    def top(votes: Counter[str]) -> str | None:
        ranked = votes.most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    city_name, county_name = top(city_votes), top(county_votes)
    home_city = unit_for(city_name) if city_name else None
    home_county = unit_for(county_name) if county_name else None
    if _COUNTY_DEICTIC.search(text) and not _CITY_DEICTIC.search(text) and home_county:
        return home_county, home_city, home_county
    if _CITY_DEICTIC.search(text):
        # a city's own report; if it never names the city, its figures have no unit
        return home_city, home_city, home_county
    if province_subject:
        return Unit(PROVINCE, "province"), home_city, home_county
    if home_city:
        return home_city, home_city, home_county
    if re.search(r"全省|我省|河南", text):
        return Unit(PROVINCE, "province"), None, home_county
    return None, home_city, home_county
