//! The transformer as a whole: how pairs compile, datum rules, batches, geometries, threads.
//!
//! Numbers here come from outside references (published GCJ-02 / BD-09 vectors, PROJ's gie
//! vectors) or from round-trip properties; differential tests against PROJ live in
//! `proj_vectors.rs` and `proj_differential.rs`.

use geounify::ops::{HelmertConvention, Operation};
use geounify::{
    catalogue, BuildError, Crs, CrsKind, Datum, DatumShift, Heights, PointError, Projection,
    Transformer,
};
use proptest::prelude::*;

mod common;

/// A city's Beijing 1954 realisation with a 7-parameter set to CGCS2000 (illustrative values of
/// the size cities use).
fn bj54_city() -> Datum {
    Datum::beijing1954().with_shift(
        "bj54-city",
        DatumShift::Helmert(common::city_helmert(HelmertConvention::CoordinateFrame)),
    )
}

fn bj54_city_gk117() -> Crs {
    let Ok(base) = catalogue::lookup("EPSG:2436") else { panic!("EPSG:2436 missing") };
    let CrsKind::Projected(Projection::GaussKruger(params)) = base.kind().clone() else {
        panic!("EPSG:2436 is not Gauss-Kruger")
    };
    Crs::new(
        "city:bj54-gk117",
        "City Beijing 1954 / GK CM 117E",
        bj54_city(),
        CrsKind::Projected(Projection::GaussKruger(params)),
        None,
        None,
    )
    .unwrap()
}

#[test]
fn transformer_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Transformer>();
}

#[test]
fn wgs84_and_cgcs2000_geographic_are_the_same_frame() {
    let t = Transformer::from_ids("WGS84", "cgcs2000").unwrap();
    assert!(t.steps().is_empty(), "{:?}", t.steps());
    assert_eq!(t.transform([116.404, 39.915, 12.5]).unwrap(), [116.404, 39.915, 12.5]);
}

#[test]
fn same_datum_pairs_have_no_datum_shift() {
    for (from, to) in
        [("EPSG:4547", "EPSG:4548"), ("EPSG:2435", "EPSG:21460"), ("EPSG:4610", "EPSG:2385")]
    {
        let t = Transformer::from_ids(from, to).unwrap();
        let names: Vec<&str> = t.steps().iter().map(|s| s.op.name()).collect();
        assert!(
            names.iter().all(|n| *n == "gauss-kruger" || *n == "degrees-to-radians"),
            "{names:?}"
        );
    }
}

#[test]
fn beijing1954_to_cgcs2000_without_parameters_is_refused() {
    for (from, to) in [("BJ54", "CGCS2000"), ("EPSG:2436", "EPSG:4548"), ("XIAN80", "BJ54")] {
        match Transformer::from_ids(from, to) {
            Err(BuildError::MissingDatumShift { missing, .. }) => {
                assert!(missing.contains("no parameters"), "{missing}");
            }
            other => panic!("{from} → {to}: expected MissingDatumShift, got {other:?}"),
        }
    }
}

#[test]
fn unknown_ids_are_refused() {
    assert!(matches!(
        Transformer::from_ids("EPSG:9999999", "WGS84"),
        Err(BuildError::UnknownCrs(_))
    ));
}

#[test]
fn gcj02_to_bd09_needs_no_iterative_inverse() {
    // Published vector: GCJ-02 (116.404, 39.915) → BD-09 (116.41036949371029, 39.92133699351022).
    let t = Transformer::from_ids("GCJ02", "BD09").unwrap();
    let names: Vec<(&str, bool)> = t.steps().iter().map(|s| (s.op.name(), s.inverse)).collect();
    assert!(!names.contains(&("gcj02", true)), "{names:?}");
    let (x, y) = t.transform_xy(116.404, 39.915).unwrap();
    assert!((x - 116.410_369_493_710_29).abs() < 1e-9 && (y - 39.921_336_993_510_22).abs() < 1e-9);
}

#[test]
fn wgs84_to_bd09_chains_the_published_formulas() {
    // WGS84 (116.404, 39.915) → GCJ-02 (116.41024449916938, 39.91640428150164) (published), then
    // GCJ-02 → BD-09 by the published formula, so BD-09 must equal bd09(gcj02(p)).
    let to_gcj = Transformer::from_ids("WGS84", "GCJ02").unwrap();
    let gcj_to_bd = Transformer::from_ids("GCJ02", "BD09").unwrap();
    let direct = Transformer::from_ids("WGS84", "BD09").unwrap();
    let (gx, gy) = to_gcj.transform_xy(116.404, 39.915).unwrap();
    assert!(
        (gx - 116.410_244_499_169_38).abs() < 1e-9 && (gy - 39.916_404_281_501_64).abs() < 1e-9
    );
    let two_step = gcj_to_bd.transform_xy(gx, gy).unwrap();
    assert_eq!(direct.transform_xy(116.404, 39.915).unwrap(), two_step);
}

#[test]
fn user_datum_shift_goes_through_geocentric_helmert() {
    let t = Transformer::new(&bj54_city_gk117(), &catalogue::lookup("EPSG:4548").unwrap()).unwrap();
    let names: Vec<&str> = t.steps().iter().map(|s| s.op.name()).collect();
    assert_eq!(names, ["gauss-kruger", "geocentric", "helmert", "geocentric", "gauss-kruger"]);
    // The shift moves a point by the order of the translation (~140 m), not zero, not kilometres.
    let p = [449_600.0, 4_418_500.0, 0.0];
    let q = t.transform(p).unwrap();
    let moved = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
    assert!(moved > 1.0 && moved < 500.0, "moved {moved} m");
    // Between these 2D CRSs the height is an elevation: copied, not shifted.
    assert_eq!(q[2], 0.0);
    // And back, with the heights said to be ellipsoidal so the height the shift produced goes
    // back in: the point is recovered within 1 µm (the Helmert inverse is exact, the
    // projections round-trip to ~1e-9 m). Its plane result is the elevation transformer's.
    let t3 = Transformer::with_heights(
        &bj54_city_gk117(),
        &catalogue::lookup("EPSG:4548").unwrap(),
        Heights::Ellipsoidal,
    )
    .unwrap();
    let q3 = t3.transform(p).unwrap();
    assert_eq!([q3[0], q3[1]], [q[0], q[1]]);
    let back = t3.inverse().transform(q3).unwrap();
    assert!((back[0] - p[0]).abs() < 1e-6 && (back[1] - p[1]).abs() < 1e-6, "{back:?}");
    assert!(back[2].abs() < 1e-6, "{back:?}");
}

#[test]
fn batch_reports_failed_points_and_goes_on() {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let mut pts = vec![[114.0, 30.0], [f64::NAN, 30.0], [114.5, 95.0], [113.9, 22.5]];
    let report = t.transform_slice(&mut pts);
    assert_eq!(report.points, 4);
    let failed: Vec<usize> = report.failures.iter().map(|f| f.index).collect();
    assert_eq!(failed, [1, 2]);
    assert_eq!(report.failures[0].error, PointError::NonFinite);
    assert_eq!(report.failures[1].error, PointError::LatitudeOutOfRange { latitude_deg: 95.0 });
    assert!(pts[1][0].is_nan() && pts[2][1].is_nan());
    assert_eq!(pts[0], {
        let (x, y) = t.transform_xy(114.0, 30.0).unwrap();
        [x, y]
    });
    assert!((pts[0][0] - 500_000.0).abs() < 1e-6, "on the central meridian: {:?}", pts[0]);
}

#[test]
fn columns_must_have_equal_lengths() {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let (mut x, mut y) = (vec![114.0; 3], vec![30.0; 2]);
    assert!(t.transform_columns(&mut x, &mut y, None).is_err());
    assert_eq!(x, vec![114.0; 3], "nothing is touched when the lengths differ");
}

#[test]
fn columns_slices_and_parallel_agree() {
    let t = Transformer::from_ids("WGS84", "EPSG:4548").unwrap();
    let n: usize = 50_000;
    let pts: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            let f = i as f64 / n as f64;
            let lat = if i % 997 == 0 { 91.0 } else { 30.0 + 10.0 * f };
            [115.5 + 3.0 * f, lat, 50.0 * f]
        })
        .collect();
    let mut serial = pts.clone();
    let serial_report = t.transform_slice(&mut serial);
    let mut parallel = pts.clone();
    let parallel_report = t.par_transform_slice(&mut parallel);
    assert_eq!(serial_report, parallel_report);
    assert_eq!(serial_report.failed(), n.div_ceil(997));
    let (mut x, mut y, mut z): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        pts.iter().map(|p| p[0]).collect(),
        pts.iter().map(|p| p[1]).collect(),
        pts.iter().map(|p| p[2]).collect(),
    );
    let columns_report = t.par_transform_columns(&mut x, &mut y, Some(&mut z)).unwrap();
    assert_eq!(columns_report, serial_report);
    for i in 0..n {
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        assert!(same(serial[i][0], parallel[i][0]) && same(serial[i][1], parallel[i][1]));
        assert!(same(serial[i][0], x[i]) && same(serial[i][1], y[i]) && same(serial[i][2], z[i]));
    }
}

#[test]
fn shared_across_threads_gives_identical_results() {
    let t = Transformer::from_ids("GCJ02", "EPSG:4547").unwrap();
    let pts: Vec<[f64; 2]> =
        (0..2000).map(|i| [113.0 + i as f64 * 1e-3, 22.0 + i as f64 * 1e-3]).collect();
    let mut reference = pts.clone();
    t.transform_slice(&mut reference);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut mine = pts.clone();
                t.transform_slice(&mut mine);
                assert_eq!(mine, reference);
            });
        }
    });
}

#[cfg(feature = "geo")]
#[test]
fn geometries_are_transformed_vertex_by_vertex() {
    use geo_types::{coord, Geometry, LineString, Polygon};
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let ring = LineString::from(vec![(114.0, 30.0), (114.1, 30.0), (114.1, 95.0), (114.0, 30.0)]);
    let mut g = Geometry::Polygon(Polygon::new(ring, vec![]));
    let report = t.transform_geometry(&mut g);
    assert_eq!(report.points, 4);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].index, 2);
    let Geometry::Polygon(p) = g else { unreachable!() };
    let (x, y) = t.transform_xy(114.1, 30.0).unwrap();
    assert_eq!(p.exterior().0[1], coord! { x: x, y: y });
}

#[test]
fn three_d_input_carries_height_through_a_datum_shift() {
    let geographic =
        Crs::new("city:bj54-geog", "City BJ54", bj54_city(), CrsKind::Geographic, None, None)
            .unwrap();
    let cgcs2000 = catalogue::lookup("CGCS2000").unwrap();
    // Heights said to be ellipsoidal go through the datum shift, and back within 1 µm.
    let t = Transformer::with_heights(&geographic, &cgcs2000, Heights::Ellipsoidal).unwrap();
    let a = t.transform([117.0, 39.0, 0.0]).unwrap();
    let b = t.transform([117.0, 39.0, 100.0]).unwrap();
    assert!((b[2] - a[2] - 100.0).abs() < 1e-3, "{a:?} {b:?}");
    assert!(a[2].abs() > 0.01, "a datum shift changes the ellipsoidal height: {a:?}");
    let back = t.inverse().transform(b).unwrap();
    assert!(
        (back[0] - 117.0).abs() < 1e-11
            && (back[1] - 39.0).abs() < 1e-11
            && (back[2] - 100.0).abs() < 1e-6
    );
    // By default (both CRSs 2D, heights elevations) the same point keeps its height exactly and
    // lands where the point without a height does (height 0 on the source datum).
    let e = Transformer::new(&geographic, &cgcs2000).unwrap();
    let b2 = e.transform([117.0, 39.0, 100.0]).unwrap();
    assert_eq!(b2[2], 100.0);
    assert_eq!([b2[0], b2[1]], [a[0], a[1]]);
    assert_eq!(e.transform_xy(117.0, 39.0).unwrap(), (a[0], a[1]));
}

/// Every projected catalogue CRS with an area of use.
fn projected_with_area() -> Vec<Crs> {
    catalogue::all()
        .into_iter()
        .filter(|c| {
            matches!(c.kind(), CrsKind::Projected(Projection::GaussKruger(_)))
                && c.area_of_use().is_some()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Geographic → zone → geographic is the identity within 1e-11° (≈ 1 µm) for every zone of the
    /// catalogue, over the zone's area of use; and zone → geographic → zone within 1e-8 m.
    ///
    /// Why 1e-8 m and not less: it is a few units in the last place of the numbers involved. The
    /// geographic intermediate is a longitude of ~2 rad, whose ulp (4.4e-16 rad) is 2.8e-9 m on
    /// the ground, and a zone-prefixed easting of ~4.5e7 m has an ulp of 7.5e-9 m.
    #[test]
    fn every_zone_round_trips(index in any::<prop::sample::Index>(), u in 0.0..1.0f64, v in 0.0..1.0f64) {
        let zones = projected_with_area();
        let crs = &zones[index.index(zones.len())];
        let area = crs.area_of_use().unwrap();
        let lon = area.west + u * (area.east - area.west);
        let lat = area.south + v * (area.north - area.south);
        let geographic = Crs::new("g", "g", crs.datum().clone(), CrsKind::Geographic, None, None).unwrap();
        let fwd = Transformer::new(&geographic, crs).unwrap();
        let inv = fwd.inverse();
        let p = fwd.transform([lon, lat, 0.0]).unwrap();
        let back = inv.transform(p).unwrap();
        prop_assert!((back[0] - lon).abs() < 1e-11 && (back[1] - lat).abs() < 1e-11, "{} {back:?}", crs.id());
        let again = fwd.transform(back).unwrap();
        prop_assert!((again[0] - p[0]).abs() < 1e-8 && (again[1] - p[1]).abs() < 1e-8, "{} {again:?} {p:?}", crs.id());
    }

    /// WGS84 → GCJ-02 → BD-09 → WGS84 recovers the point within 1e-9° anywhere in China's box.
    #[test]
    fn web_map_systems_round_trip(lon in 73.0..135.0f64, lat in 4.0..53.0f64) {
        let t = Transformer::from_ids("WGS84", "BD09").unwrap();
        let q = t.transform([lon, lat, 0.0]).unwrap();
        let back = t.inverse().transform(q).unwrap();
        prop_assert!((back[0] - lon).abs() < 1e-9 && (back[1] - lat).abs() < 1e-9);
    }
}

/// Catalogue CRSs paired with CRSs they can convert to, built once.
static PAIRS: std::sync::LazyLock<Vec<Transformer>> = std::sync::LazyLock::new(convertible_pairs);

fn convertible_pairs() -> Vec<Transformer> {
    let all = catalogue::all();
    let mut out = Vec::new();
    for (i, s) in all.iter().enumerate() {
        // A spread of targets per source keeps the list small but covers every kind of CRS.
        for t in all.iter().skip(i % 7).step_by(7) {
            if let Ok(transformer) = Transformer::new(s, t) {
                out.push(transformer);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]
    /// Any f64 input (NaN, ±inf, subnormals, 1e308, huge latitudes) through any pipeline: never a
    /// panic, and a success is always finite.
    #[test]
    fn arbitrary_input_never_panics_and_never_yields_non_finite(
        index in any::<prop::sample::Index>(),
        x in any::<f64>(), y in any::<f64>(), z in any::<f64>(),
        small in (-200.0..200.0f64, -100.0..100.0f64),
    ) {
        let t = &PAIRS[index.index(PAIRS.len())];
        for p in [[x, y, z], [small.0, small.1, 0.0], [x, small.1, 0.0], [small.0 * 1e5, y, 0.0]] {
            if let Ok(q) = t.transform(p) {
                prop_assert!(q.iter().all(|v| v.is_finite()), "{} -> {}: {p:?} gave {q:?}", t.source_id(), t.target_id());
            }
        }
    }
}
