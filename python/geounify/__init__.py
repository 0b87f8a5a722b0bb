"""geounify: exact conversions between the coordinate systems Chinese cities use.

CGCS2000 and its Gauss-Krüger zones, Beijing 1954, Xi'an 1980, WGS84, GCJ-02, BD-09, Web
Mercator and city grids defined in CRS files, on numpy arrays, GeoPandas GeoSeries
(:mod:`geounify.geopandas`) and Arrow arrays (:func:`transform_arrow`).

Axis order is always x = easting/longitude, y = northing/latitude, whatever the EPSG registry
says. Angles are degrees, lengths metres.

>>> import geounify
>>> t = geounify.Transformer("EPSG:4326", "EPSG:4548")
>>> e, n = t.transform_xy(116.404, 39.915)
>>> round(e, 6), round(n, 6)
(449042.047441, 4420261.219997)

Errors are ``ValueError`` subclasses under :class:`GeounifyError`: :class:`CrsError` (a pair
cannot be built: unknown id, a datum without a shift such as the built-in Beijing 1954),
:class:`CrsFileError` (a CRS file did not load) and :class:`TransformError` (points outside a
CRS's domain). Arrays of the wrong kind raise ``TypeError``, arrays of different shapes
``ValueError``.
"""

from __future__ import annotations

import os
from typing import Iterable, Optional, Union

import numpy as np

from . import _geounify
from ._geounify import (
    CrsError,
    CrsFileError,
    Failures,
    GeounifyError,
    Registry,
    TransformError,
    __version__,
)

__all__ = [
    "CrsError",
    "CrsFileError",
    "Failures",
    "GeounifyError",
    "Registry",
    "TransformError",
    "Transformer",
    "default_registry",
    "load_crs_file",
    "transform_arrow",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]

_ERRORS = ("raise", "nan", "report")

_default_registry = Registry()


def default_registry() -> Registry:
    """The registry :class:`Transformer` uses when given neither ``registry`` nor ``crs_files``:
    the built-in catalogue plus every file loaded with :func:`load_crs_file`."""
    return _default_registry


def load_crs_file(path: PathLike) -> None:
    """Loads a CRS file (TOML or JSON, see ``data/crs/README.md``) into the default registry, so
    that its ids can be used by every :class:`Transformer` built afterwards without a registry.

    The file is loaded whole or not at all; :class:`CrsFileError` names the file, line and field
    (never a value: a city's parameters may be confidential). Loading a file whose ids are
    already loaded fails (ids may not clash).
    """
    _default_registry.load_file(os.fspath(path))


def _registry_for(registry: Optional[Registry], crs_files) -> Registry:
    """The registry a transformer looks its ids up in."""
    if crs_files is None:
        return _default_registry if registry is None else registry
    if registry is not None:
        raise ValueError("give either registry or crs_files, not both")
    if isinstance(crs_files, (str, bytes, os.PathLike)):
        crs_files = [crs_files]
    fresh = Registry()
    for path in crs_files:
        fresh.load_file(os.fspath(path))
    return fresh


def _column(values, name: str) -> np.ndarray:
    """``values`` as a numpy array of float64 (any shape). Integers and other float widths are
    converted; booleans, complex numbers, strings, objects (e.g. ``None`` in a list) are
    refused with ``TypeError`` rather than guessed."""
    array = np.asarray(values)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float), not {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def _check_errors(errors: str) -> None:
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {', '.join(map(repr, _ERRORS))}, not {errors!r}")


def _check_shapes(arrays) -> None:
    shapes = [(name, a.shape) for name, a in arrays if a is not None]
    if any(shape != shapes[0][1] for _, shape in shapes):
        listed = ", ".join(f"{name} has shape {shape}" for name, shape in shapes)
        raise ValueError(f"coordinate arrays differ in shape: {listed}")


class Transformer:
    """A compiled conversion between two CRSs, by id.

    ``Transformer("EPSG:4326", "EPSG:4547")`` compiles the conversion once; it is immutable and
    can be shared between threads. Ids are case-insensitive: EPSG codes of the catalogue
    (``"EPSG:4490"``, ``"EPSG:4547"``, ...), ``"GCJ02"``, ``"BD09"``, ``"BD09MC"``, aliases such
    as ``"WGS84"``, or the ids of CRS files.

    Parameters
    ----------
    source, target:
        The CRS ids.
    crs_files:
        A CRS file path, or a list of them, loaded into a fresh registry for this transformer.
    registry:
        A :class:`Registry` to look the ids up in (not with ``crs_files``). Without either, the
        default registry (:func:`load_crs_file`) is used.
    ellipsoidal_heights:
        z values of 2D CRSs are ellipsoidal heights converted with the point; by default they
        are elevations, copied unchanged (and a 2D <-> 3D pair is refused).

    Raises :class:`CrsError` when an id is unknown or the pair cannot be converted: e.g. the
    built-in Beijing 1954 and Xi'an 1980 datums have no published shift to CGCS2000, so
    ``Transformer("EPSG:4214", "EPSG:4490")`` is refused rather than silently returning the
    input (define the city's parameters in a CRS file instead).
    """

    __slots__ = ("_raw",)

    def __init__(
        self,
        source: str,
        target: str,
        *,
        crs_files: Union[None, PathLike, Iterable[PathLike]] = None,
        registry: Optional[Registry] = None,
        ellipsoidal_heights: bool = False,
    ) -> None:
        reg = _registry_for(registry, crs_files)
        self._raw = _geounify.Transformer(source, target, reg, bool(ellipsoidal_heights))

    @classmethod
    def _wrap(cls, raw) -> "Transformer":
        t = cls.__new__(cls)
        t._raw = raw
        return t

    @property
    def source(self) -> str:
        """The source CRS's id (as defined, e.g. ``"EPSG:4326"`` for the alias ``"WGS84"``)."""
        return self._raw.source

    @property
    def target(self) -> str:
        """The target CRS's id."""
        return self._raw.target

    @property
    def source_epsg(self) -> Optional[int]:
        """The source CRS's EPSG code, or ``None`` (GCJ-02, BD-09, city grids)."""
        return self._raw.source_epsg

    @property
    def target_epsg(self) -> Optional[int]:
        """The target CRS's EPSG code, or ``None`` (GCJ-02, BD-09, city grids)."""
        return self._raw.target_epsg

    @property
    def source_name(self) -> str:
        """The source CRS's name."""
        return self._raw.source_name

    @property
    def target_name(self) -> str:
        """The target CRS's name."""
        return self._raw.target_name

    @property
    def copies_height(self) -> bool:
        """Whether z values are elevations copied unchanged (both CRSs 2D) rather than
        ellipsoidal heights converted with the point."""
        return self._raw.copies_height

    def inverse(self) -> "Transformer":
        """The conversion in the other direction (target -> source)."""
        return Transformer._wrap(self._raw.inverse())

    def __repr__(self) -> str:
        return f"Transformer({self.source!r} -> {self.target!r})"

    def transform(self, x, y, z=None, *, errors: str = "raise", parallel: Optional[bool] = None):
        """Transforms points given as coordinate arrays and returns new arrays.

        ``x``, ``y`` (and ``z``) are numpy arrays, lists or scalars of one shape: longitudes and
        latitudes in degrees for a geographic CRS, eastings and northings in metres for a
        projected one. Integer and float32 values are converted to float64; booleans, strings,
        ``None`` and objects raise ``TypeError``; different shapes raise ``ValueError``. The
        inputs are never modified. Returns ``(x, y)``, or ``(x, y, z)`` when ``z`` is given,
        as float64 arrays of the input's shape (floats for scalar input). Without ``z`` the
        height is taken as 0. Between 2D CRSs ``z`` is an elevation and comes back unchanged.

        The points run through geounify's batch pipeline (SIMD lanes, bit-identical to the
        one-point path) with the GIL released, on all cores when ``parallel`` is true, or by
        default from 65,536 points on (``RAYON_NUM_THREADS`` caps the threads); the results are
        the same either way.

        ``errors`` says what a point that cannot be transformed (NaN or infinite input, a
        latitude beyond 90°, outside a projection's domain, ...) does:

        - ``"raise"`` (default): :class:`TransformError` naming the first failed point's index
          in the flattened input and the reason; its ``failures`` attribute lists them all.
        - ``"nan"``: the failed points are NaN in the result.
        - ``"report"``: as ``"nan"``, and a :class:`Failures` report (``indices``, ``reasons``)
          is appended to the returned tuple: ``x, y, failures = t.transform(x, y,
          errors="report")``.
        """
        _check_errors(errors)
        scalar = all(np.ndim(v) == 0 for v in (x, y) + (() if z is None else (z,)))
        xs, ys = _column(x, "x"), _column(y, "y")
        zs = None if z is None else _column(z, "z")
        _check_shapes((("x", xs), ("y", ys), ("z", zs)))
        shape = xs.shape
        flat = [None if a is None else a.reshape(-1) for a in (xs, ys, zs)]
        rx, ry, rz, failures = self._raw.transform_columns(*flat, parallel)
        if failures and errors == "raise":
            failures.raise_if_any()
        out = [rx, ry] if zs is None else [rx, ry, rz]
        if scalar:
            out = [float(a[0]) for a in out]
        else:
            out = [a.reshape(shape) for a in out]
        if errors == "report":
            out.append(failures)
        return tuple(out)

    def transform_inplace(
        self, x, y, z=None, *, errors: str = "raise", parallel: Optional[bool] = None
    ) -> Failures:
        """Transforms numpy arrays in place, without copying them.

        ``x``, ``y`` (and ``z``) must be writeable, C-contiguous float64 numpy arrays of one
        shape, and distinct (``TypeError``/``ValueError`` otherwise: no silent copy that would
        leave the caller's arrays untouched). Failed points become NaN. Returns the
        :class:`Failures` (empty and false when every point was transformed). With
        ``errors="raise"`` (default) a :class:`TransformError` is raised *after* the batch ran:
        the arrays then hold the transformed points with the failed ones NaN. ``errors="nan"``
        and ``"report"`` return the report without raising. ``parallel`` as in
        :meth:`transform`.
        """
        _check_errors(errors)
        arrays = (("x", x), ("y", y), ("z", z))
        for name, a in arrays:
            if a is None:
                continue
            if not isinstance(a, np.ndarray) or a.dtype != np.float64:
                raise TypeError(f"{name} must be a float64 numpy array to be transformed in place")
            if not a.flags.c_contiguous or not a.flags.writeable:
                raise ValueError(f"{name} must be C-contiguous and writeable to be transformed in place")
        _check_shapes(arrays)
        given = [a for _, a in arrays if a is not None]
        for i, a in enumerate(given):
            if any(np.shares_memory(a, b) for b in given[i + 1 :]):
                raise ValueError("x, y and z must not share memory to be transformed in place")
        flat = [None if a is None else a.reshape(-1) for a in (x, y, z)]
        failures = self._raw.transform_columns_inplace(*flat, parallel)
        if failures and errors == "raise":
            failures.raise_if_any()
        return failures

    def transform_xy(self, x: float, y: float):
        """Transforms one point ``(x, y)`` (height 0) and returns ``(x, y)`` as floats. Raises
        :class:`TransformError` when it cannot be transformed."""
        return self._raw.transform_xy(x, y)

    def transform_xyz(self, x: float, y: float, z: float):
        """Transforms one point ``(x, y, z)`` and returns ``(x, y, z)`` as floats (z an
        elevation copied unchanged between 2D CRSs). Raises :class:`TransformError`."""
        return self._raw.transform_xyz(x, y, z)

    def transform_arrow(self, array, *, errors: str = "null", encoding: Optional[str] = None):
        """Transforms an Arrow geometry array (WKB or GeoArrow native; any object exporting
        ``__arrow_c_array__`` or ``__arrow_c_stream__``) and returns a new one of the same type
        and length, failed rows null. ``errors``: ``"null"`` (default), ``"raise"``
        (:class:`TransformError`) or ``"report"`` (returns ``(array, failures)``).
        ``encoding`` names the geometry encoding when the field's extension type does not
        (``"wkb"``, ``"point"``, ... ``"multipolygon"``). See :mod:`geounify._arrow`."""
        from ._arrow import transform_arrow_with

        return transform_arrow_with(self, array, errors=errors, encoding=encoding)


def __getattr__(name: str):
    # `geounify.geopandas` imports geopandas and shapely, so it is loaded on first use only.
    if name == "geopandas":
        import importlib

        return importlib.import_module(".geopandas", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def transform_arrow(
    array,
    source: str,
    target: str,
    *,
    errors: str = "null",
    encoding: Optional[str] = None,
    crs_files=None,
    registry: Optional[Registry] = None,
    ellipsoidal_heights: bool = False,
):
    """Transforms an Arrow geometry array from ``source`` to ``target``: a
    :class:`Transformer` built from the ids, ``crs_files``, ``registry`` and
    ``ellipsoidal_heights``, then :meth:`Transformer.transform_arrow` (``errors``,
    ``encoding``). See :mod:`geounify._arrow` for the encodings and the result."""
    t = Transformer(
        source, target, crs_files=crs_files, registry=registry, ellipsoidal_heights=ellipsoidal_heights
    )
    return t.transform_arrow(array, errors=errors, encoding=encoding)
