//! Conversions through the example CRS file `data/crs/city.toml` against reference
//! conversions computed by PROJ 9.6.2, committed in `tests/data/crs_file_vectors.csv`
//! (regenerate with `cargo run --example gen_crs_file_vectors --features proj`; the live
//! comparison on a denser grid is in `tests/proj_differential.rs`). No PROJ needed here.
//!
//! The vectors come from PROJ pipelines written by hand from the file's parameters (`tmerc`,
//! `cart`, `helmert`, `affine`, `horner`, `axisswap`, `unitconvert`; see
//! `tests/common/proj_pipeline.rs`): every file CRS ↔ EPSG:4326, EPSG:4548, EPSG:4490, and five
//! file ↔ file pairs across datums,
//! both directions, 2D with height 0 on the source datum.
//!
//! Tolerances, as in `tests/proj_vectors.rs`: 1 µm (1e-6 m) for projected coordinates and
//! 1e-11° (about 1.1 µm on the ground) for geographic ones. Both implementations are exact to
//! nanometres here (Krüger series, closed-form geocentric forward, linearised Helmert, planar
//! affine maps, the poly2 grid inverted by iteration to 1e-10 m here and 1e-9 m in PROJ); a
//! wrong parameter, convention or axis order shows up as millimetres or more.
#![cfg(feature = "crs-file")]

use std::collections::BTreeMap;

use geounify::ops::GaussKrugerParams;
use geounify::{
    Crs, CrsKind, Datum, HeightMethod, Heights, Projection, ProjectionSurface, Registry,
    Transformer,
};

const METRES: f64 = 1e-6;
const DEGREES: f64 = 1e-11;

/// (H, northing difference, easting difference) between the two height methods, measured.
const EXPECTED: [(f64, f64, f64); 2] =
    [(60.0, -0.230_614, 0.000_372), (500.0, -1.921_898, 0.003_102)];

fn city_registry() -> Registry {
    let mut registry = Registry::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/crs/city.toml");
    registry.load_file(path).unwrap();
    registry
}

type Rows = BTreeMap<(String, String), Vec<[f64; 4]>>;

/// The vector file's rows, grouped by (source, target): x_in, y_in, x_out, y_out.
fn vectors() -> Rows {
    let text = include_str!("data/crs_file_vectors.csv");
    let mut groups = Rows::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 6, "bad line {line}");
        let n = |i: usize| f[i].parse::<f64>().unwrap_or_else(|e| panic!("{line}: {e}"));
        groups.entry((f[0].to_string(), f[1].to_string())).or_default().push([
            n(2),
            n(3),
            n(4),
            n(5),
        ]);
    }
    groups
}

fn tolerance(crs: &Crs) -> f64 {
    if crs.is_angular() {
        DEGREES
    } else {
        METRES
    }
}

/// Every vector, forward (2D, as PROJ computed it), and the 3D round trip back to the input.
///
/// Measured: max |geounify − PROJ| = 4.7e-9 m and 3.6e-14° (56 directions × 25 points); the
/// 3D round trip returns to projected inputs within 4.7e-9 m (geographic ones within the 1e-11°
/// tolerance) and to height 0 within 3.7e-9 m.
#[test]
fn crs_file_conversions_match_proj_vectors_both_directions() {
    let registry = city_registry();
    let groups = vectors();
    assert_eq!(groups.len(), 64, "9 file CRSs × 3 catalogue CRSs + 5 file pairs, both ways");
    let (mut worst_m, mut worst_deg, mut worst_back, mut worst_h) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for ((s, t), rows) in &groups {
        assert_eq!(rows.len(), 25, "{s} -> {t}");
        // Both directions are in the file as separate rows.
        assert!(groups.contains_key(&(t.clone(), s.clone())), "{t} -> {s} missing");
        let (source, target) = (registry.lookup(s).unwrap(), registry.lookup(t).unwrap());
        // Ellipsoidal heights, so that the round trip can start from the output height; the
        // 2D (elevation) conversion gives the same plane result and keeps the height.
        let forward = Transformer::with_heights(&source, &target, Heights::Ellipsoidal).unwrap();
        let back = forward.inverse();
        let two_d = registry.transformer(s, t).unwrap();
        for &[x_in, y_in, x_out, y_out] in rows {
            let [x, y, h] = forward.transform([x_in, y_in, 0.0]).unwrap();
            assert_eq!(two_d.transform([x_in, y_in, 57.25]).unwrap(), [x, y, 57.25], "{s} -> {t}");
            let d = (x - x_out).abs().max((y - y_out).abs());
            assert!(
                d <= tolerance(&target),
                "{s} -> {t} ({x_in}, {y_in}): geounify ({x}, {y}), PROJ ({x_out}, {y_out}): {d:e}"
            );
            if target.is_angular() {
                worst_deg = worst_deg.max(d);
            } else {
                worst_m = worst_m.max(d);
            }
            // Back with the output height (across datums a 2D inverse would start from height 0
            // on the target datum, a different 3D point).
            let [bx, by, bh] = back.transform([x, y, h]).unwrap();
            let d_back = (bx - x_in).abs().max((by - y_in).abs());
            assert!(d_back <= tolerance(&source), "{t} -> {s} ({x}, {y}, {h}): {d_back:e}");
            assert!(bh.abs() <= METRES, "{t} -> {s}: height {bh}");
            if !source.is_angular() {
                worst_back = worst_back.max(d_back);
            }
            worst_h = worst_h.max(bh.abs());
        }
    }
    eprintln!(
        "CRS-file vectors: max |geounify - PROJ| {worst_m:e} m, {worst_deg:e}°; 3D round trip \
         {worst_back:e} m, height {worst_h:e} m"
    );
}

/// The file's `scale_factor` surface states `lat_ref = 39.9`: the radius the loader derived is
/// the Gaussian mean radius √(M·N) of GRS 1980 there, computed here from M and N separately.
#[test]
fn scale_factor_radius_is_the_gaussian_mean_radius_at_lat_ref() {
    let registry = city_registry();
    let crs = registry.lookup("city:cgcs-116.5-h60").unwrap();
    let CrsKind::Projected(Projection::GaussKrugerSurface(_, surface)) = crs.kind() else {
        panic!("not a projection surface: {:?}", crs.kind())
    };
    let HeightMethod::ScaleFactor { radius } = surface.method else {
        panic!("not scale_factor: {:?}", surface.method)
    };
    let (a, f) = (6_378_137.0_f64, 1.0 / 298.257_222_101);
    let es = f * (2.0 - f);
    let w = (1.0 - es * 39.9_f64.to_radians().sin().powi(2)).sqrt();
    let (m, n) = (a * (1.0 - es) / w.powi(3), a / w);
    let r = (m * n).sqrt();
    // 6 374 310.056 m.
    assert!((radius - r).abs() <= 1e-6, "radius {radius} m, √(MN) {r} m");
    assert!((radius - 6_374_310.056).abs() < 1e-3, "{radius}");
}

/// The two height methods are different projections, never interchangeable.
///
/// `scale_factor` scales the zone by 1 + H/R about the natural origin (equator, central
/// meridian). `ellipsoid_expansion` projects on the ellipsoid a' = a + H/W(φ_ref) after carrying
/// each point through geocentric coordinates: it scales by about 1 + H/a, and a point's
/// geodetic latitude on the expanded ellipsoid is smaller by about e²·sinφ·cosφ·da/a radians
/// (the normals of the two ellipsoids through one point are not parallel), a near-uniform
/// southward shift of the grid of about e²·sinφ·cosφ·da ≈ 1.65 m at da = 500 m, plus
/// 500·(1/a − 1/R)·4 420 km ≈ −0.21 m from the scales.
///
/// Measured, CM 116.5°E, φ_ref = 39.9°N, point at 39.9°N 20 km east of the central meridian
/// (`EXPECTED`, scale_factor − ellipsoid_expansion): H = 60 m: northing −0.231 m, easting
/// 0.37 mm; H = 500 m: −1.922 m and 3.1 mm. A grid stated with one method and read with the
/// other is off by decimetres to metres, which is why a CRS file always states the method.
#[test]
fn scale_factor_and_ellipsoid_expansion_differ_by_decimetres_to_metres() {
    let params =
        GaussKrugerParams { lon0: 116.5, lat0: 0.0, k0: 1.0, x0: 50_000.0, y0: -4_300_000.0 };
    let grs80 = Datum::cgcs2000();
    let (a, lat) = (grs80.ellipsoid().a(), 39.9_f64);
    let r = grs80.ellipsoid().gaussian_mean_radius(lat.to_radians());
    let geog =
        Crs::new("geog", "CGCS2000", grs80.clone(), CrsKind::Geographic, None, None).unwrap();
    let surface = |height: f64, method: HeightMethod| {
        let kind = CrsKind::Projected(Projection::GaussKrugerSurface(
            params.clone(),
            ProjectionSurface { height, method },
        ));
        let crs = Crs::new("surface", "surface", grs80.clone(), kind, None, None).unwrap();
        Transformer::new(&geog, &crs).unwrap()
    };
    // 20 km east of the central meridian at 39.9°N: Δλ = 20 km / (N·cos φ).
    let n_radius = a / (1.0 - grs80.ellipsoid().es() * lat.to_radians().sin().powi(2)).sqrt();
    let lon = params.lon0 + (20_000.0 / (n_radius * lat.to_radians().cos())).to_degrees();

    for (height, expected_n, expected_e) in EXPECTED {
        let scale = surface(height, HeightMethod::ScaleFactor { radius: r });
        let expansion = surface(height, HeightMethod::EllipsoidExpansion { lat_ref: lat });
        let (es, ns) = scale.transform_xy(lon, lat).unwrap();
        let (ee, ne) = expansion.transform_xy(lon, lat).unwrap();
        let (de, dn) = (es - ee, ns - ne);
        eprintln!(
            "H = {height} m, 20 km from the CM at {lat}°N: scale_factor - ellipsoid_expansion = \
             ({de:.6}, {dn:.6}) m"
        );
        assert!((dn - expected_n).abs() < 1e-3, "northing difference {dn} m");
        assert!((de - expected_e).abs() < 1e-5, "easting difference {de} m");
    }
}
