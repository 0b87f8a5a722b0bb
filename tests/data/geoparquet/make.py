"""Writes the GeoParquet fixtures of tests/convert_geoparquet.rs with GeoPandas/pyarrow, and
the reference coordinates with pyproj (PROJ).

    python3 -m venv .venv && .venv/bin/pip install pyarrow geopandas pyproj shapely
    .venv/bin/python tests/data/geoparquet/make.py

Versions used for the committed files: see versions.txt (written by this script).
"""
import datetime
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyproj
import shapely
from shapely.geometry import LineString, Point, Polygon

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


# 1. Points on CGCS2000 (EPSG:4490) around 114°E, with typed attributes, Chinese text, nulls,
#    a null geometry; several row groups (4 rows each); GeoPandas's defaults otherwise (WKB,
#    snappy, PROJJSON crs, bbox).
rng = np.random.default_rng(12)
n = 10
lon = 113.5 + rng.random(n)
lat = 30.0 + 8.0 * rng.random(n)
geoms = [Point(x, y) for x, y in zip(lon, lat)]
geoms[3] = None
df = gpd.GeoDataFrame(
    {
        "id": np.arange(1, n + 1, dtype="int64"),
        "名称": ["武汉", "长沙", None, "石家庄", "郑州", "信阳", "襄阳", "孝感", "黄冈", "咸宁"],
        "value": [1.5, None, 3.25, 4.0, -5.5, 6.0, 7.125, None, 9.0, 10.0],
        "flag": [True, False, True, None, False, True, True, False, True, False],
        "day": pd.to_datetime(
            ["2024-01-05", "2024-02-29", None, "1954-12-31", "2000-01-01", "2024-03-01",
             "2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"]
        ).date,
        "small": pd.array([1, 2, None, 4, 5, 6, 7, 8, 9, 10], dtype="Int32"),
    },
    geometry=geoms,
    crs="EPSG:4490",
)
df.to_parquet(out("points_4490.parquet"), row_group_size=4)

# Reference: pyproj EPSG:4490 → EPSG:4547 (always_xy: lon/lat in, easting/northing out).
t = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4547", always_xy=True)
with open(out("points_4490_to_4547.csv"), "w") as f:
    f.write("id,lon,lat,easting,northing\n")
    for i, g in enumerate(geoms):
        if g is None:
            continue
        e, nn = t.transform(g.x, g.y)
        f.write(f"{i + 1},{g.x!r},{g.y!r},{e!r},{nn!r}\n")

# 2. Lines and polygons (with a hole) in EPSG:4547, mixed types, one 3D line.
shapes = [
    LineString([(500000, 3400000), (500100.5, 3400200.25), (500300, 3400100)]),
    Polygon(
        [(510000, 3500000), (511000, 3500000), (511000, 3501000), (510000, 3501000), (510000, 3500000)],
        [[(510200, 3500200), (510400, 3500200), (510400, 3500400), (510200, 3500200)]],
    ),
    LineString([(520000, 3600000, 12.5), (520010, 3600010, 13.5)]),
]
gpd.GeoDataFrame({"kind": ["road", "parcel", "pipe"]}, geometry=shapes, crs="EPSG:4547").to_parquet(
    out("shapes_4547.parquet")
)
t2 = pyproj.Transformer.from_crs("EPSG:4547", "EPSG:4490", always_xy=True)
with open(out("shapes_4547_to_4490.csv"), "w") as f:
    f.write("row,vertex,x,y,lon,lat\n")
    for r, s in enumerate(shapes):
        coords = list(s.exterior.coords) + [c for ring in s.interiors for c in ring.coords] if s.geom_type == "Polygon" else list(s.coords)
        for k, c in enumerate(coords):
            lo, la = t2.transform(c[0], c[1])
            f.write(f"{r},{k},{c[0]!r},{c[1]!r},{lo!r},{la!r}\n")

# 3. The points of 1 in GeoArrow's native point encoding (GeoParquet 1.1).
df.to_parquet(out("points_4490_geoarrow.parquet"), geometry_encoding="geoarrow")

# 4. An empty file (no rows) with the schema and crs of 1.
df.iloc[0:0].to_parquet(out("empty_4490.parquet"))

# 5. The points of 1 with zstd pages (a codec this build does not read).
df.to_parquet(out("points_4490_zstd.parquet"), compression="zstd")

# 6. The points of 1 with GeoParquet 1.1's bbox covering column.
df.to_parquet(out("points_4490_covering.parquet"), write_covering_bbox=True, row_group_size=4)

with open(out("versions.txt"), "w") as f:
    f.write(
        f"geopandas {gpd.__version__}\npyarrow {pyarrow.__version__}\npyproj {pyproj.__version__}\n"
        f"PROJ {pyproj.proj_version_str}\nshapely {shapely.__version__}\n"
    )
