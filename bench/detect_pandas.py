#!/usr/bin/python3
"""What an analyst would write instead of `venuescan detect`: pandas + statsmodels.

Reads persons.csv, events.csv and areas.csv of a dataset (docs/FORMAT.md), checks every
change to red or yellow against the published rules of fixtures/rules/henan-2021.rules
(red: a positive test, a close contact, an entry, or presence in a high-risk area within
14 days; yellow: presence in a medium-risk area within 14 days), takes the person-level
outcome (at least one unexplained change), and runs the stepwise stratified
Mantel-Haenszel tests of docs/DETECTOR.md §2 with statsmodels' StratifiedTable, strata
being the area where the person was at their first unexplained change, else the area seen
most, else the home area.  Prints one JSON line per attribute value, in the field names of
`venuescan detect --format jsonl`, for the cross-check in scripts/bench-detect.

Usage: detect_pandas.py DIR [--alpha A]    (used by scripts/bench-detect as the peer tool)
"""
import argparse
import json
import math
import sys

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests

WINDOW = 14 * 86400
RED_RULES = ["positive", "contact", "entry", "high_risk"]
LEVELS = {"low": 0, "medium": 1, "high": 2}


def seconds(ts):
    return pd.to_datetime(ts, utc=True).astype("int64") // 10**9


def area_levels(events, areas):
    """The risk level (0 low, 1 medium, 2 high) of each event's area at its time."""
    level = np.zeros(len(events), dtype=np.int8)
    if areas.empty:
        return level
    area = events["area"]
    ts = events["t"].to_numpy()
    names = pd.Series(area.cat.categories)
    for row in areas.itertuples():
        covered = names[(names == row.area) | names.str.startswith(row.area + "/")]
        hit = area.isin(covered).to_numpy() & (ts >= row.start) & (ts < row.end)
        level = np.where(hit, np.maximum(level, LEVELS[row.level]), level)
    return level


def last_trigger(codes, facts, name):
    """For each code setting, the time of the person's latest fact ≤ its time (or NaN)."""
    f = facts[["person", "t"]].copy()
    f[name] = f["t"]
    out = pd.merge_asof(codes[["person", "t", "row"]].sort_values("t"), f.sort_values("t"),
                        on="t", by="person", direction="backward", allow_exact_matches=True)
    return out.set_index("row")[name]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--alpha", type=float, default=0.01)
    a = ap.parse_args()

    persons = pd.read_csv(f"{a.dir}/persons.csv", dtype=str, keep_default_na=False)
    try:
        areas = pd.read_csv(f"{a.dir}/areas.csv", dtype=str, keep_default_na=False)
        areas["start"] = seconds(areas["start"])
        areas["end"] = seconds(areas["end"])
    except (FileNotFoundError, pd.errors.EmptyDataError):
        areas = pd.DataFrame(columns=["area", "level", "start", "end"])
    ev = pd.read_csv(f"{a.dir}/events.csv", usecols=["ts", "person_id", "kind", "area", "value",
                                                     "authority"],
                     dtype={"ts": str, "person_id": str, "kind": "category", "area": "category",
                            "value": "category", "authority": "category"},
                     keep_default_na=False)
    pindex = pd.Series(np.arange(len(persons)), index=persons["person_id"])
    ev["person"] = pindex.reindex(ev["person_id"]).to_numpy()
    if ev["person"].isna().any():
        sys.exit("events.csv: unknown person")
    ev["t"] = seconds(ev["ts"])
    ev["row"] = np.arange(len(ev))
    ev["is_code"] = (ev["kind"] == "code").astype(np.int8)
    # one person's events in time order, facts before code settings at the same second
    ev = ev.sort_values(["person", "t", "is_code", "row"], kind="stable")

    presence = ev["kind"].isin(["locate", "scan"]).to_numpy() & (ev["area"] != "").to_numpy()
    level = area_levels(ev, areas)
    facts = {
        "positive": ev[(ev["kind"] == "test") & (ev["value"] == "positive")],
        "contact": ev[ev["kind"] == "contact"],
        "entry": ev[ev["kind"] == "entry"],
        "high_risk": ev[presence & (level == 2)],
        "medium_risk": ev[presence & (level == 1)],
    }

    # code settings: a change when the colour differs from the same authority's last one
    codes = ev[ev["kind"] == "code"][["person", "t", "row", "value", "authority"]].copy()
    codes["value"] = codes["value"].astype(str)
    prev = codes.groupby(["person", "authority"], observed=True)["value"].shift(1)
    codes["change"] = codes["value"] != prev.fillna("green")
    codes = codes[codes["change"] & (codes["value"] != "green")]
    for name, f in facts.items():
        codes[name] = last_trigger(codes, f, name).reindex(codes["row"]).to_numpy()
    within = {n: (codes["t"] - codes[n] < WINDOW).fillna(False) for n in facts}
    red_ok = within["positive"] | within["contact"] | within["entry"] | within["high_risk"]
    explained = np.where(codes["value"] == "red", red_ok, within["medium_risk"])
    unexplained = codes[~explained.astype(bool)]
    first = unexplained.sort_values(["person", "t", "row"]).drop_duplicates("person")

    # strata: where the person was at the first unexplained change, else seen most, else home
    pres = ev[presence][["person", "t", "row", "area"]].copy()
    pres["area"] = pres["area"].astype(str)
    at = pd.merge_asof(first.sort_values("row")[["person", "row"]], pres[["person", "row", "area"]]
                       .sort_values("row"), on="row", by="person", direction="backward")
    stratum = persons["home_area"].copy()
    counts = pres.groupby(["person", "area"], sort=False).agg(n=("row", "size"),
                                                              first=("row", "min")).reset_index()
    counts = counts.sort_values(["person", "n", "first"], ascending=[True, False, True])
    most = counts.drop_duplicates("person")
    stratum.iloc[most["person"].to_numpy().astype(int)] = most["area"].to_numpy()
    at = at.dropna(subset=["area"])
    stratum.iloc[at["person"].to_numpy().astype(int)] = at["area"].to_numpy()
    outcome = np.zeros(len(persons), dtype=bool)
    outcome[first["person"].to_numpy().astype(int)] = True

    # attribute values
    pairs = persons["attrs"].str.split(";").explode()
    pairs = pairs[pairs.fillna("") != ""]
    values = sorted(set(pairs))
    holds = {v: np.zeros(len(persons), dtype=bool) for v in values}
    for v, idx in pairs.groupby(pairs).groups.items():
        holds[v][np.asarray(idx, dtype=int)] = True

    flagged, results, strat = [], {}, stratum.to_numpy().astype(object)
    rnd = 0
    while True:
        tested = {}
        for v in values:
            if v in flagged:
                continue
            tested[v] = mh_test(holds[v], outcome, strat, v, flagged, rnd)
        ps = [r["p_value"] for r in tested.values() if r["p_value"] is not None]
        qs = multipletests(ps, method="fdr_bh")[1] if ps else []
        it = iter(qs)
        for r in tested.values():
            r["q_value"] = float(next(it)) if r["p_value"] is not None else None
        results.update(tested)
        cand = [r for r in tested.values() if r["q_value"] is not None and
                r["q_value"] <= a.alpha and r["excess"] > 0]
        if not cand:
            break
        best = min(cand, key=lambda r: (r["p_value"], -abs(math.log(r["mh_odds_ratio"]))
                                        if r["mh_odds_ratio"] not in (None, 0) else -math.inf,
                                        r["attribute"] + "=" + r["value"]))
        best["flagged"] = True
        v = best["attribute"] + "=" + best["value"]
        flagged.append(v)
        strat = np.array([f"{s}|{int(h)}" for s, h in zip(strat, holds[v])], dtype=object)
        rnd += 1
    for v in values:
        r = results[v]
        r.pop("excess")
        print(json.dumps(r))


def mh_test(h, y, strat, v, flagged, rnd):
    key, val = v.split("=", 1)
    df = pd.DataFrame({"s": strat, "h": h, "y": y})
    g = df.groupby("s").agg(n=("h", "size"), nh=("h", "sum"))
    keep = g[(g["n"] >= 2) & (g["nh"] > 0)].index
    d = df[df["s"].isin(keep)]
    t = pd.crosstab([d["s"]], [d["h"], d["y"]]).reindex(
        columns=pd.MultiIndex.from_product([[True, False], [True, False]]), fill_value=0)
    tables = t.to_numpy().reshape(-1, 2, 2).astype(float)
    res = {"kind": "association", "attribute": key, "value": val,
           "persons_with": int(h.sum()), "persons_without": int((~h).sum()),
           "outcomes_with": int((h & y).sum()), "outcomes_without": int((~h & y).sum()),
           "strata": int(len(tables)), "mh_odds_ratio": None, "ci_low": None, "ci_high": None,
           "mh_chi2": None, "p_value": None, "q_value": None,
           "conditioned_on": list(flagged), "round": rnd, "flagged": False, "excess": 0.0}
    if len(tables) == 0:
        return res
    n = tables.sum(axis=(1, 2))
    ea = tables[:, 0, :].sum(axis=1) * tables[:, :, 0].sum(axis=1) / n
    res["excess"] = float((tables[:, 0, 0] - ea).sum())
    with np.errstate(all="ignore"):
        st = StratifiedTable(tables.transpose(1, 2, 0))
        test = st.test_null_odds(correction=True)
        orr = st.oddsratio_pooled
        lo, hi = st.oddsratio_pooled_confint()
    fin = lambda x: float(x) if x is not None and np.isfinite(x) else None  # noqa: E731
    res["mh_chi2"] = fin(test.statistic)
    res["p_value"] = fin(test.pvalue) if res["mh_chi2"] is not None else None
    if fin(orr) not in (None, 0.0):
        res["mh_odds_ratio"], res["ci_low"], res["ci_high"] = fin(orr), fin(lo), fin(hi)
    return res


if __name__ == "__main__":
    main()
