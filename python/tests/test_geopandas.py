"""geounify.geopandas.transform against pyproj (through GeoPandas' own to_crs) and the published
GCJ-02 value; structure, z, crs, index and input kept; failures."""

import geopandas
import numpy as np
import pytest
import shapely

import geounify
import geounify.geopandas as gug
from conftest import METRES

GEOMS = [
    shapely.Point(116.404, 39.915),
    None,
    shapely.LineString([(116.0, 39.0, 5.0), (117.0, 40.0, 6.5)]),
    shapely.Polygon(
        [(116.0, 39.0), (117.0, 39.0), (117.0, 40.0), (116.0, 39.0)],
        holes=[[(116.6, 39.2), (116.9, 39.2), (116.9, 39.5), (116.6, 39.2)]],
    ),
    shapely.MultiPoint([(116.1, 39.1), (116.2, 39.2)]),
    shapely.GeometryCollection([shapely.Point(116.3, 39.3, 1.0), shapely.LineString([(116, 39), (116.5, 39.5)])]),
    shapely.Point(),
    shapely.MultiPolygon([shapely.box(116.0, 39.0, 116.2, 39.2), shapely.box(116.5, 39.5, 116.7, 39.7)]),
]


def series():
    return geopandas.GeoSeries(GEOMS, crs="EPSG:4326", index=list("abcdefgh"), name="shape")


def test_matches_geopandas_to_crs():
    s = series()
    ours = gug.transform(s, "EPSG:4326", "EPSG:4548")
    theirs = s.to_crs("EPSG:4548")  # pyproj / PROJ
    assert ours.crs.to_epsg() == 4548
    a = shapely.get_coordinates(ours.values, include_z=True)
    b = shapely.get_coordinates(theirs.values, include_z=True)
    assert a.shape == b.shape
    assert np.nanmax(np.abs(a[:, :2] - b[:, :2])) < METRES
    assert np.array_equal(a[:, 2], b[:, 2], equal_nan=True)  # z copied (elevations)
    for mine, theirs_g, before in zip(ours.values, theirs.values, s.values):
        if before is None:
            assert mine is None
            continue
        assert mine.geom_type == before.geom_type
        assert shapely.has_z(mine) == shapely.has_z(before)
        assert shapely.get_num_coordinates(mine) == shapely.get_num_coordinates(before)
    assert list(ours.index) == list(s.index) and ours.name == "shape"


def test_input_not_modified_and_source_from_crs():
    s = series()
    before = s.to_wkb()
    out = gug.transform(s, None, "EPSG:4548")
    assert s.to_wkb().equals(before) and s.crs.to_epsg() == 4326
    assert out.crs.to_epsg() == 4548


def test_gcj02_target_has_no_crs():
    s = geopandas.GeoSeries([shapely.Point(116.404, 39.915)], crs="EPSG:4326")
    out = gug.transform(s, "EPSG:4326", "GCJ02")
    assert out.crs is None
    p = out.values[0]
    assert abs(p.x - 116.41024449916938) < 1e-12 and abs(p.y - 39.91640428150164) < 1e-12
    # GCJ-02 data mislabelled EPSG:4326 is taken at the user's word for a source without EPSG.
    back = gug.transform(geopandas.GeoSeries([p], crs="EPSG:4326"), "GCJ02", "EPSG:4326")
    assert abs(back.values[0].x - 116.404) < 1e-12 and back.crs.to_epsg() == 4326


def test_declared_crs_mismatch_refused():
    with pytest.raises(ValueError, match="declares EPSG:4326 but the source is EPSG:4490"):
        gug.transform(series(), "EPSG:4490", "EPSG:4548")
    with pytest.raises(ValueError, match="no EPSG code"):
        gug.transform(geopandas.GeoSeries([shapely.Point(1, 2)]), None, "EPSG:4548")


def test_geodataframe():
    gdf = geopandas.GeoDataFrame({"名称": ["天安门", "空", "线"]}, geometry=geopandas.GeoSeries(GEOMS[:3], crs="EPSG:4326"))
    out = gug.transform(gdf, None, "GCJ02")
    assert out.crs is None and gdf.crs.to_epsg() == 4326
    assert list(out["名称"]) == ["天安门", "空", "线"]
    assert out.geometry.values[0].x == pytest.approx(116.41024449916938, abs=1e-12)
    out = gug.transform(gdf, None, "EPSG:4548")
    assert out.crs.to_epsg() == 4548 and out.geometry.name == "geometry"


def test_failures_raise_or_null():
    s = geopandas.GeoSeries(
        [shapely.Point(116.0, 39.0), shapely.LineString([(116.0, 39.0), (116.0, 95.0)]), shapely.Point(116, 91)],
        index=[10, 20, 30],
        crs="EPSG:4326",
    )
    with pytest.raises(
        geounify.TransformError,
        match=r"geometry at index 20 \(position 1\), vertex 1: latitude 95° is beyond ±90° \(1 other geometry failed too\)",
    ) as info:
        gug.transform(s, None, "EPSG:4548")
    assert info.value.index == 1
    out = gug.transform(s, None, "EPSG:4548", errors="null")
    assert out.values[0] is not None and out.values[1] is None and out.values[2] is None
    with pytest.raises(ValueError, match="'raise' or 'null'"):
        gug.transform(s, None, "EPSG:4548", errors="nan")
    with pytest.raises(TypeError, match="GeoSeries or GeoDataFrame"):
        gug.transform([shapely.Point(1, 2)], "EPSG:4326", "EPSG:4548")


def test_empty_series():
    out = gug.transform(geopandas.GeoSeries([], crs="EPSG:4326"), None, "EPSG:4548")
    assert len(out) == 0 and out.crs.to_epsg() == 4548


def test_module_attribute_is_lazy():
    assert geounify.geopandas.transform is gug.transform
