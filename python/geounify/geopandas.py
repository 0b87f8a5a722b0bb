"""GeoPandas helper: transform a ``GeoSeries`` (or a ``GeoDataFrame``'s geometry) with geounify.

>>> import geopandas, shapely, geounify.geopandas
>>> s = geopandas.GeoSeries([shapely.Point(116.404, 39.915)], crs="EPSG:4326")
>>> out = geounify.geopandas.transform(s, "EPSG:4326", "EPSG:4548")
>>> out.crs.to_epsg()
4548

The coordinates are taken out of the geometries with ``shapely.get_coordinates`` (one array for
the whole series, no Python loop over geometries), transformed in one batch and put back with
``shapely.set_coordinates``, so every geometry type, multi-part and collection works and each
geometry keeps its structure. 3D geometries keep their z (an elevation copied unchanged between
2D CRSs); 2D ones stay 2D. ``None`` and empty geometries pass through unchanged.

The result's ``crs`` is ``"EPSG:<code>"`` when the target has an EPSG code, and ``None``
otherwise: GCJ-02, BD-09, BD-09MC and the CRSs of CRS files (city grids) have no identifier
pyproj knows, and labelling GCJ-02 data as EPSG:4326 is exactly the mistake that shifts maps by
hundreds of metres. Keep track of such a target yourself (e.g. in a column or file name).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from . import Registry, TransformError, Transformer

__all__ = ["transform"]

_ERRORS = ("raise", "null")


def _source_id(geoseries, source: Optional[str]) -> str:
    """The source id: ``source``, or the series' EPSG code when ``source`` is None."""
    declared = geoseries.crs.to_epsg() if geoseries.crs is not None else None
    if source is None:
        if declared is None:
            raise ValueError(
                "source is None and the GeoSeries has no EPSG code in its crs: give the source CRS"
            )
        return f"EPSG:{declared}"
    return source


def _check_declared(geoseries, t: Transformer) -> None:
    """Refuses a source whose EPSG code differs from the one the series declares (a source
    without an EPSG code, such as GCJ-02, is taken at its word: GCJ-02 data is often labelled
    EPSG:4326)."""
    declared = geoseries.crs.to_epsg() if geoseries.crs is not None else None
    if declared is not None and t.source_epsg is not None and declared != t.source_epsg:
        raise ValueError(
            f"the GeoSeries declares EPSG:{declared} but the source is {t.source} "
            f"(EPSG:{t.source_epsg}); set the series' crs or pass the matching source"
        )


def transform(
    geodata,
    source: Optional[str],
    target: str,
    *,
    errors: str = "raise",
    crs_files=None,
    registry: Optional[Registry] = None,
    ellipsoidal_heights: bool = False,
    parallel: Optional[bool] = None,
):
    """Transforms a ``GeoSeries`` (or a ``GeoDataFrame``'s active geometry column) from
    ``source`` to ``target`` and returns a new one; the input is not modified.

    ``source`` may be ``None`` to take the series' own EPSG code; when both are given and have
    EPSG codes they must agree (``ValueError`` otherwise). ``crs_files``, ``registry`` and
    ``ellipsoidal_heights`` are those of :class:`geounify.Transformer`; ``parallel`` that of
    :meth:`geounify.Transformer.transform`.

    ``errors``: a geometry with a vertex that cannot be transformed raises
    :class:`geounify.TransformError` naming the row (index label and position), the vertex and
    the reason (``"raise"``, default), or becomes ``None`` (``"null"``).

    Returns a ``GeoSeries`` with the input's index and name (a ``GeoDataFrame`` copy for a
    ``GeoDataFrame``), its ``crs`` ``"EPSG:<code>"`` for a target with an EPSG code, else
    ``None`` (see the module docs).
    """
    import geopandas
    import shapely

    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'raise' or 'null', not {errors!r}")
    if isinstance(geodata, geopandas.GeoDataFrame):
        column = geodata.geometry.name
        series = transform(
            geodata.geometry,
            source,
            target,
            errors=errors,
            crs_files=crs_files,
            registry=registry,
            ellipsoidal_heights=ellipsoidal_heights,
            parallel=parallel,
        )
        out = geodata.copy()
        out[column] = series
        # Assigning keeps the frame's old crs when the series has none: set it explicitly.
        return out.set_crs(series.crs, allow_override=True)
    if not isinstance(geodata, geopandas.GeoSeries):
        raise TypeError(f"expected a GeoSeries or GeoDataFrame, not {type(geodata).__name__}")

    t = Transformer(
        _source_id(geodata, source),
        target,
        crs_files=crs_files,
        registry=registry,
        ellipsoidal_heights=ellipsoidal_heights,
    )
    _check_declared(geodata, t)
    geoms = np.asarray(geodata.values, dtype=object)
    out = geoms.copy()
    has_z = shapely.has_z(geoms)
    failed_rows = []
    # 2D and 3D geometries separately, so that each keeps its dimension.
    for mask, include_z in ((~has_z, False), (has_z, True)):
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            continue
        part = geoms[positions]
        coords, owner = shapely.get_coordinates(part, include_z=include_z, return_index=True)
        if coords.shape[0] == 0:
            continue
        columns = [np.ascontiguousarray(coords[:, i]) for i in range(coords.shape[1])]
        no_height = None
        if include_z:
            # A 2D member of a 3D collection (or a z stored as NaN) has no height: transformed
            # at height 0, its z left NaN, as shapely gave it.
            no_height = np.isnan(columns[2])
            columns[2][no_height] = 0.0
        *converted, failures = t.transform(*columns, errors="report", parallel=parallel)
        if no_height is not None:
            converted[2][no_height] = np.nan
        if failures:
            vertices = failures.indices
            if errors == "raise":
                first = int(vertices[0])
                row = int(positions[owner[first]])
                vertex = first - int(np.searchsorted(owner, owner[first]))
                rows = np.unique(owner[vertices]).size
                others = "1 other geometry" if rows == 2 else f"{rows - 1} other geometries"
                more = f" ({others} failed too)" if rows > 1 else ""
                label = geodata.index[row : row + 1].tolist()[0]
                exc = TransformError(
                    f"geometry at index {label!r} (position {row}), vertex {vertex}: "
                    f"{failures.reasons[0]}{more}"
                )
                exc.index = row
                exc.reason = failures.reasons[0]
                exc.failures = failures
                raise exc
            failed_rows.append(positions[np.unique(owner[vertices])])
        out[positions] = shapely.set_coordinates(part, np.column_stack(converted))
    if failed_rows:
        out[np.concatenate(failed_rows)] = None
    crs = f"EPSG:{t.target_epsg}" if t.target_epsg is not None else None
    return geopandas.GeoSeries(out, index=geodata.index, name=geodata.name, crs=crs)
