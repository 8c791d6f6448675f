"""Registry figures as the warehouse should compute them, from the rows that stay clean.

Figures are kept per (6-digit code, month index): stocks (the state at that month end) and flows (what
happened in that month). A region's figure sums the codes it contains; a year's flow sums its months up to
the as-of month. Money is kept in integer cents so sums are exact.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from shegong.gazetteer import contains

from .registries import CANCELLED, World

STOCKS = (
    "certified_social_workers",
    "certified_assistant",
    "certified_intermediate",
    "certified_senior",
    "township_stations",
    "village_stations",
    "social_work_agencies",
    "agency_staff",
)
FLOWS = (
    "exam_passed",
    "government_purchase_cents",
    "lottery_cents",
    "charity_cents",
    "service_projects",
    "training_sessions",
    "training_participants",
    "training_budget_cents",
)
_S = {m: i for i, m in enumerate(STOCKS)}
_F = {m: i for i, m in enumerate(FLOWS)}
_SOURCE_FLOW = {"fiscal": "government_purchase_cents", "lottery": "lottery_cents", "charity": "charity_cents"}


class Truth:
    def __init__(self, world: World):
        self.world = world
        m = len(world.c_no)
        self.cert_status = np.full(m, -1, dtype=np.int8)  # latest clean status, -1 never seen
        self.cert_first = np.full(m, -1, dtype=np.int16)  # month first seen in a clean row
        self.cert_year = world.c_date.astype("datetime64[Y]").astype(int) + 1970
        self.stock: dict[tuple[str, int], np.ndarray] = defaultdict(lambda: np.zeros(len(STOCKS), np.int64))
        self.flow: dict[tuple[str, int], np.ndarray] = defaultdict(lambda: np.zeros(len(FLOWS), np.int64))
        self.townships: dict[str, int] = defaultdict(int)
        for code in world.geo.twp_code:
            self.townships[code[:6]] += 1

    # --- updates from clean rows -------------------------------------------------------------------------
    def workers(self, unit: str, k: int, certs: np.ndarray, status: np.ndarray) -> None:
        world = self.world
        self.cert_status[certs] = status
        fresh = certs[self.cert_first[certs] < 0]
        self.cert_first[fresh] = k
        year = world.months[k].year
        all_certs = world.unit_certs[unit]
        county = world.w_county[world.c_worker[all_certs]]
        new_this_month = (self.cert_first[all_certs] == k) & (self.cert_year[all_certs] == year)
        for c in np.unique(county[new_this_month]).tolist():
            code = world.geo.counties[c]
            self.flow[(code, k)][_F["exam_passed"]] += int((new_this_month & (county == c)).sum())
        ok = (self.cert_status[all_certs] >= 0) & (self.cert_status[all_certs] != CANCELLED)
        held = all_certs[ok]
        if not len(held):
            return
        workers = world.c_worker[held]
        level = world.c_level[held].astype(np.int64)
        uniq, inv = np.unique(workers, return_inverse=True)
        top = np.full(len(uniq), -1, dtype=np.int64)
        np.maximum.at(top, inv, level)
        wcounty = world.w_county[uniq]
        for c in np.unique(wcounty).tolist():
            sel = wcounty == c
            row = self.stock[(world.geo.counties[c], k)]
            row[_S["certified_social_workers"]] += int(sel.sum())
            for lvl, name in enumerate(("certified_assistant", "certified_intermediate", "certified_senior")):
                row[_S[name]] += int((top[sel] == lvl).sum())

    def stations(self, k: int, idx: np.ndarray, status: np.ndarray) -> None:
        world = self.world
        for i, s in zip(idx.tolist(), status.tolist(), strict=True):
            if s != 0:  # only operating stations count
                continue
            key = (world.st_region[i][:6], k)
            name = "township_stations" if world.st_level[i] == 0 else "village_stations"
            self.stock[key][_S[name]] += 1

    def agencies(self, k: int, idx: np.ndarray, status: np.ndarray) -> None:
        world = self.world
        for i, s in zip(idx.tolist(), status.tolist(), strict=True):
            if s != 0:
                continue
            row = self.stock[(world.ag_region[i], k)]
            row[_S["social_work_agencies"]] += 1
            row[_S["agency_staff"]] += int(world.ag_staff[i])

    def funding(self, k: int, meta: list[dict]) -> None:
        for m in meta:
            row = self.flow[(m["code"][:6], k)]
            row[_F[_SOURCE_FLOW[m["source"]]]] += m["cents"]
            row[_F["service_projects"]] += 1

    def sessions(self, k: int, meta: list[dict], participants: list[int]) -> None:
        for m, n in zip(meta, participants, strict=True):
            row = self.flow[(m["code"], k)]
            row[_F["training_sessions"]] += 1
            row[_F["training_participants"]] += n
            row[_F["training_budget_cents"]] += m["budget_cents"]

    # --- queries -----------------------------------------------------------------------------------------
    def figures(self, region: str, k: int) -> dict[str, float]:
        """All report metrics of `region` as of month index k (flows over k's calendar year up to k)."""
        world = self.world
        year = world.months[k].year
        stock = np.zeros(len(STOCKS), np.int64)
        for (code, kk), row in self.stock.items():
            if kk == k and contains(region, code):
                stock += row
        flow = np.zeros(len(FLOWS), np.int64)
        for (code, kk), row in self.flow.items():
            if kk <= k and world.months[kk].year == year and contains(region, code):
                flow += row
        out: dict[str, float] = {m: int(stock[i]) for m, i in _S.items()}
        out["exam_passed"] = int(flow[_F["exam_passed"]])
        out["government_purchase_funding"] = flow[_F["government_purchase_cents"]] / 100
        out["lottery_funding"] = flow[_F["lottery_cents"]] / 100
        out["charity_funding"] = flow[_F["charity_cents"]] / 100
        out["service_projects"] = int(flow[_F["service_projects"]])
        out["training_sessions"] = int(flow[_F["training_sessions"]])
        out["training_participants"] = int(flow[_F["training_participants"]])
        out["training_funding"] = flow[_F["training_budget_cents"]] / 100
        n_twp = sum(n for code, n in self.townships.items() if contains(region, code))
        out["station_coverage_rate"] = round(out["township_stations"] / n_twp * 100, 1) if n_twp else 0.0
        return out
