//! PROJ-string output of CRS definitions.
//!
//! The strings follow what PROJ writes for the same EPSG code (without `+type=crs`), so that
//! PROJ, GDAL and QGIS read them back as the same projection (`tests/proj_differential.rs`
//! checks that they do).

use crate::crs::{Crs, CrsKind, Projection};
use crate::error::ExportError;
use crate::export::{
    check_finite, exportable_transverse_mercator, known_datum, num, towgs84, unexpressible_reason,
    WEB_MERCATOR,
};

impl Crs {
    /// The CRS as a PROJ string, e.g.
    /// `+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs`;
    /// geographic CRSs as `+proj=longlat +ellps=... +no_defs` (degrees, longitude first).
    ///
    /// - The ellipsoid is written by PROJ name (`GRS80`, `WGS84` as `+datum=WGS84` for the WGS84
    ///   datum, `krass`, `IAU76` for IAG 1975, which has the same `a` and `1/f`), a custom one as
    ///   `+a=... +rf=...`.
    /// - A datum's shift to CGCS2000 is written as `+towgs84=tx,ty,tz,rx,ry,rz,s` (metres,
    ///   arc-seconds, ppm) in PROJ's position-vector convention: coordinate-frame rotations are
    ///   negated. geounify treats CGCS2000 and WGS84 as the same frame. A Molodensky shift is
    ///   written as the geocentric translation its formulas approximate.
    /// - Beijing 1954 and Xi'an 1980 as built in get no `+towgs84`: their parameters are not
    ///   public, and none is invented.
    ///
    /// - The string has no `+type=crs`, as GDAL and `cs2cs` write it; PROJ's C API
    ///   (`proj_create`, `proj_create_crs_to_crs`) needs it appended to read the string as a CRS.
    /// - PROJ applies a `+towgs84` only when the other CRS is WGS 84 or carries a `+towgs84`
    ///   too: towards `EPSG:4490`/`4547`-style CRSs it takes a "ballpark" and drops the shift
    ///   (tens of metres). In PROJ, convert such a CRS to `EPSG:4326` first, or give the
    ///   CGCS2000 side `+towgs84=0,0,0,0,0,0,0` (geounify's same-frame treatment).
    ///
    /// Errors: GCJ-02, BD-09 and BD-09MC cannot be expressed and give
    /// [`ExportError::NotExpressible`], as does a non-finite parameter.
    pub fn to_proj_string(&self) -> Result<String, ExportError> {
        const FORMAT: &str = "PROJ string";
        let shift = towgs84(self.datum().to_cgcs2000());
        check_finite(self, FORMAT, &shift.unwrap_or_default())?;
        let ellipsoid = self.datum().ellipsoid();
        let mut datum = match known_datum(self.datum()) {
            Some(k) => k.proj.to_string(),
            None => match ellipsoid.id() {
                "grs80" => "+ellps=GRS80".to_string(),
                "wgs84" => "+ellps=WGS84".to_string(),
                "krassovsky" => "+ellps=krass".to_string(),
                "iag1975" => "+ellps=IAU76".to_string(),
                _ => format!("+a={} +rf={}", num(ellipsoid.a()), num(ellipsoid.rf())),
            },
        };
        if let Some(v) = shift {
            datum.push_str(" +towgs84=");
            datum.push_str(&v.map(num).join(","));
        }
        Ok(match self.kind() {
            CrsKind::Geographic => format!("+proj=longlat {datum} +no_defs"),
            CrsKind::Geocentric => format!("+proj=geocent {datum} +units=m +no_defs"),
            CrsKind::Projected(Projection::GaussKruger(_) | Projection::GaussKrugerSurface(..)) => {
                let p = exportable_transverse_mercator(self, FORMAT)?;
                format!(
                    "+proj=tmerc +lat_0={} +lon_0={} +k={} +x_0={} +y_0={} {datum} +units=m \
                     +no_defs",
                    num(p.lat0),
                    num(p.lon0),
                    num(p.k0),
                    num(p.x0),
                    num(p.y0),
                )
            }
            CrsKind::Projected(Projection::WebMercator) => WEB_MERCATOR.to_string(),
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
