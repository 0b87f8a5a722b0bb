//! geounify against reference transformations computed by PROJ 9.6.2, committed in
//! `tests/data/proj_vectors.csv` (regenerate with
//! `cargo run --example gen_proj_vectors --features proj`; the file header says what each case
//! is). No PROJ needed here.
//!
//! Tolerances:
//! - projected coordinates: 1 µm (1e-6 m). PROJ's `tmerc` is Poder/Engsager's 6th-order Krüger
//!   series, accurate to a few nanometres within the Chinese zones; two correct implementations
//!   therefore agree to far better than 1 µm, while an error in a parameter, an ellipsoid
//!   constant or a series coefficient shows up as millimetres or more. f64 rounding at
//!   eastings up to 4.6e7 m is about 1e-8 m, well inside.
//! - geographic coordinates: 1e-11° (about 1.1 µm on the ground), the same accuracy in angle.
//! - the user-datum Helmert cases are held to the same 1 µm: PROJ's `helmert` applies the
//!   EPSG (linearised-rotation) formulas, and any difference in convention, sign or the order
//!   of scale and rotation shows up as decimetres.

use std::collections::BTreeMap;

use geounify::ops::{GaussKrugerParams, HelmertConvention};

mod common;
use geounify::{catalogue, Crs, CrsKind, Datum, DatumShift, Heights, Projection, Transformer};

const METRES: f64 = 1e-6;
const DEGREES: f64 = 1e-11;

struct Row {
    case: String,
    x_in: f64,
    y_in: f64,
    x_out: f64,
    y_out: f64,
}

/// The rows of the vector file, grouped by (source, target).
fn vectors() -> BTreeMap<(String, String), Vec<Row>> {
    let text = include_str!("data/proj_vectors.csv");
    let mut groups: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 7, "bad line {line}");
        let n = |i: usize| f[i].parse::<f64>().unwrap_or_else(|e| panic!("{line}: {e}"));
        groups.entry((f[1].to_string(), f[2].to_string())).or_default().push(Row {
            case: f[0].to_string(),
            x_in: n(3),
            y_in: n(4),
            x_out: n(5),
            y_out: n(6),
        });
    }
    groups
}

/// The user datum of the `USER:BJ54-CF` / `USER:BJ54-PV` cases: a Beijing-1954-like 3° zone at
/// 117°E with the file header's Helmert shift to CGCS2000.
fn user_crs(id: &str) -> Crs {
    let convention = match id {
        "USER:BJ54-CF" => HelmertConvention::CoordinateFrame,
        "USER:BJ54-PV" => HelmertConvention::PositionVector,
        other => panic!("unknown user CRS {other}"),
    };
    let shift = DatumShift::Helmert(common::city_helmert(convention));
    let datum = Datum::beijing1954().with_shift("bj54-test", shift);
    let params = GaussKrugerParams { lon0: 117.0, lat0: 0.0, k0: 1.0, x0: 500_000.0, y0: 0.0 };
    let kind = CrsKind::Projected(Projection::GaussKruger(params));
    Crs::new(id, "Beijing 1954 (test realisation) / CM 117E", datum, kind, None, None).unwrap()
}

fn crs(id: &str) -> Crs {
    if id.starts_with("USER:") {
        user_crs(id)
    } else {
        catalogue::lookup(id).unwrap()
    }
}

#[derive(Default)]
struct Worst {
    forward_m: f64,
    inverse_m: f64,
    inverse_deg: f64,
}

/// Checks every row of `case` whose target is (or, with `web_mercator` false, is not)
/// EPSG:3857 in both directions, and returns the largest differences seen.
fn check(case: &str, web_mercator: bool) -> Worst {
    let mut worst = Worst::default();
    let mut checked = 0;
    for ((source, target), rows) in vectors() {
        let rows: Vec<&Row> = rows.iter().filter(|r| r.case == case).collect();
        if (target == "EPSG:3857") != web_mercator {
            continue;
        }
        if rows.is_empty() {
            continue;
        }
        let (source_crs, target_crs) = (crs(&source), crs(&target));
        // Ellipsoidal heights (3D), so that the inverse below can start from the output height;
        // the forward at height 0 is also the 2D (elevation) conversion, checked to be that.
        let forward =
            Transformer::with_heights(&source_crs, &target_crs, Heights::Ellipsoidal).unwrap();
        let inverse = forward.inverse();
        let two_d = Transformer::new(&source_crs, &target_crs).unwrap();
        for r in rows {
            // 3D, height 0 on the source datum as PROJ's 2D `convert` takes it; the output
            // height `h` is kept for the inverse below.
            let plane = two_d.transform([r.x_in, r.y_in, 123.0]).unwrap();
            let [x, y, h] = forward
                .transform([r.x_in, r.y_in, 0.0])
                .unwrap_or_else(|e| panic!("{source} -> {target} ({}, {}): {e}", r.x_in, r.y_in));
            let d = (x - r.x_out).abs().max((y - r.y_out).abs());
            assert!(
                d <= METRES,
                "{source} -> {target} ({}, {}): geounify ({x}, {y}), PROJ ({}, {}), {d:e} m",
                r.x_in,
                r.y_in,
                r.x_out,
                r.y_out
            );
            worst.forward_m = worst.forward_m.max(d);
            assert_eq!([plane[0], plane[1], plane[2]], [x, y, 123.0], "2D: elevation copied");

            // The inverse, from PROJ's output back to PROJ's input. Across datums this needs the
            // output height: a 2D inverse would start from height 0 on the *target* datum, and
            // the Helmert shift of a point some 50 m higher or lower moves it horizontally by
            // about a millimetre (so 2D forward and 2D inverse are not exact inverses, in PROJ
            // either).
            let [x, y, _] = inverse
                .transform([r.x_out, r.y_out, h])
                .unwrap_or_else(|e| panic!("{target} -> {source} ({}, {}): {e}", r.x_out, r.y_out));
            let d = (x - r.x_in).abs().max((y - r.y_in).abs());
            let (limit, unit, slot) = if source_crs.is_angular() {
                (DEGREES, "°", &mut worst.inverse_deg)
            } else {
                (METRES, " m", &mut worst.inverse_m)
            };
            assert!(
                d <= limit,
                "{target} -> {source} ({}, {}): geounify ({x}, {y}), PROJ input ({}, {}), {d:e}{unit}",
                r.x_out,
                r.y_out,
                r.x_in,
                r.y_in
            );
            *slot = slot.max(d);
            checked += 1;
        }
    }
    assert!(checked > 0, "no vectors for case {case}");
    eprintln!(
        "{case} (web mercator: {web_mercator}): {checked} points; max forward {:e} m, max inverse {:e} m / {:e}°",
        worst.forward_m, worst.inverse_m, worst.inverse_deg
    );
    worst
}

#[test]
fn vector_file_covers_every_projected_catalogue_crs() {
    let groups = vectors();
    for crs in catalogue::all() {
        if matches!(crs.kind(), CrsKind::Projected(_)) {
            let n = groups
                .iter()
                .filter(|((_, target), _)| target == crs.id())
                .flat_map(|(_, rows)| rows.iter().filter(|r| r.case == "zone"))
                .count();
            assert_eq!(n, 20, "{}", crs.id());
        }
    }
}

#[test]
fn every_catalogue_gauss_kruger_zone_matches_proj() {
    check("zone", false);
}

#[test]
fn web_mercator_matches_proj() {
    check("zone", true);
    check("cross", true);
}

#[test]
fn cross_pairs_match_proj() {
    check("cross", false);
}

#[test]
fn user_datum_coordinate_frame_matches_proj_pipeline() {
    check("user-cf", false);
}

#[test]
fn user_datum_position_vector_matches_proj_pipeline() {
    check("user-pv", false);
}
