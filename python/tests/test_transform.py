"""geounify.Transformer on numpy arrays: numbers against pyproj (PROJ) and published GCJ-02 /
BD-09 values, round trips, inputs never modified, errors."""

import math

import numpy as np
import pyproj
import pytest

import geounify
from conftest import DEGREES, METRES, lonlat


# (source, target, box of the source's longitudes and latitudes, projected target?)
PROJ_PAIRS = [
    # WGS84 -> CGCS2000 3° GK CM 114E: PROJ uses a "ballpark" zero offset between WGS84 and
    # CGCS2000, as geounify treats them as one frame.
    ("EPSG:4326", "EPSG:4547", (112.5, 115.5, 22.0, 42.0)),
    ("EPSG:4490", "EPSG:4548", (115.5, 118.5, 22.0, 42.0)),
    ("EPSG:4490", "EPSG:4527", (115.5, 118.5, 22.0, 42.0)),  # 3° zone 39, zone prefix
    ("EPSG:4490", "EPSG:4499", (114.0, 120.0, 22.0, 42.0)),  # 6° zone 21, zone prefix
    ("EPSG:4326", "EPSG:3857", (73.0, 135.0, 3.0, 54.0)),  # Web Mercator
]


def pyproj_transform(source, target, x, y, z=None):
    t = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return t.transform(x, y) if z is None else t.transform(x, y, z)


def max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


@pytest.mark.parametrize("source,target,box", PROJ_PAIRS)
def test_epsg_pairs_match_pyproj(rng, source, target, box):
    x, y = lonlat(rng, 10_000, *box)
    ours = geounify.Transformer(source, target).transform(x, y)
    theirs = pyproj_transform(source, target, x, y)
    assert max_abs(ours[0], theirs[0]) < METRES
    assert max_abs(ours[1], theirs[1]) < METRES
    # The inverse, from PROJ's projected points, against PROJ's inverse.
    back = geounify.Transformer(target, source).transform(*theirs)
    theirs_back = pyproj_transform(target, source, *theirs)
    assert max_abs(back[0], theirs_back[0]) < DEGREES
    assert max_abs(back[1], theirs_back[1]) < DEGREES


def test_geographic_3d_to_geocentric_matches_pyproj(rng):
    """Ellipsoidal heights go through the pipeline for 3D CRSs (EPSG:4979 -> EPSG:4978)."""
    x, y = lonlat(rng, 2_000, 73.0, 135.0, 3.0, 54.0)
    h = rng.uniform(-100.0, 5000.0, x.size)
    ours = geounify.Transformer("EPSG:4979", "EPSG:4978").transform(x, y, h)
    theirs = pyproj_transform("EPSG:4979", "EPSG:4978", x, y, h)
    for a, b in zip(ours, theirs):
        assert max_abs(a, b) < METRES


# (WGS84 lon, lat) -> (GCJ-02 lon, lat): the published vectors of tests/ops_webmaps.rs (the
# first the brief's, the others eviltransform's javascript/test.js).
GCJ_VECTORS = [
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]


def test_gcj02_published_vectors():
    lon, lat, glon, glat = (np.array(c) for c in zip(*GCJ_VECTORS))
    t = geounify.Transformer("EPSG:4326", "GCJ02")
    gx, gy = t.transform(lon, lat)
    # 1e-12°, the Rust tests' bound through the radian pipeline (a few ulps).
    assert max_abs(gx, glon) < 1e-12 and max_abs(gy, glat) < 1e-12
    # The exact inverse recovers WGS84 (the Rust tests' 1e-12°).
    bx, by = t.inverse().transform(gx, gy)
    assert max_abs(bx, lon) < 1e-12 and max_abs(by, lat) < 1e-12


def test_bd09_published_vector():
    # GCJ-02 (116.404, 39.915) -> BD-09 (116.41036949371029, 39.92133699351022)
    # (coordtransform's formula, tests/ops_webmaps.rs).
    x, y = geounify.Transformer("GCJ02", "BD09").transform_xy(116.404, 39.915)
    assert abs(x - 116.41036949371029) < 1e-12 and abs(y - 39.92133699351022) < 1e-12


def test_gcj02_outside_china_is_unchanged():
    # Outside China's box GCJ-02 is WGS84: only the degree <-> radian round trip's ulps remain.
    x, y = geounify.Transformer("EPSG:4326", "GCJ02").transform([2.35, -74.0], [48.85, 40.7])
    assert max_abs(x, [2.35, -74.0]) < 1e-12 and max_abs(y, [48.85, 40.7]) < 1e-12


@pytest.mark.parametrize(
    "source,target", [("EPSG:4326", "EPSG:4547"), ("EPSG:4326", "GCJ02"), ("EPSG:4490", "BD09MC")]
)
def test_round_trip(rng, source, target):
    x, y = lonlat(rng, 20_000, 112.5, 115.5, 18.0, 45.0)
    t = geounify.Transformer(source, target)
    bx, by = t.inverse().transform(*t.transform(x, y))
    assert max_abs(bx, x) < DEGREES and max_abs(by, y) < DEGREES


def test_inverse_swaps_ids():
    t = geounify.Transformer("wgs84", "EPSG:4547").inverse()
    assert (t.source, t.target) == ("EPSG:4547", "EPSG:4326")
    assert t.source_epsg == 4547 and t.target_epsg == 4326
    assert "Gauss-Kruger" in t.source_name
    assert repr(t) == "Transformer('EPSG:4547' -> 'EPSG:4326')"


def test_batch_equals_one_point_path_and_parallel_equals_serial(rng):
    x, y = lonlat(rng, 150_000, 112.5, 115.5, 18.0, 45.0)
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    sx, sy = t.transform(x, y, parallel=False)
    px, py = t.transform(x, y, parallel=True)
    assert np.array_equal(sx, px) and np.array_equal(sy, py)
    for i in range(0, x.size, 9973):
        assert t.transform_xy(x[i], y[i]) == (sx[i], sy[i])


def test_heights_copied_between_2d_crss():
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    assert t.copies_height
    x, y, z = t.transform([114.0, 114.5], [30.0, 31.0], [12.5, -3.0])
    assert list(z) == [12.5, -3.0]
    # Without z the height is 0 and the plane is the same.
    x2, y2 = t.transform([114.0, 114.5], [30.0, 31.0])
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert t.transform_xyz(114.0, 30.0, 7.0)[2] == 7.0


def test_transform_does_not_modify_inputs(rng):
    x, y = lonlat(rng, 1000, 112.5, 115.5, 18.0, 45.0)
    z = rng.uniform(0, 100, 1000)
    x[3] = math.nan  # a failing point too
    copies = [a.copy() for a in (x, y, z)]
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    out = t.transform(x, y, z, errors="nan")
    for before, after, result in zip(copies, (x, y, z), out):
        assert np.array_equal(before, after, equal_nan=True)
        assert not np.shares_memory(after, result)


def test_inputs_lists_scalars_ints_and_shapes():
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    e, n = t.transform(114.0, 30.0)
    assert isinstance(e, float) and (e, n) == t.transform_xy(114.0, 30.0)
    xs, ys = t.transform([114, 115], [30, 31])  # lists of ints
    assert xs.dtype == np.float64 and xs.shape == (2,)
    assert xs[0] == e
    grid_x, grid_y = np.meshgrid(np.linspace(113, 115, 4), np.linspace(20, 40, 3))
    gx, gy = t.transform(grid_x, grid_y)
    assert gx.shape == (3, 4)
    assert gx[1, 2] == t.transform_xy(grid_x[1, 2], grid_y[1, 2])[0]
    fx, _ = t.transform(np.array([114.0], dtype=np.float32), np.array([30], dtype=np.int16))
    assert fx[0] == e
    empty = t.transform(np.array([]), np.array([]))
    assert empty[0].shape == (0,) and empty[1].shape == (0,)


@pytest.mark.parametrize(
    "bad",
    [np.array([True, False]), np.array(["114", "115"]), [114.0, None], np.array([1 + 2j, 3j])],
)
def test_non_numeric_arrays_refused(bad):
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    with pytest.raises(TypeError, match="x must hold real numbers"):
        t.transform(bad, [30.0, 31.0])


def test_mismatched_shapes_refused():
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    with pytest.raises(ValueError, match=r"x has shape \(3,\), y has shape \(2,\)"):
        t.transform([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="z has shape"):
        t.transform([1.0, 2.0], [1.0, 2.0], [0.0])


def test_unknown_id_and_refused_pairs():
    with pytest.raises(geounify.CrsError, match="unknown CRS id 'EPSG:9999999'"):
        geounify.Transformer("EPSG:9999999", "EPSG:4547")
    # Beijing 1954 as built in has no published shift to CGCS2000: refused, where PROJ uses a
    # "ballpark" zero offset (the silent error the project exists to avoid).
    with pytest.raises(geounify.CrsError, match="no parameters to CGCS2000"):
        geounify.Transformer("EPSG:4214", "EPSG:4490")
    assert "Ballpark" in pyproj.Transformer.from_crs("EPSG:4214", "EPSG:4490").description
    # 2D <-> 3D needs a geoid model: refused unless heights are declared ellipsoidal.
    with pytest.raises(geounify.CrsError):
        geounify.Transformer("EPSG:4490", "EPSG:4979")
    geounify.Transformer("EPSG:4490", "EPSG:4979", ellipsoidal_heights=True)
    assert issubclass(geounify.CrsError, ValueError)


def test_errors_raise_nan_report():
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    x = np.array([114.0, 114.0, math.inf, 114.0, 1000.0])
    y = np.array([30.0, 95.0, 30.0, 31.0, 30.0])
    with pytest.raises(geounify.TransformError, match=r"point 1 failed: latitude 95° is beyond ±90° \(and 2 other points\)") as info:
        t.transform(x, y)
    assert info.value.index == 1
    assert info.value.reason == "latitude 95° is beyond ±90°"
    assert list(info.value.failures.indices) == [1, 2, 4]
    ox, oy = t.transform(x, y, errors="nan")
    assert np.isnan(ox[[1, 2, 4]]).all() and np.isnan(oy[[1, 2, 4]]).all()
    assert np.isfinite(ox[[0, 3]]).all()
    ox2, oy2, failures = t.transform(x, y, errors="report")
    assert np.array_equal(ox, ox2, equal_nan=True)
    assert len(failures) == 3 and failures.points == 5 and bool(failures)
    assert failures.indices.dtype == np.int64 and list(failures.indices) == [1, 2, 4]
    assert failures.reasons == [
        "latitude 95° is beyond ±90°",
        "coordinate is NaN or infinite",
        "longitude 1000° is beyond ±572.96° (10 radians)",
    ]
    assert failures.items()[0] == (1, "latitude 95° is beyond ±90°")
    _, _, none = t.transform([114.0], [30.0], errors="report")
    assert not none and len(none) == 0
    with pytest.raises(ValueError, match="errors must be one of"):
        t.transform(x, y, errors="ignore")
    with pytest.raises(geounify.TransformError, match="outside the domain of gauss-kruger") as one:
        t.transform_xy(-60.0, 30.0)
    assert one.value.index == 0


def test_errors_index_is_flat_for_nd_input():
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    x = np.full((2, 3), 114.0)
    y = np.full((2, 3), 30.0)
    y[1, 1] = 91.0
    with pytest.raises(geounify.TransformError) as info:
        t.transform(x, y)
    assert info.value.index == 4


def test_transform_inplace(rng):
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    x, y = lonlat(rng, 5000, 112.5, 115.5, 18.0, 45.0)
    expected = t.transform(x, y)
    failures = t.transform_inplace(x, y)
    assert not failures and failures.points == 5000
    assert np.array_equal(x, expected[0]) and np.array_equal(y, expected[1])
    # A failing point: the batch runs, the point becomes NaN, then the error is raised.
    x, y = np.array([114.0, 114.0]), np.array([30.0, 99.0])
    with pytest.raises(geounify.TransformError):
        t.transform_inplace(x, y)
    assert np.isfinite(x[0]) and x[0] != 114.0 and np.isnan(x[1])
    x, y = np.array([114.0, 114.0]), np.array([30.0, 99.0])
    failures = t.transform_inplace(x, y, errors="nan")
    assert list(failures.indices) == [1]


def test_transform_inplace_refusals():
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    a = np.array([114.0, 115.0])
    with pytest.raises(TypeError, match="float64 numpy array"):
        t.transform_inplace([114.0], [30.0])
    with pytest.raises(TypeError, match="float64 numpy array"):
        t.transform_inplace(a.astype(np.float32), a.copy())
    with pytest.raises(ValueError, match="C-contiguous"):
        t.transform_inplace(np.zeros(4)[::2], a.copy())
    frozen = a.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        t.transform_inplace(frozen, a.copy())
    with pytest.raises(ValueError, match="share memory"):
        t.transform_inplace(a, a)
    with pytest.raises(ValueError, match="differ in shape"):
        t.transform_inplace(a.copy(), np.zeros(3))
    assert list(a) == [114.0, 115.0]


def test_gil_released_during_batch(rng):
    """Another Python thread runs while a batch is inside Rust (the GIL is released)."""
    import threading
    import time

    x, y = lonlat(rng, 2_000_000, 112.5, 115.5, 18.0, 45.0)
    t = geounify.Transformer("EPSG:4326", "EPSG:4547")
    span = {}

    def work():
        span["start"] = time.perf_counter()
        t.transform(x, y, parallel=False)
        span["end"] = time.perf_counter()

    ticks = []
    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    inside = [s for s in ticks if span["start"] < s < span["end"]]
    # Holding the GIL for the whole call would leave (almost) no ticks inside it.
    assert len(inside) > 100, (len(inside), span["end"] - span["start"])
