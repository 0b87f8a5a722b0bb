//! Writes `src/catalogue/epsg_table.rs`: the EPSG names and areas of use of every EPSG CRS in
//! geounify's built-in catalogue, read from PROJ's database.
//!
//! Run from the crate root: `cargo run --example gen_catalogue_table --features proj`
//!
//! The projection parameters themselves (central meridian, false easting) are derived from the
//! code ranges in `src/catalogue/mod.rs`; this program checks them against PROJ's definition of
//! every code and refuses to write the table if any disagrees.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use proj::wkt::WktVersion;
use proj::Proj;

/// `(first code, zones, zone width in degrees, first zone, zone-prefixed false easting)`.
const RANGES: &[(u32, u32, u32, u32, bool)] = &[
    (2327, 11, 6, 13, true),   // Xian 1980 / Gauss-Kruger zone 13-23
    (2338, 11, 6, 13, false),  // Xian 1980 / Gauss-Kruger CM 75E-135E
    (2349, 21, 3, 25, true),   // Xian 1980 / 3-degree Gauss-Kruger zone 25-45
    (2370, 21, 3, 25, false),  // Xian 1980 / 3-degree Gauss-Kruger CM 75E-135E
    (2401, 21, 3, 25, true),   // Beijing 1954 / 3-degree Gauss-Kruger zone 25-45
    (2422, 21, 3, 25, false),  // Beijing 1954 / 3-degree Gauss-Kruger CM 75E-135E
    (4491, 11, 6, 13, true),   // CGCS2000 / Gauss-Kruger zone 13-23
    (4502, 11, 6, 13, false),  // CGCS2000 / Gauss-Kruger CM 75E-135E
    (4513, 21, 3, 25, true),   // CGCS2000 / 3-degree Gauss-Kruger zone 25-45
    (4534, 21, 3, 25, false),  // CGCS2000 / 3-degree Gauss-Kruger CM 75E-135E
    (21413, 11, 6, 13, true),  // Beijing 1954 / Gauss-Kruger zone 13-23
    (21453, 11, 6, 13, false), // Beijing 1954 / Gauss-Kruger CM 75E-135E
];

/// The value of `PARAMETER["name",value]` in WKT 1.
fn param(wkt: &str, name: &str) -> Option<f64> {
    let start = wkt.find(&format!("PARAMETER[\"{name}\","))? + name.len() + 13;
    let end = start + wkt[start..].find(']')?;
    wkt[start..end].trim().parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // (code, expected lon0, expected x0); None for the non-Gauss-Krüger CRSs.
    let mut codes: Vec<(u32, Option<(f64, f64)>)> =
        [4326, 4490, 4214, 4610, 3857, 4479, 4480, 4978, 4979].iter().map(|&c| (c, None)).collect();
    for &(first, zones, width, first_zone, prefix) in RANGES {
        for i in 0..zones {
            let zone = first_zone + i;
            let lon0 = if width == 6 { 6 * zone - 3 } else { 3 * zone };
            let x0 = if prefix { f64::from(zone) * 1e6 + 5e5 } else { 5e5 };
            codes.push((first + i, Some((f64::from(lon0), x0))));
        }
    }
    codes.sort_by_key(|c| c.0);

    let mut areas: BTreeMap<String, usize> = BTreeMap::new();
    let mut area_rows: Vec<String> = Vec::new();
    let mut entry_rows: Vec<String> = Vec::new();
    for &(code, expected) in &codes {
        let crs = Proj::new(&format!("EPSG:{code}"))?;
        let name = crs.proj_info().description.ok_or("CRS without a name")?;
        let (bbox, area_name) = crs.area_of_use()?;
        let bbox = bbox.ok_or("CRS without an area of use")?;
        let area_name = area_name.ok_or("area of use without a name")?;
        if let Some((lon0, x0)) = expected {
            let wkt = crs.as_wkt(Some(WktVersion::Wkt1_Gdal), None)?;
            let num = |k: &str| param(&wkt, k);
            if num("central_meridian") != Some(lon0)
                || num("false_easting") != Some(x0)
                || num("scale_factor") != Some(1.0)
                || num("latitude_of_origin") != Some(0.0)
                || num("false_northing") != Some(0.0)
            {
                return Err(format!("EPSG:{code}: derived lon0 {lon0} x0 {x0}, PROJ: {wkt}").into());
            }
        }
        let key = format!(
            "{:?}, west: {:?}, south: {:?}, east: {:?}, north: {:?}",
            area_name, bbox.west, bbox.south, bbox.east, bbox.north
        );
        let next = areas.len();
        let index = *areas.entry(key.clone()).or_insert_with(|| {
            area_rows.push(format!("    TableArea {{ name: {key} }},"));
            next
        });
        entry_rows
            .push(format!("    TableEntry {{ code: {code}, name: {name:?}, area: {index} }},"));
    }

    let info = Proj::new("EPSG:4326")?.lib_info()?;
    let mut out = String::new();
    writeln!(out, "//! GENERATED FILE, do not edit. EPSG names and areas of use of the built-in")?;
    writeln!(out, "//! catalogue, from the EPSG database of PROJ {}.", info.version)?;
    writeln!(out, "//!")?;
    writeln!(out, "//! Regenerate: `cargo run --example gen_catalogue_table --features proj`")?;
    writeln!(out)?;
    writeln!(out, "use super::{{TableArea, TableEntry}};")?;
    writeln!(out)?;
    writeln!(out, "/// Areas of use, shared by the CRSs that cover the same zone.")?;
    writeln!(out, "pub(super) static AREAS: &[TableArea] = &[")?;
    for row in &area_rows {
        writeln!(out, "{row}")?;
    }
    writeln!(out, "];")?;
    writeln!(out)?;
    writeln!(
        out,
        "/// Every EPSG CRS of the catalogue, sorted by code; `area` indexes [`AREAS`]."
    )?;
    writeln!(out, "pub(super) static ENTRIES: &[TableEntry] = &[")?;
    for row in &entry_rows {
        writeln!(out, "{row}")?;
    }
    writeln!(out, "];")?;
    std::fs::write("src/catalogue/epsg_table.rs", out)?;
    println!(
        "wrote src/catalogue/epsg_table.rs: {} CRSs, {} areas",
        entry_rows.len(),
        area_rows.len()
    );
    Ok(())
}
