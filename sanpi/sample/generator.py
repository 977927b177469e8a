"""The campaign model: which projects each unit lists in each stage of each round, and amounts.

Every draw comes from random.Random streams derived from one seed, so a seed fixes the sample.
Amounts are integer hundredths of 亿元 (0.01 亿元), so every sum is exact integer arithmetic and
anchored totals (published provincial figures) are hit to the last digit.
"""
from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sanpi.reference import Unit, published_rounds, units
from sanpi.sample import names
from sanpi.settings import SEEDS_DIR

STAGES = ("signed", "started", "production")
STAGE_ZH = {"signed": "签约一批", "started": "开工一批", "production": "投产一批"}
ROUNDS = range(1, 16)
FLOOR = 30  # smallest project: 0.30 亿元

# Stage counts (signed, started, production) for rounds whose counts were not published.
# Published counts in ref_rounds.csv override these. Round 7 starts more than round 8 puts into
# production because round 8's production batch was converted from round 7's started projects.
PLANNED_COUNTS = {
    1: (420, 580, 310), 2: (480, 640, 420), 3: (530, 720, 560), 4: (560, 1009, 785),
    5: (590, 900, 720), 6: (620, 950, 780), 7: (640, 960, 860), 8: (651, 769, 907),
    9: (600, 620, 1072), 10: (640, 880, 960), 11: (690, 900, 980), 12: (660, 820, 1000),
    13: (754, 488, 1017), 14: (700, 800, 990), 15: (610, 602, 1033),
}
# Published figures that cover signed+started together (not in ref_rounds.csv, which is per
# stage): round 8 '1420 projects, 1.8万亿元' (so 17500 <= amount < 18500 亿元), round 9
# '1220 projects, 约11408亿元'. Round 9's 1220 is split 600/620 in PLANNED_COUNTS.
COMBINED_COUNT = {9: 1220}
COMBINED_AMOUNT_RANGE = {8: (1750000, 1850000)}
COMBINED_AMOUNT = {9: 1140800}

# Share of a production batch carried over from earlier started projects (as the pool allows).
# From round 7-8 on real sources say the batch is converted from earlier started projects
# (round 7: only 4 newly added province-wide; rounds 8 and 15: entirely converted).
CARRY_SHARE = {1: 0.0, 2: 0.4, 3: 0.55, 4: 0.8, 5: 0.82, 6: 0.85, 8: 1.0, 15: 1.0}
CARRY_SHARE_DEFAULT = 0.88
NEW_PRODUCTION_FIXED = {7: 4}
CARRY_FROM_ROUND_ONLY = {8: 7}  # round 8's batch came from round 7's started projects

SIGNED_TO_STARTED = 0.46  # share of signed projects that start construction 1-4 rounds later
START_DELAY_WEIGHTS = {1: 35, 2: 30, 3: 20, 4: 15}
STARTED_CONVERTED_CAP = 0.75  # converted signed projects fill at most this share of a batch
AGE_WEIGHT = {1: 4.0, 2: 3.0, 3: 2.0, 4: 1.2}  # production favours recently started projects
SECTOR_BREAKDOWN_ROUNDS = (5, 8, 11, 14)  # bulletins with a started-stage sector breakdown

# Share of each stage's projects per unit: 郑州 clearly largest, the two zones small.
UNIT_WEIGHT = {
    "410100": 145, "410300": 85, "411300": 70, "410700": 60, "411000": 55, "411400": 55,
    "411600": 55, "411700": 55, "411500": 55, "410200": 50, "410500": 50, "410400": 45,
    "410800": 45, "410900": 40, "411100": 35, "411200": 35, "410600": 30, "419001": 15,
    "410173": 20,
}
UNIT_AMOUNT_FACTOR = {"410100": 1.25, "410173": 1.4, "410300": 1.1, "419001": 0.9}

SECTOR_WEIGHT = {  # per stage, by sector code: signing is mostly industry, starts add infrastructure
    "signed": {"adv_mfg": 38, "emerging": 27, "digital_infra": 8, "services": 12,
               "agriculture": 5, "major_infra": 3, "livelihood": 2, "other": 5},
    "started": {"adv_mfg": 30, "emerging": 14, "digital_infra": 7, "major_infra": 12,
                "services": 11, "livelihood": 12, "agriculture": 5, "other": 9},
    "production": {"adv_mfg": 42, "emerging": 33, "digital_infra": 9, "services": 5,
                   "livelihood": 5, "agriculture": 3, "major_infra": 1, "other": 2},
}
VARIANT_LABEL_SHARE = 0.08  # projects labelled with a variant (战略新兴产业, 数字经济, ...)


@dataclass
class Project:
    code: str
    unit_code: str
    name: str
    county: str
    sector_code: str
    sector_label: str
    first_round: int
    latest: int = 0  # latest listed amount, hundredths of 亿元
    started_round: int | None = None
    in_production: bool = False


@dataclass(frozen=True)
class Entry:
    """One project listed in one stage of one round."""
    project: Project
    amount: int  # hundredths of 亿元
    carried: bool  # started: converted from signed; production: carried over from started


@dataclass
class Round:
    round_no: int
    held_on: str | None
    main_venue: str | None
    published: dict[tuple[str, str], str]  # (stage, measure) -> figure as published
    stages: dict[str, list[Entry]] = field(default_factory=dict)

    def entries(self, unit_code: str, stage: str) -> list[Entry]:
        return [e for e in self.stages[stage] if e.project.unit_code == unit_code]


@dataclass
class Campaign:
    seed: int
    rounds: list[Round]
    sector_names: dict[str, str]  # sector code -> canonical Chinese name


def sector_labels() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Canonical name per sector code, and the variant labels per code (from the dbt seeds)."""
    with open(SEEDS_DIR / "ref_sectors.csv", encoding="utf-8", newline="") as f:
        canonical = {r["sector_code"]: r["sector_name_zh"] for r in csv.DictReader(f)}
    variants: dict[str, list[str]] = {}
    with open(SEEDS_DIR / "ref_sector_labels.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["sector_label"] != canonical.get(r["sector_code"]):
                variants.setdefault(r["sector_code"], []).append(r["sector_label"])
    canonical.pop("unknown", None)  # 未知 is the warehouse's unmatched member, never a label
    return canonical, variants


def hundredths(text: str) -> int:
    return int(Decimal(text) * 100)


def largest_remainder(total: int, weights: list[int | float]) -> list[int]:
    """Split an integer total in proportion to weights; parts sum exactly to total."""
    wsum = sum(weights)
    raw = [total * w / wsum for w in weights]
    parts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def fit_total(amounts: list[int], adjustable: list[bool], target: int) -> list[int]:
    """Rescale the adjustable amounts (above FLOOR) so all amounts sum exactly to target.

    Fixed amounts (carried-over projects shown unrevised) keep their value while the adjustable
    ones can absorb the difference within a factor 0.5-2; otherwise the largest fixed amounts
    become adjustable too, a tenth at a time (the round revises those carried-over projects),
    up to rescaling everything. Integer arithmetic with largest-remainder rounding: exact.
    """
    adj = list(adjustable)
    fixed = sorted((i for i, a in enumerate(adj) if not a), key=lambda i: (-amounts[i], i))
    step = max(1, len(fixed) // 10)
    while True:
        idx = [i for i, a in enumerate(adj) if a]
        need = target - sum(a for a, x in zip(amounts, adj) if not x) - FLOOR * len(idx)
        excess = sum(amounts[i] - FLOOR for i in idx)
        if idx and need > 0 and excess > 0 and (0.5 <= need / excess <= 2 or not fixed):
            break
        if not fixed:
            raise ValueError(f"cannot fit {len(amounts)} amounts to {target}")
        for i in fixed[:step]:
            adj[i] = True
        fixed = fixed[step:]
    out = list(amounts)
    rems = []
    for i in idx:
        q, r = divmod((amounts[i] - FLOOR) * need, excess)
        out[i] = FLOOR + q
        rems.append((-r, i))
    short = target - sum(out)
    for _, i in sorted(rems)[:short]:
        out[i] += 1
    return out


class _Model:
    """Builds the campaign round by round; holds the state that crosses rounds."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(f"{seed}:campaign")
        self.units: tuple[Unit, ...] = units()
        self.sector_names, self.variants = sector_labels()
        self.taken: dict[str, set[str]] = {u.code: set() for u in self.units}
        self.seq: dict[tuple[str, int], int] = {}
        self.start_due: dict[int, list[tuple[int, Project]]] = {}  # round -> (signed round, p)
        self.started_pool: list[Project] = []  # started, not yet in production

    # -- projects and amounts -------------------------------------------------------------
    def new_project(self, unit_code: str, round_no: int, stage: str) -> Project:
        rng = self.rng
        n = self.seq[(unit_code, round_no)] = self.seq.get((unit_code, round_no), 0) + 1
        sector = _weighted(rng, SECTOR_WEIGHT[stage])
        label = self.sector_names[sector]
        if sector in self.variants and rng.random() < VARIANT_LABEL_SHARE:
            label = rng.choice(self.variants[sector])
        county = rng.choice(names.COUNTIES[unit_code])
        return Project(
            code=f"{unit_code}-R{round_no:02d}-{n:04d}", unit_code=unit_code,
            name=names.project_name(rng, unit_code, county, sector, self.taken[unit_code]),
            county=county, sector_code=sector, sector_label=label, first_round=round_no)

    def draw_amount(self, mean_yi: float, unit_code: str) -> int:
        """Heavy-tailed (lognormal) amount in hundredths; a few per round pass 100 亿元."""
        sigma = 1.2
        mu = math.log(mean_yi) - sigma * sigma / 2
        x = self.rng.lognormvariate(mu, sigma) * UNIT_AMOUNT_FACTOR.get(unit_code, 1.0)
        return max(FLOOR, min(round(x * 100), 80000))

    def revise(self, amount: int, share: float) -> tuple[int, bool]:
        """A later stage sometimes shows a revised total investment."""
        if self.rng.random() >= share:
            return amount, False
        return max(FLOOR, round(amount * self.rng.uniform(0.8, 1.3))), True

    def new_counts(self, total: int, weights: dict[str, float]) -> list[str]:
        """Unit codes of `total` new projects, counts per unit by largest remainder."""
        codes = list(weights)
        parts = largest_remainder(total, [weights[c] for c in codes])
        return [c for c, k in zip(codes, parts) for _ in range(k)]

    # -- one round ------------------------------------------------------------------------
    def build_round(self, meta: dict[str, str]) -> Round:
        r = int(meta["round_no"])
        rng = self.rng
        published = {(s, m): meta[f"{s}_{col}"] for s in STAGES
                     for m, col in (("projects", "count"), ("investment_yi", "invest_yi"))
                     if meta[f"{s}_{col}"]}
        counts = dict(zip(STAGES, PLANNED_COUNTS[r]))
        for s in STAGES:
            if (s, "projects") in published:
                counts[s] = int(published[(s, "projects")])
        assert r not in COMBINED_COUNT or counts["signed"] + counts["started"] == COMBINED_COUNT[r]
        targets = {s: hundredths(published[(s, "investment_yi")]) for s in STAGES
                   if (s, "investment_yi") in published}
        combined = COMBINED_AMOUNT.get(r)
        if r in COMBINED_AMOUNT_RANGE:
            lo, hi = COMBINED_AMOUNT_RANGE[r]
            combined = rng.randrange(lo + 20000, hi - 20000, 10)
        weights = {u.code: UNIT_WEIGHT[u.code] * rng.uniform(0.85, 1.15) for u in self.units}
        means = {s: (targets[s] / 100 / counts[s] if s in targets else rng.uniform(6.0, 9.0))
                 for s in STAGES}
        if combined:
            means["signed"] = means["started"] = combined / 100 / (counts["signed"] + counts["started"])

        raw: dict[str, list[tuple[Project, int, bool, bool]]] = {}  # p, amount, adjustable, carried
        raw["signed"] = self.signed(r, counts["signed"], weights, means["signed"])
        raw["started"] = self.started(r, counts["started"], weights, means["started"])
        raw["production"] = self.production(r, counts["production"], weights, means,
                                            targets.get("production"))

        amounts = {s: [a for _, a, _, _ in raw[s]] for s in STAGES}
        if combined:
            s_sum, t_sum = sum(amounts["signed"]), sum(amounts["started"])
            targets["signed"] = combined * s_sum // (s_sum + t_sum) // 10 * 10
            targets["started"] = combined - targets["signed"]
        for s, target in targets.items():
            amounts[s] = fit_total(amounts[s], [adj for _, _, adj, _ in raw[s]], target)
        if r in SECTOR_BREAKDOWN_ROUNDS:
            amounts["started"] = _tenth_sector_sums(
                [p.sector_code for p, *_ in raw["started"]], amounts["started"],
                list(self.sector_names))

        rnd = Round(r, meta["held_on"] or None, meta["main_venue"] or None, published)
        for s in STAGES:
            entries = [Entry(p, a, c) for (p, _, _, c), a in zip(raw[s], amounts[s])]
            entries.sort(key=lambda e: e.project.code)
            for e in entries:
                e.project.latest = e.amount
            rnd.stages[s] = entries
        return rnd

    def signed(self, r, n, weights, mean):
        out = []
        for unit_code in self.new_counts(n, weights):
            p = self.new_project(unit_code, r, "signed")
            out.append((p, self.draw_amount(mean, unit_code), True, False))
            if self.rng.random() < SIGNED_TO_STARTED:
                due = r + _weighted(self.rng, START_DELAY_WEIGHTS)
                self.start_due.setdefault(due, []).append((r, p))
        return out

    def started(self, r, n, weights, mean):
        due = sorted(self.start_due.pop(r, []), key=lambda t: t[1].code)
        self.rng.shuffle(due)
        cap = int(n * STARTED_CONVERTED_CAP)
        for signed_round, p in due[cap:]:  # over capacity: start next round, if still in 4
            if r + 1 - signed_round <= 4:
                self.start_due.setdefault(r + 1, []).append((signed_round, p))
        out = []
        for _, p in due[:cap]:
            amount, revised = self.revise(p.latest, 0.3)
            out.append((p, amount, revised, True))
        for unit_code in self.new_counts(n - len(out), weights):
            p = self.new_project(unit_code, r, "started")
            out.append((p, self.draw_amount(mean, unit_code), True, False))
        for p, *_ in out:
            p.started_round = r
        return out

    def production(self, r, n, weights, means, target):
        pool = [p for p in self.started_pool
                if CARRY_FROM_ROUND_ONLY.get(r, p.started_round) == p.started_round]
        want = n - NEW_PRODUCTION_FIXED[r] if r in NEW_PRODUCTION_FIXED else \
            round(n * CARRY_SHARE.get(r, CARRY_SHARE_DEFAULT))
        chosen = self.pick_carry(r, pool, min(want, len(pool)),
                                 target / n / 100 if target else None)
        out = []
        for p in chosen:
            amount, revised = self.revise(p.latest, 0.25)
            p.in_production = True
            out.append((p, amount, revised, True))
        new_mean = means["production"]
        if target and n > len(out):
            rest = (target - sum(a for _, a, _, _ in out)) / 100 / (n - len(out))
            new_mean = rest if 1.0 <= rest <= 40.0 else new_mean
        for unit_code in self.new_counts(n - len(out), weights):
            p = self.new_project(unit_code, r, "production")
            p.in_production = True
            out.append((p, self.draw_amount(new_mean, unit_code), True, False))
        # Started projects of this round join the pool only after the round (no same-round move).
        self.started_pool = [p for p in self.started_pool if not p.in_production]
        return out

    def pick_carry(self, r, pool, k, target_mean):
        """Weighted sample without replacement (Efraimidis-Spirakis keys), favouring recent
        starts and (smaller projects finish sooner) smaller amounts; for an anchored batch the
        amount tilt is chosen so the batch's mean is near the anchor's, so that carried amounts
        need little revision."""
        if k <= 0:
            return []
        logu = [math.log(1.0 - self.rng.random()) for _ in pool]
        med = sorted(p.latest for p in pool)[len(pool) // 2]

        def select(beta):
            keys = [lu / (AGE_WEIGHT.get(r - p.started_round, 0.6) * (p.latest / med) ** -beta)
                    for lu, p in zip(logu, pool)]
            order = sorted(range(len(pool)), key=lambda i: (-keys[i], pool[i].code))
            return [pool[i] for i in order[:k]]

        if target_mean is None:
            return select(0.5)
        best = min((-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0), key=lambda b: abs(
            sum(p.latest for p in select(b)) / k / 100 - target_mean))
        return select(best)


def _weighted(rng: random.Random, weights: dict) -> object:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _tenth_sector_sums(sectors: list[str], amounts: list[int], order: list[str]) -> list[int]:
    """Shift a few hundredths between projects so the stage total and every sector's total are
    whole tenths: the bulletin then states sector figures that add up exactly to the total."""
    out = list(amounts)
    big = max(range(len(out)), key=lambda i: (out[i], -i))
    out[big] += (-sum(out)) % 10
    present = [s for s in order if s in set(sectors)]
    for s, nxt in zip(present, present[1:]):
        rem = sum(a for a, x in zip(out, sectors) if x == s) % 10
        if rem:
            i = max((i for i, x in enumerate(sectors) if x == s), key=lambda i: (out[i], -i))
            j = max((i for i, x in enumerate(sectors) if x == nxt), key=lambda i: (out[i], -i))
            out[i] -= rem
            out[j] += rem
    return out


def build_campaign(seed: int = 20210710) -> Campaign:
    model = _Model(seed)
    rounds = []
    for meta in published_rounds():
        rnd = model.build_round(meta)
        model.started_pool += [e.project for e in rnd.stages["started"]]
        rounds.append(rnd)
    return Campaign(seed, rounds, model.sector_names)


def carry_over_share(campaign: Campaign, first: int = 4, last: int = 15) -> float:
    """Share of production entries carried over from earlier started projects."""
    prod = [e for rnd in campaign.rounds if first <= rnd.round_no <= last
            for e in rnd.stages["production"]]
    return sum(e.carried for e in prod) / len(prod)


def start_share(campaign: Campaign, last_signed: int = 11) -> float:
    """Share of signed projects (rounds with a full 4-round window) that started later."""
    signed = [e.project for rnd in campaign.rounds[:last_signed] for e in rnd.stages["signed"]]
    return sum(p.started_round is not None for p in signed) / len(signed)


def cumulative(campaign: Campaign, upto: int) -> tuple[int, int]:
    """Distinct projects in any stage of rounds 1..upto, and the sum of each one's latest amount
    (hundredths). A project counted once however many stages it passed through."""
    latest: dict[str, int] = {}
    for rnd in campaign.rounds[:upto]:
        for s in STAGES:
            for e in rnd.stages[s]:
                latest[e.project.code] = e.amount
    return len(latest), sum(latest.values())
