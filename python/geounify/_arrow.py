"""Arrow geometry arrays through geounify's Arrow kernel.

:func:`geounify.transform_arrow` and :meth:`geounify.Transformer.transform_arrow` take any
object exporting the Arrow PyCapsule interface: ``__arrow_c_array__`` (a ``pyarrow.Array``,
a geoarrow-pyarrow extension array, arro3, nanoarrow, ...) or ``__arrow_c_stream__`` (a
``pyarrow.ChunkedArray``; its chunks are converted in parallel).

Encodings (found from the field's ``ARROW:extension:name``, or given as ``encoding=``):

- WKB: ``geoarrow.wkb`` / ``ogc.wkb``, or any ``binary``, ``large_binary`` or ``binary_view``
  array without an extension name;
- GeoArrow native ``point``, ``linestring``, ``polygon``, ``multipoint``,
  ``multilinestring``, ``multipolygon``, with separated (``struct<x, y[, z]>``) or
  interleaved (``fixed_size_list<double>[2|3]``) coordinates. A pyarrow array of a GeoArrow
  storage type without its extension registered needs ``encoding="point"`` etc.

The result has the input's type and length; offsets and nulls are kept, z values follow the
height rule of :class:`geounify.Transformer` (elevations copied between 2D CRSs). A row that
cannot be converted (a vertex outside the CRS's domain, malformed WKB) becomes null. The
GeoArrow extension metadata's ``crs`` is checked against the source (a different EPSG code is a
``ValueError``) and replaced by ``"EPSG:<code>"`` of the target, or removed when the target has
no EPSG code (GCJ-02, BD-09, city grids).

A pyarrow input gives a pyarrow result (``pyarrow.Array`` / ``pyarrow.ChunkedArray``; an
extension type is kept when it is registered with pyarrow, e.g. by geoarrow-pyarrow); any other
input gives an arro3-compatible object exporting the same PyCapsule interface, which pyarrow,
polars, geoarrow-rust and others can import.
"""

from __future__ import annotations

import sys
from typing import Optional

_ERRORS = ("null", "raise", "report")


def _is_pyarrow(array) -> bool:
    pa = sys.modules.get("pyarrow")
    return pa is not None and isinstance(array, (pa.Array, pa.ChunkedArray))


def transform_arrow_with(transformer, array, *, errors: str = "null", encoding: Optional[str] = None):
    """Transforms ``array`` with ``transformer`` (see the module docs).

    ``errors``: ``"null"`` (default) leaves failed rows null; ``"raise"`` raises
    :class:`geounify.TransformError` naming the first failed row and vertex (its ``failures``
    attribute lists every row); ``"report"`` returns ``(array, failures)``.
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {', '.join(map(repr, _ERRORS))}, not {errors!r}")
    raw = transformer._raw
    if hasattr(array, "__arrow_c_array__"):
        out, failures = raw.transform_arrow_array(array, encoding)
        chunked = False
    elif hasattr(array, "__arrow_c_stream__"):
        out, failures = raw.transform_arrow_chunked(array, encoding)
        chunked = True
    else:
        raise TypeError(
            f"expected an Arrow array (an object with __arrow_c_array__ or __arrow_c_stream__), "
            f"not {type(array).__name__}"
        )
    if failures and errors == "raise":
        failures.raise_if_any()
    if _is_pyarrow(array):
        import pyarrow as pa

        out = pa.chunked_array(out) if chunked else pa.array(out)
    return (out, failures) if errors == "report" else out
