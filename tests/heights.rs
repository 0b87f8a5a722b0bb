//! Heights (issue 11, item 1). Users' z values are elevations in the national height datum: between
//! two 2D CRSs they are copied unchanged and the plane coordinates are those of the point
//! without a height (height 0 on the source datum), as PROJ does for 2D CRSs. Heights change
//! only when they are ellipsoidal: between the 3D CRSs (EPSG:4479/4480/4978/4979, a CRS file's
//! `dimension = 3`) or when the user says so (`Heights::Ellipsoidal`, `--ellipsoidal-heights`,
//! manifest `heights = "ellipsoidal"`). A 2D ↔ 3D pair without that statement is refused: it
//! would need a geoid model.
//!
//! Before this rule, the 高程 column of a Beijing 1954 city grid moved by ~217 m going to
//! EPSG:4548, and a point's plane position depended on whether it carried a z.

mod common;
use common::cli::{run, run_in};
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{convert_file, ConvertError, ConvertOptions, NoProgress};
use geounify::crs_file::Format;
use geounify::{BuildError, CrsKind, Heights, Registry, Transformer};
use proptest::prelude::*;

const CITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");

fn city() -> Registry {
    let mut registry = Registry::new();
    registry.load_file(CITY).unwrap();
    registry
}

/// The numbers of a CSV data row, by column.
fn row(line: &str) -> Vec<String> {
    line.split(',').map(str::to_string).collect()
}

#[test]
fn a_height_column_in_a_bj54_city_grid_keeps_its_elevation() {
    // Survey points in the city's Beijing 1954 grid with their 高程 (elevation), converted to
    // the national CGCS2000 zone: the elevation comes back as written, byte for byte, and the
    // plane position is the one the point has without a height.
    let r = city();
    let to_grid = r.transformer("EPSG:4326", "city:bj54-gk117").unwrap();
    let mut csv = String::from("点号,X,Y,高程,备注\n");
    for (i, (lon, lat, h)) in
        [(116.4, 39.9, "43.5"), (116.55, 40.05, "1203.25"), (116.3, 39.75, "-2.125")]
            .into_iter()
            .enumerate()
    {
        let (e, n) = to_grid.transform_xy(lon, lat).unwrap();
        csv += &format!("P{i},{e},{n},{h},石\n");
    }
    let dir = Scratch::new("heights-bj54");
    dir.write("in.csv", &csv);
    let args = [
        "--crs-file",
        CITY,
        "convert",
        "--from",
        "city:bj54-gk117",
        "--to",
        "EPSG:4548",
        "in.csv",
        "-o",
        "out.csv",
    ];
    let (code, stderr) = run_in(&args, &dir.0);
    assert_eq!(code, 0, "{stderr}");
    let out = std::fs::read_to_string(dir.path("out.csv")).unwrap();
    let t = r.transformer("city:bj54-gk117", "EPSG:4548").unwrap();
    let t3 = Transformer::with_heights(
        &r.lookup("city:bj54-gk117").unwrap(),
        &crs("EPSG:4548"),
        Heights::Ellipsoidal,
    )
    .unwrap();
    for (input, output) in csv.lines().skip(1).zip(out.lines().skip(1)) {
        let (a, b) = (row(input), row(output));
        assert_eq!(b[3], a[3], "the elevation as written: {output}");
        let (e, n): (f64, f64) = (a[1].parse().unwrap(), a[2].parse().unwrap());
        let (x, y) = t.transform_xy(e, n).unwrap();
        assert_eq!([b[1].parse::<f64>().unwrap(), b[2].parse().unwrap()], [x, y], "{output}");
        // What the old rule did: the height put through the 7-parameter shift as if it were
        // ellipsoidal. The difference is the size the issue reports (~217 m).
        let h: f64 = a[3].parse().unwrap();
        let old = t3.transform([e, n, h]).unwrap();
        assert!((old[2] - h - 216.9).abs() < 1.0, "the old rule's shift: {}", old[2] - h);
    }

    // Said to be ellipsoidal, the heights go through the shift (and the plane moves with them
    // by the rotation: millimetres).
    let (code, stderr) = run_in(&[&args[..], &["--ellipsoidal-heights"]].concat(), &dir.0);
    assert_eq!(code, 0, "{stderr}");
    let out = std::fs::read_to_string(dir.path("out.csv")).unwrap();
    for (input, output) in csv.lines().skip(1).zip(out.lines().skip(1)) {
        let (a, b) = (row(input), row(output));
        let p: Vec<f64> = a[1..4].iter().map(|v| v.parse().unwrap()).collect();
        let q: Vec<f64> = b[1..4].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(q, t3.transform([p[0], p[1], p[2]]).unwrap());
    }
}

#[test]
fn transform_copies_elevations_and_converts_ellipsoidal_heights() {
    let args = ["--crs-file", CITY, "transform", "--from", "EPSG:4326", "--to", "city:bj54-gk117"];
    let r = run(&args, b"116.4 39.9 50\n116.4 39.9\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<Vec<f64>> = r
        .stdout_text()
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(lines[0][2], 50.0);
    assert_eq!(lines[0][..2], lines[1][..], "the same place with or without z");

    let r = run(&[&args[..], &["--ellipsoidal-heights"]].concat(), b"116.4 39.9 50\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let q: Vec<f64> = r.stdout_text().split_whitespace().map(|v| v.parse().unwrap()).collect();
    let city = city();
    let t3 = Transformer::with_heights(
        &crs("EPSG:4326"),
        &city.lookup("city:bj54-gk117").unwrap(),
        Heights::Ellipsoidal,
    )
    .unwrap();
    assert_eq!(q, t3.transform([116.4, 39.9, 50.0]).unwrap());
    assert!((q[2] - 50.0 + 216.9).abs() < 1.0, "{q:?}");
}

#[test]
fn two_d_to_three_d_needs_the_heights_to_be_said_ellipsoidal() {
    // The library: a typed error naming both CRSs.
    let e = Transformer::new(&crs("EPSG:4490"), &crs("EPSG:4480")).unwrap_err();
    assert!(
        matches!(&e, BuildError::HeightsNotConvertible { three_d, two_d }
            if three_d == "EPSG:4480" && two_d == "EPSG:4490"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "EPSG:4480 is 3D (its heights are ellipsoidal) but EPSG:4490 is 2D (its heights are \
         elevations in the national height datum); geounify has no geoid model to convert \
         between them: use a 3D CRS on both sides, or state that the heights are ellipsoidal \
         (--ellipsoidal-heights)"
    );
    assert!(matches!(
        Transformer::new(&crs("EPSG:4978"), &crs("EPSG:4326")),
        Err(BuildError::HeightsNotConvertible { .. })
    ));
    // Said ellipsoidal: CGCS2000 2D → 3D on one datum is the identity.
    let t = Transformer::with_heights(&crs("EPSG:4490"), &crs("EPSG:4480"), Heights::Ellipsoidal)
        .unwrap();
    assert_eq!(t.transform([116.4, 39.9, 50.0]).unwrap(), [116.4, 39.9, 50.0]);
    // The CLI: exit 2 with the same message, nothing on stdout.
    let r = run(&["transform", "--from", "EPSG:4490", "--to", "EPSG:4480"], b"116.4 39.9 50\n");
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert_eq!(r.stderr, format!("geounify: {e}\n"));
    // Between two 3D CRSs no statement is needed.
    let t = Transformer::new(&crs("EPSG:4979"), &crs("EPSG:4480")).unwrap();
    assert!(!t.copies_height());
}

/// The textbook geodetic → geocentric formula, evaluated here: X, Y, Z of (lon, lat, h) on the
/// ellipsoid (a, 1/f).
fn geocentric(a: f64, inv_f: f64, lon: f64, lat: f64, h: f64) -> [f64; 3] {
    let f = 1.0 / inv_f;
    let e2 = f * (2.0 - f);
    let (lam, phi) = (lon.to_radians(), lat.to_radians());
    let n = a / (1.0 - e2 * phi.sin().powi(2)).sqrt();
    [
        (n + h) * phi.cos() * lam.cos(),
        (n + h) * phi.cos() * lam.sin(),
        (n * (1.0 - e2) + h) * phi.sin(),
    ]
}

#[test]
fn the_3d_catalogue_crss_convert_heights() {
    // EPSG:4979 → EPSG:4978 (WGS 84) and EPSG:4480 → EPSG:4479 (CGCS2000): the textbook
    // formula within 1e-8 m (a few ulps of 6.4e6 m). Round trips close to 1e-11° and 1e-8 m.
    for (geographic, geocentric_id, a, inv_f) in [
        ("EPSG:4979", "EPSG:4978", 6_378_137.0, 298.257_223_563),
        ("EPSG:4480", "EPSG:4479", 6_378_137.0, 298.257_222_101),
    ] {
        let t = Transformer::new(&crs(geographic), &crs(geocentric_id)).unwrap();
        assert!(matches!(crs(geocentric_id).kind(), CrsKind::Geocentric));
        assert!(crs(geographic).is_3d() && crs(geocentric_id).is_3d());
        for p in [[0.0, 0.0, 0.0], [116.4, 39.9, 50.0], [87.6, 43.8, 8848.86], [121.5, 31.2, -5.0]]
        {
            let q = t.transform(p).unwrap();
            let want = geocentric(a, inv_f, p[0], p[1], p[2]);
            for k in 0..3 {
                assert!((q[k] - want[k]).abs() < 1e-8, "{geographic} {p:?}: {q:?} {want:?}");
            }
            let back = t.inverse().transform(q).unwrap();
            assert!((back[0] - p[0]).abs() < 1e-11 && (back[1] - p[1]).abs() < 1e-11);
            assert!((back[2] - p[2]).abs() < 1e-8, "{back:?}");
        }
    }
    // The pole: Z is the semi-minor axis b = a(1 - f).
    let pole = Transformer::new(&crs("EPSG:4979"), &crs("EPSG:4978"))
        .unwrap()
        .transform([0.0, 90.0, 0.0])
        .unwrap();
    assert!((pole[2] - 6_356_752.314_245_179).abs() < 1e-8, "{pole:?}");
}

#[test]
fn a_crs_file_dimension_3_makes_a_3d_crs() {
    let mut r = city();
    r.load_str(
        "[[crs]]\nid = \"t:bj54-geog-3d\"\ndatum = \"bj54-city\"\ndimension = 3\n",
        "three.toml",
        Format::Toml,
    )
    .unwrap();
    let three = r.lookup("t:bj54-geog-3d").unwrap();
    let two = r.lookup("city:bj54-geog").unwrap();
    assert!(three.is_3d() && !two.is_3d());
    // 3D → 3D converts the height like the 2D CRS with heights said ellipsoidal.
    let t = Transformer::new(&three, &crs("EPSG:4480")).unwrap();
    let t2 = Transformer::with_heights(&two, &crs("EPSG:4490"), Heights::Ellipsoidal).unwrap();
    let p = [116.4, 39.9, 50.0];
    assert_eq!(t.transform(p).unwrap(), t2.transform(p).unwrap());
    assert!((t.transform(p).unwrap()[2] - 50.0).abs() > 1.0);
    // 3D → 2D without the statement is refused.
    assert!(matches!(
        r.transformer("t:bj54-geog-3d", "EPSG:4490"),
        Err(BuildError::HeightsNotConvertible { .. })
    ));
    // Other values than 2 and 3 are refused; a web-map CRS has no 3D variant.
    let body = "[[crs]]\nid = \"t:d\"\ndatum = \"CGCS2000\"\ndimension = 4\n";
    let e = r.load_str(body, "bad.toml", Format::Toml).unwrap_err();
    assert!(e.to_string().ends_with("2 or 3"), "{e}");
    let e = crs("GCJ02").with_ellipsoidal_height("t:g3", "GCJ-02 3D", None).unwrap_err();
    assert!(e.to_string().contains("web-map systems have no height"), "{e}");
}

#[test]
fn files_refuse_a_geocentric_crs_and_keep_the_input() {
    let dir = Scratch::new("heights-geocentric");
    dir.write("in.csv", "lon,lat,h\n116.4,39.9,50\n");
    for (from, to) in [("EPSG:4979", "EPSG:4978"), ("EPSG:4479", "EPSG:4480")] {
        let options = ConvertOptions::default();
        let e = convert_file(
            &dir.path("in.csv"),
            &dir.path("out.csv"),
            &crs(from),
            &crs(to),
            &options,
            &NoProgress,
        )
        .unwrap_err();
        assert!(matches!(e, ConvertError::Options { .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("is geocentric (X, Y, Z)"), "{text}");
        assert!(!dir.path("out.csv").exists());
    }
}

#[test]
fn the_manifest_says_which_datasets_hold_ellipsoidal_heights() {
    let dir = Scratch::new("heights-manifest");
    dir.write("a.csv", "lon,lat,h\n116.4,39.9,50\n");
    dir.write("b.csv", "lon,lat,h\n116.4,39.9,50\n");
    std::fs::copy(CITY, dir.path("city.toml")).unwrap();
    dir.write(
        "m.toml",
        "target = \"city:bj54-geog\"\noutput = \"out\"\ncrs_files = [\"city.toml\"]\n\
         [[dataset]]\npath = \"a.csv\"\ncrs = \"EPSG:4326\"\n\
         [[dataset]]\npath = \"b.csv\"\ncrs = \"EPSG:4326\"\nheights = \"ellipsoidal\"\n",
    );
    let (code, stderr) = run_in(&["unify", "m.toml"], &dir.0);
    assert_eq!(code, 0, "{stderr}");
    let read = |name: &str| {
        let text = std::fs::read_to_string(dir.path(&format!("out/{name}"))).unwrap();
        row(text.lines().nth(1).unwrap()).iter().map(|v| v.parse().unwrap()).collect::<Vec<f64>>()
    };
    let r = city();
    let (wgs84, bj54) = (crs("EPSG:4326"), r.lookup("city:bj54-geog").unwrap());
    let e = Transformer::new(&wgs84, &bj54).unwrap().transform([116.4, 39.9, 50.0]).unwrap();
    let h = Transformer::with_heights(&wgs84, &bj54, Heights::Ellipsoidal)
        .unwrap()
        .transform([116.4, 39.9, 50.0])
        .unwrap();
    assert_eq!(read("a.csv"), e);
    assert_eq!(e[2], 50.0);
    assert_eq!(read("b.csv"), h);
    let lineage: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path("out/lineage.json")).unwrap()).unwrap();
    let heights: Vec<&str> = lineage["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["heights"].as_str().unwrap())
        .collect();
    assert_eq!(heights, ["elevations, copied unchanged", "ellipsoidal heights, converted"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Between 2D CRSs across a datum shift (a city's 7-parameter Beijing 1954, Xi'an 1980, and
    /// CGCS2000/WGS84 zones), any finite z comes back bit for bit, the plane coordinates are
    /// bit for bit those without a height, and the batch pipeline gives the same bits.
    #[test]
    fn the_plane_never_depends_on_the_elevation(
        pair in 0..4usize,
        u in 0.0..1.0f64,
        v in 0.0..1.0f64,
        z in -1.0e4..1.0e4f64,
    ) {
        let pairs = [
            ("EPSG:4326", "city:bj54-gk117"),
            ("city:bj54-geog", "EPSG:4548"),
            ("city:xian80-gk117", "EPSG:4490"),
            ("EPSG:4326", "city:old-grid"),
        ];
        let r = city();
        let (from, to) = pairs[pair];
        let t = r.transformer("EPSG:4326", from).unwrap();
        let [x, y, _] = t.transform([116.0 + 0.9 * u, 39.6 + 0.7 * v, 0.0]).unwrap();
        let t = r.transformer(from, to).unwrap();
        let with = t.transform([x, y, z]).unwrap();
        let (x0, y0) = t.transform_xy(x, y).unwrap();
        prop_assert_eq!(with[2].to_bits(), z.to_bits());
        prop_assert_eq!([with[0].to_bits(), with[1].to_bits()], [x0.to_bits(), y0.to_bits()]);
        let mut batch = vec![[x, y, z]; 3];
        let report = t.transform_slice(&mut batch);
        prop_assert!(report.is_complete());
        prop_assert_eq!(batch[2].map(f64::to_bits), with.map(f64::to_bits));
    }
}

#[test]
fn the_help_of_transform_and_convert_states_the_heights_rule() {
    for command in ["transform", "convert"] {
        let r = run(&[command, "--help"], b"");
        assert_eq!(r.code, 0);
        let text = r.stdout_text();
        assert!(
            text.contains(
                "Heights: z values are elevations in the national height datum unless \
                 --ellipsoidal-heights\nsays they are ellipsoidal heights on the source CRS's datum."
            ),
            "{command}: {text}"
        );
        assert!(text.contains("--ellipsoidal-heights"), "{command}");
    }
}

#[test]
fn transform_reads_and_writes_geocentric_x_y_z() {
    // To geocentric: Z is written on every line, also for input lines without a height.
    let r = run(&["transform", "--from", "EPSG:4979", "--to", "EPSG:4978"], b"0 0 0\n0 0\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout_text(), "6378137 0 0\n6378137 0 0\n");
    // From geocentric: a line without Z is a failed line (exit 1), the others convert.
    let r = run(
        &["transform", "--from", "EPSG:4978", "--to", "EPSG:4979"],
        b"6378137 0 0\n6378137 0\n",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = r.stdout_text();
    let first: Vec<f64> =
        out.lines().next().unwrap().split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert!(first[0].abs() < 1e-12 && first[1].abs() < 1e-12 && first[2].abs() < 1e-8, "{out}");
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("geocentric X Y Z: the line has no Z")
    );
}

#[test]
fn a_3d_prj_written_by_gdal_is_taken_as_the_3d_crs() {
    // GDAL writes EPSG:4979 into a .prj as GEOGCS["WGS_1984_3D", ..., LINUNIT["Meter",1.0]]
    // (tests/data/gdal/README.md). Before, it was identified as EPSG:4326 (2D), so its
    // ellipsoidal heights would have been copied as elevations.
    let dir = Scratch::new("heights-gdal-3d");
    for ext in ["shp", "shx", "dbf", "prj"] {
        std::fs::copy(
            format!("{}/tests/data/gdal/wgs84_3d.{ext}", env!("CARGO_MANIFEST_DIR")),
            dir.path(&format!("in.{ext}")),
        )
        .unwrap();
    }
    let (code, stderr) =
        run_in(&["convert", "--to", "EPSG:4480", "in.shp", "-o", "out.shp"], &dir.0);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no --from: converting from EPSG:4979"), "{stderr}");
    // To a 2D CRS the ellipsoidal heights need the user's word (no geoid model).
    let (code, stderr) =
        run_in(&["convert", "--to", "EPSG:4548", "in.shp", "-o", "2d.shp"], &dir.0);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("EPSG:4979 is 3D (its heights are ellipsoidal)"), "{stderr}");
    assert!(!dir.path("2d.shp").exists());
    let args = ["convert", "--to", "EPSG:4548", "--ellipsoidal-heights", "in.shp", "-o", "2d.shp"];
    let (code, stderr) = run_in(&args, &dir.0);
    assert_eq!(code, 0, "{stderr}");
    // A 2D --from for it converts, with a warning that the dimensions differ.
    let args = ["convert", "--from", "EPSG:4326", "--to", "EPSG:4490", "in.shp", "-o", "w.shp"];
    let (code, stderr) = run_in(&args, &dir.0);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(
            "in.prj declares a 3D CRS (ellipsoidal heights), EPSG:4326 is 2D (heights taken as \
             elevations and copied); converting as EPSG:4326"
        ),
        "{stderr}"
    );
}
