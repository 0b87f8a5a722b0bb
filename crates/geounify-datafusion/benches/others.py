"""The other engines of the UDF benchmark (benches/udf.rs runs this in the same run).

Times EPSG:4490 -> EPSG:4547 over the same Parquet file of WKB points in
- SedonaDB (`pip install sedonadb geoarrow-pyarrow`): ST_Transform(geom, 'EPSG:4490', 'EPSG:4547')
- DuckDB spatial (`pip install duckdb==1.4.4 duckdb-ext-spatial==1.4.4.20260205`, the extension
  loaded from the wheel's file, so no network): ST_Transform(..., always_xy := true)
with 1 thread and with all threads, each query's result materialised as Arrow (as the Rust side
collects DataFusion's batches). Each engine's coordinates are compared with ours (the file the
bench wrote) and the largest difference printed, so the engines are seen to compute the same thing.

Usage: python3 others.py POINTS.parquet OURS.parquet RUNS
Prints one line per measurement: `RESULT engine threads median_seconds max_diff_metres`.
"""

import glob
import os
import statistics
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def xy_of_wkb_points(column):
    """x, y of a column of little-endian 2D WKB points (21 bytes each)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    arr = arr.cast(pa.binary())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    if not np.all(np.diff(offsets) == 21):
        raise SystemExit("not all results are 2D WKB points")
    raw = data[offsets[0] : offsets[-1]].reshape(-1, 21)
    if not np.all(raw[:, 0] == 1):
        raise SystemExit("big-endian WKB in a result")
    x = raw[:, 5:13].copy().view("<f8").ravel()
    y = raw[:, 13:21].copy().view("<f8").ravel()
    return x, y


def timed(run, runs):
    times = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def sedona(points, threads, runs):
    import sedonadb

    con = sedonadb.connect()
    if threads:
        con.sql(f"SET datafusion.execution.target_partitions = {threads}").execute()
    con.read_parquet(points).to_view("pts", overwrite=True)
    query = (
        "SELECT id, ST_AsBinary(ST_Transform(ST_GeomFromWKB(geom), 'EPSG:4490', 'EPSG:4547')) AS g "
        "FROM pts"
    )
    return timed(lambda: con.sql(query).to_arrow_table(), runs)


def duckdb_spatial(points, threads, runs):
    import duckdb
    import duckdb_ext

    ext = glob.glob(
        os.path.join(list(duckdb_ext.__path__)[0], "extensions", "*", "*", "spatial.duckdb_extension")
    )
    if not ext:
        raise SystemExit("duckdb-ext-spatial's extension file not found")
    con = duckdb.connect()
    con.execute(f"LOAD '{ext[0]}'")
    con.execute(f"SET threads = {threads or os.cpu_count()}")
    query = (
        "SELECT id, ST_AsWKB(ST_Transform(ST_GeomFromWKB(geom), 'EPSG:4490', 'EPSG:4547', "
        f"always_xy := true)) AS g FROM read_parquet('{points}')"
    )
    return timed(lambda: con.execute(query).fetch_arrow_table(), runs)


def sorted_by_id(table):
    """The table with its geometry as plain binary (views do not sort), sorted by id."""
    i = table.schema.get_field_index("g")
    table = table.set_column(i, "g", table.column("g").cast(pa.binary()))
    return table.sort_by("id")


def main():
    points, ours_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ours = sorted_by_id(pq.read_table(ours_path))
    ox, oy = xy_of_wkb_points(ours.column("g"))
    engines = (("sedonadb", sedona), ("duckdb-spatial", duckdb_spatial))
    only = os.environ.get("GEOUNIFY_BENCH_ONLY")
    for name, engine in engines:
        if only and name != only:
            continue
        for threads in (1, 0):
            seconds, table = engine(points, threads, runs)
            table = sorted_by_id(table)
            x, y = xy_of_wkb_points(table.column("g"))
            if len(x) != len(ox):
                raise SystemExit(f"{name}: {len(x)} rows, ours {len(ox)}")
            diff = float(max(np.max(np.abs(x - ox)), np.max(np.abs(y - oy))))
            label = "1" if threads else "all"
            print(f"RESULT {name} {label} {seconds:.6f} {diff:.3e}", flush=True)


if __name__ == "__main__":
    main()
