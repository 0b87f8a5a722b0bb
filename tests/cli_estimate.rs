//! `geounify estimate`, run as a user runs it: the text report, the `--json` contract, axis
//! order, outlier options, CRS ids, and errors (line numbers, exit status 2, no coordinates in
//! messages).
//!
//! The sample files in `data/control/` are synthetic (see their headers): the parameters they
//! were made with are the reference, and the noise level sets each tolerance.

mod common;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/control/");

/// What one run of `geounify estimate` produced, stdout as text.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `geounify estimate args...` with `input` on stdin.
fn run(args: &[&str], input: &str) -> Run {
    let r = common::cli::run(&[&["estimate"], args].concat(), input.as_bytes());
    Run { code: r.code, stdout: r.stdout_text(), stderr: r.stderr }
}

fn json(args: &[&str], input: &str) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let r = run(&all, input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("--json prints one JSON object")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Asserts each `(key, truth)` is within 4 standard errors (Gaussian noise; the files are fixed,
/// so this is deterministic).
fn within_standard_errors(out: &Value, truth: &[(&str, f64)]) {
    for (key, t) in truth {
        let (v, se) = (f(&out["parameters"][key]), f(&out["standard_errors"][key]));
        assert!((v - t).abs() < 4.0 * se, "{key}: {v} vs {t} ± {se}");
    }
}

#[test]
fn text_report_of_the_sample_grid_file() {
    let file = format!("{DATA}local_grid_helmert4.csv");
    let r = run(&["--model", "helmert4", &file], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    for needle in [
        "model: helmert4\n",
        "points: 12 given, 11 used, 1 dropped as outliers; redundancy 18\n",
        "axis order: east_north\n",
        "  theta =",
        "arcsec\n",
        "rmse: ",
        "max residual: ",
        "控制点07",
        "dropped (outlier)",
        "outliers dropped: 控制点07\n",
        "planar = { method = \"helmert4\", dx = ",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn json_contract_and_recovered_parameters() {
    let file = format!("{DATA}local_grid_helmert4.csv");
    let out = json(&["--model", "helmert4", &file], "");
    assert_eq!(out["model"], "helmert4");
    assert_eq!(out["convention"], Value::Null);
    assert_eq!(out["axis_order"], "east_north");
    assert_eq!(out["parameters"]["method"], "helmert4");
    // The file was made with the example set and 1 cm noise (see its header).
    within_standard_errors(
        &out,
        &[("dx", -421_337.25), ("dy", -4_201_112.5), ("theta", 5400.0), ("s", 12.5)],
    );
    // σ0 estimates the 1 cm noise (18 degrees of freedom: ±17 % relative spread, 3 of those).
    let s0 = f(&out["sigma0"]);
    assert!((s0 / 0.01 - 1.0).abs() < 0.5, "{s0}");
    assert!(f(&out["rmse"]) < 0.02);
    assert_eq!(out["outliers"], serde_json::json!(["控制点07"]));
    assert_eq!(out["points_used"], 11);
    assert_eq!(out["points_given"], 12);
    let residuals = out["residuals"].as_array().unwrap();
    assert_eq!(residuals.len(), 12);
    let r7 = &residuals[6];
    assert_eq!(r7["id"], "控制点07");
    assert_eq!(
        (r7["used"].clone(), r7["outlier"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    // The planted blunder is 0.35 m in N.
    assert!((f(&r7["dy"]) - 0.35).abs() < 0.05, "{r7}");
    assert!(residuals[0].get("dz").is_none());
    assert!(f(&out["max_residual"]["norm"]) < 0.05);
}

/// The sample file's points with x and y swapped on both sides (survey order).
fn swapped(file: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{},{}\n", c[0], c[2], c[1], c[4], c[3])
        })
        .collect()
}

#[test]
fn north_east_order_gives_the_same_transformation() {
    let file = format!("{DATA}local_grid_helmert4.csv");
    let ne_input = swapped(&file);
    for model in ["helmert4", "affine6"] {
        let en = json(&["--model", model, &file], "");
        let ne = json(&["--model", model, "--axis-order", "north_east", "-"], &ne_input);
        assert_eq!(ne["axis_order"], "north_east");
        assert_eq!(ne["parameters"]["axis_order"], "north_east");
        let p = |v: &Value, k: &str| f(&v["parameters"][k]);
        // Same least-squares problem with the unknowns permuted: equal to rounding (the
        // offsets are 4e6 m: 1e-6 m; coefficients 1e-12).
        let close = |a: f64, b: f64, tol: f64| assert!((a - b).abs() < tol, "{model}: {a} vs {b}");
        if model == "helmert4" {
            close(p(&ne, "dx"), p(&en, "dy"), 1e-6);
            close(p(&ne, "dy"), p(&en, "dx"), 1e-6);
            close(p(&ne, "theta"), -p(&en, "theta"), 1e-8);
            close(p(&ne, "s"), p(&en, "s"), 1e-8);
            // Apply both: the survey-order formula on (N, E) vs the (E, N) formula.
            let (e, n) = (452_000.0, 4_415_000.0);
            let m = |v: &Value| 1.0 + p(v, "s") * 1e-6;
            let t = |v: &Value| (p(v, "theta") / 3600.0).to_radians();
            let e2 = p(&en, "dx") + m(&en) * (e * t(&en).cos() - n * t(&en).sin());
            let n3 = p(&ne, "dx") + m(&ne) * (n * t(&ne).cos() - e * t(&ne).sin());
            let e3 = p(&ne, "dy") + m(&ne) * (n * t(&ne).sin() + e * t(&ne).cos());
            // 4.4e6 m outputs from parameters equal to ~1e-7 m: 1e-6 m.
            close(e2, e3, 1e-6);
            let n2 = p(&en, "dy") + m(&en) * (e * t(&en).sin() + n * t(&en).cos());
            close(n2, n3, 1e-6);
        } else {
            for (a, b) in
                [("a0", "b0"), ("a1", "b2"), ("a2", "b1"), ("b0", "a0"), ("b1", "a2"), ("b2", "a1")]
            {
                let tol = if a.ends_with('0') { 1e-6 } else { 1e-12 };
                close(p(&ne, a), p(&en, b), tol);
            }
        }
        assert_eq!(ne["outliers"], en["outliers"]);
        // Residuals in the file's order: N first.
        let (rn, re) = (&ne["residuals"][6], &en["residuals"][6]);
        close(f(&rn["dx"]), f(&re["dy"]), 1e-6);
        close(f(&rn["dy"]), f(&re["dx"]), 1e-6);
    }
    let text = run(&["--model", "helmert4", "--axis-order", "north_east", "-"], &ne_input);
    assert!(text.stdout.contains("axis_order = \"north_east\""), "{}", text.stdout);
    assert!(text.stdout.contains("dN"), "{}", text.stdout);
}

#[test]
fn outlier_options() {
    let file = format!("{DATA}local_grid_helmert4.csv");
    let flag = json(&["--model", "helmert4", "--outliers", "flag", &file], "");
    assert_eq!(flag["outliers"], serde_json::json!(["控制点07"]));
    assert_eq!(flag["points_used"], 12);
    let off = json(&["--model", "helmert4", "--outliers", "off", &file], "");
    assert_eq!(off["outliers"], serde_json::json!([]));
    assert_eq!(off["points_used"], 12);
    assert!(f(&off["rmse"]) > f(&flag["rmse"]) - 1e-12);
    let text = run(&["--model", "helmert4", "--outliers", "flag", &file], "");
    assert!(text.stdout.contains("outliers flagged, kept: 控制点07"), "{}", text.stdout);
}

/// The city set the two helmert7 sample files were made with (position vector).
const CITY: [(&str, f64); 7] = [
    ("tx", -12.7),
    ("ty", 131.2),
    ("tz", 47.6),
    ("rx", 0.41),
    ("ry", -0.16),
    ("rz", 1.05),
    ("s", -2.7),
];

#[test]
fn helmert7_from_geocentric_and_from_crs_coordinates() {
    let file = format!("{DATA}bj54_cgcs2000_geocentric.csv");
    let out = json(&["--model", "helmert7", "--convention", "position_vector", &file], "");
    assert_eq!(out["convention"], "position_vector");
    assert_eq!(out["parameters"]["convention"], "position_vector");
    within_standard_errors(&out, &CITY);
    assert!(out["residuals"][0].get("dz").is_some());

    let file = format!("{DATA}bj54_geographic_to_4548.txt");
    let args = [
        "--model",
        "helmert7",
        "--convention",
        "position_vector",
        "--source-crs",
        "EPSG:4214",
        "--target-crs",
        "EPSG:4548",
        &file,
    ];
    let out = json(&args, "");
    within_standard_errors(&out, &CITY);
    // Coordinate frame: the same fit with the rotations' signs flipped.
    let mut cf_args = args;
    cf_args[3] = "coordinate_frame";
    let cf = json(&cf_args, "");
    for k in ["rx", "ry", "rz"] {
        let (a, b) = (f(&out["parameters"][k]), f(&cf["parameters"][k]));
        assert!((a + b).abs() < 1e-9, "{k}: {a} {b}");
    }
    let text = run(&args, "");
    assert!(text.stdout.contains("to_cgcs2000 = { method = \"helmert7\""), "{}", text.stdout);
    assert!(text.stdout.contains("(geocentric)"));
}

#[test]
fn helmert3_from_two_dimensional_crs_coordinates() {
    // id,x1,y1,x2,y2 with CRS ids: heights 0 on both sides. The same longitudes/latitudes read
    // as Beijing 1954 (Krassovsky) and as CGCS2000 (GRS80): the least-squares translation is the
    // mean of the two points' geocentric differences, computed here with the library's own
    // geographic → geocentric operation; agreement to rounding of 6.4e6 m values (1e-6 m).
    use geounify::ops::{Geocentric, Operation};
    use geounify::Ellipsoid;
    let out = json(
        &["--model", "helmert3", "--source-crs", "BJ54", "--target-crs", "CGCS2000", "-"],
        "A 116.4 39.9 116.4 39.9\nB 116.5 40.0 116.5 40.0\n",
    );
    assert_eq!((out["points_used"].clone(), out["redundancy"].clone()), (2.into(), 3.into()));
    let (kras, grs) =
        (Geocentric::new(&Ellipsoid::krassovsky()), Geocentric::new(&Ellipsoid::grs80()));
    let diff = |lon: f64, lat: f64| {
        let p = [lon.to_radians(), lat.to_radians(), 0.0];
        let (a, b) = (kras.forward(p).unwrap(), grs.forward(p).unwrap());
        [b[0] - a[0], b[1] - a[1], b[2] - a[2]]
    };
    let (da, db) = (diff(116.4, 39.9), diff(116.5, 40.0));
    for (k, key) in ["tx", "ty", "tz"].iter().enumerate() {
        let want = 0.5 * (da[k] + db[k]);
        let got = f(&out["parameters"][key]);
        assert!((got - want).abs() < 1e-6, "{key}: {got} vs {want}");
        // Residual of A = its difference minus the mean.
        let v = f(&out["residuals"][0][["dx", "dy", "dz"][k]]);
        assert!((v - (da[k] - want)).abs() < 1e-6, "{key}: {v}");
    }
}

#[test]
fn errors_name_the_line_and_exit_2() {
    let planar = ["--model", "helmert4", "-"];
    let cases: [(&[&str], &str, &str); 8] = [
        (
            &planar,
            "id,e,n,e2,n2\nA,1,2,3,4\nB,5,6,7,abc\n",
            "-:3: column 5 of point 'B' is not a number",
        ),
        (
            &planar,
            "# c\nA,1,2,3,4\n\nB 1.5 2 3 4 5\n",
            "-:4: expected 5 columns (id,x1,y1,x2,y2), found 6",
        ),
        (
            &planar,
            "A,1,2,3,4\nB,5,6,7,8\nA,9,10,11,12\n",
            "-:3: point id 'A' is already used on line 1",
        ),
        (&planar, "A,1,2,3,4\nB,5,NaN,7,8\n", "-:2: column 3 of point 'B' is not finite"),
        (&planar, "A,1,2,3,4\n", "helmert4 needs at least 2 control points, 1 given"),
        (
            &planar,
            "A,1,2,3,4\nB,5,6,7,8\nC,1,2,9,9\n",
            "point 'C' (line 3) has the same source coordinates as point 'A' (line 1)",
        ),
        (&["--model", "affine6", "-"], "A,0,0,1,1\nB,1,1,2,2\nC,2,2,3,3\nD,3,3,4,4\n", "collinear"),
        (&["--model", "helmert7", "-"], "A,1,2,3,4,5,6\n", "helmert7 needs --convention"),
    ];
    for (args, input, want) in cases {
        let r = run(args, input);
        assert_eq!(r.code, 2, "{args:?} {input:?}: {}", r.stdout);
        assert!(r.stderr.contains(want), "want {want:?}, got {:?}", r.stderr);
        assert!(r.stdout.is_empty());
        // Never a coordinate value in a message.
        for value in ["1.5", "abc", "12", "NaN"] {
            assert!(!r.stderr.contains(value), "{value} in {:?}", r.stderr);
        }
    }
    // A latitude beyond 90° with CRS ids: the line and the point, not the value.
    let r = run(
        &["--model", "helmert3", "--source-crs", "EPSG:4214", "--target-crs", "EPSG:4490", "-"],
        "P,116.4,95.25,0,116.4,39.9,0\n",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("-:1: point 'P': the source coordinates"), "{}", r.stderr);
    assert!(!r.stderr.contains("95.25"), "{}", r.stderr);
    // Unknown CRS id.
    let r = run(
        &["--model", "helmert3", "--source-crs", "EPSG:1", "--target-crs", "EPSG:4490", "-"],
        "",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("EPSG:1"), "{}", r.stderr);
}

#[test]
fn help_documents_the_json_fields() {
    let r = run(&["--help"], "");
    assert_eq!(r.code, 0);
    for field in ["max_residual", "points_used", "standard_errors", "axis_order", "suspect"] {
        assert!(r.stdout.contains(field), "{field}");
    }
}

/// The snippet after the report's `# For a CRS file` comment, as printed.
fn snippet(report: &str) -> String {
    let start = report.find("# For a CRS file").expect("the report ends with a CRS-file snippet");
    report[start..].to_string()
}

#[test]
fn the_pasted_helmert7_snippet_reproduces_check_points() {
    // Truth: the example city's Beijing 1954 datum (data/crs/city.toml, 7 parameters, coordinate
    // frame). Control and check points: BJ54 lon/lat/h → CGCS2000 3° zone CM 117E E/N/h.
    let mut truth = geounify::Registry::new();
    truth.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    // Control points carry ellipsoidal heights (what `estimate` reads), so the truth and the
    // estimate are compared as 3D conversions.
    let ellipsoidal = |registry: &geounify::Registry, source: &str| {
        let (s, t) = (registry.lookup(source).unwrap(), registry.lookup("EPSG:4548").unwrap());
        geounify::Transformer::with_heights(&s, &t, geounify::Heights::Ellipsoidal).unwrap()
    };
    let t = ellipsoidal(&truth, "city:bj54-geog");
    let grid = |i: usize| {
        let (u, v) = ((i * 7 % 11) as f64 / 10.0, (i * 3 % 11) as f64 / 10.0);
        [116.0 + 0.9 * u, 39.6 + 0.7 * v, 20.0 + 300.0 * u * v]
    };
    let mut csv = String::from("id,lon,lat,h,e,n,h2\n");
    for i in 0..10 {
        let p = grid(i);
        let q = t.transform(p).unwrap();
        csv += &format!("P{i},{},{},{},{},{},{}\n", p[0], p[1], p[2], q[0], q[1], q[2]);
    }
    let args = [
        "--model",
        "helmert7",
        "--convention",
        "coordinate_frame",
        "--source-crs",
        "EPSG:4214",
        "--target-crs",
        "EPSG:4548",
        "-",
    ];
    let r = run(&args, &csv);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Paste the snippet into a CRS file, with a CRS on the new datum.
    let file =
        format!("{}\n[[crs]]\nid = \"t:bj54\"\ndatum = \"city:datum\"\n", snippet(&r.stdout));
    let mut pasted = geounify::Registry::new();
    pasted.load_str(&file, "pasted.toml", geounify::crs_file::Format::Toml).unwrap();
    let estimated = ellipsoidal(&pasted, "t:bj54");
    for i in 10..16 {
        let p = grid(i + 3);
        let (want, got) = (t.transform(p).unwrap(), estimated.transform(p).unwrap());
        // Noise-free points: the estimate is the truth to ~1e-7 m (rounding of 6.4e6 m
        // geocentric coordinates over a 70 km area); 1e-5 m leaves room for the snippet's
        // shortest round-trip decimals, which read back exactly.
        for k in 0..3 {
            assert!((got[k] - want[k]).abs() < 1e-5, "check point {i}: axis {k}: {got:?} {want:?}");
        }
    }
}

#[test]
fn the_pasted_helmert4_snippet_reproduces_check_points_in_both_axis_orders() {
    let mut truth = geounify::Registry::new();
    truth.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let t = truth.transformer("EPSG:4548", "city:survey-grid").unwrap();
    let point = |i: usize| {
        let (u, v) = ((i * 7 % 13) as f64 / 12.0, (i * 5 % 13) as f64 / 12.0);
        [430_000.0 + 40_000.0 * u, 4_400_000.0 + 40_000.0 * v, 0.0]
    };
    for north_east in [false, true] {
        let mut csv = String::new();
        for i in 0..8 {
            let (p, q) = (point(i), t.transform(point(i)).unwrap());
            // ±5 mm of deterministic "noise", so the fit has residuals to report.
            let noise = if i % 2 == 0 { 0.005 } else { -0.005 };
            let (p, q) = if north_east {
                ([p[1], p[0]], [q[1] + noise, q[0]])
            } else {
                ([p[0], p[1]], [q[0], q[1] + noise])
            };
            csv += &format!("K{i},{},{},{},{}\n", p[0], p[1], q[0], q[1]);
        }
        let order = if north_east { "north_east" } else { "east_north" };
        let r = run(&["--model", "helmert4", "--axis-order", order, "-"], &csv);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let file = snippet(&r.stdout).replace("EPSG:...", "EPSG:4548");
        assert_eq!(file.contains("axis_order = \"north_east\""), north_east, "{file}");
        let mut pasted = geounify::Registry::new();
        pasted.load_str(&file, "pasted.toml", geounify::crs_file::Format::Toml).unwrap();
        let estimated = pasted.transformer("EPSG:4548", "city:grid").unwrap();
        for i in 8..14 {
            let (want, got) =
                (t.transform(point(i)).unwrap(), estimated.transform(point(i)).unwrap());
            // ±5 mm noise on 8 points: the fitted grid is within a few millimetres.
            assert!(
                (got[0] - want[0]).abs() < 0.006 && (got[1] - want[1]).abs() < 0.006,
                "{order} {i}: {got:?} {want:?}"
            );
        }
    }
}

#[test]
fn the_pasted_poly2_snippet_reproduces_check_points_in_both_axis_orders() {
    // Truth: the example file's poly2 grid (data/crs/city.toml, city:poly-grid).
    let mut truth = geounify::Registry::new();
    truth.load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml")).unwrap();
    let t = truth.transformer("EPSG:4548", "city:poly-grid").unwrap();
    let point = |i: usize| {
        let (u, v) = ((i * 7 % 17) as f64 / 16.0, (i * 5 % 17) as f64 / 16.0);
        [430_000.0 + 60_000.0 * u, 4_390_000.0 + 60_000.0 * v, 0.0]
    };
    for north_east in [false, true] {
        let mut csv = String::from("id,x1,y1,x2,y2\n");
        for i in 0..16 {
            let (p, q) = (point(i), t.transform(point(i)).unwrap());
            let (p, q) = if north_east {
                ([p[1], p[0]], [q[1], q[0]])
            } else {
                ([p[0], p[1]], [q[0], q[1]])
            };
            csv += &format!("K{i},{},{},{},{}\n", p[0], p[1], q[0], q[1]);
        }
        let order = if north_east { "north_east" } else { "east_north" };
        let r = run(&["--model", "poly2", "--axis-order", order, "-"], &csv);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let file = snippet(&r.stdout).replace("EPSG:...", "EPSG:4548");
        assert!(file.contains("method = \"poly2\", "), "{file}");
        assert!(file.contains(", a = [") && file.contains("], b = ["), "{file}");
        assert_eq!(file.contains("axis_order = \"north_east\""), north_east, "{file}");
        let mut pasted = geounify::Registry::new();
        pasted.load_str(&file, "pasted.toml", geounify::crs_file::Format::Toml).unwrap();
        let estimated = pasted.transformer("EPSG:4548", "city:grid").unwrap();
        let back = pasted.transformer("city:grid", "EPSG:4548").unwrap();
        for i in 16..24 {
            let p = point(i);
            let (want, got) = (t.transform(p).unwrap(), estimated.transform(p).unwrap());
            // Noise-free points: the fit is the truth up to the rounding of the 4.4e6 m
            // observations (~1e-9 m); the snippet's shortest round-trip decimals read back
            // exactly. 1e-6 m.
            assert!(
                (got[0] - want[0]).abs() < 1e-6 && (got[1] - want[1]).abs() < 1e-6,
                "{order} {i}: {got:?} {want:?}"
            );
            // And the pasted grid's (Newton) inverse returns the base coordinates.
            let q = back.transform(got).unwrap();
            assert!((q[0] - p[0]).abs() < 1e-6 && (q[1] - p[1]).abs() < 1e-6, "{q:?} {p:?}");
        }
        // The JSON contract: e0, n0 and two arrays of 6, standard errors of a and b.
        let out = json(&["--model", "poly2", "--axis-order", order, "-"], &csv);
        assert_eq!(out["model"], "poly2");
        let params = &out["parameters"];
        assert_eq!(params["method"], "poly2");
        assert!(params["e0"].is_f64() && params["n0"].is_f64(), "{params}");
        // The origin is the centroid of the source points, easting and northing by name.
        let mean = |k: usize| (0..16).map(|i| point(i)[k]).sum::<f64>() / 16.0;
        assert!(
            (f(&params["e0"]) - mean(0)).abs() < 1e-6 && (f(&params["n0"]) - mean(1)).abs() < 1e-6
        );
        for key in ["a", "b"] {
            assert_eq!(params[key].as_array().map(Vec::len), Some(6), "{params}");
            assert_eq!(out["standard_errors"][key].as_array().map(Vec::len), Some(6));
        }
        assert_eq!(out["redundancy"], 2 * 16 - 12);
    }
}
