"""Compiled kernels of the coverage engine (numba, ``cache=True``; no ``fastmath``).

The kernels do, object by object, what :mod:`dsr_analysis.simulation.coverage` used to do
with many short numpy calls, with the same IEEE-754 double operations in the same order, so
the results are bit-identical: the same uniforms (drawn by numpy's ``Generator`` outside the
kernels, in the same layout), the same keys and composites, the same selected sets.
Transcendental functions (``log``, ``log1p``) and every reduction whose summation order
numpy fixes (the plan: ``lambda``, key thresholds) stay in numpy; the kernels only do
elementwise arithmetic (``+ - * /``, ``floor``, ``min``), comparisons, counting and
sequential running sums (as ``np.cumsum``). ``error_model="numpy"``: a division by zero
gives ``inf``/``nan`` as in numpy, no exception.

Selection (:func:`select_groups`) is exactly :func:`dsr_analysis.simulation.sampling.
smallest_by_composite`: per group the ``k``-th smallest composite ``thr`` (a quickselect
instead of a full sort); if no group with ``0 < k < candidates`` has a tie at its threshold,
every candidate with ``comp <= thr`` is taken; otherwise (rare, decided over the whole
call as the numpy code did) every group takes its first ``k`` by ``(key, position)`` (a
stable sort; ``key`` is the composite itself, or the ranking key under rotation).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Upper bound of the unit part of a composite ``group + x`` (below 1).
COMP_MAX = 1.0 - 2.0 ** -40

_jit = numba.njit(cache=True, error_model="numpy", nogil=True)
#: Small helpers of the deterrence kernels, inlined into their callers (a call passes every
#: array argument as a structure).
_inline = numba.njit(cache=True, error_model="numpy", nogil=True, inline="always")


@_jit
def composite(u, odds, grp):
    """``grp + min(u / (u + (1 - u) odds), COMP_MAX)`` - the operations of
    ``coverage._composite`` in its order."""
    den = 1.0 - u
    den *= odds
    den += u
    x = u / den
    if x > COMP_MAX:
        x = COMP_MAX
    return x + grp


@_jit
def rotation_key(u, lam, rounds):
    """``draw_keys`` of one object under rotation: ``rounds + Q / (1 + Q)`` of the Pareto key
    ``Q`` (0 for ``lambda >= 1``), ``inf`` for ``nan``."""
    if lam >= 1.0:
        q = 0.0
    else:
        q = (u / (1.0 - u)) / (lam / (1.0 - lam))
    key = rounds + q / (1.0 + q)
    if np.isnan(key):
        return np.inf
    return key


@_jit
def rotation_composite(key, grp):
    """``smallest_in_groups``' composite of a ranking key: ``grp + min(key / (1 + key),
    COMP_MAX)`` (1 for ``key = inf``)."""
    if np.isinf(key):
        x = 1.0
    else:
        x = key / (1.0 + key)
    if x > COMP_MAX:
        x = COMP_MAX
    return grp + x


@_jit
def rotation_composites(key, grp):
    """:func:`rotation_composite` of arrays."""
    out = np.empty(len(key))
    for i in range(len(key)):
        out[i] = rotation_composite(key[i], grp[i])
    return out


@_jit
def kth_smallest(v, k, hist, scratch):
    """The ``k``-th smallest value (0-based) of ``v`` (unchanged), exactly: a histogram of
    ``v`` over ``[min, max]`` (a monotone bucket map, so the bucket holding the ``k``-th
    smallest is known) and a sort of that bucket's values only. ``hist`` (int64) and
    ``scratch`` are work space (``scratch`` as long as ``v``)."""
    n = len(v)
    lo = v[0]
    hi = v[0]
    for i in range(1, n):
        x = v[i]
        lo = min(lo, x)
        hi = max(hi, x)
    if not hi > lo:
        return lo
    nb = min(len(hist), max(16, n >> 1))
    scale = nb / (hi - lo)
    h = hist[:nb]
    h[:] = 0
    for i in range(n):
        f = (v[i] - lo) * scale
        h[min(np.int64(f), nb - 1) if f < nb else nb - 1] += 1
    cum = 0
    tb = nb - 1
    for b in range(nb):
        if cum + h[b] > k:
            tb = b
            break
        cum += h[b]
    m = 0
    for i in range(n):
        f = (v[i] - lo) * scale
        b = min(np.int64(f), nb - 1) if f < nb else nb - 1
        if b == tb:
            scratch[m] = v[i]
            m += 1
    s = np.sort(scratch[:m])
    return s[k - cum]


@_jit
def select_groups(comp, key, ptr, k, sel):
    """Set ``sel[i]`` for the ``k[g]`` smallest candidates of every group ``g``
    (``ptr[g]:ptr[g+1]``, candidates in position order), exactly as
    ``smallest_by_composite(comp, group, k, key)`` (see the module docstring); ``key`` may be
    ``comp``."""
    G = len(ptr) - 1
    thr = np.empty(G)
    width = 1
    for g in range(G):
        width = max(width, ptr[g + 1] - ptr[g])
    scratch = np.empty(width)
    hist = np.empty(4096, dtype=np.int64)
    tie = False
    for g in range(G):
        a, b = ptr[g], ptr[g + 1]
        n = b - a
        take = min(k[g], n)
        if take <= 0 or take == n:
            continue
        cg = comp[a:b]
        t = kth_smallest(cg, take - 1, hist, scratch)
        thr[g] = t
        below = 0
        for i in range(len(cg)):
            below += cg[i] <= t
        if below > take:
            tie = True
    for g in range(G):
        a, b = ptr[g], ptr[g + 1]
        n = b - a
        take = min(k[g], n)
        if take <= 0:
            continue
        if take == n:
            sel[a:b] = True
        elif not tie:
            t = thr[g]
            cg = comp[a:b]
            sg = sel[a:b]
            for i in range(len(cg)):
                sg[i] = cg[i] <= t
        else:
            order = np.argsort(key[a:b], kind="mergesort")
            for i in range(take):
                sel[a + order[i]] = True


@_jit
def _gather(rows_c, cols_c, blk_c, sel, count, lo, blk_map):
    """The selected candidates: rows, columns + ``lo`` and ``blk_map`` of their blocks."""
    rows = np.empty(count, dtype=np.int64)
    cols = np.empty(count, dtype=np.int64)
    blk = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(len(sel)):
        if sel[i]:
            rows[j] = rows_c[i]
            cols[j] = cols_c[i] + lo
            blk[j] = blk_map[blk_c[i]]
            j += 1
    return rows, cols, blk


@_jit
def dense_select(u, elig, has_elig, counted, rotation, tau, param, kd, blk_ptr, blk_ids,
                 starts, sizes, uoff, credit, lo, blk_map):
    """The dense path of one pass, all rows (see ``coverage.dense_select``).

    ``u`` (R x dense width) holds the uniforms; per row ``r`` and local stratum ``j`` with
    ``kd[r, j] > 0`` the candidates are the eligible objects of its dense blocks
    (``blk_ids[blk_ptr[j]:blk_ptr[j+1]]``, in column order) with ``u < tau[r, j, class]`` -
    every eligible object when fewer than ``kd`` pass; their composite is
    ``coverage._composite`` (``param`` = odds) or, under ``rotation``, that of the ranking key
    (``param`` = lambda, ``counted`` = rounds). Returns rows, span columns and blocks of the
    ``kd`` smallest of every group (columns + ``lo``, blocks mapped by ``blk_map``)."""
    R = u.shape[0]
    nS = kd.shape[1]
    cap = 0
    for j in range(nS):
        for q in range(blk_ptr[j], blk_ptr[j + 1]):
            cap += sizes[blk_ids[q]]
    cap *= R
    comp = np.empty(cap)
    key = np.empty(cap) if rotation else comp
    rows_c = np.empty(cap, dtype=np.int64)
    cols_c = np.empty(cap, dtype=np.int64)
    blk_c = np.empty(cap, dtype=np.int64)
    uu = np.empty(cap)
    ptr = np.zeros(R * nS + 1, dtype=np.int64)
    kflat = np.empty(R * nS, dtype=np.int64)
    n = 0
    for r in range(R):
        for j in range(nS):
            g = r * nS + j
            gf = np.float64(g)
            ptr[g] = n
            kk = kd[r, j]
            kflat[g] = kk
            if kk <= 0:
                continue
            full = rotation  # under rotation every eligible object is a candidate
            while True:
                for q in range(blk_ptr[j], blk_ptr[j + 1]):
                    i = blk_ids[q]
                    cr = credit[i]
                    a = starts[i]
                    o = uoff[i]
                    n0 = n
                    # Branch-free compaction of the candidates (u below the bound, eligible);
                    # loops over slices (range(len)) so no negative-index wraparound.
                    ub = u[r, o:o + sizes[i]]
                    eb = elig[r, a:a + sizes[i]] if has_elig else elig[0, :0]
                    if full:
                        if has_elig:
                            for x in range(len(ub)):
                                uu[n] = ub[x]
                                cols_c[n] = a + x
                                n += eb[x]
                        else:
                            uu[n:n + len(ub)] = ub
                            for x in range(len(ub)):
                                cols_c[n + x] = a + x
                            n += len(ub)
                    else:
                        bound = tau[r, j, cr]
                        if has_elig:
                            for x in range(len(ub)):
                                v = ub[x]
                                uu[n] = v
                                cols_c[n] = a + x
                                n += (v < bound) & eb[x]
                        else:
                            for x in range(len(ub)):
                                v = ub[x]
                                uu[n] = v
                                cols_c[n] = a + x
                                n += v < bound
                    p = param[r, j, cr]
                    us = uu[n0:n]
                    cs = comp[n0:n]
                    if rotation:
                        ks = key[n0:n]
                        cl = cols_c[n0:n]
                        for t in range(len(us)):
                            kv = rotation_key(us[t], p, np.float64(counted[r, cl[t]]))
                            ks[t] = kv
                            cs[t] = rotation_composite(kv, gf)
                    else:
                        for t in range(len(us)):
                            cs[t] = composite(us[t], p, gf)
                    rows_c[n0:n] = r
                    blk_c[n0:n] = i
                if full or n - ptr[g] >= kk:
                    break
                n = ptr[g]  # too few below the bound: every eligible object a candidate
                full = True
    ptr[R * nS] = n
    sel = np.zeros(n, dtype=np.bool_)
    select_groups(comp[:n], key[:n], ptr, kflat, sel)
    return _gather(rows_c, cols_c, blk_c, sel, int(sel.sum()), lo, blk_map)


@_jit
def sparse_select(G, V, D, p, coef, odds, starts, sizes, grp_ptr, grp_blocks, nS, elig,
                  has_elig, need, ok, k_rest, lo, blk_map):
    """The skip-based candidates of the sparse path and their selection (see
    ``coverage.sparse_select``).

    ``D`` (R x sparse blocks) is the number of skips drawn per row and block; a *segment* is
    a (row, block) with ``D > 0``, in row-major order, and its draws are consecutive in
    ``G`` and ``V``. ``G`` holds the skips' standard exponentials ``E``; it is turned in place
    into the running positions ``cumsum(floor(E coef) + 1)`` (``1 + position``, over all
    segments, as ``np.cumsum``; ``coef = -1 / log(1 - p)`` per segment). The candidates (positions up to the
    block's end, eligible) are then collected stratum by stratum - the sparse blocks of
    local stratum ``j`` are ``grp_blocks[grp_ptr[j]:grp_ptr[j+1]]``, in column order -
    with ``u = p V`` and the composite ``_composite(u, odds)``. Returns rows, columns + ``lo``
    and ``blk_map`` of the sparse block of the drawn objects, ``bad`` (R x nS: needs the
    exact fallback) and the segments' ``base`` and ``last`` position reached."""
    R, B = D.shape
    nseg = len(coef)
    base = np.empty(nseg)
    last = np.empty(nseg)
    e_start = np.empty((R, B), dtype=np.int64)
    seg_of = np.full((R, B), -1, dtype=np.int64)
    incomplete = np.zeros(R * nS, dtype=np.bool_)
    # Pass 1: running positions, in the order of the draws.
    acc = 0.0
    e = 0
    s = 0
    for r in range(R):
        for b in range(B):
            d = D[r, b]
            if d <= 0:
                continue
            c = coef[s]
            bs = acc
            gs = G[e:e + d]
            for x in range(d):
                acc += np.floor(gs[x] * c) + 1.0
                gs[x] = acc
            base[s] = bs
            last[s] = acc - bs - 1.0
            e_start[r, b] = e
            seg_of[r, b] = s
            e += d
            s += 1
    # Pass 2: candidates, grouped by row and stratum, in column order (branch-free
    # compaction; positions increase, so a segment ends at its first one past the block).
    M = len(G)
    comp = np.empty(M)
    uu = np.empty(M)
    rows = np.empty(M, dtype=np.int64)
    cols = np.empty(M, dtype=np.int64)
    blk = np.empty(M, dtype=np.int64)
    ptr = np.zeros(R * nS + 1, dtype=np.int64)
    n = 0
    for r in range(R):
        for j in range(nS):
            g = r * nS + j
            gf = np.float64(g)
            ptr[g] = n
            for q in range(grp_ptr[j], grp_ptr[j + 1]):
                b = grp_blocks[q]
                sg = seg_of[r, b]
                if sg < 0:
                    continue
                if last[sg] < sizes[b] - 1:
                    incomplete[g] = True
                bs = base[sg]
                lim = bs + sizes[b]
                off = starts[b] - 1 - np.int64(bs)
                pb = p[r, b]
                e0 = e_start[r, b]
                gs = G[e0:e0 + D[r, b]]
                vs = V[e0:e0 + D[r, b]]
                n0 = n
                if has_elig:
                    er = elig[r]
                    for x in range(len(gs)):
                        pos = gs[x]
                        if not pos <= lim:
                            break
                        col = off + np.int64(pos)
                        uu[n] = pb * vs[x]
                        cols[n] = col
                        n += er[col]
                else:
                    for x in range(len(gs)):
                        pos = gs[x]
                        if not pos <= lim:
                            break
                        uu[n] = pb * vs[x]
                        cols[n] = off + np.int64(pos)
                        n += 1
                o = odds[r, b]
                us = uu[n0:n]
                cs = comp[n0:n]
                for x in range(len(us)):
                    cs[x] = composite(us[x], o, gf)
                rows[n0:n] = r
                blk[n0:n] = b
    ptr[R * nS] = n
    bad = np.zeros((R, nS), dtype=np.bool_)
    kk = np.zeros(R * nS, dtype=np.int64)
    for r in range(R):
        for j in range(nS):
            g = r * nS + j
            if not need[r, j]:
                continue
            want = k_rest[r, j] if ok[r, j] else 0
            if not ok[r, j] or incomplete[g] or ptr[g + 1] - ptr[g] < want:
                bad[r, j] = True
            else:
                kk[g] = k_rest[r, j]
    sel = np.zeros(n, dtype=np.bool_)
    select_groups(comp[:n], comp[:n], ptr, kk, sel)
    out_r, out_c, out_b = _gather(rows, cols, blk, sel, int(sel.sum()), lo, blk_map)
    return out_r, out_c, out_b, bad, base, last


@_jit
def record_draws(rows, cols, work_code, visited, marks, mark, dedupe, work):
    """Bookkeeping of one pass's random draws: county marks (``mark``), the quarter's visited
    mask and the workload per row, unit and (on-site, off-site) (``work``: R x units x 2,
    added to; code ``work_code = unit * 2 + off-site``), new visits only when ``dedupe``.
    The workload is counted in registers over runs of the same row and unit (the draws come
    grouped by row and stratum, in column order) - no histogram in memory."""
    cur_r = -1
    cur_u = -1
    total = 0
    off = 0
    for i in range(len(rows)):
        r = rows[i]
        c = cols[i]
        if mark:
            marks[r, c] = True
        if dedupe and visited[r, c]:
            continue
        visited[r, c] = True
        w = work_code[c]
        u = w >> 1
        if u != cur_u or r != cur_r:
            if cur_r >= 0:
                work[cur_r, cur_u, 0] += total - off
                work[cur_r, cur_u, 1] += off
            cur_r = r
            cur_u = u
            total = 0
            off = 0
        total += 1
        off += w & 1
    if cur_r >= 0:
        work[cur_r, cur_u, 0] += total - off
        work[cur_r, cur_u, 1] += off


@_jit
def add_checks(checks, rows, cols):
    """``checks[rows, cols] += 1`` (no repeated pairs)."""
    for i in range(len(rows)):
        checks[rows[i], cols[i]] += 1


@_jit
def close_quarter(visited, visits, run, maxgap):
    """Visits, the run of quarters without a visit and the longest gap from the quarter's
    visited mask (``visited`` as uint8; flat, C-ordered uint8 state), which is then cleared:
    ``visits += v; run = (run + 1) (1 - v); maxgap = max(maxgap, run)`` (branch-free)."""
    one = np.uint8(1)
    for i in range(len(visited)):
        v = visited[i]
        visits[i] = visits[i] + v
        x = np.uint8(np.uint8(run[i] + one) * np.uint8(one - v))
        run[i] = x
        maxgap[i] = max(maxgap[i], x)
        visited[i] = 0


@_jit
def year_tallies(visits, run_start, run_group, n_groups, cat_ids, cat_lo, cat_hi,
                 max_visits, covered, inspections, hist):
    """Per row: objects visited at least once and visits per reporting group (``runs`` of
    columns ``run_start[i]:run_start[i+1]`` belong to group ``run_group[i]``; whole numbers,
    stored as doubles as the numpy sums were), and the histogram of visits per category
    (``max_visits`` and more in the last bin); ``visits`` is then cleared."""
    R, N = visits.shape
    nr = len(run_start)
    cov = np.zeros(n_groups, dtype=np.int64)
    ins = np.zeros(n_groups, dtype=np.int64)
    for r in range(R):
        row = visits[r]
        cov[:] = 0
        ins[:] = 0
        for i in range(nr):
            a = run_start[i]
            b = run_start[i + 1] if i + 1 < nr else N
            c = 0
            s = 0
            seg = row[a:b]
            for x in range(len(seg)):
                v = np.int64(seg[x])
                c += np.int64(v > 0)
                s += v
            cov[run_group[i]] += c
            ins[run_group[i]] += s
        for gg in range(n_groups):
            covered[r, gg] = cov[gg]
            inspections[r, gg] = ins[gg]
        for ci in range(len(cat_ids)):
            cat = cat_ids[ci]
            seg = row[cat_lo[ci]:cat_hi[ci]]
            top = np.uint8(0)
            for x in range(len(seg)):
                top = max(top, seg[x])
            for j in range(min(np.int64(top), max_visits) + 1):  # one vectorised count each
                c = 0
                if j < max_visits:
                    for x in range(len(seg)):
                        c += np.int64(seg[x] == j)
                else:
                    for x in range(len(seg)):
                        c += np.int64(seg[x] >= j)
                hist[cat, j] += c
        row[:] = 0


@_jit
def gap_tallies(maxgap, run, cat_ids, cat_lo, cat_hi, gap_mean, gap_4):
    """Per row and category: mean longest run without a visit (the run after the last visit
    included) and the share of objects with one of 4 quarters or more (exact whole-number
    sums divided by the count, as numpy's means)."""
    R = maxgap.shape[0]
    for r in range(R):
        mg = maxgap[r]
        rn = run[r]
        for ci in range(len(cat_ids)):
            cat = cat_ids[ci]
            a, b = cat_lo[ci], cat_hi[ci]
            ms = mg[a:b]
            rs = rn[a:b]
            s = 0
            c4 = 0
            for x in range(len(ms)):
                m = max(ms[x], rs[x])
                s += np.int64(m)
                c4 += np.int64(m >= 4)
            gap_mean[r, cat] = s / (b - a)
            gap_4[r, cat] = c4 / (b - a)


# --------------------------------------------------------------------------------------
# The plan of a pass with exclusions (eligible counts, lambda, key thresholds, skips)
# --------------------------------------------------------------------------------------
@_jit
def _max0(x, y):
    """``np.maximum(x, y)``: ``x`` when ``x >= y`` or ``x`` is nan."""
    return x if (x >= y or np.isnan(x)) else y


@_jit
def block_counts(elig, starts, sizes, block_local, block_credit, nS, c4):
    """Eligible objects per row, local stratum and class (``c4``, R x nS x 4, filled)."""
    R = elig.shape[0]
    c4[:] = 0
    for r in range(R):
        for i in range(len(starts)):
            e = elig[r, starts[i]:starts[i] + sizes[i]]
            c = 0
            for x in range(len(e)):
                c += np.int64(e[x])
            c4[r, block_local[i], block_credit[i]] = c


@_jit
def inclusion_probabilities(c4, quota, bases, lam, k):
    """``dsr_analysis.quotas.inclusion_probabilities(c4, quota, bases)`` into ``lam`` and
    ``k = min(quota, eligible)`` - the same operations per stratum (sums left to right;
    iterating a stratum until no class becomes certain is what the vectorised loop does,
    since a stratum without a new certain class repeats the same values)."""
    R, S, C = c4.shape
    nf = np.empty(C)
    certain = np.empty(C, dtype=np.bool_)
    present = np.empty(C, dtype=np.bool_)
    lr = np.empty(C)
    for r in range(R):
        for s in range(S):
            total = 0.0
            ksum = 0
            for c in range(C):
                nf[c] = np.float64(c4[r, s, c])
                ksum += c4[r, s, c]
                total = nf[c] if c == 0 else total + nf[c]
                present[c] = nf[c] > 0
                certain[c] = False
                lr[c] = 0.0
            k[r, s] = min(quota[s], ksum)
            q = np.float64(quota[s])
            n = q if (q <= total or np.isnan(q)) else total  # np.minimum
            for _ in range(C + 1):
                taken = 0.0
                mass = 0.0
                for c in range(C):
                    tk = nf[c] if certain[c] else 0.0
                    taken = tk if c == 0 else taken + tk
                    term = nf[c] * bases[s, c] if (present[c] and not certain[c]) else 0.0
                    mass = term if c == 0 else mass + term
                n_rest = n - taken
                safe = mass if mass > 0 else 1.0
                new = False
                for c in range(C):
                    free = present[c] and not certain[c]
                    lr[c] = (n_rest * bases[s, c]) / safe if free else 0.0
                    if free and lr[c] >= 1.0:
                        certain[c] = True
                        new = True
                if not new:
                    break
            for c in range(C):
                lam[r, s, c] = 1.0 if certain[c] else lr[c]


@_jit
def class_parts(c4, lam, k, sd, extra, odds, free, k_rest, target, ok, certain):
    """``coverage._class_parts`` into the given arrays (sums left to right)."""
    R, S, C = c4.shape
    for r in range(R):
        for s in range(S):
            taken = 0
            fsum = 0
            for c in range(C):
                cert = lam[r, s, c] >= 1.0 and c4[r, s, c] > 0
                certain[r, s, c] = cert
                o = lam[r, s, c] / (1.0 - lam[r, s, c])
                odds[r, s, c] = o if (lam[r, s, c] > 0 and not cert) else 0.0
                fr = 0 if (cert or odds[r, s, c] <= 0) else c4[r, s, c]
                free[r, s, c] = fr
                fsum += fr
                taken += c4[r, s, c] if cert else 0
            kr = k[r, s] - taken
            k_rest[r, s] = kr
            tg = kr + sd * np.sqrt(np.float64(max(kr, 0))) + extra
            target[r, s] = tg
            ok[r, s] = tg < fsum


@_jit
def key_threshold(counts, odds, target, steps):
    """``coverage.key_threshold`` (counts as doubles; the Newton steps of all strata
    together, stopping when none is short of its target, as the vectorised loop)."""
    R, S, C = odds.shape
    t = np.empty((R, S))
    live = np.empty((R, S), dtype=np.bool_)
    f = np.empty((R, S))
    for r in range(R):
        for s in range(S):
            mass = 0.0
            csum = 0.0
            for c in range(C):
                m = np.float64(counts[r, s, c]) * odds[r, s, c]
                mass = m if c == 0 else mass + m
                cf = np.float64(counts[r, s, c])
                csum = cf if c == 0 else csum + cf
            safe = mass if mass > 0 else 1.0
            t[r, s] = _max0(target[r, s], 0.0) / safe if mass > 0 else 0.0
            live[r, s] = mass > 0 and target[r, s] < csum
    for _ in range(steps):
        short = False
        for r in range(R):
            for s in range(S):
                acc = 0.0
                for c in range(C):
                    to = t[r, s] * odds[r, s, c]
                    one = 1.0 + to
                    v = np.float64(counts[r, s, c]) * to / one
                    acc = v if c == 0 else acc + v
                f[r, s] = acc - target[r, s]
                if live[r, s] and f[r, s] < -1e-9 * _max0(target[r, s], 1.0):
                    short = True
        if not short:
            break
        for r in range(R):
            for s in range(S):
                fp = 0.0
                for c in range(C):
                    to = t[r, s] * odds[r, s, c]
                    one = 1.0 + to
                    v = np.float64(counts[r, s, c]) * odds[r, s, c] / (one * one)
                    fp = v if c == 0 else fp + v
                step = -f[r, s] / fp if fp > 0 else 0.0
                t[r, s] = t[r, s] + _max0(step, 0.0)
    return t


@_jit
def sparse_plan(c4, lam, k, stratum_sparse, loc, cr, n, sd, extra, geom_sd, geom_extra,
                steps):
    """The plan of ``coverage.sparse_select``: ``certain, k_rest, ok, need`` (per stratum and
    class / stratum), and per row and sparse block the odds, the bound ``p`` and the skips
    ``D`` to draw - the numpy operations in their order."""
    R, S, C = c4.shape
    B = len(loc)
    odds4 = np.empty((R, S, C))
    free4 = np.empty((R, S, C), dtype=np.int64)
    k_rest = np.empty((R, S), dtype=np.int64)
    target = np.empty((R, S))
    ok = np.empty((R, S), dtype=np.bool_)
    certain = np.empty((R, S, C), dtype=np.bool_)
    class_parts(c4, lam, k, sd, extra, odds4, free4, k_rest, target, ok, certain)
    need = np.empty((R, S), dtype=np.bool_)
    for r in range(R):
        for s in range(S):
            need[r, s] = stratum_sparse[s] and k_rest[r, s] > 0
    t = key_threshold(free4, odds4, target, steps)
    odds = np.empty((R, B))
    p = np.empty((R, B))
    D = np.zeros((R, B), dtype=np.int64)
    for r in range(R):
        for b in range(B):
            j, c = loc[b], cr[b]
            o = _max0(odds4[r, j, c], 1e-300)
            odds[r, b] = o
            to = t[r, j] * o
            pb = to / (1.0 + to)
            p[r, b] = pb
            if need[r, j] and ok[r, j] and free4[r, j, c] > 0:
                mu = n[b] * pb
                D[r, b] = np.int64(np.ceil(mu + geom_sd * np.sqrt(mu * (1.0 - pb)) + geom_extra))
    return certain, k_rest, ok, need, odds, p, D


@_jit
def screen_plan(c4, lam, kd, sd, extra, steps):
    """``coverage.screen_thresholds(c4, lam, kd)`` and the dense path's odds
    (``max(lambda / (1 - lambda), 1e-300)``, ``inf`` for ``lambda >= 1``)."""
    R, S, C = c4.shape
    odds4 = np.empty((R, S, C))
    free4 = np.empty((R, S, C), dtype=np.int64)
    k_rest = np.empty((R, S), dtype=np.int64)
    target = np.empty((R, S))
    ok = np.empty((R, S), dtype=np.bool_)
    certain = np.empty((R, S, C), dtype=np.bool_)
    class_parts(c4, lam, kd, sd, extra, odds4, free4, k_rest, target, ok, certain)
    t = key_threshold(free4, odds4, target, steps)
    tau = np.empty((R, S, C))
    odds = np.empty((R, S, C))
    for r in range(R):
        for s in range(S):
            for c in range(C):
                to = t[r, s] * odds4[r, s, c]
                tv = to / (1.0 + to)
                tau[r, s, c] = tv if (ok[r, s] and not certain[r, s, c]) else 1.0
                la = lam[r, s, c]
                o = np.inf if la >= 1.0 else la / (1.0 - la)
                odds[r, s, c] = _max0(o, 1e-300)
    return tau, odds


# --------------------------------------------------------------------------------------
# The deterrence engine's per-replicate kernels (general strata, state dependent)
# --------------------------------------------------------------------------------------
@_jit
def stratum_select(keys, stratum, quota, out):
    """Per row and stratum, set ``out`` for the ``quota`` eligible objects with the smallest
    keys, ties by position - exactly the stable ``np.lexsort((keys, stratum))`` selection of
    :func:`dsr_analysis.simulation.sampling.select_by_stratum` (eligible: ``stratum >= 0``
    and a finite key). Per row a counting sort by stratum (positions stay in order), then
    per stratum the ``quota``-th smallest key (:func:`kth_smallest`), every key below it
    and, of the keys equal to it, the first ones by position. Work space: two arrays of the
    row's length, reused across rows."""
    R, N = keys.shape
    S = quota.shape[1]
    vals = np.empty(N)
    idx = np.empty(N, dtype=np.int64)
    scratch = np.empty(N)
    hist = np.empty(4096, dtype=np.int64)
    cnt = np.zeros(S + 1, dtype=np.int64)
    ptr = np.zeros(S + 1, dtype=np.int64)
    for r in range(R):
        cnt[:] = 0
        for i in range(N):
            s = stratum[r, i]
            if s >= 0 and np.isfinite(keys[r, i]):
                cnt[s] += 1
        ptr[0] = 0
        for s in range(S):
            ptr[s + 1] = ptr[s] + cnt[s]
        cnt[:S] = ptr[:S]  # next free slot per stratum
        for i in range(N):
            s = stratum[r, i]
            x = keys[r, i]
            if s >= 0 and np.isfinite(x):
                j = cnt[s]
                vals[j] = x
                idx[j] = i
                cnt[s] = j + 1
        for s in range(S):
            a, b = ptr[s], ptr[s + 1]
            n = b - a
            take = min(quota[r, s], n)
            if take <= 0:
                continue
            if take == n:
                for j in range(a, b):
                    out[r, idx[j]] = True
                continue
            t = kth_smallest(vals[a:b], take - 1, hist, scratch)
            below = 0
            for j in range(a, b):
                if vals[j] < t:
                    out[r, idx[j]] = True
                    below += 1
            need = take - below
            for j in range(a, b):
                if need <= 0:
                    break
                if vals[j] == t:
                    out[r, idx[j]] = True
                    need -= 1


@_jit
def stratum_class_counts(sid, credit, mask, has_mask, n_strata, n_classes, out):
    """``out[r, s, c]`` += objects of row ``r`` in stratum ``s`` (``sid >= 0``) and credit
    class ``c`` (where ``mask``, if ``has_mask``) - the count of
    :func:`dsr_analysis.simulation.sampling.class_counts`."""
    R, N = sid.shape
    for r in range(R):
        for i in range(N):
            s = sid[r, i]
            if s >= 0 and (not has_mask or mask[r, i]):
                out[r, s, credit[r, i]] += 1


@_jit
def class_lambda(lam, sid, credit, out):
    """``out[r, i]`` = ``lam[r, sid[r, i], credit[r, i]]`` (0 where ``sid < 0``)."""
    R, N = sid.shape
    for r in range(R):
        for i in range(N):
            s = sid[r, i]
            out[r, i] = lam[r, s, credit[r, i]] if s >= 0 else 0.0


# --------------------------------------------------------------------------------------
# The deterrence engine, version 2: counter-based streams and fused passes
# --------------------------------------------------------------------------------------
#: SplitMix64 (Steele, Lea and Flood 2014): the Weyl increment and the two multipliers of
#: its output function (Stafford's "Mix13").
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ONE = np.uint64(1)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@_inline
def counter_uniform(key, ctr):
    """The uniform number ``ctr`` of the stream ``key`` (both uint64), in [0, 1) on a 2^-53
    grid: the SplitMix64 output of the Weyl state ``key + (ctr + 1) gamma``. Counter-based:
    any number of a stream is computed on its own, so which numbers a replicate uses does
    not depend on chunks, threads or the order of the computation."""
    z = key + (ctr + _ONE) * _GAMMA
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _TWO_M53


@_jit
def counter_uniforms(key, start, n):
    """``n`` consecutive numbers of the stream ``key`` from counter ``start`` (for tests)."""
    out = np.empty(n)
    for i in range(n):
        out[i] = counter_uniform(key, start + np.uint64(i))
    return out


@_inline
def _counted(checks, p, r, i, scope_all):
    """Earlier checks this year that count for the unit of pass ``p``
    (:func:`dsr_analysis.overlap.counted_checks`)."""
    if not scope_all:
        return np.int64(checks[p, r, i])
    t = 0
    for q in range(checks.shape[0]):
        t += np.int64(checks[q, r, i])
    return t


@_inline
def _restate(r, i, cat_table, unit, lookup, credit, positive, pen_last, cat, sid):
    """Category and strata of firm ``i`` of row ``r`` from its current state."""
    c = np.int64(credit[r, i])
    pos = np.int64(positive[r, i])
    k = cat_table[i, c * 4 + pos * 2 + np.int64(pen_last[r, i])]
    cat[r, i] = k
    code = np.int64(k) * 8 + pos * 4 + c
    for p in range(lookup.shape[0]):
        sid[p, r, i] = lookup[p, unit[i], code]


@_inline
def _combo(r, i, unit, cat, positive, credit, offsite, checks, sid, fixed, scope_all, capped,
           cap, rotation):
    """The combination of firm ``i`` of row ``r``: its unit, category, positive-list status,
    credit class and off-site capability, and per pass its state (0: outside every stratum
    or not eligible, 1: eligible, 2: eligible with a counted check this year under
    rotation) - everything its perceived probability, its threshold and its place in a
    draw's plan depend on. ``((((unit x 3 + category) x 2 + positive) x 4 + class) x 2 +
    off-site) x 3^passes + sum(state_p 3^p)`` (:func:`_decode`)."""
    st = ((((np.int64(unit[i]) * 3 + np.int64(cat[r, i])) * 2 + np.int64(positive[r, i])) * 4
           + np.int64(credit[r, i])) * 2 + np.int64(offsite[i]))
    es = np.int64(0)
    w = np.int64(1)
    for p in range(sid.shape[0]):
        s = np.int64(sid[p, r, i])
        if s >= 0:
            n = _counted(checks, p, r, i, scope_all) if (capped or rotation) else 0
            if fixed[s] or not capped or n < cap:
                es += w * (2 if (rotation and n > 0) else 1)
        w *= 3
    return st * w + es


@_inline
def _decode(cb, E):
    """Unit, category, positive list, class, off-site capability and the pass states
    (base 3) of the combination ``cb`` (:func:`_combo`; ``E`` = 3^passes)."""
    st = cb // E
    es = cb - st * E
    off = st % 2
    st //= 2
    c = st % 4
    st //= 4
    pos = st % 2
    st //= 2
    return st // 3, st % 3, pos, c, off, es


def combinations(units: int, passes: int) -> int:
    """Number of combinations of :func:`_combo`: units x 48 x 3^passes."""
    return units * 48 * 3 ** passes


@_inline
def _contrib(r, i, sign, sid, cat, credit, positive, offsite, checks, scope_all, capped, cap,
             fixed, counts, offc, ec, fresh, cat_n, pos_n):
    """Add ``sign`` x what firm ``i`` of row ``r`` counts for: objects, off-site capable,
    eligible (the yearly cap; never on full off-site coverage) and eligible without a
    counted check this year per stratum and class; objects per category; positive list."""
    c = np.int64(credit[r, i])
    cat_n[r, cat[r, i]] += sign
    if positive[r, i]:
        pos_n[r] += sign
    for p in range(sid.shape[0]):
        s = np.int64(sid[p, r, i])
        if s < 0:
            continue
        counts[r, s, c] += sign
        if offsite[i]:
            offc[r, s, c] += sign
        n = _counted(checks, p, r, i, scope_all)
        if fixed[s] or not capped or n < cap:
            ec[r, s, c] += sign
            if n == 0:
                fresh[r, s, c] += sign


@_jit
def dv2_state(cat_table, unit, lookup, offsite, credit, positive, pen_last, checks, scope_all,
              capped, cap, fixed, rotation, cat, sid, counts, offc, ec, fresh, cat_n, pos_n,
              combo, ccount, new_year, reg_credit, pen_now, clean_years, recovery_years):
    """The state of every firm of every row from scratch (start, and after a year's end):
    category and strata (``sid``, passes x R x N), the counts of :func:`_contrib`, each
    firm's combination (``combo``, R x N, :func:`_combo`) and the firms per combination
    (``ccount``, R x :func:`combinations`); the engine then keeps them up to date firm by
    firm. With ``new_year``, the year's end first, in the same pass (:func:`dv2_year_end`:
    ``reg_credit``, ``pen_now``, ``clean_years``, ``recovery_years``; the year's checks are
    cleared). No check counts at a year's start, so the counts per stratum and class follow
    from the firms per combination."""
    R, N = credit.shape
    if new_year:
        checks[:] = 0
    counts[:] = 0
    offc[:] = 0
    ec[:] = 0
    fresh[:] = 0
    cat_n[:] = 0
    pos_n[:] = 0
    ccount[:] = 0
    P = lookup.shape[0]
    for r in range(R):
        cn = cat_n[r]
        pn = 0
        cr = credit[r]
        po = positive[r]
        pl = pen_last[r]
        ct = cat[r]
        for i in range(N):  # _restate and _combo, written out (no check counted yet)
            if new_year:  # dv2_year_end, written out
                cy = 0 if pen_now[r, i] else clean_years[r, i] + 1
                if recovery_years and cy >= recovery_years and cr[i] > reg_credit[i]:
                    cr[i] -= 1
                    cy = 0
                clean_years[r, i] = cy
                pl[i] = pen_now[r, i]
                pen_now[r, i] = False
            c = np.int64(cr[i])
            pos = np.int64(po[i])
            k = cat_table[i, c * 4 + pos * 2 + np.int64(pl[i])]
            ct[i] = k
            code = np.int64(k) * 8 + pos * 4 + c
            es = np.int64(0)
            w = np.int64(1)
            for p in range(P):
                s = np.int64(lookup[p, unit[i], code])
                sid[p, r, i] = s
                if s >= 0 and (fixed[s] or not capped or 0 < cap):
                    es += w
                w *= 3
            cb = ((((np.int64(unit[i]) * 3 + np.int64(k)) * 2 + pos) * 4 + c) * 2
                  + np.int64(offsite[i])) * w + es
            combo[r, i] = cb
            ccount[r, cb] += 1
        E = np.int64(1)
        for _p in range(P):
            E *= 3
        for cb in range(ccount.shape[1]):  # the counts of _contrib, per combination
            n = ccount[r, cb]
            if n == 0:
                continue
            u, k, pos, c, off, es = _decode(cb, E)
            cn[k] += n
            pn += n * pos
            code = k * 8 + pos * 4 + c
            for p in range(P):
                st = es % 3
                es //= 3
                s = np.int64(lookup[p, u, code])
                if s < 0:
                    continue
                counts[r, s, c] += n
                if off:
                    offc[r, s, c] += n
                if st:
                    ec[r, s, c] += n
                    fresh[r, s, c] += n
        pos_n[r] = pn


#: The normal tail ``Q(x) = erfc(x / sqrt 2) / 2`` tabulated on ``[-TAIL_X, TAIL_X]``
#: (:func:`tail_table`): linear interpolation between its points is within
#: ``h^2 / 8 max|Q''| < 6e-7`` of ``Q``; a uniform within :data:`TAIL_MARGIN` of the
#: interpolated value is decided by ``erfc`` itself, so every decision is that of ``erfc``.
TAIL_X = 9.0
TAIL_POINTS = 4096
TAIL_MARGIN = 1e-5


def tail_table() -> np.ndarray:
    """``Q`` at the :data:`TAIL_POINTS` + 1 points of ``[-TAIL_X, TAIL_X]``."""
    x = np.linspace(-TAIL_X, TAIL_X, TAIL_POINTS + 1)
    return np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in x])


@_inline
def violates(u, x, tab):
    """``u < erfc(x / sqrt 2) / 2``, through the table ``tab`` where it decides."""
    f = (x + TAIL_X) * (TAIL_POINTS / (2.0 * TAIL_X))
    if f >= 0.0 and f < TAIL_POINTS:
        j = np.int64(f)
        w = f - j
        q = tab[j] + w * (tab[j + 1] - tab[j])
        if abs(u - q) >= TAIL_MARGIN:  # (a branch taken almost always: predictable)
            return u < q
    return u < 0.5 * math.erfc(x * (1.0 / np.sqrt(2.0)))


@_inline
def _draw_key(u, lam, rotation, rounds):
    """The ranking key of :func:`dsr_analysis.simulation.sampling.draw_keys`: the Pareto key
    (0 for ``lambda >= 1``), ``rounds + Q / (1 + Q)`` under rotation, ``inf`` for ``nan``."""
    if lam >= 1.0:
        q = 0.0
    else:
        q = (u / (1.0 - u)) / (lam / (1.0 - lam))
    key = rounds + q / (1.0 + q) if rotation else q
    if np.isnan(key):
        return np.inf
    return key


@_jit
def _row_plan(tau_r, lam_r, rotation, bound, full, pick):
    """Per stratum: the smallest key a firm above its class's screening bound can have
    (``bound``; the key is monotone in the uniform), whether every eligible firm is a
    candidate (``full``), and ``pick`` set."""
    S, C = tau_r.shape
    for s in range(S):
        b = np.inf
        every = True
        for c in range(C):
            t = tau_r[s, c]
            if t < 1.0:
                every = False
                b = min(b, _draw_key(t, lam_r[s, c], False, 0.0))
        bound[s] = b
        full[s] = every or rotation
        pick[s] = True


@_jit
def _draw_tables(p, r, ccount, lookup, E, want, pick, full, lam_r, tau_r, t_tab, l_tab, s_tab):
    """Per combination of row ``r`` (:func:`_combo`), for the draw of pass ``p``: the bound a
    firm's uniform must be below to be a candidate (``t_tab``: ``tau`` of its stratum and
    class; 2 in a ``full`` stratum; -1 when it is not eligible, outside every stratum with
    ``pick`` and ``want > 0``, or when no firm has the combination), its lambda and its
    stratum."""
    M = ccount.shape[1]
    w3 = np.int64(1)
    for _ in range(p):
        w3 *= 3
    for cb in range(M):
        t_tab[cb] = -1.0
        if ccount[r, cb] == 0:
            continue
        u, k, pos, c, off, es = _decode(cb, E)
        s = np.int64(lookup[p, u, k * 8 + pos * 4 + c])
        if s < 0 or (es // w3) % 3 == 0 or want[s] <= 0 or not pick[s]:
            continue
        t_tab[cb] = 2.0 if full[s] else tau_r[s, c]
        l_tab[cb] = lam_r[s, c]
        s_tab[cb] = s


#: Firms per block of the compiled scans: a block's uniforms and tests are computed in one
#: loop without branches (vectorised), its candidates picked out in a second.
BLOCK = 512


@_jit
def _collect(p, r, combo, checks, scope_all, rotation, other, use_other, t_tab, l_tab, s_tab,
             key, base, cand_i, cand_k, cand_s):
    """The candidates of row ``r`` in pass ``p`` into ``cand_*`` (returns their number):
    the firms whose combination has a bound (:func:`_draw_tables`), not ``other`` when
    ``use_other``, whose uniform (number ``base + i`` of the stream ``key``) is below it,
    with a finite key, in position order."""
    N = combo.shape[1]
    cr = combo[r]
    ub = np.empty(BLOCK)
    ok = np.empty(BLOCK, dtype=np.bool_)
    pos = np.empty(BLOCK, dtype=np.int64)
    m = 0
    for i0 in range(0, N, BLOCK):
        nb = min(BLOCK, N - i0)
        for j in range(nb):  # no branch: vectorised
            u = counter_uniform(key, base + np.uint64(i0 + j))
            ub[j] = u
            ok[j] = u < t_tab[cr[i0 + j]]
        if use_other:
            for j in range(nb):
                ok[j] = ok[j] and not other[r, i0 + j]
        nk = 0
        for j in range(nb):  # the candidates' places, without a branch
            pos[nk] = j
            nk += ok[j]
        for h in range(nk):
            j = pos[h]
            i = i0 + j
            cb = cr[i]
            n = _counted(checks, p, r, i, scope_all) if rotation else 0
            k = _draw_key(ub[j], l_tab[cb], rotation, np.float64(n))
            if not np.isfinite(k):
                continue
            cand_i[m] = i
            cand_k[m] = k
            cand_s[m] = s_tab[cb]
            m += 1
    return m


@_inline
def _mark(p, r, i, drawn, dlist, dn):
    drawn[p, r, i] = True
    dlist[p, r, dn[p, r]] = i
    dn[p, r] += 1


@_jit
def _select_row(p, r, m, want, bound, full, pick, cand_i, cand_k, cand_s, vals, idx, hist,
                scratch, cnt, ptr, drawn, dlist, dn):
    """Per stratum with ``pick``, the ``want`` candidates with the smallest keys (ties by
    position: candidates come in position order and the counting sort by stratum is
    stable), as :func:`stratum_select`. A stratum that is not ``full`` is taken only when
    it has at least ``want`` candidates and its ``want``-th smallest key is below its
    ``bound``; otherwise it keeps ``pick`` and becomes ``full`` (to be collected again, every
    eligible firm a candidate). Returns whether some stratum needs that."""
    S = len(want)
    cnt[:] = 0
    for j in range(m):
        cnt[cand_s[j]] += 1
    ptr[0] = 0
    for s in range(S):
        ptr[s + 1] = ptr[s] + cnt[s]
    cnt[:S] = ptr[:S]
    for j in range(m):
        s = cand_s[j]
        q = cnt[s]
        vals[q] = cand_k[j]
        idx[q] = cand_i[j]
        cnt[s] = q + 1
    again = False
    for s in range(S):
        if not pick[s]:
            continue
        pick[s] = False
        if want[s] <= 0:
            continue
        a, b = ptr[s], ptr[s + 1]
        n = b - a
        take = min(want[s], n)
        t = np.inf
        if 0 < take < n:
            t = kth_smallest(vals[a:b], take - 1, hist, scratch)
        elif take > 0:
            t = vals[a]
            for j in range(a + 1, b):
                t = max(t, vals[j])
        if not full[s] and (n < want[s] or not t < bound[s]):
            pick[s] = True  # too few candidates, or a firm above the bound could rank
            full[s] = True
            again = True
            continue
        if take <= 0:
            continue
        if take == n:
            for j in range(a, b):
                _mark(p, r, idx[j], drawn, dlist, dn)
            continue
        below = 0
        for j in range(a, b):
            if vals[j] < t:
                _mark(p, r, idx[j], drawn, dlist, dn)
                below += 1
        need = take - below
        for j in range(a, b):
            if need <= 0:
                break
            if vals[j] == t:
                _mark(p, r, idx[j], drawn, dlist, dn)
                need -= 1
    return again


@_jit
def dv2_quarter(combo, ccount, cat_of, lookup, fixed, E, lam0, lam1, offsite_first, d_on, d_off,
                sanction, nc_ptr, nc_idx, nc_gain, noise_sigma, beh_keys, beh_base, tab,
                violate, perceived, viol_cat):
    """Violations of the quarter, all rows.

    A firm's perceived probability of a check and its threshold depend on its combination
    only (:func:`_combo`): per pass, the lambda of its stratum and class on the eligible
    firms (``lam0``; under rotation ``lam1`` for firms already checked this year), the passes
    combined as independent, times the detection probability of its check: ``p d``; the
    threshold ``log(max(p d F, 1e-300))``. Both are computed once per combination present
    (``ccount``); ``perceived[r]`` is the sum of ``p d`` over the firms (count x value per
    combination). Only the firms that may violate are visited (``nc_idx[nc_ptr[r]:nc_ptr[r
    + 1]]``, their gain levels ``nc_gain``; the others never violate and keep ``violate``
    false): a firm with gain level ``g`` violates when ``g + noise_sigma Z > threshold``, Z a
    standard normal: with the number ``beh_base + i`` of the row's behaviour stream ``u``,
    when ``u < P(Z > x) = erfc(x / sqrt 2) / 2``, ``x = (threshold - g) / noise_sigma``
    (:func:`violates`). ``viol_cat[r, k]``: violators of category ``k`` (``cat_of``: the
    category of each combination)."""
    R = combo.shape[0]
    M = ccount.shape[1]
    P = lookup.shape[0]
    thr = np.empty(M)
    vc = np.zeros(M, dtype=np.int64)
    ub = np.empty(BLOCK)
    xb = np.empty(BLOCK)
    vb = np.empty(BLOCK, dtype=np.bool_)
    unsure = np.empty(BLOCK, dtype=np.bool_)
    for r in range(R):
        acc = 0.0
        for cb in range(M):
            n = ccount[r, cb]
            if n == 0:
                continue
            u, k, pos, c, off, es = _decode(cb, E)
            code = k * 8 + pos * 4 + c
            in_fixed = False
            nc = 1.0
            for p in range(P):
                state = es % 3
                es //= 3
                s = np.int64(lookup[p, u, code])
                if s < 0:
                    continue
                in_fixed = in_fixed or fixed[s]
                if state == 2:
                    nc *= 1.0 - lam1[r, s, c]
                elif state == 1:
                    nc *= 1.0 - lam0[r, s, c]
            o = in_fixed or (off == 1 and offsite_first)
            pd = (1.0 - nc) * (d_off if o else d_on)
            acc += n * pd
            thr[cb] = np.log(max(pd * sanction, 1e-300))
        perceived[r] = acc
        key = beh_keys[r]
        vr = violate[r]
        cr = combo[r]
        if noise_sigma > 0:
            for j0 in range(nc_ptr[r], nc_ptr[r + 1], BLOCK):
                nb = min(BLOCK, nc_ptr[r + 1] - j0)
                for h in range(nb):  # no branch: vectorised
                    i = nc_idx[j0 + h]
                    ub[h] = counter_uniform(key, beh_base + np.uint64(i))
                    xb[h] = thr[cr[i]]
                for h in range(nb):  # the table of violates, without a branch
                    u = ub[h]
                    x = (xb[h] - nc_gain[j0 + h]) / noise_sigma
                    f = (x + TAIL_X) * (TAIL_POINTS / (2.0 * TAIL_X))
                    jj = np.int64(min(max(f, 0.0), TAIL_POINTS - 1.0))
                    w = f - jj
                    q = tab[jj] + w * (tab[jj + 1] - tab[jj])
                    xb[h] = x
                    vb[h] = u < q
                    unsure[h] = (f < 0.0) | (f >= TAIL_POINTS) | (abs(u - q) < TAIL_MARGIN)
                for h in range(nb):
                    i = nc_idx[j0 + h]
                    v = vb[h]
                    if unsure[h]:  # rare: erfc decides
                        v = ub[h] < 0.5 * math.erfc(xb[h] * (1.0 / np.sqrt(2.0)))
                    vr[i] = v
                    vc[cr[i]] += v
        else:
            for j in range(nc_ptr[r], nc_ptr[r + 1]):
                i = nc_idx[j]
                cb = cr[i]
                v = nc_gain[j] > thr[cb]
                vr[i] = v
                vc[cb] += v
        for cb in range(M):
            if vc[cb]:
                viol_cat[r, cat_of[cb]] += vc[cb]
                vc[cb] = 0


def draw_work(n: int) -> tuple:
    """Work space of :func:`dv2_draw` for ``n`` firms: candidates (positions, keys,
    strata), keys and positions sorted by stratum, and a scratch array."""
    return (np.empty(n, dtype=np.int64), np.empty(n), np.empty(n, dtype=np.int64),
            np.empty(n), np.empty(n, dtype=np.int64), np.empty(n))


@_jit
def dv2_draw(p, combo, ccount, lookup, E, checks, scope_all, rotation, other, use_other, lam,
             tau, quota, keys, base, drawn, dlist, dn, work):
    """The draw of pass ``p``, all rows: per row and stratum the ``quota`` eligible firms
    (not drawn by the other level when ``use_other``: ``other[r, i]``) with the smallest
    ranking keys, ties by position - the selection of
    :func:`dsr_analysis.simulation.sampling.select_by_stratum` - marked in ``drawn[p]`` and
    listed in ``dlist[p, r, :dn[p, r]]``. The key of firm ``i`` comes from the number
    ``base + i`` of the row's draw stream. Only firms whose uniform is below ``tau``
    (R x S x 4, the screening bound of :func:`screen_plan`; 1 = every firm) are
    candidates; a stratum is taken from its candidates only when it has at least
    ``quota`` of them and its ``quota``-th smallest key is below the smallest key a firm
    above the bound can have (the key is monotone in the uniform), otherwise from all its
    eligible firms (a second scan of the same numbers): the selection is exact either
    way. A firm's stratum, class and eligibility come from its combination (``combo``,
    :func:`_draw_tables`). ``work``: work space, :func:`draw_work` (allocated once per
    chunk: large fresh arrays cost page faults at every call)."""
    R, N = combo.shape
    M = ccount.shape[1]
    S = quota.shape[1]
    cand_i, cand_k, cand_s, vals, idx, scratch = work
    hist = np.empty(4096, dtype=np.int64)
    cnt = np.zeros(S + 1, dtype=np.int64)
    ptr = np.zeros(S + 1, dtype=np.int64)
    bound = np.empty(S)
    full = np.zeros(S, dtype=np.bool_)
    pick = np.ones(S, dtype=np.bool_)
    t_tab = np.empty(M)
    l_tab = np.empty(M)
    s_tab = np.zeros(M, dtype=np.int64)
    for r in range(R):
        _row_plan(tau[r], lam[r], rotation, bound, full, pick)
        for _attempt in range(2):
            _draw_tables(p, r, ccount, lookup, E, quota[r], pick, full, lam[r], tau[r], t_tab,
                         l_tab, s_tab)
            m = _collect(p, r, combo, checks, scope_all, rotation, other, use_other, t_tab,
                         l_tab, s_tab, keys[r], base, cand_i, cand_k, cand_s)
            if not _select_row(p, r, m, quota[r], bound, full, pick, cand_i, cand_k, cand_s,
                               vals, idx, hist, scratch, cnt, ptr, drawn, dlist, dn):
                break


@_jit
def dv2_avoided(sid, credit, checks, scope_all, capped, cap, fixed, p_from, p_to, dlist, dn,
                ec):
    """``ec`` (R x S x 4) less, for the pass ``p_to``, the eligible firms the pass ``p_from``
    drew this quarter (between-level avoidance)."""
    R = sid.shape[1]
    for r in range(R):
        for j in range(dn[p_from, r]):
            i = dlist[p_from, r, j]
            s = np.int64(sid[p_to, r, i])
            if s < 0:
                continue
            n = _counted(checks, p_to, r, i, scope_all)
            if fixed[s] or not capped or n < cap:
                ec[r, s, credit[r, i]] -= 1


@_jit
def dv2_offsite(lookup, fixed, E, offsite_first, off_tab):
    """Per combination (:func:`_combo`), whether its firms' checks are off-site: a stratum
    of full off-site coverage in some pass, or (R6) off-site capability when off-site
    checks come first."""
    for cb in range(len(off_tab)):
        u, k, pos, c, off, es = _decode(cb, E)
        o = off == 1 and offsite_first
        for p in range(lookup.shape[0]):
            s = np.int64(lookup[p, u, k * 8 + pos * 4 + c])
            if s >= 0 and fixed[s]:
                o = True
        off_tab[cb] = o


@_jit
def dv2_close(cat_table, unit, lookup, sid, cat, credit, positive, pen_last, pen_now, checks,
              scope_all, capped, cap, rotation, violate, drawn, fixed, offsite, off_tab, cat_of,
              d_on, d_off, steps, remove, keys, base, counts, offc, ec, fresh, cat_n, pos_n,
              combo, ccount, tally, by_cat):
    """End of a quarter, all rows: the firms drawn in any pass (``drawn``), in position order
    (blocks of :data:`BLOCK`, picked out without a branch), get one visit each; an inspected
    violator is found when the number ``base + i`` of the row's detection stream is below
    the detection probability of its check (off-site: ``off_tab`` of its combination);
    enforcement (down ``steps`` credit classes, off the positive list if ``remove``,
    penalised); the checks of every level; the firm's category, strata, combination and
    counts brought up to date. ``tally[r]``: inspections, off-site, detected;
    ``by_cat[r, k]``: inspections, detected of category ``k`` (at the start of the quarter;
    ``cat_of``: the category of each combination). ``drawn`` is cleared. The checks are
    kept only where they decide eligibility (``track``: a yearly cap or rotation), and
    only a detected firm's state changes otherwise."""
    P, R, N = sid.shape
    M = ccount.shape[1]
    track = capped or rotation
    visits = np.zeros(M, dtype=np.int64)
    vis = np.empty(BLOCK, dtype=np.bool_)
    at = np.empty(BLOCK, dtype=np.int64)
    for r in range(R):
        key = keys[r]
        cr = combo[r]
        for i0 in range(0, N, BLOCK):
            nb = min(BLOCK, N - i0)
            for j in range(nb):
                vis[j] = drawn[0, r, i0 + j]
            for q in range(1, P):
                for j in range(nb):
                    vis[j] = vis[j] or drawn[q, r, i0 + j]
            nk = 0
            for j in range(nb):  # the visited firms' places, without a branch
                at[nk] = j
                nk += vis[j]
            for h in range(nk):
                i = i0 + at[h]
                cb = cr[i]
                visits[cb] += 1
                d = d_off if off_tab[cb] else d_on
                found = violate[r, i] & (counter_uniform(key, base + np.uint64(i)) < d)
                if not (found or track):
                    continue  # nothing that counts changes
                k = cat_of[cb]
                _contrib(r, i, -1, sid, cat, credit, positive, offsite, checks, scope_all,
                         capped, cap, fixed, counts, offc, ec, fresh, cat_n, pos_n)
                ccount[r, cb] -= 1
                if track:
                    for q in range(P):
                        if drawn[q, r, i]:
                            checks[q, r, i] += 1
                if found:
                    tally[r, 2] += 1
                    by_cat[r, k, 1] += 1
                    if steps:
                        credit[r, i] = min(credit[r, i] + steps, 3)
                    if remove:
                        positive[r, i] = False
                    pen_now[r, i] = True
                    _restate(r, i, cat_table, unit, lookup, credit, positive, pen_last, cat,
                             sid)
                _contrib(r, i, 1, sid, cat, credit, positive, offsite, checks, scope_all,
                         capped, cap, fixed, counts, offc, ec, fresh, cat_n, pos_n)
                cb = _combo(r, i, unit, cat, positive, credit, offsite, checks, sid, fixed,
                            scope_all, capped, cap, rotation)
                combo[r, i] = cb
                ccount[r, cb] += 1
        for cb in range(M):
            v = visits[cb]
            if v:
                tally[r, 0] += v
                tally[r, 1] += v * off_tab[cb]
                by_cat[r, cat_of[cb], 0] += v
                visits[cb] = 0
        for p in range(P):
            drawn[p, r, :] = False


@_jit
def dv2_year_end(credit, reg_credit, pen_now, pen_last, clean_years, checks, recovery_years):
    """A clean year earns one class back (never above the register's), the year's
    penalties become last year's, the year's checks are cleared."""
    R, N = credit.shape
    for r in range(R):
        for i in range(N):
            cy = 0 if pen_now[r, i] else clean_years[r, i] + 1
            if recovery_years and cy >= recovery_years and credit[r, i] > reg_credit[i]:
                credit[r, i] -= 1
                cy = 0
            clean_years[r, i] = cy
            pen_last[r, i] = pen_now[r, i]
            pen_now[r, i] = False
    checks[:] = 0
