"""Python batch speed: geounify against pyproj on the same numpy arrays, in one run.

    python bench/bench_transform.py [--points 1000000] [--repeat 5]

Prints a Markdown table: for each case the best of ``--repeat`` timed runs (after one warm-up)
of pyproj's ``Transformer.transform`` (one thread) and geounify's ``Transformer.transform`` on one
thread (``parallel=False``, the like-for-like comparison), in place on one thread, and on all
cores (``parallel=True``, noted separately), with the largest difference from pyproj. Pairs pyproj
cannot do (GCJ-02) show geounify alone. With GeoPandas and pyarrow installed it also times a
GeoSeries of the same points (``GeoSeries.to_crs`` against ``geounify.geopandas.transform``) and
a WKB pyarrow array through ``transform_arrow``. Build the extension in release mode first
(``maturin develop --release``): a debug build is many times slower.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pyproj

import geounify


CLOCK = time.perf_counter


def best(fn, repeat):
    """The best of ``repeat`` runs after a warm-up (page faults, pyproj's database look-ups,
    rayon's pool), on ``CLOCK``: wall time, or with ``--cpu`` the calling thread's CPU time,
    which a loaded machine's descheduling does not inflate (one-thread cases only: geounify's
    one-thread batch runs on the calling thread with the GIL released)."""
    fn()
    times = []
    for _ in range(repeat):
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return min(times)


def points(n, west, east, south, north, seed=20261203):
    rng = np.random.default_rng(seed)
    return rng.uniform(west, east, n), rng.uniform(south, north, n)


def row(name, seconds, n, baseline=None, note=""):
    rate = n / seconds / 1e6
    ratio = f"{baseline / seconds:.1f}×" if baseline else ""
    return f"| {name} | {seconds * 1e3:.1f} | {rate:.1f} | {ratio} | {note} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time the one-thread cases in thread CPU time (for a loaded machine); "
        "the all-cores rows are then skipped",
    )
    args = parser.parse_args()
    n, repeat = args.points, args.repeat
    global CLOCK
    if args.cpu:
        CLOCK = time.thread_time
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    print(f"geounify {geounify.__version__}, pyproj {pyproj.__version__} (PROJ {pyproj.proj_version_str}), "
          f"numpy {np.__version__}, Python {platform.python_version()}, {cores} cores, "
          f"{n:,} points, best of {repeat}, {'thread CPU' if args.cpu else 'wall'} time")
    print()
    print("| case | ms | Mpoints/s | vs pyproj | notes |")
    print("|---|---:|---:|---:|---|")

    # EPSG:4490 -> EPSG:4547 (CGCS2000 -> 3° Gauss-Krüger CM 114E), points over the zone.
    x, y = points(n, 112.5, 115.5, 18.0, 45.0)
    theirs_t = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True)
    ours_t = geounify.Transformer("EPSG:4490", "EPSG:4547")
    pe, pn = theirs_t.transform(x, y)
    oe, on = ours_t.transform(x, y, parallel=False)
    diff = max(np.max(np.abs(oe - pe)), np.max(np.abs(on - pn)))
    t_proj = best(lambda: theirs_t.transform(x, y), repeat)
    t_one = best(lambda: ours_t.transform(x, y, parallel=False), repeat)
    xi, yi = x.copy(), y.copy()

    def inplace():
        np.copyto(xi, x)
        np.copyto(yi, y)
        ours_t.transform_inplace(xi, yi, parallel=False)

    t_copy = best(lambda: (np.copyto(xi, x), np.copyto(yi, y)), repeat)
    t_inplace = best(inplace, repeat) - t_copy
    t_all = None if args.cpu else best(lambda: ours_t.transform(x, y, parallel=True), repeat)
    print(row("4490→4547 pyproj `Transformer.transform`", t_proj, n))
    print(row("4490→4547 geounify `transform`, 1 thread", t_one, n, t_proj, f"max diff from pyproj {diff:.1e} m"))
    print(row("4490→4547 geounify `transform_inplace`, 1 thread", t_inplace, n, t_proj, "no output arrays (copy-in time subtracted)"))
    if t_all is not None:
        print(row(f"4490→4547 geounify `transform`, {cores} threads", t_all, n, t_proj, "all cores: not per-core"))

    # The inverse: projected -> geographic.
    t_proj_inv = best(lambda: theirs_t.transform(pe, pn, direction="INVERSE"), repeat)
    inv = ours_t.inverse()
    t_one_inv = best(lambda: inv.transform(pe, pn, parallel=False), repeat)
    print(row("4547→4490 pyproj (inverse)", t_proj_inv, n))
    print(row("4547→4490 geounify, 1 thread", t_one_inv, n, t_proj_inv))

    # WGS84 -> GCJ-02: pyproj has no GCJ-02; geounify alone.
    gx, gy = points(n, 73.5, 135.0, 18.0, 53.5)
    gcj = geounify.Transformer("EPSG:4326", "GCJ02")
    t_gcj = best(lambda: gcj.transform(gx, gy, parallel=False), repeat)
    t_gcj_all = None if args.cpu else best(lambda: gcj.transform(gx, gy, parallel=True), repeat)
    back = gcj.inverse()
    cx, cy = gcj.transform(gx, gy)
    t_gcj_inv = best(lambda: back.transform(cx, cy, parallel=False), repeat)
    print(row("4326→GCJ-02 geounify, 1 thread", t_gcj, n, note="pyproj: no GCJ-02"))
    if t_gcj_all is not None:
        print(row(f"4326→GCJ-02 geounify, {cores} threads", t_gcj_all, n, note="all cores"))
    print(row("GCJ-02→4326 geounify (exact inverse), 1 thread", t_gcj_inv, n, note="iterative inverse"))

    # Whole geometry containers, 4490 -> 4547 (fewer repeats: building them is slow).
    try:
        import geopandas
        import pyarrow as pa
        import shapely
    except ImportError:
        return
    import geounify.geopandas as gug

    series = geopandas.GeoSeries(shapely.points(x, y), crs="EPSG:4490")
    r = max(1, min(repeat, 3))
    t_to_crs = best(lambda: series.to_crs("EPSG:4547"), r)
    t_gs = best(lambda: gug.transform(series, "EPSG:4490", "EPSG:4547", parallel=False), r)
    print(row("GeoSeries of points: GeoPandas `to_crs` (pyproj)", t_to_crs, n))
    print(row("GeoSeries of points: `geounify.geopandas.transform`, 1 thread", t_gs, n, t_to_crs,
              "shapely get/set_coordinates included"))
    wkb = pa.array(shapely.to_wkb(series.values), type=pa.binary())
    t_arrow = best(lambda: geounify.transform_arrow(wkb, "EPSG:4490", "EPSG:4547"), r)
    print(row("Arrow WKB points: `transform_arrow`, 1 thread", t_arrow, n,
              note="the core's kernel; pyproj has no Arrow path"))


if __name__ == "__main__":
    main()
