//! What the two text exports of a CRS share — WKT 1 ([`crate::wkt`]) and PROJ strings
//! ([`crate::proj_string`]): the EPSG identities of the built-in datums, the datum shift as
//! `TOWGS84` values, number formatting, the checks that refuse what neither can express, and
//! EPSG:3857's PROJ string. Both exports depend on this module and not on each other.

use crate::crs::{Crs, CrsKind};
use crate::datum::{Datum, DatumShift};
use crate::error::ExportError;
use crate::ops::HelmertConvention;

/// EPSG:3857 as PROJ writes it: spherical Mercator on a = 6 378 137 m, with `+nadgrids=@null`
/// so that PROJ treats it as WGS84 with no datum shift.
pub(crate) const WEB_MERCATOR: &str = "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 \
                                       +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext \
                                       +no_defs";

/// EPSG identities of a built-in datum, for WKT and PROJ-string output.
pub(crate) struct KnownDatum {
    /// The datum's WKT 1 name, e.g. `China_2000`.
    pub wkt_name: &'static str,
    /// EPSG code of the datum.
    pub code: u32,
    /// EPSG name of the ellipsoid (CGCS2000 has its own ellipsoid, EPSG:1024, equal to GRS 1980).
    pub ellipsoid_name: &'static str,
    /// EPSG code of the ellipsoid.
    pub ellipsoid_code: u32,
    /// Name of the datum's geographic 2D CRS.
    pub geographic_name: &'static str,
    /// EPSG code of the datum's geographic 2D CRS.
    pub geographic_code: u32,
    /// The datum and ellipsoid as PROJ-string parameters.
    pub proj: &'static str,
}

/// The EPSG identities of `datum` if it is exactly one of the built-in datums (same id,
/// ellipsoid and shift); `None` for users' datums.
pub(crate) fn known_datum(datum: &Datum) -> Option<KnownDatum> {
    let known =
        |wkt_name, code, ellipsoid_name, ellipsoid_code, geographic_name, geographic_code, proj| {
            KnownDatum {
                wkt_name,
                code,
                ellipsoid_name,
                ellipsoid_code,
                geographic_name,
                geographic_code,
                proj,
            }
        };
    if *datum == Datum::cgcs2000() {
        Some(known(
            "China_2000",
            1043,
            "CGCS2000",
            1024,
            "China Geodetic Coordinate System 2000",
            4490,
            "+ellps=GRS80",
        ))
    } else if *datum == Datum::wgs84() {
        Some(known("WGS_1984", 6326, "WGS 84", 7030, "WGS 84", 4326, "+datum=WGS84"))
    } else if *datum == Datum::beijing1954() {
        Some(known(
            "Beijing_1954",
            6214,
            "Krassowsky 1940",
            7024,
            "Beijing 1954",
            4214,
            "+ellps=krass",
        ))
    } else if *datum == Datum::xian1980() {
        Some(known("Xian_1980", 6610, "IAG 1975", 7049, "Xian 1980", 4610, "+ellps=IAU76"))
    } else {
        None
    }
}

/// The datum's shift to CGCS2000 as the 7 `TOWGS84` / `+towgs84` values (position-vector
/// rotations in arc-seconds, scale in ppm), or `None` if it has none. geounify treats CGCS2000
/// and WGS84 as the same frame, so a shift to CGCS2000 is a shift to WGS84.
///
/// A Molodensky shift is written as the geocentric translation its formulas approximate.
pub(crate) fn towgs84(shift: &DatumShift) -> Option<[f64; 7]> {
    match shift {
        DatumShift::SameFrame | DatumShift::Unknown => None,
        DatumShift::Helmert(h) => {
            // Coordinate-frame rotations are position-vector rotations with the sign flipped.
            let r = match h.convention {
                HelmertConvention::PositionVector => 1.0,
                HelmertConvention::CoordinateFrame => -1.0,
            };
            Some([h.tx, h.ty, h.tz, r * h.rx, r * h.ry, r * h.rz, h.s])
        }
        DatumShift::Molodensky(m) => Some([m.dx, m.dy, m.dz, 0.0, 0.0, 0.0, 0.0]),
    }
}

/// A number as WKT / PROJ strings write it: shortest round-trip decimal, no `-0`.
pub(crate) fn num(x: f64) -> String {
    format!("{}", x + 0.0)
}

/// Fails unless every value is finite.
pub(crate) fn check_finite(
    crs: &Crs,
    format: &'static str,
    values: &[f64],
) -> Result<(), ExportError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(ExportError::NotExpressible {
            id: crs.id().to_string(),
            format,
            reason: "a projection or datum-shift parameter is not a finite number",
        })
    }
}

/// The transverse Mercator parameters of a Gauss-Krüger `crs` for export as `format`: refused
/// for an expanded-ellipsoid surface and for non-finite parameters.
pub(crate) fn exportable_transverse_mercator(
    crs: &Crs,
    format: &'static str,
) -> Result<crate::ops::GaussKrugerParams, ExportError> {
    let p = crs.transverse_mercator().ok_or_else(|| ExportError::NotExpressible {
        id: crs.id().to_string(),
        format,
        reason: EXPANDED_SURFACE_REASON,
    })?;
    check_finite(crs, format, &[p.lat0, p.lon0, p.k0, p.x0, p.y0])?;
    Ok(p)
}

/// Why a Gauss-Krüger projection on an expanded ellipsoid cannot be exported.
const EXPANDED_SURFACE_REASON: &str =
    "its projection surface is an expanded ellipsoid, which a CRS definition cannot tie to the \
     datum's own ellipsoid; use geounify to convert to the base zone first";

/// Why a local grid cannot be exported.
const LOCAL_GRID_REASON: &str =
    "it is a local grid (a planar transformation of a projected CRS), which has no standard CRS \
     form; use geounify to convert to its base CRS first";

/// Why a local grid, GCJ-02, BD-09 or BD-09MC cannot be exported.
pub(crate) fn unexpressible_reason(kind: &CrsKind) -> &'static str {
    match kind {
        CrsKind::Local { .. } => LOCAL_GRID_REASON,
        CrsKind::Bd09 { .. } => {
            "BD-09 is GCJ-02 with a further Baidu offset that no standard projection or datum \
             method describes; convert to WGS84 (EPSG:4326) first"
        }
        CrsKind::Bd09Mc { .. } => {
            "BD-09MC (Baidu Mercator) is a proprietary projection of BD-09 that no standard \
             projection or datum method describes; convert to WGS84 or EPSG:3857 first"
        }
        _ => {
            "GCJ-02 is WGS84 with a deliberate non-linear obfuscation offset that no standard \
             projection or datum method describes; convert to WGS84 (EPSG:4326) first"
        }
    }
}
