//! CRS files: loading, every kind of refusal (with file, line and field, and never a value),
//! and conversions with the loaded CRSs. Conversions are checked against PROJ in
//! `tests/proj_differential.rs` and `tests/crs_file_vectors.rs`; here, their structure and the
//! file's own rules.
#![cfg(feature = "crs-file")]

use geounify::crs_file::Format;
use geounify::ops::Op;
use geounify::{CrsFileError, CrsKind, Heights, Registry, Transformer};

const CITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");

fn city() -> Registry {
    let mut r = Registry::new();
    r.load_file(CITY).unwrap();
    r
}

/// Loads `text` as TOML named `t.toml`; the error.
fn refuse(text: &str) -> CrsFileError {
    let mut r = Registry::new();
    let error = r.load_str(text, "t.toml", Format::Toml).unwrap_err();
    assert!(r.user_crss().is_empty(), "a refused file must add nothing");
    error
}

/// Asserts the error is at `line`, on `field`, with `words` in the message, and quotes none of
/// the file's parameter values (every number of the test files has a distinctive `7531` run).
fn assert_refused(text: &str, line: u32, field: Option<&str>, words: &str) {
    let e = refuse(text);
    let shown = e.to_string();
    assert_eq!(e.line, Some(line), "{shown}");
    assert_eq!(e.field.as_deref(), field, "{shown}");
    assert!(e.message.contains(words), "{shown}");
    assert!(shown.starts_with("t.toml:"), "{shown}");
    assert!(!shown.contains("7531"), "a parameter value leaked: {shown}");
}

const DATUM: &str = r#"
[[datum]]
id = "d"
ellipsoid = "krassovsky"
to_cgcs2000 = { method = "helmert7", convention = "coordinate_frame", tx = -12.7531, ty = 131.27531, tz = 47.67531, rx = 0.417531, ry = -0.167531, rz = 1.057531, s = -2.77531 }
"#;

#[test]
fn the_example_city_file_loads_every_kind() {
    let r = city();
    let ids: Vec<&str> = r.user_crss().iter().map(|c| c.id()).collect();
    assert_eq!(
        ids,
        [
            "city:bj54-gk117",
            "city:xian80-gk117",
            "city:bj54-geog",
            "city:old-grid",
            "city:survey-grid",
            "city:affine-grid",
            "city:poly-grid",
            "city:cgcs-116.5-h60",
            "city:cgcs-116.5-h60e",
        ]
    );
    // Ids are case-insensitive, and the catalogue is still there.
    assert_eq!(r.lookup("CITY:Old-Grid").unwrap().id(), "city:old-grid");
    assert_eq!(r.lookup("epsg:4548").unwrap().id(), "EPSG:4548");
    assert!(matches!(r.lookup("city:bj54-geog").unwrap().kind(), CrsKind::Geographic));
    assert!(r.lookup("city:bj54-geog").unwrap().is_angular());
    assert!(!r.lookup("city:old-grid").unwrap().is_angular());
}

#[test]
fn same_datum_conversions_have_no_datum_shift_and_different_datums_do() {
    let r = city();
    let has_shift = |from: &str, to: &str| {
        let t = r.transformer(from, to).unwrap();
        t.steps().iter().any(|s| matches!(s.op, Op::Helmert(_)))
    };
    assert!(!has_shift("city:cgcs-116.5-h60", "EPSG:4548"));
    assert!(!has_shift("city:survey-grid", "city:affine-grid"));
    assert!(!has_shift("city:old-grid", "city:bj54-geog"));
    // WGS84 ≡ CGCS2000 frame; the expansion surface has geocentric steps of its own (to the
    // expanded ellipsoid) but no datum shift.
    assert!(!has_shift("city:cgcs-116.5-h60e", "EPSG:4326"));
    assert!(has_shift("city:old-grid", "EPSG:4548"));
    assert!(has_shift("city:old-grid", "city:xian80-gk117"));
    // A local grid to its base is the planar step alone.
    let t = r.transformer("city:bj54-gk117", "city:old-grid").unwrap();
    assert_eq!(t.steps().len(), 1);
    assert!(matches!(t.steps()[0].op, Op::PlanarHelmert(_)));
}

#[test]
fn conversions_round_trip_through_every_file_crs() {
    let r = city();
    let hub = "EPSG:4490";
    let hub_crs = r.lookup(hub).unwrap();
    for crs in r.user_crss() {
        // Heights said to be ellipsoidal: the 3D round trip.
        let there = Transformer::with_heights(&hub_crs, crs, Heights::Ellipsoidal).unwrap();
        let back = Transformer::with_heights(crs, &hub_crs, Heights::Ellipsoidal).unwrap();
        let elevation = r.transformer(hub, crs.id()).unwrap();
        for (lon, lat) in [(116.0, 39.6), (116.4, 39.9), (117.1, 40.3)] {
            let p = there.transform([lon, lat, 35.0]).unwrap();
            let q = back.transform(p).unwrap();
            // 3D round trip: exact inverses everywhere (Helmert inverted exactly, planar steps
            // inverted algebraically); 1e-10° ≈ 1e-5 m, far above the measured ~1e-14°.
            assert!((q[0] - lon).abs() < 1e-10 && (q[1] - lat).abs() < 1e-10, "{}", crs.id());
            assert!((q[2] - 35.0).abs() < 1e-6, "{}", crs.id());
            // As an elevation (the default) the height is copied and the plane is that of the
            // point at height 0, the ellipsoidal transformer's too.
            let e = elevation.transform([lon, lat, 35.0]).unwrap();
            let p0 = there.transform([lon, lat, 0.0]).unwrap();
            assert_eq!(e, [p0[0], p0[1], 35.0], "{}", crs.id());
        }
    }
}

#[test]
fn north_east_parameters_give_the_same_grid_as_their_east_north_form() {
    // city:survey-grid states (dx, dy, θ) for X = north, Y = east; the same grid written for
    // (E, N) has dx and dy swapped and θ negated.
    let mut r = city();
    r.load_str(
        r#"[[crs]]
id = "t:survey-en"
base = "EPSG:4548"
planar = { method = "helmert4", dx = -443019.5, dy = -4398212.875, theta = 312.75, s = -4.2 }
"#,
        "en.toml",
        Format::Toml,
    )
    .unwrap();
    let a = r.transformer("EPSG:4326", "city:survey-grid").unwrap();
    let b = r.transformer("EPSG:4326", "t:survey-en").unwrap();
    for p in [[116.2, 39.7, 0.0], [116.9, 40.2, 0.0]] {
        assert_eq!(a.transform(p).unwrap(), b.transform(p).unwrap());
    }
    // And the north_east reading is what survey software computes: X' from (X = N, Y = E).
    let [e, n, _] =
        r.transformer("EPSG:4326", "EPSG:4548").unwrap().transform([116.5, 40.0, 0.0]).unwrap();
    let [e2, n2, _] = a.transform([116.5, 40.0, 0.0]).unwrap();
    let (th, m) = ((-312.75_f64 / 3600.0).to_radians(), 1.0 - 4.2e-6);
    let x2 = -4_398_212.875 + m * (n * th.cos() - e * th.sin());
    let y2 = -443_019.5 + m * (n * th.sin() + e * th.cos());
    // The same formula, evaluated in another order: a few ulps of 4.4e6 m.
    assert!((n2 - x2).abs() < 5e-9 && (e2 - y2).abs() < 5e-9, "{} {}", n2 - x2, e2 - y2);
}

#[test]
fn the_poly2_grid_is_its_formula_and_north_east_arrays_permute() {
    let mut r = city();
    // The example grid, evaluated term by term from the file's numbers (EPSG:4548 → grid).
    let base = r.transformer("EPSG:4326", "EPSG:4548").unwrap();
    let grid = r.transformer("EPSG:4326", "city:poly-grid").unwrap();
    let (a, b) = (
        [50012.375, 0.99998731, 0.00152307, 2.1e-10, -1.3e-10, 8.0e-11],
        [30007.625, -0.00152311, 0.99999037, -6.0e-11, 1.7e-10, 2.4e-10],
    );
    for p in [[116.2, 39.7, 0.0], [116.9, 40.2, 0.0], [116.5, 39.95, 0.0]] {
        let [e, n, _] = base.transform(p).unwrap();
        let (u, v) = (e - 460_000.0, n - 4_420_000.0);
        let m = [1.0, u, v, u * u, u * v, v * v];
        let want_e: f64 = a.iter().zip(&m).map(|(c, x)| c * x).sum();
        let want_n: f64 = b.iter().zip(&m).map(|(c, x)| c * x).sum();
        let [e2, n2, _] = grid.transform(p).unwrap();
        // The same formula in another order: a few ulps of the 5e4 m outputs and of u, v.
        assert!((e2 - want_e).abs() < 1e-9 && (n2 - want_n).abs() < 1e-9, "{e2} {n2}");
    }
    // The same grid stated for X = north, Y = east: a holds the X' (north) coefficients of
    // x = N − n0, y = E − e0 (the E, N form's b with u and v swapped: [b0, b2, b1, b5, b4, b3]),
    // b the Y' (east) ones; e0, n0 keep their names.
    r.load_str(
        r#"[[crs]]
id = "t:poly-ne"
base = "EPSG:4548"
planar = { method = "poly2", axis_order = "north_east", e0 = 460000.0, n0 = 4420000.0, a = [30007.625, 0.99999037, -0.00152311, 2.4e-10, 1.7e-10, -6.0e-11], b = [50012.375, 0.00152307, 0.99998731, 8.0e-11, -1.3e-10, 2.1e-10] }
"#,
        "ne.toml",
        Format::Toml,
    )
    .unwrap();
    assert_eq!(r.lookup("t:poly-ne").unwrap().kind(), r.lookup("city:poly-grid").unwrap().kind());
    let ne = r.transformer("EPSG:4326", "t:poly-ne").unwrap();
    for p in [[116.2, 39.7, 0.0], [116.9, 40.2, 0.0]] {
        assert_eq!(ne.transform(p).unwrap(), grid.transform(p).unwrap());
    }
    // Grid → base runs the Newton inverse: the base coordinates back to rounding.
    let back = r.transformer("city:poly-grid", "EPSG:4548").unwrap();
    for p in [[116.2, 39.7, 0.0], [116.9, 40.2, 0.0]] {
        let (want, q) = (base.transform(p).unwrap(), back.transform(grid.transform(p).unwrap()));
        let q = q.unwrap();
        assert!((q[0] - want[0]).abs() < 1e-9 && (q[1] - want[1]).abs() < 1e-9, "{q:?}");
    }
}

#[test]
fn poly2_arrays_are_checked_element_by_element() {
    let poly = |a: &str, b: &str| {
        format!("[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\nplanar = {{ method = \"poly2\", e0 = 457531.0, n0 = 4427531.0,\n  a = {a},\n  b = {b} }}\n")
    };
    let good_a = "[1.7531, 1.07531, 0.07531, 1.7531e-10, 0.0, 0.0]";
    let good_b = "[2.7531, -0.07531, 1.07531, 0.0, 0.0, 2.7531e-10]";
    let mut r = Registry::new();
    r.load_str(&poly(good_a, good_b), "t.toml", Format::Toml).unwrap();
    assert_refused(
        &poly("[1.7531, 1.07531, 0.07531, 1.7531e-10, 0.0]", good_b),
        5,
        Some("crs[a].planar.a"),
        "must be an array of 6 numbers",
    );
    assert_refused(
        &poly(good_a, "17531.0"),
        6,
        Some("crs[a].planar.b"),
        "must be an array of 6 numbers, found a number",
    );
    assert_refused(
        &poly("[1.7531, 1.07531, 0.07531, 1.7531e-3, 0.0, 0.0]", good_b),
        5,
        Some("crs[a].planar.a[3]"),
        "out of range: a quadratic coefficient within ±0.001 per metre",
    );
    assert_refused(
        &poly(good_a, "[2.7531, -0.07531, 17.531, 0.0, 0.0, 2.7531e-10]"),
        6,
        Some("crs[a].planar.b[2]"),
        "out of range: a coefficient within ±10",
    );
    assert_refused(
        &poly(good_a, "[2.7531, \"x\", 1.07531, 0.0, 0.0, 2.7531e-10]"),
        6,
        Some("crs[a].planar.b[1]"),
        "must be a number, found a string",
    );
    assert_refused(
        &poly("[1.7531e9, 1.07531, 0.07531, 0.0, 0.0, 0.0]", good_b),
        5,
        Some("crs[a].planar.a[0]"),
        "out of range: metres",
    );
    // A singular linear part is refused like affine6's.
    let singular = poly(
        "[1.7531, 1.0, 2.0, 1.7531e-10, 0.0, 0.0]",
        "[2.7531, 2.0, 4.0, 0.0, 0.0, 2.7531e-10]",
    );
    assert_refused(&singular, 1, Some("crs[a]"), "invertible");
    // Missing arrays and keys of other methods are named.
    let missing = "[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\nplanar = { method = \"poly2\", e0 = 457531.0, n0 = 4427531.0, a = [1.7531, 1.07531, 0.07531, 0.0, 0.0, 0.0] }\n";
    assert_refused(missing, 4, Some("crs[a].planar.b"), "missing required field");
    let stray = "[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\nplanar = { method = \"affine6\", a = [1.7531], a0 = 1.7531, a1 = 1.0, a2 = 0.0, b0 = 1.7531, b1 = 0.0, b2 = 1.0 }\n";
    assert_refused(stray, 4, Some("crs[a].planar.a"), "not a parameter of affine6");
}

#[test]
fn a_scale_factor_surface_is_the_zone_with_k0_scaled_by_1_plus_h_over_r() {
    let r = city();
    let crs = r.lookup("city:cgcs-116.5-h60").unwrap();
    let tm = crs.transverse_mercator().unwrap();
    // R = Gaussian mean radius of GRS80 at 39.9°: a·√(1−e²)/(1−e²·sin²φ).
    let (a, f) = (6_378_137.0_f64, 1.0 / 298.257_222_101);
    let es: f64 = f * (2.0 - f);
    let radius = a * (1.0 - es).sqrt() / (1.0 - es * 39.9_f64.to_radians().sin().powi(2));
    assert!((tm.k0 - (1.0 + 60.0 / radius)).abs() < 1e-15, "{}", tm.k0);
    assert!((radius - 6_374_310.056).abs() < 1e-3, "{radius}");
    // The expansion surface has no plain transverse-Mercator form.
    assert!(r.lookup("city:cgcs-116.5-h60e").unwrap().transverse_mercator().is_none());
}

#[test]
fn a_file_is_loaded_whole_or_not_at_all_and_later_files_see_earlier_ids() {
    let mut r = Registry::new();
    let text = format!(
        "{DATUM}\n[[crs]]\nid = \"ok\"\ndatum = \"d\"\n\n[[crs]]\nid = \"bad\"\ndatum = \"nope\"\n"
    );
    assert!(r.load_str(&text, "t.toml", Format::Toml).is_err());
    assert!(r.user_crss().is_empty() && r.datum("d").is_none());
    r.load_str(DATUM, "a.toml", Format::Toml).unwrap();
    r.load_str("[[crs]]\nid = \"g\"\ndatum = \"D\"\n", "b.toml", Format::Toml).unwrap();
    assert_eq!(r.lookup("g").unwrap().datum().id(), "d");
    // Loading the same file again clashes with itself.
    let e = r.load_str(DATUM, "a.toml", Format::Toml).unwrap_err();
    assert!(e.message.contains("already defined by an earlier definition"), "{e}");
}

#[test]
fn unknown_keys_are_refused_where_they_are() {
    assert_refused(
        "[[crs]]\nid = \"a\"\ndatum = \"CGCS2000\"\nplaner = 1\n",
        4,
        Some("crs[a].planer"),
        "unknown key",
    );
    assert_refused("[[crss]]\nid = \"a\"\n", 1, Some("crss"), "unknown key");
    assert_refused(
        "[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\nplanar = { method = \"helmert4\", dx = 1.7531, dy = 2.7531, theta = 3.7531, s = 0.7531, tz = 9.7531 }\n",
        4,
        Some("crs[a].planar.tz"),
        "unknown key",
    );
    assert_refused(
        "[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\nplanar = { method = \"helmert4\", dx = 1.7531, dy = 2.7531, theta = 3.7531, s = 0.7531, a1 = 9.7531 }\n",
        4,
        Some("crs[a].planar.a1"),
        "not a parameter of helmert4",
    );
}

#[test]
fn missing_fields_are_named() {
    assert_refused("[[crs]]\nid = \"a\"\n", 1, Some("crs[a].datum"), "missing required field");
    assert_refused("[[crs]]\nname = \"x\"\ndatum = \"WGS84\"\n", 1, Some("crs[#1].id"), "missing");
    let no_convention = "[[datum]]\nid = \"d\"\nellipsoid = \"krassovsky\"\nto_cgcs2000 = { method = \"helmert7\", tx = 1.7531, ty = 1.7531, tz = 1.7531, rx = 0.7531, ry = 0.7531, rz = 0.7531, s = 0.7531 }\n";
    assert_refused(no_convention, 4, Some("datum[d].to_cgcs2000.convention"), "convention");
    let no_method = "[[crs]]\nid = \"a\"\ndatum = \"CGCS2000\"\nprojection = { method = \"gauss-kruger\", lon0 = 116.7531, height = 57.531 }\n";
    assert_refused(no_method, 4, Some("crs[a].projection.height_method"), "method stated");
    let both = "[[crs]]\nid = \"a\"\ndatum = \"CGCS2000\"\nprojection = { method = \"gauss-kruger\", lon0 = 116.7531, height = 57.531, height_method = \"scale_factor\" }\n";
    assert_refused(both, 4, Some("crs[a].projection"), "exactly one of `radius`");
    assert_refused(
        "[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\n",
        1,
        Some("crs[a].planar"),
        "missing",
    );
}

#[test]
fn unknown_references_are_named() {
    assert_refused(
        "[[crs]]\nid = \"a\"\ndatum = \"bj54-nowhere\"\n",
        3,
        Some("crs[a].datum"),
        "unknown datum 'bj54-nowhere'",
    );
    assert_refused(
        "[[datum]]\nid = \"d\"\nellipsoid = \"clarke\"\n",
        3,
        Some("datum[d].ellipsoid"),
        "unknown ellipsoid 'clarke'",
    );
    assert_refused("[[crs]]\nid = \"a\"\nbase = \"city:none\"\nplanar = { method = \"helmert4\", dx = 1.7531, dy = 1.7531, theta = 1.7531, s = 1.7531 }\n", 3, Some("crs[a].base"), "unknown CRS 'city:none'");
    assert_refused("[[crs]]\nid = \"a\"\nbase = \"EPSG:4490\"\nplanar = { method = \"helmert4\", dx = 1.7531, dy = 1.7531, theta = 1.7531, s = 1.7531 }\n", 3, Some("crs[a].base"), "not a projected CRS");
}

#[test]
fn id_clashes_are_refused() {
    assert_refused(
        "[[crs]]\nid = \"epsg:4326\"\ndatum = \"WGS84\"\n",
        2,
        Some("crs[epsg:4326].id"),
        "built-in catalogue",
    );
    assert_refused(
        "[[crs]]\nid = \"wgs84\"\ndatum = \"WGS84\"\n",
        2,
        Some("crs[wgs84].id"),
        "built-in catalogue",
    );
    assert_refused(
        "[[datum]]\nid = \"cgcs2000\"\nellipsoid = \"grs80\"\n",
        2,
        Some("datum[cgcs2000].id"),
        "built-in",
    );
    assert_refused(
        "[[ellipsoid]]\nid = \"krassovsky\"\na = 6378245.7531\nrf = 298.37531\n",
        2,
        Some("ellipsoid[krassovsky].id"),
        "built-in",
    );
    assert_refused(
        "[[crs]]\nid = \"a\"\ndatum = \"WGS84\"\n\n[[crs]]\nid = \"A\"\ndatum = \"CGCS2000\"\n",
        6,
        Some("crs[A].id"),
        "defined twice in this file (first on line 2)",
    );
}

#[test]
fn cycles_between_base_entries_are_refused() {
    let planar =
        "planar = { method = \"helmert4\", dx = 1.7531, dy = 1.7531, theta = 1.7531, s = 1.7531 }";
    let text = format!("[[crs]]\nid = \"a\"\nbase = \"b\"\n{planar}\n\n[[crs]]\nid = \"b\"\nbase = \"c\"\n{planar}\n\n[[crs]]\nid = \"c\"\nbase = \"a\"\n{planar}\n");
    assert_refused(&text, 13, Some("crs[c].base"), "cycle between base entries: a → b → c → a");
    let own = format!("[[crs]]\nid = \"s\"\nbase = \"S\"\n{planar}\n");
    assert_refused(&own, 3, Some("crs[s].base"), "cycle between base entries: s → s");
    // Bases written after the grids that use them are fine.
    let mut r = Registry::new();
    let text = format!("[[crs]]\nid = \"top\"\nbase = \"mid\"\n{planar}\n\n[[crs]]\nid = \"mid\"\nbase = \"EPSG:4548\"\n{planar}\n");
    r.load_str(&text, "t.toml", Format::Toml).unwrap();
    let CrsKind::Local { base, .. } = r.lookup("top").unwrap().kind().clone() else { panic!() };
    assert_eq!(base.id(), "mid");
}

#[test]
fn out_of_range_and_mistyped_values_are_refused_without_quoting_them() {
    let gk = |extra: &str| {
        format!("[[crs]]\nid = \"a\"\ndatum = \"CGCS2000\"\nprojection = {{ method = \"gauss-kruger\", lon0 = 117.7531{extra} }}\n")
    };
    assert_refused(&gk(", k0 = 17531.0"), 4, Some("crs[a].projection.k0"), "out of range");
    assert_refused(&gk(", lat0 = 97.531"), 4, Some("crs[a].projection.lat0"), "out of range");
    assert_refused(
        &gk(", x0 = \"7531\""),
        4,
        Some("crs[a].projection.x0"),
        "must be a number, found a string",
    );
    assert_refused(&gk(", x0 = nan"), 4, Some("crs[a].projection.x0"), "out of range");
    assert_refused(
        &gk(", height = 75310.0, height_method = \"scale_factor\", radius = 6371000.0"),
        4,
        Some("crs[a].projection.height"),
        "out of range",
    );
    assert_refused(
        &gk(", height = 75.31, height_method = \"scale_factor\", radius = 6.3717531"),
        4,
        Some("crs[a].projection.radius"),
        "out of range",
    );
    assert_refused(
        &gk(", height = 75.31, height_method = \"guess\""),
        4,
        Some("crs[a].projection.height_method"),
        "expected one of: scale_factor, ellipsoid_expansion",
    );
    let shift = DATUM.replace("rz = 1.057531", "rz = 17531.0");
    assert_refused(&shift, 5, Some("datum[d].to_cgcs2000.rz"), "arc-seconds");
    assert_refused(
        "[[ellipsoid]]\nid = \"e\"\na = 6378.7531\nrf = 298.37531\n",
        3,
        Some("ellipsoid[e].a"),
        "metres",
    );
    let singular = "[[crs]]\nid = \"a\"\nbase = \"EPSG:4548\"\nplanar = { method = \"affine6\", a0 = 1.7531, a1 = 1.0, a2 = 2.0, b0 = 1.7531, b1 = 2.0, b2 = 4.0 }\n";
    assert_refused(singular, 1, Some("crs[a]"), "invertible");
    assert_refused("ellipsoid = 7531\n", 1, Some("ellipsoid"), "must be an array of tables");
}

#[test]
fn syntax_errors_give_the_line_and_no_text() {
    let e = refuse("[[crs]]\nid = \"a\"\ndatum = \"CGCS2000\"\nx0 = 4375310.0.1\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert!(!e.to_string().contains("7531"), "{e}");
}

#[test]
fn files_that_cannot_be_read_are_named() {
    let mut r = Registry::new();
    let e = r.load_file("/nonexistent/city.toml").unwrap_err();
    assert!(e.to_string().starts_with("/nonexistent/city.toml: cannot read"), "{e}");
    let dir = std::env::temp_dir().join(format!("geounify-crs-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gbk = dir.join("gbk.toml");
    // "name = 城市" in GBK: not UTF-8.
    std::fs::write(&gbk, b"[[crs]]\nid = \"a\"\nname = \"\xb3\xc7\xca\xd0\"\ndatum = \"WGS84\"\n")
        .unwrap();
    let e = r.load_file(&gbk).unwrap_err();
    assert!(e.message.contains("not UTF-8"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_files_with_the_same_structure_load_the_same_crss() {
    let mut json = Registry::new();
    json.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.json")).unwrap();
    let toml = city();
    assert_eq!(json.user_crss(), toml.user_crss());
    // JSON errors name file, line and field too, and quote no value.
    let mut r = Registry::new();
    let text = "{\n  \"crs\": [\n    { \"id\": \"a\", \"datum\": \"CGCS2000\",\n      \"projection\": { \"method\": \"gauss-kruger\", \"lon0\": 917.7531 } }\n  ]\n}\n";
    let e = r.load_str(text, "t.json", Format::Json).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.json:4: crs[a].projection.lon0: out of range: degrees within ±180"
    );
    let e = r.load_str("{\"crs\": [ {\"id\": \"a\",, } ]}", "t.json", Format::Json).unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.starts_with("column 22: expected a key"), "{e}");
}
