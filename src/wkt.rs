//! OGC WKT 1 output of CRS definitions, in the dialect GDAL writes for `.prj` files and
//! GeoPackage's `gpkg_spatial_ref_sys.definition` (PROJ's `WKT1_GDAL`).
//!
//! For the catalogue's EPSG CRSs the text is the one PROJ 9.6 exports for the same code
//! (`tests/proj_differential.rs` compares them). CRSs that users build themselves are written
//! the same way without `AUTHORITY` nodes (except for the parts that are EPSG objects, e.g. the
//! CGCS2000 datum), with the datum's shift to CGCS2000 as `TOWGS84` (geounify treats CGCS2000
//! and WGS84 as the same frame).

use crate::crs::{Crs, CrsKind, Projection};
use crate::datum::{Datum, DatumShift};
use crate::ellipsoid::Ellipsoid;
use crate::error::ExportError;
use crate::ops::HelmertConvention;

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

/// EPSG code of a built-in ellipsoid.
fn ellipsoid_code(ellipsoid: &Ellipsoid) -> Option<u32> {
    match ellipsoid.id() {
        "grs80" => Some(7019),
        "wgs84" => Some(7030),
        "krassovsky" => Some(7024),
        "iag1975" => Some(7049),
        _ => None,
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

/// A quoted WKT string, `"` doubled.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn authority(code: u32) -> String {
    format!(",AUTHORITY[\"EPSG\",\"{code}\"]")
}

/// `GEOCCS[...]` (geocentric X, Y, Z in metres) for `datum`, named `name` with authority
/// `code`, as GDAL writes EPSG:4978.
fn geoccs(name: &str, datum: &Datum, code: Option<u32>) -> String {
    let geographic = geogcs(name, datum, None);
    // The DATUM and PRIMEM nodes of the geographic form, without its angular UNIT.
    let start = geographic.find(",DATUM[").unwrap_or(0);
    let end = geographic.rfind(",UNIT[\"degree\"").unwrap_or(geographic.len());
    format!(
        "GEOCCS[{}{},UNIT[\"metre\",1{}],AXIS[\"Geocentric X\",OTHER],\
         AXIS[\"Geocentric Y\",OTHER],AXIS[\"Geocentric Z\",NORTH]{}]",
        quote(name),
        &geographic[start..end],
        authority(9001),
        code.map(authority).unwrap_or_default(),
    )
}

/// `GEOGCS[...]` for `datum`, named `name` with authority `code`.
fn geogcs(name: &str, datum: &Datum, code: Option<u32>) -> String {
    let ellipsoid = datum.ellipsoid();
    let (datum_node, spheroid_name, spheroid_code, datum_code) = match known_datum(datum) {
        Some(k) => (k.wkt_name.to_string(), k.ellipsoid_name, Some(k.ellipsoid_code), Some(k.code)),
        None => {
            let wkt_name: String =
                datum.name().chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
            (wkt_name, ellipsoid.name(), ellipsoid_code(ellipsoid), None)
        }
    };
    let towgs84 = towgs84(datum.to_cgcs2000())
        .map(|v| format!(",TOWGS84[{}]", v.map(num).join(",")))
        .unwrap_or_default();
    format!(
        "GEOGCS[{},DATUM[{},SPHEROID[{},{},{}{}]{}{}],PRIMEM[\"Greenwich\",0{}],\
         UNIT[\"degree\",0.0174532925199433{}]{}]",
        quote(name),
        quote(&datum_node),
        quote(spheroid_name),
        num(ellipsoid.a()),
        num(ellipsoid.rf()),
        spheroid_code.map(authority).unwrap_or_default(),
        towgs84,
        datum_code.map(authority).unwrap_or_default(),
        authority(8901),
        authority(9122),
        code.map(authority).unwrap_or_default(),
    )
}

impl Crs {
    /// The CRS as OGC WKT 1 (the dialect of GDAL's `.prj` and GeoPackage's
    /// `gpkg_spatial_ref_sys.definition`), on one line, with the EPSG authority where the CRS
    /// has a code.
    ///
    /// - Catalogue CRSs give the same text as PROJ 9.6 / GDAL for their EPSG code. Like GDAL,
    ///   the Chinese Gauss-Krüger CRSs have no `AXIS` nodes (their EPSG axis order is
    ///   northing, easting, which WKT 1 readers would misapply); geounify's own coordinates are
    ///   always easting, northing.
    /// - `EPSG:3857` is written as GDAL writes it: `Mercator_1SP` on WGS 84 with the
    ///   `EXTENSION["PROJ4", "... +nadgrids=@null ..."]` that makes GDAL and PROJ read it back
    ///   as the spherical pseudo-Mercator.
    /// - User-built CRSs: the datum's shift to CGCS2000 becomes `TOWGS84` (position-vector
    ///   convention; coordinate-frame rotations are negated), custom ellipsoids are written with
    ///   their `a` and `1/f`; Beijing 1954 and Xi'an 1980 as built in get no `TOWGS84` (their
    ///   parameters are not public). PROJ and GDAL apply a `TOWGS84` only towards WGS 84 or
    ///   another CRS with `TOWGS84` (see [`Crs::to_proj_string`]).
    ///
    /// Errors: GCJ-02, BD-09 and BD-09MC cannot be expressed and give
    /// [`ExportError::NotExpressible`], as does a non-finite parameter.
    pub fn to_wkt(&self) -> Result<String, ExportError> {
        const FORMAT: &str = "WKT";
        check_finite(self, FORMAT, &towgs84(self.datum().to_cgcs2000()).unwrap_or_default())?;
        let base = || match known_datum(self.datum()) {
            Some(k) => geogcs(k.geographic_name, self.datum(), Some(k.geographic_code)),
            None => geogcs(self.datum().name(), self.datum(), None),
        };
        let own_authority = self.epsg().map(authority).unwrap_or_default();
        let metre = format!("UNIT[\"metre\",1{}]", authority(9001));
        let east_north = "AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]";
        // A 3D CRS (ellipsoidal heights) says so with a third axis, as PROJ writes a geographic
        // 3D CRS in WKT 1 when not strict (strict WKT 1 has no 3D GEOGCS); readers of WKT 1
        // without it would take the CRS as 2D.
        let height_axis = if self.is_3d() { ",AXIS[\"Ellipsoidal height\",UP]" } else { "" };
        Ok(match self.kind() {
            CrsKind::Geographic if self.is_3d() => {
                let plain = geogcs(self.name(), self.datum(), None);
                format!(
                    "{},AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST]{height_axis}{own_authority}]",
                    &plain[..plain.len() - 1]
                )
            }
            CrsKind::Geographic => geogcs(self.name(), self.datum(), self.epsg()),
            CrsKind::Geocentric => geoccs(self.name(), self.datum(), self.epsg()),
            CrsKind::Projected(Projection::GaussKruger(_) | Projection::GaussKrugerSurface(..)) => {
                let p = exportable_transverse_mercator(self, FORMAT)?;
                // GDAL drops the AXIS nodes of the EPSG northing/easting zones; a user-built
                // CRS is easting/northing and says so.
                let axes = if self.epsg().is_some() {
                    String::new()
                } else {
                    format!(",{east_north}{height_axis}")
                };
                format!(
                    "PROJCS[{},{},PROJECTION[\"Transverse_Mercator\"],\
                     PARAMETER[\"latitude_of_origin\",{}],PARAMETER[\"central_meridian\",{}],\
                     PARAMETER[\"scale_factor\",{}],PARAMETER[\"false_easting\",{}],\
                     PARAMETER[\"false_northing\",{}],{metre}{axes}{own_authority}]",
                    quote(self.name()),
                    base(),
                    num(p.lat0),
                    num(p.lon0),
                    num(p.k0),
                    num(p.x0),
                    num(p.y0),
                )
            }
            CrsKind::Projected(Projection::WebMercator) => format!(
                "PROJCS[{},{},PROJECTION[\"Mercator_1SP\"],PARAMETER[\"central_meridian\",0],\
                 PARAMETER[\"scale_factor\",1],PARAMETER[\"false_easting\",0],\
                 PARAMETER[\"false_northing\",0],{metre},{east_north},\
                 EXTENSION[\"PROJ4\",\"{}\"]{own_authority}]",
                quote(self.name()),
                base(),
                crate::proj_string::WEB_MERCATOR,
            ),
            kind @ (CrsKind::Local { .. }
            | CrsKind::Gcj02 { .. }
            | CrsKind::Bd09 { .. }
            | CrsKind::Bd09Mc { .. }) => {
                return Err(ExportError::NotExpressible {
                    id: self.id().to_string(),
                    format: FORMAT,
                    reason: unexpressible_reason(kind),
                });
            }
        })
    }
}
