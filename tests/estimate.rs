//! Parameter estimation from control points: recovery of known parameters from synthetic
//! points (exact and with Gaussian noise), outlier detection, check points, errors.
//!
//! The reference for every recovery test is the parameter set the points were generated with,
//! mapped through the crate's own operations (`ops::Helmert`, `ops::PlanarHelmert`,
//! `ops::Affine`), whose forward maps are themselves checked against PROJ elsewhere
//! (`tests/proj_vectors.rs`). Tolerances are derived in each test from the rounding of the
//! coordinates (ulp of 6.4e6 m ≈ 9.3e-10 m, of 4.4e6 m ≈ 9.3e-10 m) or from the noise level.

mod common;

use geounify::estimate::{
    estimate, geocentric_on_datum, ControlPoint, Estimate, EstimateError, Model, Options, Outliers,
    Parameters,
};
use geounify::ops::{
    Affine, AffineParams, Geocentric, Helmert, HelmertConvention, HelmertParams, Operation,
    PlanarHelmert, PlanarHelmertParams, Polynomial2, Polynomial2Params,
};
use geounify::{Ellipsoid, Registry, Transformer};
use proptest::prelude::*;

/// A small deterministic generator (64-bit LCG, Knuth's MMIX constants) so that every run sees
/// the same "random" points and noise.
struct Lcg(u64);

impl Lcg {
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// `n` geographic points (degrees, metres) over a ~40 km square around 116.4E 39.9N, heights
/// 20–120 m.
fn city_geographic(n: usize, rng: &mut Lcg) -> Vec<[f64; 3]> {
    (0..n)
        .map(|_| {
            [
                116.4 + (rng.uniform() - 0.5) * 0.47, // 0.47° of longitude ≈ 40 km at 39.9N
                39.9 + (rng.uniform() - 0.5) * 0.36,  // 0.36° of latitude ≈ 40 km
                20.0 + 100.0 * rng.uniform(),
            ]
        })
        .collect()
}

/// Geocentric coordinates on Krassovsky (the Beijing 1954 ellipsoid) of city points.
fn city_geocentric(n: usize, rng: &mut Lcg) -> Vec<[f64; 3]> {
    let g = Geocentric::new(&Ellipsoid::krassovsky());
    city_geographic(n, rng)
        .into_iter()
        .map(|[lon, lat, h]| g.forward([lon.to_radians(), lat.to_radians(), h]).unwrap())
        .collect()
}

/// Control points `source → op(source) + noise`, ids "P1", "P2", ...
fn control(
    sources: &[[f64; 3]],
    map: impl Fn([f64; 3]) -> [f64; 3],
    noise: f64,
    dims: usize,
    rng: &mut Lcg,
) -> Vec<ControlPoint> {
    sources
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let mut t = map(s);
            for v in t.iter_mut().take(dims) {
                *v += noise * rng.normal();
            }
            ControlPoint { id: format!("P{}", i + 1), source: s, target: t }
        })
        .collect()
}

fn helmert7(e: &geounify::estimate::Estimate) -> HelmertParams {
    match &e.parameters {
        Parameters::Helmert7(p) | Parameters::Helmert3(p) => p.clone(),
        other => panic!("not a Helmert result: {other:?}"),
    }
}

/// Largest |estimated − true| per group: (translation m, rotation ″, scale ppm).
fn helmert_error(got: &HelmertParams, want: &HelmertParams) -> (f64, f64, f64) {
    let t = [got.tx - want.tx, got.ty - want.ty, got.tz - want.tz];
    let r = [got.rx - want.rx, got.ry - want.ry, got.rz - want.rz];
    let max = |v: [f64; 3]| v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    (max(t), max(r), (got.s - want.s).abs())
}

/// The issue's example planar set: EPSG:4548 eastings/northings → a local grid.
fn planar_example() -> PlanarHelmertParams {
    PlanarHelmertParams { dx: -421_337.25, dy: -4_201_112.5, theta: 5400.0, s: 12.5 }
}

/// `n` EPSG:4548-like points over a 40 km square around E 450 000, N 4 420 000.
fn grid_points(n: usize, rng: &mut Lcg) -> Vec<[f64; 3]> {
    (0..n)
        .map(|_| {
            [
                450_000.0 + (rng.uniform() - 0.5) * 40_000.0,
                4_420_000.0 + (rng.uniform() - 0.5) * 40_000.0,
                0.0,
            ]
        })
        .collect()
}

fn off() -> Options {
    Options { outliers: Outliers::Off, ..Options::default() }
}

#[test]
fn helmert7_recovers_a_city_set_from_exact_points_in_both_conventions() {
    for convention in [HelmertConvention::PositionVector, HelmertConvention::CoordinateFrame] {
        let want = common::city_helmert(convention);
        let op = Helmert::new(want.clone()).unwrap();
        let mut rng = Lcg(7);
        let src = city_geocentric(12, &mut rng);
        let pts = control(&src, |s| op.forward(s).unwrap(), 0.0, 3, &mut rng);
        let e = estimate(Model::Helmert7(convention), &pts, &Options::default()).unwrap();
        let got = helmert7(&e);
        assert_eq!(got.convention, convention);
        let (dt, dr, ds) = helmert_error(&got, &want);
        // The targets carry rounding of ~1e-9 m (ulp of 6.4e6 m); over a 40 km spread that
        // determines rotations and scale to ~1e-9 / 2e4 = 5e-14 (1e-8″, 5e-8 ppm), which move
        // the origin-based translation by up to 5e-14 · 6.4e6 m = 3e-7 m. Measured: dt ≤ 8e-8 m,
        // dr ≤ 3e-9″, ds ≤ 1.1e-8 ppm, residuals ≤ 1.2e-9 m. Asserted with a margin of ≥ 10.
        assert!(dt < 1e-6 && dr < 1e-7 && ds < 1e-6, "{convention:?}: {dt:e} m {dr:e}″ {ds:e} ppm");
        // Residuals are rounding only (a few ulps of 6.4e6 m).
        assert!(e.max_residual < 1e-6, "{}", e.max_residual);
        assert!(e.outliers.is_empty() && e.suspect.is_none());
        assert_eq!((e.points_used, e.redundancy), (12, 29));
    }
}

#[test]
fn helmert3_recovers_a_translation() {
    let want = HelmertParams::translation(-15.2, 130.8, 49.1);
    let op = Helmert::new(want.clone()).unwrap();
    let mut rng = Lcg(11);
    let pts = control(&city_geocentric(5, &mut rng), |s| op.forward(s).unwrap(), 0.0, 3, &mut rng);
    let e = estimate(Model::Helmert3, &pts, &Options::default()).unwrap();
    let (dt, dr, ds) = helmert_error(&helmert7(&e), &want);
    // The mean of five differences of 6.4e6 m coordinates: a few ulps (1e-9 m).
    assert!(dt < 1e-8 && dr == 0.0 && ds == 0.0, "{dt:e}");
    // A single point determines the translation exactly (no redundancy, no σ0).
    let one = estimate(Model::Helmert3, &pts[..1], &Options::default()).unwrap();
    assert!(one.sigma0.is_none() && one.standard_errors.is_empty());
    assert!(helmert_error(&helmert7(&one), &want).0 < 1e-8);
}

#[test]
fn helmert4_recovers_the_issue_example_from_exact_points() {
    let want = planar_example();
    let op = PlanarHelmert::new(want.clone()).unwrap();
    let mut rng = Lcg(3);
    let pts = control(&grid_points(10, &mut rng), |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    let e = estimate(Model::Helmert4, &pts, &Options::default()).unwrap();
    let Parameters::Helmert4(got) = &e.parameters else { panic!("{:?}", e.parameters) };
    // Rounding of 4.4e6 m targets (9e-10 m) over 40 km: θ and s to ~1e-13 (2e-8″, 1e-7 ppm);
    // that moves dx, dy (the image of the origin, 4.4e6 m away) by ~5e-7 m. Measured: dx, dy
    // 2.5e-7 m, θ 1.2e-8″, s 4.4e-8 ppm, residuals 2.8e-9 m.
    assert!((got.dx - want.dx).abs() < 1e-6 && (got.dy - want.dy).abs() < 1e-6, "{got:?}");
    assert!((got.theta - want.theta).abs() < 1e-6 && (got.s - want.s).abs() < 1e-6, "{got:?}");
    assert!(e.max_residual < 1e-8, "{}", e.max_residual);
    // Two points determine it exactly.
    let two = estimate(Model::Helmert4, &pts[..2], &Options::default()).unwrap();
    let Parameters::Helmert4(got) = &two.parameters else { panic!() };
    assert!((got.theta - want.theta).abs() < 1e-5 && (got.dx - want.dx).abs() < 1e-5);
}

#[test]
fn affine6_recovers_exact_parameters() {
    let want = AffineParams {
        a0: -421_337.25,
        a1: 0.999_7,
        a2: -0.026_2,
        b0: -4_201_112.5,
        b1: 0.026_1,
        b2: 1.000_3,
    };
    let op = Affine::new(want.clone()).unwrap();
    let mut rng = Lcg(5);
    let pts = control(&grid_points(9, &mut rng), |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    let e = estimate(Model::Affine6, &pts, &Options::default()).unwrap();
    let Parameters::Affine6(got) = &e.parameters else { panic!() };
    // Same rounding argument as helmert4: coefficients to ~1e-13, offsets to ~1e-6 m. Measured:
    // offsets 1.0e-7 m, coefficients 4.6e-14, residuals 2.0e-9 m.
    for (g, w, tol) in [
        (got.a0, want.a0, 1e-6),
        (got.b0, want.b0, 1e-6),
        (got.a1, want.a1, 1e-12),
        (got.a2, want.a2, 1e-12),
        (got.b1, want.b1, 1e-12),
        (got.b2, want.b2, 1e-12),
    ] {
        assert!((g - w).abs() < tol, "{got:?}");
    }
    assert!(e.max_residual < 1e-8);
}

#[test]
fn helmert7_with_two_centimetre_noise_is_within_its_standard_errors() {
    let sigma = 0.02;
    let want = common::city_helmert(HelmertConvention::CoordinateFrame);
    let op = Helmert::new(want.clone()).unwrap();
    let mut rng = Lcg(2024);
    let src = city_geocentric(15, &mut rng);
    let pts = control(&src, |s| op.forward(s).unwrap(), sigma, 3, &mut rng);
    let e = estimate(Model::Helmert7(HelmertConvention::CoordinateFrame), &pts, &off()).unwrap();
    let truth = [want.tx, want.ty, want.tz, want.rx, want.ry, want.rz, want.s];
    for ((key, value, _), (se, t)) in
        e.parameters.values().iter().zip(e.standard_errors.iter().zip(truth))
    {
        // Gaussian errors: each parameter within 4 of its standard errors (deterministic seed;
        // the chance that any of the 7 exceeds 4σ is below 1e-3).
        assert!((value - t).abs() < 4.0 * se, "{key}: {value} vs {t} ± {se}");
    }
    // 15 points over 40 km: translation standard errors are metres-level because of the
    // rotation/translation correlation at 6.4e6 m (measured 2.4–3.1 m), the rotations ~0.09″,
    // the scale 0.33 ppm. Measured errors: at most 2.24 standard errors (rx). Condition ≈ 1.1.
    assert!(e.standard_errors[3..6].iter().all(|&s| s < 0.5), "{:?}", e.standard_errors);
    // σ0 estimates σ with 38 degrees of freedom: relative spread 1/√76 ≈ 11 %; 3 of those.
    // Measured σ0 = 2.14 cm, RMSE = 3.41 cm (expected 3.18 cm).
    let s0 = e.sigma0.unwrap();
    assert!((s0 / sigma - 1.0).abs() < 0.35, "σ0 = {s0}");
    // RMSE per point in 3D: E‖v‖² = 3σ²·(m − u)/m = 3σ²·38/45.
    let expected_rmse = sigma * (3.0_f64 * 38.0 / 45.0).sqrt();
    assert!((e.rmse / expected_rmse - 1.0).abs() < 0.35, "rmse = {}", e.rmse);
}

#[test]
fn planted_blunders_are_flagged_and_dropped() {
    let sigma = 0.02;
    let want = planar_example();
    let op = PlanarHelmert::new(want.clone()).unwrap();
    let mut rng = Lcg(99);
    let mut pts =
        control(&grid_points(15, &mut rng), |s| op.forward(s).unwrap(), sigma, 2, &mut rng);
    pts[3].target[0] += 0.5; // P4: 0.5 m in E
    pts[10].target[1] -= 0.5; // P11: 0.5 m in N
    let e = estimate(Model::Helmert4, &pts, &Options::default()).unwrap();
    let mut flagged = e.outliers.clone();
    flagged.sort();
    assert_eq!(flagged, ["P11", "P4"]);
    assert_eq!(e.points_used, 13);
    assert!(e.residuals.iter().filter(|r| !r.used).all(|r| r.outlier && r.norm > 0.4));
    assert!(matches!(e.parameters, Parameters::Helmert4(_)));
    let truth = [want.dx, want.dy, want.theta, want.s];
    for ((key, value, _), (se, t)) in
        e.parameters.values().iter().zip(e.standard_errors.iter().zip(truth))
    {
        assert!((value - t).abs() < 4.0 * se, "{key}: {value} vs {t} ± {se}");
    }
    // 2D RMSE ≈ σ·√2·√(22/26) = 2.6 cm expected; measured 2.56 cm.
    assert!(e.rmse < 2.0 * sigma * 2f64.sqrt(), "{}", e.rmse);

    // Flag only: the same two are named, all 15 points are used.
    let flag = Options { outliers: Outliers::FlagOnly, ..Options::default() };
    let f = estimate(Model::Helmert4, &pts, &flag).unwrap();
    let mut flagged = f.outliers.clone();
    flagged.sort();
    assert_eq!(flagged, ["P11", "P4"]);
    assert_eq!(f.points_used, 15);
    assert!(f.residuals.iter().all(|r| r.used));
    assert!(f.rmse > e.rmse);

    // Off: nothing flagged.
    let o = estimate(Model::Helmert4, &pts, &off()).unwrap();
    assert!(o.outliers.is_empty() && o.points_used == 15);
}

#[test]
fn outlier_search_stops_before_losing_redundancy() {
    // helmert4 from 3 points has redundancy 2: dropping one would leave none. A blunder is
    // named as a suspect, not dropped.
    let op = PlanarHelmert::new(planar_example()).unwrap();
    let mut rng = Lcg(1);
    let mut pts = control(&grid_points(3, &mut rng), |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    pts[0].target[0] += 1.0;
    let e = estimate(Model::Helmert4, &pts, &Options::default()).unwrap();
    assert!(e.outliers.is_empty());
    assert_eq!(e.points_used, 3);
    // With 2 degrees of freedom the studentised residual is bounded by √2 < 3: no suspect here;
    // with a lower threshold the search must stop and name one.
    let low = Options { threshold: 1.0, ..Options::default() };
    let e = estimate(Model::Helmert4, &pts, &low).unwrap();
    assert!(e.outliers.is_empty() && e.suspect.is_some() && e.points_used == 3);
}

#[test]
fn estimated_parameters_reproduce_check_points() {
    let sigma = 0.02;
    let want = common::city_helmert(HelmertConvention::PositionVector);
    let op = Helmert::new(want).unwrap();
    let mut rng = Lcg(77);
    let src = city_geocentric(16, &mut rng);
    let pts = control(&src[..10], |s| op.forward(s).unwrap(), sigma, 3, &mut rng);
    let e = estimate(Model::Helmert7(HelmertConvention::PositionVector), &pts, &off()).unwrap();
    let estimated = Helmert::new(helmert7(&e)).unwrap();
    for &s in &src[10..] {
        let truth = op.forward(s).unwrap();
        let got = estimated.forward(s).unwrap();
        let d = ((got[0] - truth[0]).powi(2)
            + (got[1] - truth[1]).powi(2)
            + (got[2] - truth[2]).powi(2))
        .sqrt();
        // Inside the control area the prediction error is at most about σ·√(u/n) = 1.7 cm per
        // coordinate (2.9 cm in 3D). Measured 0.9–4.1 cm on the 6 check points; 3σ = 6 cm.
        assert!(d < 3.0 * sigma, "{d}");
    }

    // Planar: helmert4 check points.
    let op = PlanarHelmert::new(planar_example()).unwrap();
    let grid = grid_points(14, &mut rng);
    let pts = control(&grid[..9], |s| op.forward(s).unwrap(), sigma, 2, &mut rng);
    let e = estimate(Model::Helmert4, &pts, &off()).unwrap();
    let Parameters::Helmert4(p) = e.parameters else { panic!() };
    let estimated = PlanarHelmert::new(p).unwrap();
    for &s in &grid[9..] {
        let (t, g) = (op.forward(s).unwrap(), estimated.forward(s).unwrap());
        assert!((t[0] - g[0]).hypot(t[1] - g[1]) < 3.0 * sigma);
    }
}

#[test]
fn helmert7_from_geographic_and_projected_coordinates_via_crs_ids() {
    // Beijing 1954 geographic points, shifted by the city set to CGCS2000 and written as
    // EPSG:4548 eastings/northings with heights. geocentric_on_datum undoes each CRS's own
    // chain; the estimate must recover the shift.
    let registry = Registry::new();
    let bj54 = registry.lookup("EPSG:4214").unwrap();
    let gk = registry.lookup("EPSG:4548").unwrap();
    let want = common::city_helmert(HelmertConvention::PositionVector);
    let op = Helmert::new(want.clone()).unwrap();
    let kras = Geocentric::new(&Ellipsoid::krassovsky());
    let grs80 = Geocentric::new(&Ellipsoid::grs80());
    let to_gk = Transformer::from_ids("EPSG:4490", "EPSG:4548").unwrap();
    let mut rng = Lcg(42);
    let mut pts = Vec::new();
    for (i, [lon, lat, h]) in city_geographic(10, &mut rng).into_iter().enumerate() {
        let x = kras.forward([lon.to_radians(), lat.to_radians(), h]).unwrap();
        let [l2, p2, h2] = grs80.inverse(op.forward(x).unwrap()).unwrap();
        let target = to_gk.transform([l2.to_degrees(), p2.to_degrees(), h2]).unwrap();
        pts.push(ControlPoint {
            id: format!("点{i}"),
            source: geocentric_on_datum(&bj54, [lon, lat, h]).unwrap(),
            target: geocentric_on_datum(&gk, target).unwrap(),
        });
        // The geographic path is exactly the geocentric forward on Krassovsky.
        assert_eq!(pts[i].source, x);
    }
    let e = estimate(Model::Helmert7(HelmertConvention::PositionVector), &pts, &off()).unwrap();
    let (dt, dr, ds) = helmert_error(&helmert7(&e), &want);
    // The Gauss-Krüger forward/inverse round trip is accurate to ~1e-9 m, degrees↔radians and
    // geocentric round trips to ~1e-9 m: the same ~1e-9 m noise as the exact test. Measured:
    // dt 1.2e-7 m, dr 7e-9″, ds 6e-9 ppm, residuals 1.7e-9 m.
    assert!(dt < 1e-5 && dr < 1e-6 && ds < 1e-5, "{dt:e} {dr:e} {ds:e}");
    assert!(e.max_residual < 1e-5, "{}", e.max_residual);
}

#[test]
fn bad_input_gives_clear_errors() {
    let op = PlanarHelmert::new(planar_example()).unwrap();
    let mut rng = Lcg(8);
    let pts = control(&grid_points(6, &mut rng), |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    let opts = Options::default();
    // Too few points for each model.
    for (model, needed) in [
        (Model::Helmert4, 2),
        (Model::Affine6, 3),
        (Model::Poly2, 6),
        (Model::Helmert3, 1),
        (Model::Helmert7(HelmertConvention::PositionVector), 3),
    ] {
        let err = estimate(model, &pts[..needed - 1], &opts).unwrap_err();
        assert_eq!(
            err,
            EstimateError::TooFewPoints { model: model.name(), needed, got: needed - 1 }
        );
    }
    // Duplicated id.
    let mut dup = pts.clone();
    dup[4].id = "P2".into();
    assert_eq!(
        estimate(Model::Helmert4, &dup, &opts).unwrap_err(),
        EstimateError::DuplicateId { id: "P2".into() }
    );
    // Duplicated source point (−0 and +0 count as the same).
    let mut dup = pts.clone();
    dup[5].source = dup[1].source;
    assert_eq!(
        estimate(Model::Helmert4, &dup, &opts).unwrap_err(),
        EstimateError::DuplicateSource { id: "P6".into(), first: "P2".into() }
    );
    // All points identical.
    let same: Vec<ControlPoint> = (0..4)
        .map(|i| ControlPoint {
            id: format!("Q{i}"),
            source: [1.0, 2.0, 0.0],
            target: [3.0, 4.0, 0.0],
        })
        .collect();
    assert!(matches!(
        estimate(Model::Affine6, &same, &opts).unwrap_err(),
        EstimateError::DuplicateSource { .. }
    ));
    // Collinear points: affine6 is undetermined.
    let line: Vec<ControlPoint> = (0..5)
        .map(|i| {
            let s = [450_000.0 + 1000.0 * i as f64, 4_420_000.0 + 500.0 * i as f64, 0.0];
            ControlPoint { id: format!("L{i}"), source: s, target: op.forward(s).unwrap() }
        })
        .collect();
    assert_eq!(
        estimate(Model::Affine6, &line, &opts).unwrap_err(),
        EstimateError::Degenerate { model: "affine6" }
    );
    // Collinear geocentric points: the rotation about the line is undetermined.
    let line3: Vec<ControlPoint> = (0..5)
        .map(|i| {
            let s = [-2_170_000.0 + 800.0 * i as f64, 4_380_000.0 - 300.0 * i as f64, 4_070_000.0];
            ControlPoint { id: format!("G{i}"), source: s, target: s }
        })
        .collect();
    assert!(matches!(
        estimate(Model::Helmert7(HelmertConvention::PositionVector), &line3, &opts).unwrap_err(),
        EstimateError::Degenerate { .. }
    ));
    // NaN and infinity.
    let mut nan = pts.clone();
    nan[2].target[1] = f64::NAN;
    assert_eq!(
        estimate(Model::Helmert4, &nan, &opts).unwrap_err(),
        EstimateError::NonFinite { id: "P3".into() }
    );
    let mut inf = pts.clone();
    inf[0].source[0] = f64::INFINITY;
    assert!(matches!(
        estimate(Model::Affine6, &inf, &opts).unwrap_err(),
        EstimateError::NonFinite { .. }
    ));
    // Planar models ignore z, even NaN.
    let mut z = pts.clone();
    z[0].source[2] = f64::NAN;
    assert!(estimate(Model::Helmert4, &z, &opts).is_ok());
    // Huge values: no panic, no NaN.
    let huge: Vec<ControlPoint> = (0..4)
        .map(|i| ControlPoint {
            id: format!("H{i}"),
            source: [1e308 * (i as f64 - 1.5), 1e307 * (i % 2) as f64, 0.0],
            target: [1e308, -1e308 * (i as f64 - 1.5), 0.0],
        })
        .collect();
    if let Ok(e) = estimate(Model::Affine6, &huge, &opts) {
        assert!(e.rmse.is_finite() && e.parameters.values().iter().all(|v| v.1.is_finite()));
    }
    // Bad options.
    let bad = Options { threshold: f64::NAN, ..Options::default() };
    assert!(matches!(
        estimate(Model::Helmert4, &pts, &bad).unwrap_err(),
        EstimateError::InvalidOption { .. }
    ));
}

#[test]
fn messages_name_ids_not_coordinates() {
    let err = EstimateError::DuplicateSource { id: "点7".into(), first: "点2".into() };
    assert_eq!(err.to_string(), "point '点7' has the same source coordinates as point '点2'");
}

/// A random 7-parameter set, `n` exact control points mapped by it, and the estimate.
fn random_helmert7(
    t: [f64; 3],
    r: [f64; 3],
    s: f64,
    cf: bool,
    seed: u64,
    n: usize,
) -> (HelmertParams, Vec<ControlPoint>, Estimate) {
    let convention =
        if cf { HelmertConvention::CoordinateFrame } else { HelmertConvention::PositionVector };
    let want =
        HelmertParams { tx: t[0], ty: t[1], tz: t[2], rx: r[0], ry: r[1], rz: r[2], s, convention };
    let op = Helmert::new(want.clone()).unwrap();
    let mut rng = Lcg(seed);
    let pts = control(&city_geocentric(n, &mut rng), |p| op.forward(p).unwrap(), 0.0, 3, &mut rng);
    let e = estimate(Model::Helmert7(convention), &pts, &Options::default()).unwrap();
    (want, pts, e)
}

/// The largest coordinate difference between the maps `got` and `want` at the control points'
/// sources, metres.
fn map_difference(got: &HelmertParams, want: &HelmertParams, pts: &[ControlPoint]) -> f64 {
    let (a, b) = (Helmert::new(got.clone()).unwrap(), Helmert::new(want.clone()).unwrap());
    pts.iter().fold(0.0_f64, |m, p| {
        let (x, y) = (a.forward(p.source).unwrap(), b.forward(p.source).unwrap());
        (0..3).fold(m, |m, k| m.max((x[k] - y[k]).abs()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random 7-parameter sets (translations ±300 m, rotations ±10″, scale ±30 ppm) in either
    /// convention, 8–19 random points in the city: the estimate recovers them to the rounding
    /// bound derived in the exact test (translations 1e-6 m, rotations 1e-7″, scale 1e-6 ppm).
    #[test]
    fn helmert7_recovers_random_parameters(
        t in prop::array::uniform3(-300.0..300.0_f64),
        r in prop::array::uniform3(-10.0..10.0_f64),
        s in -30.0..30.0_f64,
        cf in any::<bool>(),
        seed in any::<u64>(),
        n in 8usize..20,
    ) {
        let (want, pts, e) = random_helmert7(t, r, s, cf, seed, n);
        let (dt, dr, ds) = helmert_error(&helmert7(&e), &want);
        prop_assert!(dt < 1e-6 && dr < 1e-7 && ds < 1e-6, "{} {} {}", dt, dr, ds);
        prop_assert!(map_difference(&helmert7(&e), &want, &pts) < 1e-7);
        prop_assert!(e.outliers.is_empty());
    }

    /// The same with only 4–7 points, which may lie close to a line or a small cluster: the
    /// parameters are then determined only to rounding divided by the points' spread (a rotation
    /// about a near-line is barely constrained: measured up to 3.3e-7″, and the translation at
    /// the geocentre inherits that times 6.4e6 m), so the property is the one the data fixes:
    /// the fitted map reproduces the true one at every control point to 1e-7 m.
    #[test]
    fn helmert7_from_few_points_reproduces_the_map_where_the_data_is(
        t in prop::array::uniform3(-300.0..300.0_f64),
        r in prop::array::uniform3(-10.0..10.0_f64),
        s in -30.0..30.0_f64,
        cf in any::<bool>(),
        seed in any::<u64>(),
        n in 4usize..8,
    ) {
        let (want, pts, e) = random_helmert7(t, r, s, cf, seed, n);
        let worst = map_difference(&helmert7(&e), &want, &pts);
        prop_assert!(worst < 1e-7, "maps differ by {} m at a control point", worst);
        prop_assert!(e.outliers.is_empty());
    }

    /// Random planar sets (any rotation within ±180°, scale ±1000 ppm, translations ±5e6 m)
    /// recovered from 3–15 exact points to ~1e-6.
    #[test]
    fn helmert4_recovers_random_parameters(
        dx in -5e6..5e6_f64, dy in -5e6..5e6_f64,
        theta in -648_000.0..648_000.0_f64, s in -1000.0..1000.0_f64,
        seed in any::<u64>(), n in 3usize..15,
    ) {
        let want = PlanarHelmertParams { dx, dy, theta, s };
        let op = PlanarHelmert::new(want.clone()).unwrap();
        let mut rng = Lcg(seed);
        let pts = control(&grid_points(n, &mut rng), |p| op.forward(p).unwrap(), 0.0, 2, &mut rng);
        let e = estimate(Model::Helmert4, &pts, &Options::default()).unwrap();
        let Parameters::Helmert4(got) = e.parameters else { panic!() };
        prop_assert!((got.dx - dx).abs() < 1e-5 && (got.dy - dy).abs() < 1e-5, "{:?}", got);
        prop_assert!((got.theta - theta).abs() < 1e-6 && (got.s - s).abs() < 1e-6, "{:?}", got);
    }
}

/// A poly2 grid with realistic magnitudes (about 5' of rotation, ~10 ppm of scale, quadratic
/// terms of 1e-10 … 3e-10 per metre: up to 0.5 m over the 40 km square), origin at the middle
/// of [`grid_points`]'s square.
fn poly2_example() -> Polynomial2Params {
    Polynomial2Params {
        e0: 450_000.0,
        n0: 4_420_000.0,
        a: [50_012.375, 0.999_987_31, 0.001_523_07, 2.1e-10, -1.3e-10, 0.8e-10],
        b: [30_007.625, -0.001_523_11, 0.999_990_37, -0.6e-10, 1.7e-10, 2.4e-10],
    }
}

#[test]
fn poly2_recovers_exact_parameters_about_the_centroid() {
    let want = poly2_example();
    let op = Polynomial2::new(want.clone()).unwrap();
    let mut rng = Lcg(31);
    let pts = control(&grid_points(20, &mut rng), |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    let e = estimate(Model::Poly2, &pts, &off()).unwrap();
    let Parameters::Poly2(got) = &e.parameters else { panic!("{:?}", e.parameters) };
    // The origin is the centroid of the source points, not the generating origin: the same
    // polynomial re-expanded about it. Compare maps, not coefficients: the estimated map must
    // reproduce the generating one at every point of the square, up to the rounding of the
    // observations target − source (half an ulp of 4.4e6 m ≈ 4.7e-10 m per coordinate) carried
    // through the fit: 1e-8 m ≈ 10 ulps of 4.4e6 m. Measured 5.8e-9 m (condition 2.1).
    let c = pts.iter().fold([0.0, 0.0], |c, p| [c[0] + p.source[0], c[1] + p.source[1]]);
    assert_eq!((got.e0, got.n0), (c[0] / 20.0, c[1] / 20.0));
    let fitted = Polynomial2::new(got.clone()).unwrap();
    let mut worst: f64 = 0.0;
    for p in grid_points(200, &mut Lcg(32)) {
        let (a, b) = (op.forward(p).unwrap(), fitted.forward(p).unwrap());
        worst = worst.max((a[0] - b[0]).abs()).max((a[1] - b[1]).abs());
    }
    assert!(worst < 1e-8, "{worst:e}");
    // The quadratic coefficients do not depend on the origin: exactly the generating ones up to
    // the rounding of the observations target − source (ulp of 4.4e6 m ≈ 9.3e-10 m) spread over
    // (20 km)² = 4e8 m², ~2e-18 per metre, times the design's condition (tens): below 1e-16.
    // Measured at most 6.8e-18.
    for i in 3..6 {
        assert!((got.a[i] - want.a[i]).abs() < 1e-16, "a{i}: {:e}", got.a[i] - want.a[i]);
        assert!((got.b[i] - want.b[i]).abs() < 1e-16, "b{i}: {:e}", got.b[i] - want.b[i]);
    }
    assert!(e.max_residual < 1e-8, "{}", e.max_residual);
    assert_eq!(e.redundancy, 2 * 20 - 12);
    // Re-centred at the generating origin, the coefficients are the generating ones:
    // a0(about o) = P(o), a1 = ∂E'/∂E at o, ...
    let at_origin = fitted.forward([want.e0, want.n0, 0.0]).unwrap();
    assert!((at_origin[0] - want.a[0]).abs() < 1e-8 && (at_origin[1] - want.b[0]).abs() < 1e-8);
}

#[test]
fn poly2_with_one_centimetre_noise_is_within_its_standard_errors() {
    let sigma = 0.01;
    // Generated about the centroid of the points, so that the estimated coefficients are
    // directly comparable with the generating ones.
    let mut rng = Lcg(77);
    let src = grid_points(40, &mut rng);
    let c = src.iter().fold([0.0, 0.0], |c, p| [c[0] + p[0] / 40.0, c[1] + p[1] / 40.0]);
    let want = Polynomial2Params { e0: c[0], n0: c[1], ..poly2_example() };
    let op = Polynomial2::new(want.clone()).unwrap();
    let pts = control(&src, |s| op.forward(s).unwrap(), sigma, 2, &mut rng);
    let e = estimate(Model::Poly2, &pts, &off()).unwrap();
    let Parameters::Poly2(got) = &e.parameters else { panic!() };
    assert!((got.e0 - c[0]).abs() < 1e-6 && (got.n0 - c[1]).abs() < 1e-6);
    // values(): e0, n0 (not estimated: standard error 0), then a0…a5, b0…b5.
    let se = &e.standard_errors;
    assert_eq!(se.len(), 14);
    assert_eq!((se[0], se[1]), (0.0, 0.0));
    let truth: Vec<f64> = want.a.iter().chain(&want.b).copied().collect();
    let values = e.parameters.values();
    for (k, t) in truth.iter().enumerate() {
        let (key, value, _) = values[2 + k];
        // Gaussian errors: within 4 standard errors each (deterministic seed; the chance that
        // any of 12 exceeds 4σ is below 1e-3).
        assert!((value - t).abs() < 4.0 * se[2 + k], "{key}: {value} vs {t} ± {}", se[2 + k]);
    }
    // 40 points over 40 km with 1 cm noise: the constant terms to a few mm, the quadratic
    // terms to ~1e-11 per metre (so a 1e-10 term is resolved). Measured: a0, b0 ± 3.1 mm,
    // quadratic ± 1.3e-11 … 1.5e-11 per metre, errors at most 0.97 standard errors (a1),
    // σ0 = 1.06 cm, condition 1.65.
    assert!(se[2] < 0.01 && se[8] < 0.01, "{se:?}");
    assert!(se[5..8].iter().chain(&se[11..14]).all(|&s| s < 5e-11), "{se:?}");
    // σ0 estimates σ with 68 degrees of freedom: relative spread 1/√136 ≈ 9 %; 3 of those.
    let s0 = e.sigma0.unwrap();
    assert!((s0 / sigma - 1.0).abs() < 0.3, "σ0 = {s0}");
}

#[test]
fn poly2_needs_six_points_not_on_one_conic() {
    let op = Polynomial2::new(poly2_example()).unwrap();
    let mut rng = Lcg(9);
    let pts = control(&grid_points(6, &mut rng), |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    assert_eq!(
        estimate(Model::Poly2, &pts[..5], &Options::default()).unwrap_err(),
        EstimateError::TooFewPoints { model: "poly2", needed: 6, got: 5 }
    );
    // Six general points determine it exactly (no redundancy).
    let e = estimate(Model::Poly2, &pts, &Options::default()).unwrap();
    assert_eq!((e.redundancy, e.sigma0), (0, None));
    assert!(e.max_residual < 1e-6, "{}", e.max_residual);
    // Eight points on a circle lie on one conic: u² + v² is a combination of 1 and the
    // others, so the quadratic terms are not determined.
    let circle: Vec<[f64; 3]> = (0..8)
        .map(|k| {
            let t = k as f64 * std::f64::consts::PI / 4.0 + 0.3;
            [450_000.0 + 10_000.0 * t.cos(), 4_420_000.0 + 10_000.0 * t.sin(), 0.0]
        })
        .collect();
    let on_circle = control(&circle, |s| op.forward(s).unwrap(), 0.0, 2, &mut rng);
    assert_eq!(
        estimate(Model::Poly2, &on_circle, &Options::default()).unwrap_err(),
        EstimateError::Degenerate { model: "poly2" }
    );
}
