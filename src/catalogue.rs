//! The built-in catalogue of CRSs, addressed by id (case-insensitive). STUB: minimal entries.

use crate::crs::{Crs, CrsKind};
use crate::datum::Datum;
use crate::error::CrsError;
use crate::ops::ChinaBounds;

/// Looks up a built-in CRS by id or alias, case-insensitively.
pub fn lookup(id: &str) -> Result<Crs, CrsError> {
    let unknown = || CrsError::Unknown { id: id.to_string() };
    let key = id.trim().to_ascii_uppercase();
    let crs = match key.as_str() {
        "EPSG:4326" | "WGS84" => {
            Crs::new("EPSG:4326", "WGS 84", Datum::wgs84(), CrsKind::Geographic, None, Some(4326))
        }
        "EPSG:4490" | "CGCS2000" => Crs::new(
            "EPSG:4490",
            "China Geodetic Coordinate System 2000",
            Datum::cgcs2000(),
            CrsKind::Geographic,
            None,
            Some(4490),
        ),
        "GCJ02" => Crs::new(
            "GCJ02",
            "GCJ-02",
            Datum::wgs84(),
            CrsKind::Gcj02 { bounds: ChinaBounds::UsualBox },
            None,
            None,
        ),
        "BD09" => Crs::new(
            "BD09",
            "BD-09",
            Datum::wgs84(),
            CrsKind::Bd09 { bounds: ChinaBounds::UsualBox },
            None,
            None,
        ),
        _ => return Err(unknown()),
    };
    crs.map_err(|_| unknown())
}

/// Every built-in CRS, in catalogue order (geographic first, then projected by EPSG code, then
/// the web-map systems).
pub fn all() -> Vec<Crs> {
    ["EPSG:4326", "EPSG:4490", "GCJ02", "BD09"].iter().filter_map(|id| lookup(id).ok()).collect()
}

/// The aliases of the built-in catalogue, as `(alias, id)` pairs, e.g. `("WGS84", "EPSG:4326")`.
pub fn aliases() -> &'static [(&'static str, &'static str)] {
    &[("WGS84", "EPSG:4326"), ("CGCS2000", "EPSG:4490")]
}
