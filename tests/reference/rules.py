#!/usr/bin/env python3
"""Independent reference implementations of every dstar rule and pre-aggregator.

Written from the formulas of docs/method.md and the rules' XML docs (naive loops, float64, obviously correct), not from any library,
to check `dstar aggregate` against. Every spec uses the registry's text form, `name key=value ...`.

Conventions (they must match dstar's rules; each is pinned down here in one place):
  * Rules drop rows holding NaN or +-inf and run on the finite rows with the same f. Pre-aggregators leave such
    rows in place for the rule to drop (NNM leaves them out of every neighbourhood; ARC counts them as the largest
    norms, with k computed from all n rows).
  * Median of an even count: the mean of the two middle values.
  * "Values closest to the median" (meamed, Bulyan's second phase): sort by |v - median|, ties broken by the
    smaller value first, and average the first k.
  * Krum scores: sum of the squared distances to the n-f-2 nearest *other* rows; the lowest score wins, ties go to
    the lowest row index. Multi-Krum averages the m lowest scores (default m = n - f), same tie rule.
  * Bulyan: theta = n - 2f rows by repeated Krum on the remaining rows (Krum's neighbour count uses the remaining
    count and the same f), then per coordinate the mean of the beta = theta - 2f values closest to the median of the
    selected rows.
  * NNM: each row becomes the mean of its m - f nearest finite rows (m finite rows), itself included (distance 0);
    ties by row index.
  * ARC: k = floor(2 (f/n) (n - f)) rows with the largest norms are scaled to the (k+1)-th largest norm.

Usage:
  rules.py MANIFEST.json   -- a JSON list of cases {"rule", "pre": [...], "input", "validation"?, "f", "output"};
                              each output is written as a float64 .npy of shape (d,); a case the rule refuses gets
                              {"error": "..."} in MANIFEST.json.out instead.
"""

import itertools
import json
import math
import sys

import numpy as np


# ---------------------------------------------------------------- specs

def parse_spec(text):
    tokens = text.split()
    name, params = tokens[0].lower(), {}
    for token in tokens[1:]:
        key, value = token.split("=", 1)
        params[key] = value
    return name, params


class Params:
    """Typed reads of spec parameters; unknown keys are an error (as in dstar)."""

    def __init__(self, name, params, total_rows=0):
        self.name, self.params, self.used = name, params, set()
        self.total_rows = total_rows  # rows before the non-finite ones were dropped

    def int(self, key, default):
        self.used.add(key)
        return int(self.params[key]) if key in self.params else default

    def float(self, key, default):
        self.used.add(key)
        return float(self.params[key]) if key in self.params else default

    def bool(self, key, default):
        self.used.add(key)
        if key not in self.params:
            return default
        return self.params[key].lower() in ("true", "yes", "1")

    def choice(self, key, default):
        self.used.add(key)
        return self.params.get(key, default).lower()

    def check(self):
        unknown = set(self.params) - self.used
        if unknown:
            raise Refused(f"{self.name}: unknown parameter(s) {sorted(unknown)}")


class Refused(Exception):
    pass


# ---------------------------------------------------------------- helpers

def finite_rows(x):
    return [i for i in range(x.shape[0]) if all(math.isfinite(v) for v in x[i])]


def median_of(values):
    s = sorted(values)
    m = len(s)
    return s[m // 2] if m % 2 == 1 else (s[m // 2 - 1] + s[m // 2]) / 2.0


def coordinate_median(x):
    n, d = x.shape
    return np.array([median_of([x[i, j] for i in range(n)]) for j in range(d)])


def mean_closest_to_median(values, keep):
    med = median_of(values)
    ordered = sorted(values, key=lambda v: (abs(v - med), v))
    return sum(ordered[:keep]) / keep


def norm(v):
    return math.sqrt(sum(float(a) * float(a) for a in v))


def sq_dist(a, b):
    return sum((float(p) - float(q)) ** 2 for p, q in zip(a, b))


def distance_matrix(x):
    n = x.shape[0]
    return [[sq_dist(x[i], x[j]) for j in range(n)] for i in range(n)]


def krum_scores(dist, rows, f):
    m = len(rows)
    neighbours = m - f - 2
    scores = {}
    for i in rows:
        others = sorted(dist[i][j] for j in rows if j != i)
        scores[i] = sum(others[:max(0, neighbours)])
    return scores


def f_of(p, f):
    return p.int("f", f)


# ---------------------------------------------------------------- rules

def rule_mean(x, p, f, g0):
    p.check()
    return x.mean(axis=0)


def rule_median(x, p, f, g0):
    p.check()
    return coordinate_median(x)


def rule_trimmed_mean(x, p, f, g0):
    f = f_of(p, f)
    p.check()
    n, d = x.shape
    if n <= 2 * f:
        raise Refused(f"trimmed-mean needs n > 2f, got n={n}, f={f}")
    out = np.empty(d)
    for j in range(d):
        s = sorted(x[:, j])
        kept = s[f:n - f]
        out[j] = sum(kept) / len(kept)
    return out


def rule_geometric_median(x, p, f, g0):
    # Smoothed Weiszfeld run far past dstar's tolerance: the reference is the (smoothed) optimum itself.
    # dstar's tol= and iterations= only say how far dstar iterates; the reference always goes to convergence.
    nu = p.float("nu", 1e-6)
    p.used.update({"tol", "iterations"})
    p.check()
    z = x.mean(axis=0)
    for _ in range(20000):
        w = 1.0 / np.maximum(nu, np.linalg.norm(x - z, axis=1))
        new = (w[:, None] * x).sum(axis=0) / w.sum()
        change = np.linalg.norm(new - z)
        z = new
        if change <= 1e-12 * (1 + np.linalg.norm(z)):
            break
    return z


def geometric_median_objective(x, z, nu=0.0):
    return sum(max(nu, norm(xi - z)) for xi in x)


def rule_krum(x, p, f, g0):
    f = f_of(p, f)
    p.check()
    n = x.shape[0]
    if n < 2 * f + 3:
        raise Refused(f"krum needs n >= 2f+3, got n={n}, f={f}")
    scores = krum_scores(distance_matrix(x), list(range(n)), f)
    best = min(range(n), key=lambda i: (scores[i], i))
    return x[best].copy()


def rule_multi_krum(x, p, f, g0):
    f = f_of(p, f)
    n = x.shape[0]
    m = p.int("m", n - f)
    p.check()
    if n < 2 * f + 3:
        raise Refused(f"multi-krum needs n >= 2f+3, got n={n}, f={f}")
    scores = krum_scores(distance_matrix(x), list(range(n)), f)
    chosen = sorted(range(n), key=lambda i: (scores[i], i))[:m]
    return x[chosen].mean(axis=0)


def rule_bulyan(x, p, f, g0):
    f = f_of(p, f)
    p.check()
    n, d = x.shape
    if n < 4 * f + 3:
        raise Refused(f"bulyan needs n >= 4f+3, got n={n}, f={f}")
    dist = distance_matrix(x)
    remaining, selected = list(range(n)), []
    theta = n - 2 * f
    while len(selected) < theta:
        scores = krum_scores(dist, remaining, f)
        best = min(remaining, key=lambda i: (scores[i], i))
        selected.append(best)
        remaining.remove(best)
    beta = theta - 2 * f
    return np.array([mean_closest_to_median([x[i, j] for i in selected], beta) for j in range(d)])


def rule_centered_clipping(x, p, f, g0, previous=None):
    tau = p.float("tau", 10.0)
    iterations = p.int("iterations", 1)
    p.check()
    n, d = x.shape
    v = np.zeros(d) if previous is None else previous.astype(np.float64).copy()
    for _ in range(iterations):
        step = np.zeros(d)
        for xi in x:
            u = xi - v
            r = norm(u)
            step += u * (min(1.0, tau / r) if r > 0 else 1.0)
        v = v + step / n
    return v


def rule_meamed(x, p, f, g0):
    f = f_of(p, f)
    p.check()
    n, d = x.shape
    if n <= f:
        raise Refused(f"meamed needs n > f, got n={n}, f={f}")
    return np.array([mean_closest_to_median(list(x[:, j]), n - f) for j in range(d)])


def rule_mda(x, p, f, g0):
    f = f_of(p, f)
    max_subsets = p.int("max-subsets", 1000000)
    p.check()
    n = x.shape[0]
    if n < 2 * f + 1:
        raise Refused(f"mda needs n >= 2f+1, got n={n}, f={f}")
    # Like every dstar rule, MDA checks its requirements on all rows first, then on the finite ones: the subset count
    # is largest for all rows.
    total = max(n, p.total_rows)
    if math.comb(total, f) > max_subsets:
        raise Refused(f"mda: C({total}, {f}) = {math.comb(total, f)} subsets exceed max-subsets={max_subsets}")
    dist = distance_matrix(x)
    best, best_diameter = None, math.inf
    for subset in itertools.combinations(range(n), n - f):
        diameter = max((dist[i][j] for i, j in itertools.combinations(subset, 2)), default=0.0)
        if diameter < best_diameter:
            best, best_diameter = subset, diameter
    return x[list(best)].mean(axis=0)


def rule_fltrust(x, p, f, g0):
    p.check()
    if g0 is None:
        raise Refused("fltrust needs a validation gradient")
    g0n = norm(g0)
    total, weight_sum = np.zeros(x.shape[1]), 0.0
    for xi in x:
        xn = norm(xi)
        if xn == 0 or g0n == 0:
            continue
        w = max(0.0, float(np.dot(xi, g0)) / (xn * g0n))
        total += w * (g0n / xn) * xi
        weight_sum += w
    if weight_sum == 0:
        return np.zeros(x.shape[1])
    return total / weight_sum


def rule_dstar(x, p, f, g0):
    tau = p.float("tau", 2.0)
    center = p.choice("center", "median")
    bucket = p.int("bucket", 2)
    reference = p.choice("reference", "validation")
    include_validation = p.bool("include-validation", False)
    batch_ratio = p.float("batch-ratio", 1.0)
    p.check()
    if g0 is None:
        raise Refused("dstar needs a validation gradient")
    if center == "median":
        m = coordinate_median(np.vstack([x, g0[None, :]]))
    elif center == "exclude-validation" or (center == "median-of-means" and bucket == 1):
        # median-of-means with buckets of one row is the median of the worker rows, whatever the shuffle.
        m = coordinate_median(x)
    else:
        raise Refused(f"dstar center={center} bucket={bucket} is random; the reference cannot replay it")
    deviations = [norm(xi - m) for xi in x]
    d0 = norm(g0 - m)
    if reference == "validation":
        ref = d0 * math.sqrt(batch_ratio)
    else:
        # docs/method.md: "the median of the worker deviations"; dstar reads it as the workers' deviations, g0's excluded.
        ref = median_of(deviations)
    kept = [i for i in range(x.shape[0]) if deviations[i] <= tau * ref]
    if not kept:
        return g0.astype(np.float64).copy()
    rows = [x[i] for i in kept] + ([g0] if include_validation else [])
    return np.mean(rows, axis=0)


RULES = {
    "mean": rule_mean,
    "median": rule_median,
    "trimmed-mean": rule_trimmed_mean,
    "geometric-median": rule_geometric_median,
    "krum": rule_krum,
    "multi-krum": rule_multi_krum,
    "bulyan": rule_bulyan,
    "centered-clipping": rule_centered_clipping,
    "meamed": rule_meamed,
    "mda": rule_mda,
    "fltrust": rule_fltrust,
    "dstar": rule_dstar,
}


# ---------------------------------------------------------------- pre-aggregators

# Pre-aggregators map a batch to a batch and leave rows holding NaN/inf in place (unchanged), for the rule after
# them to drop; each says below how such rows count.

def pre_nnm(x, p, f):
    # Non-finite rows take no part in any neighbourhood; n - f counts the finite rows.
    f = f_of(p, f)
    p.check()
    finite = finite_rows(x)
    m = len(finite)
    if m < f + 1:
        raise Refused(f"nnm needs at least f+1 finite rows, got {m}")
    dist = distance_matrix(x)
    out = x.copy()
    for i in finite:
        nearest = sorted(finite, key=lambda j: (dist[i][j], j))[:m - f]
        out[i] = x[nearest].mean(axis=0)
    return out


def pre_clip(x, p, f):
    c = p.float("c", 1.0)
    p.check()
    out = x.copy()
    for i in finite_rows(x):
        r = norm(x[i])
        if r > c:
            out[i] = x[i] * (c / r)
    return out


def pre_arc(x, p, f):
    # k = floor(2 (f/n) (n - f)) over all n rows; a non-finite row counts as the largest norm and stays as it is.
    f = f_of(p, f)
    p.check()
    n = x.shape[0]
    if n <= f:
        raise Refused(f"arc needs n > f, got n={n}, f={f}")
    k = (2 * f * (n - f)) // n
    if k == 0:
        return x.copy()
    finite = set(finite_rows(x))
    norms = [norm(x[i]) if i in finite else math.inf for i in range(n)]
    order = sorted(range(n), key=lambda i: (-norms[i], i))
    threshold = norms[order[k]] if k < n else 0.0
    out = x.copy()
    for i in order[:k]:
        if i in finite and norms[i] > threshold:
            out[i] = x[i] * (threshold / norms[i])
    return out


PRE = {"nnm": pre_nnm, "clip": pre_clip, "arc": pre_arc}


# ---------------------------------------------------------------- driver

def run_case(case):
    x = np.load(case["input"]).astype(np.float64)
    g0 = np.load(case["validation"]).astype(np.float64) if case.get("validation") else None
    previous = np.load(case["previous"]).astype(np.float64) if case.get("previous") else None
    f = int(case.get("f", 0))
    for spec in case.get("pre", []):
        name, params = parse_spec(spec)
        x = PRE[name](x, Params(name, params), f)
    total_rows = x.shape[0]
    x = x[finite_rows(x)]
    name, params = parse_spec(case["rule"])
    if name == "centered-clipping":
        return rule_centered_clipping(x, Params(name, params, total_rows), f, g0, previous)
    return RULES[name](x, Params(name, params, total_rows), f, g0)


def main(manifest_path):
    with open(manifest_path) as handle:
        cases = json.load(handle)
    results = []
    for case in cases:
        try:
            out = run_case(case)
            np.save(case["output"], out.astype(np.float64))
            results.append({"ok": True})
        except Refused as refusal:
            results.append({"ok": False, "error": str(refusal)})
    with open(manifest_path + ".out", "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main(sys.argv[1])
