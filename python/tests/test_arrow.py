"""Arrow arrays: WKB (binary, large_binary, binary_view) and GeoArrow native arrays (pyarrow and
geoarrow-pyarrow) against pyproj and the numpy path; nulls, offsets, failed rows, the GeoArrow
crs metadata, chunked arrays and non-pyarrow PyCapsule producers."""

import json

import geoarrow.pyarrow as ga
import numpy as np
import pyarrow as pa
import pyproj
import pytest
import shapely

import geounify
from conftest import METRES, lonlat

WKT = [
    "POINT (116.404 39.915)",
    None,
    "LINESTRING Z (116 39 5, 117 40 6.5)",
    "POLYGON ((116 39, 117 39, 117 40, 116 39), (116.6 39.2, 116.9 39.2, 116.9 39.5, 116.6 39.2))",
    "MULTIPOINT ((116.1 39.1), (116.2 39.2))",
    "GEOMETRYCOLLECTION (POINT (116.3 39.3), LINESTRING (116 39, 116.5 39.5))",
    "POINT EMPTY",
]


def geoms():
    return shapely.from_wkt(np.array(WKT, dtype=object))


def expected(source, target, geometries):
    """The geometries transformed with pyproj (z copied: both CRSs 2D)."""
    t = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geometries, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def assert_close(ours, theirs, tol=METRES):
    a = shapely.get_coordinates(ours, include_z=True)
    b = shapely.get_coordinates(theirs, include_z=True)
    assert a.shape == b.shape
    assert np.max(np.abs(a[:, :2] - b[:, :2]), initial=0.0) < tol


@pytest.mark.parametrize("storage", [pa.binary(), pa.large_binary(), pa.binary_view()])
def test_wkb_matches_pyproj(storage):
    g = geoms()
    array = pa.array(list(shapely.to_wkb(g)), type=storage)
    out = geounify.transform_arrow(array, "EPSG:4326", "EPSG:4548")
    assert isinstance(out, pa.Array) and out.type == storage and len(out) == len(g)
    assert out.null_count == 1 and out.is_null().to_pylist()[1]
    got = shapely.from_wkb(np.array(out.to_pylist(), dtype=object))
    assert_close(got, expected("EPSG:4326", "EPSG:4548", g))
    assert shapely.get_coordinates(got[2], include_z=True)[:, 2].tolist() == [5.0, 6.5]
    assert got[6].is_empty
    for a, b in zip(got, g):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.geom_type == b.geom_type


def test_wkb_input_not_modified_and_slices_kept():
    g = geoms()
    array = pa.array(list(shapely.to_wkb(g)), type=pa.binary())
    before = array.to_pylist()
    sliced = array.slice(2, 3)
    out = geounify.transform_arrow(sliced, "EPSG:4326", "EPSG:4548")
    assert array.to_pylist() == before
    assert len(out) == 3
    got = shapely.from_wkb(np.array(out.to_pylist(), dtype=object))
    assert_close(got, expected("EPSG:4326", "EPSG:4548", g[2:5]))


def test_failed_rows_are_null_raised_or_reported():
    bad = shapely.to_wkb([shapely.Point(116, 39), shapely.LineString([(116, 39), (116, 95)])])
    array = pa.array(list(bad) + [b"\x01\x01\x00"], type=pa.binary())
    out = geounify.transform_arrow(array, "EPSG:4326", "EPSG:4548")
    assert out.is_null().to_pylist() == [False, True, True]
    with pytest.raises(geounify.TransformError, match=r"row 1 failed: point 1: latitude 95° is beyond ±90° \(and 1 other row\)") as info:
        geounify.transform_arrow(array, "EPSG:4326", "EPSG:4548", errors="raise")
    assert info.value.index == 1
    out, failures = geounify.transform_arrow(array, "EPSG:4326", "EPSG:4548", errors="report")
    assert list(failures.indices) == [1, 2] and failures.points == 3
    assert failures.reasons[1].startswith("malformed WKB")


def test_numbers_equal_numpy_path(rng):
    x, y = lonlat(rng, 5000, 115.5, 118.5, 22.0, 42.0)
    points = ga.point().from_geobuffers(None, x, y)
    out = geounify.transform_arrow(points, "EPSG:4490", "EPSG:4548")
    ex, ey = geounify.Transformer("EPSG:4490", "EPSG:4548").transform(x, y)
    storage = out.storage
    assert np.array_equal(storage.field("x").to_numpy(), ex)
    assert np.array_equal(storage.field("y").to_numpy(), ey)


@pytest.mark.parametrize("coord_type", [ga.CoordType.SEPARATED, ga.CoordType.INTERLEAVED])
def test_geoarrow_native_matches_pyproj(coord_type):
    # Native arrays hold one geometry type each.
    cases = [
        ["POINT (116.404 39.915)", None, "POINT (116.5 40)"],
        ["LINESTRING (116 39, 117 40)", "LINESTRING (116.2 39.2, 116.3 39.3, 116.4 39.1)"],
        [WKT[3], None],
        ["MULTIPOLYGON (((116 39, 116.2 39, 116.2 39.2, 116 39)), ((116.5 39.5, 116.7 39.5, 116.7 39.7, 116.5 39.5)))"],
        ["MULTILINESTRING ((116 39, 117 40), (116.5 39.5, 116.6 39.6))"],
        ["MULTIPOINT ((116.1 39.1), (116.2 39.2))"],
    ]
    for wkt in cases:
        array = ga.with_crs(ga.as_geoarrow(wkt, coord_type=coord_type), "EPSG:4490")
        out = geounify.transform_arrow(array, "EPSG:4490", "EPSG:4548")
        assert out.type.extension_name == array.type.extension_name
        assert out.type.storage_type == array.type.storage_type
        assert out.type.crs.to_json_dict() == pyproj.CRS("EPSG:4548").to_json_dict() or "4548" in str(out.type.crs)
        got = shapely.from_wkb(np.array(ga.as_wkb(out).storage.to_pylist(), dtype=object))
        src = shapely.from_wkt(np.array(wkt, dtype=object))
        assert_close(got, expected("EPSG:4490", "EPSG:4548", src))
        assert [g is None for g in got] == [w is None for w in wkt]


def test_crs_metadata_rewritten_checked_or_removed():
    array = ga.with_crs(ga.as_wkb(["POINT (116.404 39.915)"]), "EPSG:4326")
    assert geounify.transform_arrow(array, "EPSG:4326", "GCJ02").type.crs is None
    with pytest.raises(ValueError, match="declares EPSG:4326 in its GeoArrow metadata but the source is EPSG:4490"):
        geounify.transform_arrow(array, "EPSG:4490", "EPSG:4548")
    # PROJJSON, as GeoPandas writes it.
    projjson = ga.with_crs(ga.as_wkb(["POINT (116.404 39.915)"]), pyproj.CRS("EPSG:4490").to_json_dict())
    out = geounify.transform_arrow(projjson, "EPSG:4490", "EPSG:4548")
    assert json.loads(out.type.__arrow_ext_serialize__())["crs"] == "EPSG:4548"
    with pytest.raises(ValueError, match="declares EPSG:4490"):
        geounify.transform_arrow(projjson, "EPSG:4326", "EPSG:4548")


def test_crs_metadata_as_exported():
    """The field geounify exports, read in a fresh interpreter where no GeoArrow extension type
    is registered with pyarrow (which would otherwise take the metadata into its type)."""
    code = r"""
import json, sys
import pyarrow as pa, shapely
import geounify

class Producer:
    def __init__(self, field, array):
        self.field, self.array = field, array
    def __arrow_c_array__(self, requested_schema=None):
        return self.field.__arrow_c_schema__(), self.array.__arrow_c_array__()[1]

def exported(metadata, source, target):
    field = pa.field("geom", pa.binary(), metadata=metadata)
    array = pa.array(list(shapely.to_wkb([shapely.Point(116.404, 39.915)])))
    out = geounify.transform_arrow(Producer(field, array), source, target)
    return pa.Field._import_from_c_capsule(out.__arrow_c_array__()[0])

ext = {"ARROW:extension:name": "geoarrow.wkb",
       "ARROW:extension:metadata": json.dumps({"crs": "EPSG:4490", "crs_type": "authority_code", "edges": "spherical"}),
       "other": "kept"}
f = exported(ext, "EPSG:4490", "EPSG:4548")
print(json.dumps({k.decode(): v.decode() for k, v in f.metadata.items()}))
f = exported(ext, "EPSG:4490", "GCJ02")
print(json.dumps({k.decode(): v.decode() for k, v in f.metadata.items()}))
f = exported(None, "EPSG:4490", "EPSG:4548")
print(json.dumps(f.metadata))
"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    to_epsg, to_gcj, plain = (json.loads(line) for line in out.stdout.splitlines())
    assert to_epsg["ARROW:extension:name"] == "geoarrow.wkb" and to_epsg["other"] == "kept"
    assert json.loads(to_epsg["ARROW:extension:metadata"]) == {
        "edges": "spherical",
        "crs": "EPSG:4548",
        "crs_type": "authority_code",
    }
    assert json.loads(to_gcj["ARROW:extension:metadata"]) == {"edges": "spherical"}
    assert plain is None


def test_storage_array_needs_encoding():
    storage = ga.as_geoarrow(["POINT (116.404 39.915)"]).storage
    with pytest.raises(TypeError, match="not a geometry array"):
        geounify.transform_arrow(storage, "EPSG:4326", "EPSG:4548")
    out = geounify.transform_arrow(storage, "EPSG:4326", "EPSG:4548", encoding="point")
    assert out.field("x")[0].as_py() == pytest.approx(449042.047441, abs=1e-6)
    with pytest.raises(ValueError, match="unknown encoding"):
        geounify.transform_arrow(storage, "EPSG:4326", "EPSG:4548", encoding="triangle")
    with pytest.raises(TypeError, match="geoarrow.linestring column cannot be a"):
        geounify.transform_arrow(storage, "EPSG:4326", "EPSG:4548", encoding="linestring")
    with pytest.raises(TypeError, match="a Float64 array"):
        geounify.transform_arrow(pa.array([1.0, 2.0]), "EPSG:4326", "EPSG:4548")
    with pytest.raises(TypeError, match="expected an Arrow array"):
        geounify.transform_arrow([b"\x01"], "EPSG:4326", "EPSG:4548")


def test_chunked_rows_numbered_across_chunks():
    ok = shapely.to_wkb([shapely.Point(116, 39), shapely.Point(117, 40)])
    bad = shapely.to_wkb([shapely.Point(116, 39), shapely.Point(116, 95)])
    chunked = pa.chunked_array([pa.array(list(ok)), pa.array(list(bad))])
    out, failures = geounify.transform_arrow(chunked, "EPSG:4326", "EPSG:4548", errors="report")
    assert isinstance(out, pa.ChunkedArray) and out.num_chunks == 2
    assert list(failures.indices) == [3]
    single = geounify.transform_arrow(chunked.combine_chunks(), "EPSG:4326", "EPSG:4548")
    assert out.combine_chunks().equals(single)


class Capsules:
    """A minimal non-pyarrow producer of the Arrow PyCapsule interface."""

    def __init__(self, array):
        self.array = array

    def __arrow_c_array__(self, requested_schema=None):
        return self.array.__arrow_c_array__(requested_schema)


def test_pycapsule_producer_gives_pycapsule_result():
    array = pa.array(list(shapely.to_wkb([shapely.Point(116.404, 39.915)])))
    out = geounify.transform_arrow(Capsules(array), "EPSG:4326", "EPSG:4548")
    assert not isinstance(out, pa.Array) and hasattr(out, "__arrow_c_array__")
    back = pa.array(out)
    assert back.equals(geounify.transform_arrow(array, "EPSG:4326", "EPSG:4548"))


def test_transformer_method_and_gcj02():
    t = geounify.Transformer("EPSG:4326", "GCJ02")
    out = t.transform_arrow(ga.as_geoarrow(["POINT (116.404 39.915)"]))
    s = out.storage
    assert abs(s.field("x")[0].as_py() - 116.41024449916938) < 1e-12
    assert abs(s.field("y")[0].as_py() - 39.91640428150164) < 1e-12
