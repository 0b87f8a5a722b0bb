//! The chunked, vectorised batch pipeline against the one-point API: on every instruction-set
//! path this CPU has, `transform_slice` / `transform_columns` (and the parallel calls) give the
//! same bits and the same `BatchReport` as calling `Transformer::transform` point by point.
//!
//! No outside reference is needed here: the one-point API is the reference (its accuracy is
//! tested against PROJ and published vectors elsewhere); the claim under test is bit identity.

use geounify::batch::{BatchReport, PointFailure, SimdLevel};
use geounify::ops::HelmertConvention;
use geounify::{catalogue, Crs, Datum, DatumShift, Heights, Transformer};
use proptest::prelude::*;

mod common;

/// Deterministic xorshift points in a box (degrees).
fn points(n: usize, lon0: f64, lat0: f64) -> Vec<[f64; 2]> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| [lon0 - 1.5 + 3.0 * next(), lat0 + 10.0 * next()]).collect()
}

/// A city Beijing 1954 grid (GK CM 117E on Krassovsky) with a 7-parameter Helmert to CGCS2000.
fn city_grid() -> Crs {
    let params = common::city_helmert(HelmertConvention::CoordinateFrame);
    let base = catalogue::lookup("EPSG:2436").unwrap();
    let datum = Datum::beijing1954().with_shift("bj54-city", DatumShift::Helmert(params));
    Crs::new("city:grid", "city grid", datum, base.kind().clone(), None, None).unwrap()
}

/// The same city's geographic CRS on that datum.
fn city_geographic() -> Crs {
    let params = common::city_helmert(HelmertConvention::PositionVector);
    let base = catalogue::lookup("EPSG:4214").unwrap();
    let datum = Datum::beijing1954().with_shift("bj54-city-pv", DatumShift::Helmert(params));
    Crs::new("city:geog", "city geographic", datum, base.kind().clone(), None, None).unwrap()
}

/// Every CRS the tests draw from: the catalogue plus two with a 7-parameter datum shift.
fn crs_pool() -> Vec<Crs> {
    let mut pool = catalogue::all();
    pool.push(city_grid());
    pool.push(city_geographic());
    pool
}

/// The reference: `transform` point by point, failures as NaN, as the batch documents.
fn scalar_3d(t: &Transformer, pts: &[[f64; 3]]) -> (Vec<[f64; 3]>, BatchReport) {
    let mut out = Vec::with_capacity(pts.len());
    let mut report = BatchReport { points: pts.len(), failures: Vec::new() };
    for (index, p) in pts.iter().enumerate() {
        match t.transform(*p) {
            Ok(q) => out.push(q),
            Err(error) => {
                out.push([f64::NAN; 3]);
                report.failures.push(PointFailure { index, error });
            }
        }
    }
    (out, report)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Runs every batch entry point on every supported level and asserts bit identity with the
/// scalar loop. `pts` are 3D; the 2D calls use their x, y with height 0.
fn assert_batch_matches_scalar(t: &Transformer, pts: &[[f64; 3]]) {
    let (want3, report3) = scalar_3d(t, pts);
    let flat: Vec<[f64; 3]> = pts.iter().map(|p| [p[0], p[1], 0.0]).collect();
    let (want2, report2) = scalar_3d(t, &flat);
    let want2: Vec<[f64; 2]> = want2.iter().map(|q| [q[0], q[1]]).collect();
    let levels: Vec<SimdLevel> = SimdLevel::ALL.into_iter().filter(|l| l.is_supported()).collect();
    assert!(levels.contains(&SimdLevel::Baseline));
    for level in levels {
        let ctx = format!("{} -> {} on {level:?}", t.source_id(), t.target_id());
        let mut s3 = pts.to_vec();
        assert_eq!(t.transform_slice_with(level, &mut s3), report3, "{ctx}: slice 3D report");
        assert_eq!(bits(s3.as_flattened()), bits(want3.as_flattened()), "{ctx}: slice 3D");

        let mut s2: Vec<[f64; 2]> = pts.iter().map(|p| [p[0], p[1]]).collect();
        assert_eq!(t.transform_slice_with(level, &mut s2), report2, "{ctx}: slice 2D report");
        assert_eq!(bits(s2.as_flattened()), bits(want2.as_flattened()), "{ctx}: slice 2D");

        let mut x: Vec<f64> = pts.iter().map(|p| p[0]).collect();
        let mut y: Vec<f64> = pts.iter().map(|p| p[1]).collect();
        let mut z: Vec<f64> = pts.iter().map(|p| p[2]).collect();
        let (x0, y0) = (x.clone(), y.clone());
        let r = t.transform_columns_with(level, &mut x, &mut y, Some(&mut z)).unwrap();
        assert_eq!(r, report3, "{ctx}: columns 3D report");
        let got: Vec<[f64; 3]> = (0..pts.len()).map(|i| [x[i], y[i], z[i]]).collect();
        assert_eq!(bits(got.as_flattened()), bits(want3.as_flattened()), "{ctx}: columns 3D");

        let (mut x, mut y) = (x0, y0);
        let r = t.transform_columns_with(level, &mut x, &mut y, None).unwrap();
        assert_eq!(r, report2, "{ctx}: columns 2D report");
        let got: Vec<[f64; 2]> = (0..pts.len()).map(|i| [x[i], y[i]]).collect();
        assert_eq!(bits(got.as_flattened()), bits(want2.as_flattened()), "{ctx}: columns 2D");
    }
    // The default entry points (whatever level `GEOUNIFY_SIMD` and the CPU give).
    let mut s3 = pts.to_vec();
    assert_eq!(t.transform_slice(&mut s3), report3);
    assert_eq!(bits(s3.as_flattened()), bits(want3.as_flattened()));
    #[cfg(feature = "parallel")]
    {
        let mut s3 = pts.to_vec();
        assert_eq!(t.par_transform_slice(&mut s3), report3);
        assert_eq!(bits(s3.as_flattened()), bits(want3.as_flattened()));
    }
}

/// Awkward values mixed into ordinary ones: non-finite, huge, latitudes beyond ±90°, zeros.
const SPECIAL: [f64; 12] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e308,
    -1e308,
    f64::MAX,
    95.0,
    -90.000_000_1,
    90.0,
    0.0,
    -0.0,
    5e-324,
];

/// Points in the source CRS's units: geographic points in and around China taken through the
/// 4326 -> source conversion where there is one (else used as they are), with special values
/// mixed in at fixed positions, more than one chunk's worth and a short last chunk.
fn adversarial_points(source: &Crs, n: usize) -> Vec<[f64; 3]> {
    let to_source = Transformer::with_heights(
        &catalogue::lookup("EPSG:4326").unwrap(),
        source,
        Heights::Ellipsoidal,
    )
    .ok();
    let geo = points(n, 110.0, 18.0);
    geo.iter()
        .enumerate()
        .map(|(i, g)| {
            let h = (i % 7) as f64 * 37.5 - 60.0;
            let mut p = [g[0], g[1], h];
            if let Some(t) = &to_source {
                p = t.transform(p).unwrap_or(p);
            }
            if i % 11 == 3 {
                p[i % 3] = SPECIAL[(i / 11) % SPECIAL.len()];
            }
            if i % 29 == 5 {
                p[1] = SPECIAL[(i / 29) % SPECIAL.len()];
            }
            p
        })
        .collect()
}

#[test]
fn every_path_matches_the_one_point_api_on_awkward_points() {
    let pairs = [
        ("EPSG:4490", "EPSG:4547"),
        ("EPSG:4547", "EPSG:4490"),
        ("EPSG:4326", "GCJ02"),
        ("GCJ02", "EPSG:4326"),
        ("BD09", "EPSG:4547"),
        ("BD09MC", "EPSG:3857"),
        ("EPSG:3857", "EPSG:4490"),
        ("EPSG:4547", "EPSG:4548"),
        ("EPSG:2435", "EPSG:21460"),
        ("EPSG:4326", "EPSG:4326"),
    ];
    for (from, to) in pairs {
        let t = Transformer::from_ids(from, to).unwrap();
        let source = catalogue::lookup(from).unwrap();
        assert_batch_matches_scalar(&t, &adversarial_points(&source, 300));
    }
    let grid = city_grid();
    let zone = catalogue::lookup("EPSG:4548").unwrap();
    for t in [Transformer::new(&grid, &zone).unwrap(), Transformer::new(&zone, &grid).unwrap()] {
        let source = catalogue::lookup(t.source_id()).unwrap_or_else(|_| grid.clone());
        assert_batch_matches_scalar(&t, &adversarial_points(&source, 300));
    }
}

#[test]
fn points_outside_a_zone_and_far_away_match_too() {
    // A zone's projection far from its central meridian, antipodes, poles, huge eastings.
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let mut pts = Vec::new();
    for lon in [-180.0, -114.0, 0.0, 24.0, 90.0, 114.0, 200.0, 1e6] {
        for lat in [-90.0, -89.999_999, -45.0, 0.0, 30.0, 89.0, 90.0] {
            pts.push([lon, lat, 0.0]);
        }
    }
    assert_batch_matches_scalar(&t, &pts);
    let inv = t.inverse();
    let far: Vec<[f64; 3]> = [-1e7, -1e6, 0.0, 5e5, 2e6, 4e7, 1e12]
        .iter()
        .flat_map(|&x| [-2e7, -1e6, 0.0, 3e6, 1e7, 2e7].map(|y| [x, y, 10.0]))
        .collect();
    assert_batch_matches_scalar(&inv, &far);
}

#[test]
fn empty_and_tiny_batches() {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    assert_batch_matches_scalar(&t, &[]);
    assert_batch_matches_scalar(&t, &[[114.0, 30.0, 0.0]]);
    assert_batch_matches_scalar(&t, &[[f64::NAN, 30.0, 0.0]]);
}

#[cfg(feature = "geo")]
#[test]
fn geometries_match_the_one_point_api() {
    use geo_types::{Coord, LineString};
    let t = Transformer::from_ids("GCJ02", "EPSG:4547").unwrap();
    let pts = adversarial_points(&catalogue::lookup("GCJ02").unwrap(), 300);
    let mut line = LineString::from(pts.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>());
    let report = t.transform_geometry(&mut line);
    let flat: Vec<[f64; 3]> = pts.iter().map(|p| [p[0], p[1], 0.0]).collect();
    let (want, want_report) = scalar_3d(&t, &flat);
    assert_eq!(report, want_report);
    let got: Vec<Coord<f64>> = line.0;
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.x.to_bits(), g.y.to_bits()), (w[0].to_bits(), w[1].to_bits()));
    }
}

/// A coordinate: mostly ordinary, sometimes special.
fn coordinate(ordinary: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![8 => ordinary, 1 => proptest::sample::select(SPECIAL.to_vec())]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random pairs from the catalogue (plus two 7-parameter city datums), random points in the
    /// source's units (through 4326 -> source where possible) with special values mixed in.
    #[test]
    fn random_pairs_and_points_match_the_one_point_api(
        a in 0usize..1000,
        b in 0usize..1000,
        raw in proptest::collection::vec(
            (coordinate(70.0..140.0), coordinate(-5.0..60.0), coordinate(-100.0..3000.0)),
            1..400,
        ),
    ) {
        let pool = crs_pool();
        let (source, target) = (&pool[a % pool.len()], &pool[b % pool.len()]);
        let Ok(t) = Transformer::new(source, target) else { return Ok(()) };
        let to_source = Transformer::with_heights(&catalogue::lookup("EPSG:4326").unwrap(), source, Heights::Ellipsoidal)
        .ok();
        let pts: Vec<[f64; 3]> = raw
            .iter()
            .map(|&(x, y, z)| {
                let p = [x, y, z];
                match &to_source {
                    Some(g) => g.transform(p).unwrap_or(p),
                    None => p,
                }
            })
            .collect();
        assert_batch_matches_scalar(&t, &pts);
    }
}

/// A driver for instruction counts (`valgrind --tool=callgrind`), not a test: 1M points
/// EPSG:4490 -> EPSG:4547 through `transform_slice`.
#[test]
#[ignore]
fn driver_1m_4490_to_4547() {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let mut pts = points(1_000_000, 114.0, 20.0);
    let report = t.transform_slice(&mut pts);
    assert!(report.is_complete());
    println!("{:?}", pts[12345]);
}

/// A driver for instruction counts: 1M points of a city Beijing 1954 grid (7-parameter Helmert)
/// -> EPSG:4548 through `transform_slice`.
#[test]
#[ignore]
fn driver_1m_city_grid_to_4548() {
    let t = Transformer::new(&city_grid(), &catalogue::lookup("EPSG:4548").unwrap()).unwrap();
    let mut pts = points(1_000_000, 117.0, 30.0);
    let project = Transformer::from_ids("EPSG:4214", "EPSG:2436").unwrap();
    project.transform_slice(&mut pts);
    let report = t.transform_slice(&mut pts);
    assert!(report.is_complete());
    println!("{:?}", pts[12345]);
}
