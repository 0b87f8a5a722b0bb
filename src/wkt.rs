//! OGC WKT 1 output of CRS definitions, in the dialect GDAL writes for `.prj` files and
//! GeoPackage's `gpkg_spatial_ref_sys.definition` (PROJ's `WKT1_GDAL`).
//!
//! For the catalogue's EPSG CRSs the text is the one PROJ 9.6 exports for the same code
//! (`tests/proj_differential.rs` compares them). CRSs that users build themselves are written
//! the same way without `AUTHORITY` nodes (except for the parts that are EPSG objects, e.g. the
//! CGCS2000 datum), with the datum's shift to CGCS2000 as `TOWGS84` (geounify treats CGCS2000
//! and WGS84 as the same frame).

use crate::crs::{Crs, CrsKind, Projection};
use crate::datum::Datum;
use crate::ellipsoid::Ellipsoid;
use crate::error::ExportError;
use crate::export::{
    check_finite, exportable_transverse_mercator, known_datum, num, towgs84, unexpressible_reason,
    WEB_MERCATOR,
};

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
                WEB_MERCATOR,
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
