//! Sanity checks before converting: do the coordinates fit the declared source CRS at all?
//!
//! Declaring the wrong CRS is the commonest way shared data lands metres or kilometres off, and
//! the conversion itself cannot notice: every number converts to *something*. So before any file
//! is converted, a sample of its first coordinates ([`SAMPLE_SIZE`]) is checked against what the
//! source CRS allows, and the conversion stops (unless forced) when most of them cannot belong
//! to it, saying what is wrong and, where it can tell, what the data looks like instead:
//!
//! - degrees declared where metres are expected, and metres declared as degrees;
//! - latitude and longitude swapped, easting and northing swapped (survey order X = north);
//! - a Gauss-Krüger easting without the zone prefix its CRS expects, with one its CRS does not
//!   have, or with another zone's prefix ("values look like CGCS2000 / 3-degree Gauss-Kruger
//!   zone 39 (EPSG:4527)");
//! - points far (more than [`AREA_MARGIN_DEG`]) outside the CRS's area of use.
//!
//! A finding needs more than half of the sample to show it, so a few stray points do not stop a
//! conversion (they are still converted, or reported if they fail).

use crate::catalogue;
use crate::crs::{Crs, CrsKind};
use crate::transformer::{Heights, Transformer};
use std::fmt;

/// How many coordinates from the start of a file are checked.
pub const SAMPLE_SIZE: usize = 1000;

/// How far outside its area of use (degrees, on every side) a point may lie before it counts
/// as "far outside".
pub const AREA_MARGIN_DEG: f64 = 2.0;

/// What is wrong with the data for its declared CRS, and what it looks like instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What is wrong, e.g. "eastings carry a zone prefix (39) but EPSG:4548 has none".
    pub problem: String,
    /// What the data looks like instead, if there is a guess, e.g. "values look like CGCS2000
    /// / 3-degree Gauss-Kruger zone 39 (EPSG:4527)".
    pub looks_like: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.problem)?;
        if let Some(guess) = &self.looks_like {
            write!(f, "; {guess}")?;
        }
        Ok(())
    }
}

fn finding(problem: String, looks_like: Option<String>) -> Option<Finding> {
    Some(Finding { problem, looks_like })
}

/// Whether more than half of `samples` satisfy `test`.
fn most(samples: &[[f64; 3]], test: impl Fn(f64, f64) -> bool) -> bool {
    let n = samples.iter().filter(|p| test(p[0], p[1])).count();
    2 * n > samples.len()
}

/// The median of the finite x and y values (for messages).
fn typical(samples: &[[f64; 3]]) -> (f64, f64) {
    let median = |k: usize| {
        let mut v: Vec<f64> = samples.iter().map(|p| p[k]).filter(|v| v.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    (median(0), median(1))
}

/// Degrees that could be in China (with a wide margin): longitude 70–140, latitude 0–56.
fn chinese_lon(v: f64) -> bool {
    (70.0..=140.0).contains(&v)
}
fn chinese_lat(v: f64) -> bool {
    (0.0..=56.0).contains(&v)
}
fn degrees(x: f64, y: f64) -> bool {
    x.abs() <= 180.0 && y.abs() <= 90.0
}

/// Checks `samples` (`[x, y, z]` in `source`'s units) against `source`; `None` if plausible.
pub fn check(source: &Crs, samples: &[[f64; 3]]) -> Option<Finding> {
    let samples: Vec<[f64; 3]> =
        samples.iter().copied().filter(|p| p[0].is_finite() && p[1].is_finite()).collect();
    // Geocentric X, Y, Z have no plane or angle to check.
    if samples.is_empty() || matches!(source.kind(), CrsKind::Geocentric) {
        return None;
    }
    let (tx, ty) = typical(&samples);
    let id = source.id();
    if source.is_angular() {
        if most(&samples, |x, y| chinese_lat(x) && chinese_lon(y) && !chinese_lon(x)) {
            return finding(
                format!(
                    "x holds latitudes and y longitudes (typical x {tx}, y {ty}): latitude and \
                     longitude look swapped"
                ),
                Some(format!("values look like {id} with y, x order: swap the columns")),
            );
        }
        if most(&samples, |x, y| !degrees(x, y)) {
            return finding(
                format!("values are not degrees, as {id} expects (typical x {tx}, y {ty})"),
                guess_projected(source, tx, ty),
            );
        }
        return outside_area(source, &samples);
    }
    if most(&samples, degrees) {
        return finding(
            format!("values look like degrees (typical x {tx}, y {ty}), but {id} is in metres"),
            Some("values look like longitude, latitude: declare a geographic CRS".to_string()),
        );
    }
    if let Some(tm) = source.transverse_mercator() {
        if let Some(f) = gauss_kruger(source, tm.x0, &samples, tx, ty) {
            return Some(f);
        }
    }
    outside_area(source, &samples)
}

/// The zone number carried by a prefixed easting (13–23 for 6° zones, 25–45 for 3° zones).
fn prefix_of(easting: f64) -> Option<u32> {
    let zone = (easting / 1e6).floor();
    ((13.0..=23.0).contains(&zone) || (25.0..=45.0).contains(&zone)).then_some(zone as u32)
}

fn gauss_kruger(source: &Crs, x0: f64, samples: &[[f64; 3]], tx: f64, ty: f64) -> Option<Finding> {
    let id = source.id();
    let expected = prefix_of(x0);
    // Easting/northing swapped: northings (≥ 1 000 km in China) in x, eastings in y.
    let plain_easting = |v: f64| (0.0..1.0e6).contains(&v);
    let in_zone = |e: f64| (e - x0).abs() < 1.0e6;
    if most(samples, |x, y| !in_zone(x) && in_zone(y) && (1.0e6..1.0e7).contains(&x)) {
        return finding(
            format!(
                "x holds northings and y eastings (typical x {tx}, y {ty}): easting and \
                 northing look swapped (survey tables write X = north, Y = east)"
            ),
            Some(format!("values look like {id} with y, x order: swap the columns")),
        );
    }
    match expected {
        None => {
            if most(samples, |x, _| prefix_of(x).is_some()) {
                let zone = prefix_of(tx)?;
                return finding(
                    format!(
                        "eastings carry a zone prefix ({zone}) but {id} has none (typical x {tx})"
                    ),
                    similar_zone(source, zone, true).map(|c| format!("values look like {c}")),
                );
            }
        }
        Some(zone) => {
            if most(samples, |x, _| plain_easting(x)) {
                return finding(
                    format!(
                        "eastings lack the zone prefix ({zone}) that {id} expects (typical x {tx})"
                    ),
                    similar_zone(source, zone, false).map(|c| format!("values look like {c}")),
                );
            }
            if most(samples, |x, _| prefix_of(x).is_some_and(|z| z != zone)) {
                let found = prefix_of(tx)?;
                return finding(
                    format!("eastings carry zone prefix {found} but {id} is zone {zone} (typical x {tx})"),
                    similar_zone(source, found, true).map(|c| format!("values look like {c}")),
                );
            }
        }
    }
    if most(samples, |x, _| !in_zone(x)) {
        return finding(
            format!("eastings are more than 1000 km from {id}'s central meridian (typical x {tx})"),
            None,
        );
    }
    if most(samples, |_, y| !(-1.0e7..=1.0e7).contains(&y)) {
        return finding(format!("northings are beyond the earth's (typical y {ty})"), None);
    }
    None
}

/// The catalogue's Gauss-Krüger zone `zone` (prefixed or not) on the source's datum family, as
/// "name (id)".
fn similar_zone(source: &Crs, zone: u32, prefixed: bool) -> Option<String> {
    let ellipsoid = source.datum().ellipsoid();
    // 6° zone n has its central meridian at 6n − 3, 3° zone n at 3n.
    let lon0 = if zone <= 23 { f64::from(6 * zone - 3) } else { f64::from(3 * zone) };
    let x0 = if prefixed { f64::from(zone) * 1e6 + 5e5 } else { 5e5 };
    let six = zone <= 23;
    catalogue::all()
        .into_iter()
        .filter(|c| c.datum().ellipsoid().same_shape(ellipsoid))
        .find(|c| {
            c.transverse_mercator().is_some_and(|p| {
                p.lon0 == lon0 && p.x0 == x0 && (c.name().contains("3-degree") != six)
            })
        })
        .map(|c| format!("{} ({})", c.name(), c.id()))
}

/// A guess for metres declared as degrees: a Gauss-Krüger zone with prefix, or "projected".
fn guess_projected(source: &Crs, tx: f64, ty: f64) -> Option<String> {
    if (1.0e6..1.0e7).contains(&ty) {
        if let Some(zone) = prefix_of(tx) {
            return similar_zone(source, zone, true).map(|c| format!("values look like {c}"));
        }
        if (0.0..1.0e6).contains(&tx) {
            return Some(
                "values look like Gauss-Krüger easting, northing in metres (a zone without \
                 prefix: declare the projected CRS)"
                    .to_string(),
            );
        }
    }
    Some("values look like projected coordinates in metres".to_string())
}

/// Points far outside the source's area of use (or its base's, for a local grid).
fn outside_area(source: &Crs, samples: &[[f64; 3]]) -> Option<Finding> {
    let area = source.area_of_use().or_else(|| match source.kind() {
        CrsKind::Local { base, .. } => base.area_of_use(),
        _ => None,
    })?;
    let geographic = Crs::new(
        "geographic",
        "geographic",
        source.datum().clone(),
        CrsKind::Geographic,
        None,
        None,
    )
    .ok()?;
    // Plane positions only: the kind of height does not matter (a 3D source is allowed).
    let to_geographic =
        Transformer::with_heights(source, &geographic, Heights::Ellipsoidal).ok()?;
    let m = AREA_MARGIN_DEG;
    let outside = samples
        .iter()
        .filter(|p| match to_geographic.transform_xy(p[0], p[1]) {
            Ok((lon, lat)) => {
                lon < area.west - m
                    || lon > area.east + m
                    || lat < area.south - m
                    || lat > area.north + m
            }
            Err(_) => true,
        })
        .count();
    if 2 * outside > samples.len() {
        return finding(
            format!(
                "{outside} of {} sampled points lie more than {m}° outside the area of use of {} \
                 ({}: longitude {}–{}, latitude {}–{})",
                samples.len(),
                source.id(),
                area.name.trim_end_matches('.'),
                area.west,
                area.east,
                area.south,
                area.north
            ),
            None,
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crs(id: &str) -> Crs {
        catalogue::lookup(id).unwrap()
    }

    fn check_all(id: &str, points: &[[f64; 2]]) -> Option<Finding> {
        let samples: Vec<[f64; 3]> = points.iter().map(|p| [p[0], p[1], 0.0]).collect();
        check(&crs(id), &samples)
    }

    #[test]
    fn plausible_data_passes() {
        assert_eq!(check_all("EPSG:4326", &[[116.4, 39.9], [121.5, 31.2]]), None);
        assert_eq!(check_all("EPSG:4548", &[[448_688.9, 4_418_598.0]]), None);
        assert_eq!(check_all("EPSG:4527", &[[39_448_688.9, 4_418_598.0]]), None);
        assert_eq!(check_all("GCJ02", &[[116.41, 39.91]]), None);
        assert_eq!(check_all("EPSG:4326", &[]), None);
    }

    #[test]
    fn swapped_latitude_longitude() {
        let f = check_all("EPSG:4326", &[[39.9, 116.4], [31.2, 121.5]]).unwrap();
        assert!(f.problem.contains("latitude and longitude look swapped"), "{f}");
    }

    #[test]
    fn metres_declared_as_degrees_and_degrees_as_metres() {
        let f = check_all("EPSG:4490", &[[39_448_688.9, 4_418_598.0]]).unwrap();
        assert!(f.problem.contains("values are not degrees"), "{f}");
        assert_eq!(
            f.looks_like.as_deref(),
            Some("values look like CGCS2000 / 3-degree Gauss-Kruger zone 39 (EPSG:4527)")
        );
        let f = check_all("EPSG:4548", &[[116.4, 39.9]]).unwrap();
        assert!(f.problem.contains("values look like degrees"), "{f}");
    }

    #[test]
    fn zone_prefixes() {
        let f = check_all("EPSG:4548", &[[39_448_688.9, 4_418_598.0]]).unwrap();
        assert_eq!(
            f.to_string(),
            "eastings carry a zone prefix (39) but EPSG:4548 has none (typical x 39448688.9); \
             values look like CGCS2000 / 3-degree Gauss-Kruger zone 39 (EPSG:4527)"
        );
        let f = check_all("EPSG:4527", &[[448_688.9, 4_418_598.0]]).unwrap();
        assert!(f.problem.contains("lack the zone prefix (39)"), "{f}");
        assert_eq!(
            f.looks_like.as_deref(),
            Some("values look like CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548)")
        );
        let f = check_all("EPSG:4527", &[[38_548_688.9, 4_418_598.0]]).unwrap();
        assert!(f.problem.contains("zone prefix 38 but EPSG:4527 is zone 39"), "{f}");
        // Beijing 1954 data with a 6° prefix declared on a 3° Beijing 1954 zone without prefix.
        let f = check_all("EPSG:2436", &[[20_448_688.9, 4_418_598.0]]).unwrap();
        assert_eq!(
            f.looks_like.as_deref(),
            Some("values look like Beijing 1954 / Gauss-Kruger zone 20 (EPSG:21420)")
        );
    }

    #[test]
    fn swapped_easting_northing_and_far_away_points() {
        let f =
            check_all("EPSG:4548", &[[4_418_598.0, 448_688.9], [4_420_000.0, 450_000.0]]).unwrap();
        assert!(f.problem.contains("easting and northing look swapped"), "{f}");
        // Points in Europe declared as GCJ-02.
        let f = check_all("GCJ02", &[[2.35, 48.85], [13.4, 52.5]]).unwrap();
        assert!(f.problem.contains("outside the area of use of GCJ02"), "{f}");
        // A minority of stray points does not stop a conversion.
        assert_eq!(check_all("GCJ02", &[[116.4, 39.9], [116.5, 39.8], [2.35, 48.85]]), None);
    }
}
