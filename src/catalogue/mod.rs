//! The built-in catalogue of CRSs, addressed by id (case-insensitive).
//!
//! It holds, with their EPSG names, areas of use and parameters:
//! - the geographic CRSs WGS 84 (`EPSG:4326`), CGCS2000 (`EPSG:4490`), Beijing 1954
//!   (`EPSG:4214`) and Xi'an 1980 (`EPSG:4610`), all 2D (their heights are elevations, copied
//!   unchanged; see [`Transformer`](crate::Transformer));
//! - the 3D CRSs of WGS 84 and CGCS2000, whose heights are ellipsoidal: geographic 3D
//!   (`EPSG:4979`, `EPSG:4480`) and geocentric X, Y, Z (`EPSG:4978`, `EPSG:4479`);
//! - every Gauss-Krüger zone of those three Chinese datums, 6° and 3° wide, with and without the
//!   zone number prefixed to the false easting: CGCS2000 `EPSG:4491`–`4554`, Beijing 1954
//!   `EPSG:2401`–`2442`, `21413`–`21423` and `21453`–`21463`, Xi'an 1980 `EPSG:2327`–`2390`;
//! - Web Mercator (`EPSG:3857`);
//! - the web-map systems `GCJ02`, `BD09` and `BD09MC` (no EPSG code).
//!
//! Projection parameters follow from the code ranges (6° zone *n* has its central meridian at
//! 6*n* − 3 °E, 3° zone *n* at 3*n* °E; a zone-prefixed false easting is *n* × 10⁶ + 500 000 m);
//! names and areas of use come from a table generated from PROJ's EPSG database
//! (`epsg_table.rs`). `tests/proj_differential.rs` checks every entry against PROJ.

#[rustfmt::skip]
mod epsg_table;

use crate::crs::{AreaOfUse, Crs, CrsKind, Projection};
use crate::datum::Datum;
use crate::error::CrsError;
use crate::ops::{ChinaBounds, GaussKrugerParams};

/// An area of use in the generated table.
struct TableArea {
    name: &'static str,
    west: f64,
    south: f64,
    east: f64,
    north: f64,
}

/// One EPSG CRS in the generated table.
struct TableEntry {
    code: u32,
    name: &'static str,
    /// Index into `epsg_table::AREAS`.
    area: usize,
}

/// Which datum a run of Gauss-Krüger codes is on.
#[derive(Clone, Copy)]
enum ZoneDatum {
    Cgcs2000,
    Beijing1954,
    Xian1980,
}

/// A run of consecutive EPSG codes, one per Gauss-Krüger zone.
struct ZoneRange {
    first_code: u32,
    zones: u32,
    datum: ZoneDatum,
    /// Zone width, degrees (6 or 3).
    width: u32,
    /// Number of the first zone (13 for 6° zones at 75°E, 25 for 3° zones at 75°E).
    first_zone: u32,
    /// Whether the false easting carries the zone number (zone × 10⁶ + 500 000 m).
    prefixed: bool,
}

const fn zones(first_code: u32, datum: ZoneDatum, width: u32, prefixed: bool) -> ZoneRange {
    let (zones, first_zone) = if width == 6 { (11, 13) } else { (21, 25) };
    ZoneRange { first_code, zones, datum, width, first_zone, prefixed }
}

/// Every Gauss-Krüger code range of the catalogue, by first code.
const ZONE_RANGES: &[ZoneRange] = &[
    zones(2327, ZoneDatum::Xian1980, 6, true), // Xian 1980 / Gauss-Kruger zone 13-23
    zones(2338, ZoneDatum::Xian1980, 6, false), // Xian 1980 / Gauss-Kruger CM 75E-135E
    zones(2349, ZoneDatum::Xian1980, 3, true), // Xian 1980 / 3-degree Gauss-Kruger zone 25-45
    zones(2370, ZoneDatum::Xian1980, 3, false), // Xian 1980 / 3-degree Gauss-Kruger CM 75E-135E
    zones(2401, ZoneDatum::Beijing1954, 3, true), // Beijing 1954 / 3-degree GK zone 25-45
    zones(2422, ZoneDatum::Beijing1954, 3, false), // Beijing 1954 / 3-degree GK CM 75E-135E
    zones(4491, ZoneDatum::Cgcs2000, 6, true), // CGCS2000 / Gauss-Kruger zone 13-23
    zones(4502, ZoneDatum::Cgcs2000, 6, false), // CGCS2000 / Gauss-Kruger CM 75E-135E
    zones(4513, ZoneDatum::Cgcs2000, 3, true), // CGCS2000 / 3-degree Gauss-Kruger zone 25-45
    zones(4534, ZoneDatum::Cgcs2000, 3, false), // CGCS2000 / 3-degree Gauss-Kruger CM 75E-135E
    zones(21413, ZoneDatum::Beijing1954, 6, true), // Beijing 1954 / Gauss-Kruger zone 13-23
    zones(21453, ZoneDatum::Beijing1954, 6, false), // Beijing 1954 / Gauss-Kruger CM 75E-135E
];

/// The ids that are not EPSG codes, in catalogue order.
const WEB_MAP_IDS: [&str; 3] = ["GCJ02", "BD09", "BD09MC"];

/// Aliases, `(alias, id)`.
const ALIASES: &[(&str, &str)] = &[
    ("WGS84", "EPSG:4326"),
    ("WGS 84", "EPSG:4326"),
    ("CGCS2000", "EPSG:4490"),
    ("CGCS 2000", "EPSG:4490"),
    ("BJ54", "EPSG:4214"),
    ("BEIJING1954", "EPSG:4214"),
    ("XIAN80", "EPSG:4610"),
    ("XIAN1980", "EPSG:4610"),
    ("WEBMERC", "EPSG:3857"),
    ("GCJ-02", "GCJ02"),
    ("BD-09", "BD09"),
    ("BD-09MC", "BD09MC"),
];

/// Where the GCJ-02 offset applies ([`ChinaBounds::UsualBox`]), as an area of use.
fn web_map_area() -> AreaOfUse {
    AreaOfUse {
        name: "China: the box in which the GCJ-02 offset is applied.".to_string(),
        west: 72.004,
        south: 0.8293,
        east: 137.8347,
        north: 55.8271,
    }
}

/// Looks up a built-in CRS by id or alias, case-insensitively, ignoring surrounding whitespace:
/// `EPSG:4547`, `epsg:4547`, `WGS84`, `gcj-02`, ...
///
/// Fails with [`CrsError::Unknown`] for any id not in the catalogue (see [`all`] and
/// [`aliases`]).
pub fn lookup(id: &str) -> Result<Crs, CrsError> {
    let unknown = || CrsError::Unknown { id: id.to_string() };
    let key = id.trim();
    let key = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(key))
        .map_or(key, |(_, target)| target);
    let crs = if let Some(code) = strip_prefix_ignore_case(key, "EPSG:") {
        let code: u32 = code.trim().parse().map_err(|_| unknown())?;
        epsg(code)
    } else if key.eq_ignore_ascii_case("GCJ02") {
        web_map("GCJ02", "GCJ-02", CrsKind::Gcj02 { bounds: ChinaBounds::UsualBox })
    } else if key.eq_ignore_ascii_case("BD09") {
        web_map("BD09", "BD-09", CrsKind::Bd09 { bounds: ChinaBounds::UsualBox })
    } else if key.eq_ignore_ascii_case("BD09MC") {
        web_map(
            "BD09MC",
            "BD-09 Mercator (Baidu)",
            CrsKind::Bd09Mc { bounds: ChinaBounds::UsualBox },
        )
    } else {
        None
    };
    crs.ok_or_else(unknown)
}

/// Every built-in CRS, in catalogue order (geographic 2D first, then the 3D CRSs, then projected
/// by EPSG code, then the web-map systems).
pub fn all() -> Vec<Crs> {
    let geographic = [4326, 4490, 4214, 4610, 4979, 4480, 4978, 4479];
    let projected = epsg_table::ENTRIES.iter().map(|e| e.code).filter(|c| !geographic.contains(c));
    geographic
        .into_iter()
        .chain(projected)
        .filter_map(epsg)
        .chain(WEB_MAP_IDS.iter().filter_map(|id| lookup(id).ok()))
        .collect()
}

/// The aliases of the built-in catalogue, as `(alias, id)` pairs, e.g. `("WGS84", "EPSG:4326")`.
/// Aliases are matched case-insensitively, like ids.
pub fn aliases() -> &'static [(&'static str, &'static str)] {
    ALIASES
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

fn web_map(id: &str, name: &str, kind: CrsKind) -> Option<Crs> {
    Crs::new(id, name, Datum::wgs84(), kind, Some(web_map_area()), None).ok()
}

/// The catalogue's CRS with EPSG code `code`, if there is one.
fn epsg(code: u32) -> Option<Crs> {
    let index = epsg_table::ENTRIES.binary_search_by_key(&code, |e| e.code).ok()?;
    let entry = &epsg_table::ENTRIES[index];
    let area = epsg_table::AREAS.get(entry.area).map(|a| AreaOfUse {
        name: a.name.to_string(),
        west: a.west,
        south: a.south,
        east: a.east,
        north: a.north,
    });
    let (datum, kind) = definition(code)?;
    let id = format!("EPSG:{code}");
    let crs = Crs::new(&id, entry.name, datum, kind, area, Some(code)).ok()?;
    if GEOGRAPHIC_3D.contains(&code) {
        crs.with_ellipsoidal_height(&id, entry.name, Some(code)).ok()
    } else {
        Some(crs)
    }
}

/// The geographic 3D CRSs (longitude, latitude, ellipsoidal height): WGS 84 and CGCS2000.
const GEOGRAPHIC_3D: [u32; 2] = [4979, 4480];

/// Datum and kind of the EPSG CRS `code`, derived from the code.
fn definition(code: u32) -> Option<(Datum, CrsKind)> {
    Some(match code {
        4326 => (Datum::wgs84(), CrsKind::Geographic),
        4490 => (Datum::cgcs2000(), CrsKind::Geographic),
        4214 => (Datum::beijing1954(), CrsKind::Geographic),
        4610 => (Datum::xian1980(), CrsKind::Geographic),
        4979 => (Datum::wgs84(), CrsKind::Geographic),
        4480 => (Datum::cgcs2000(), CrsKind::Geographic),
        4978 => (Datum::wgs84(), CrsKind::Geocentric),
        4479 => (Datum::cgcs2000(), CrsKind::Geocentric),
        3857 => (Datum::wgs84(), CrsKind::Projected(Projection::WebMercator)),
        _ => {
            let range = ZONE_RANGES
                .iter()
                .find(|r| code >= r.first_code && code < r.first_code + r.zones)?;
            let zone = range.first_zone + (code - range.first_code);
            let lon0 = if range.width == 6 { 6 * zone - 3 } else { 3 * zone };
            let x0 = if range.prefixed { f64::from(zone) * 1e6 + 5e5 } else { 5e5 };
            let datum = match range.datum {
                ZoneDatum::Cgcs2000 => Datum::cgcs2000(),
                ZoneDatum::Beijing1954 => Datum::beijing1954(),
                ZoneDatum::Xian1980 => Datum::xian1980(),
            };
            let params =
                GaussKrugerParams { lon0: f64::from(lon0), lat0: 0.0, k0: 1.0, x0, y0: 0.0 };
            (datum, CrsKind::Projected(Projection::GaussKruger(params)))
        }
    })
}
