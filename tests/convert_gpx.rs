//! GPX conversion: the GCJ-02 trap undone against the published GCJ-02 values, round trips
//! GCJ-02 → WGS84 → GCJ-02, every byte but the coordinates kept (template), bounds recomputed,
//! elevations, Chinese text and GBK, entities, malformed and empty files (clear error, nothing
//! written), failures with and without `skip_invalid`, refusals, chunk boundaries.
#![cfg(feature = "formats")]

mod common;
use common::conversion::{convert, convert_skipping};
use common::crs;
use common::scratch::Scratch;
use common::template::Template;
use geounify::convert::{ConvertError, ConvertOptions};
use geounify::{Heights, Transformer};

/// (WGS84 lon, lat, GCJ-02 lon, lat), degrees: the published values `tests/ops_webmaps.rs`
/// checks the operation against (the brief's vector and eviltransform's Shanghai, Shenzhen,
/// Beijing). Their tolerance there, 1e-12°, is the contract of the exact GCJ-02 inverse.
const PUBLISHED: [(f64, f64, f64, f64); 4] = [
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
];

/// A GPX 1.1 file as a Chinese app might export it, with everything a rewrite could disturb:
/// an XML declaration, comments, CDATA, entities, Chinese names, extensions, single quotes,
/// attributes on several lines in another order, CRLF lines, an empty `rtept`, a point with
/// only a comment inside, no final newline. `@` marks the coordinates: bounds (minlat,
/// minlon, maxlat, maxlon), then each point's two values in the order they appear.
const DOC: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\r\n\
<!-- 导出: 某地图 App -->\r\n\
<gpx version=\"1.1\" creator=\"测试\" xmlns=\"http://www.topografix.com/GPX/1/1\" \
xmlns:gpxx=\"http://www.garmin.com/xmlschemas/GpxExtensions/v3\">\n\
  <metadata>\n\
    <name><![CDATA[北京 <骑行> & 散步 lat=\"1\"]]></name>\n\
    <time>2024-05-01T08:00:00Z</time>\n\
    <bounds minlat=\"@\" minlon=\"@\" maxlat=\"@\" maxlon=\"@\"/>\n\
  </metadata>\n\
  <wpt lat='@' lon='@'><ele>44.50</ele><name>天安门 &amp; 广场</name>\
<extensions><gpxx:WaypointExtension><gpxx:Proximity>5</gpxx:Proximity>\
</gpxx:WaypointExtension></extensions></wpt>\n\
  <rte><name>路线</name>\n\
    <rtept lat=\"@\" lon=\"@\"/>\n\
    <rtept\n        lon = \"@\"\n        lat = \"@\" ><!-- 注释 --></rtept>\n\
  </rte>\n\
  <trk><name>轨迹</name><trkseg>\n\
    <trkpt lat=\"@\" lon=\"@\"><ele>50.0</ele><time>2024-05-01T08:00:01Z</time></trkpt>\n\
    <trkpt lat=\"@\" lon=\"@\"><ele>51.5</ele><time>2024-05-01T08:00:02Z</time></trkpt>\n\
  </trkseg>\n\
  <trkseg>\n\
    <trkpt lat=\"@\" lon=\"@\"></trkpt>\n\
  </trkseg></trk>\n\
</gpx>";

/// The GCJ-02 points of [`DOC`], (lon, lat) in document order: the four published ones, then
/// two more in Beijing.
fn gcj_points() -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = PUBLISHED.iter().map(|v| (v.2, v.3)).collect();
    p.extend([(116.3, 39.9), (116.31, 39.91)]);
    p
}

/// The extent (min lon, min lat, max lon, max lat) of `points`.
fn extent(points: &[(f64, f64)]) -> [f64; 4] {
    points.iter().fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |e, &(x, y)| {
        [e[0].min(x), e[1].min(y), e[2].max(x), e[3].max(y)]
    })
}

/// [`DOC`]'s slot values for `points` (bounds = their extent).
fn slots(points: &[(f64, f64)]) -> Vec<f64> {
    let e = extent(points);
    let mut v = vec![e[1], e[0], e[3], e[2]];
    for (k, &(lon, lat)) in points.iter().enumerate() {
        // The second rtept (k = 2) has lon before lat.
        if k == 2 {
            v.extend([lon, lat]);
        } else {
            v.extend([lat, lon]);
        }
    }
    v
}

/// The points in [`DOC`]'s slot values.
fn points_of(v: &[f64]) -> Vec<(f64, f64)> {
    v[4..]
        .chunks(2)
        .enumerate()
        .map(|(k, c)| if k == 2 { (c[0], c[1]) } else { (c[1], c[0]) })
        .collect()
}

#[test]
fn gcj02_trap_undone_against_published_values_and_every_other_byte_kept() {
    let dir = Scratch::new("gpx-published");
    let template = Template::new(DOC.as_bytes());
    let gcj = gcj_points();
    let input = dir.write("track.gpx", template.fill(&slots(&gcj)));
    let output = dir.path("track_wgs84.gpx");
    let report =
        convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &ConvertOptions::default())
            .unwrap();
    assert_eq!((report.features, report.written, report.vertices), (6, 6, 6));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Byte-identical but for the numbers (template.numbers asserts it).
    let values = template.numbers(&std::fs::read(&output).unwrap());
    let wgs = points_of(&values);
    for (&(lon, lat), v) in wgs.iter().zip(&PUBLISHED) {
        assert!((lon - v.0).abs() < 1e-12 && (lat - v.1).abs() < 1e-12, "{lon} {lat} vs {v:?}");
    }
    // The bounds are the extent of the converted points, exactly.
    let e = extent(&wgs);
    assert_eq!(values[..4], [e[1], e[0], e[3], e[2]]);

    // And back: GCJ-02 again to 1e-12° (forward(inverse(g)) = g, the GCJ-02 contract), the
    // same bytes around them.
    let back = dir.path("track_gcj02.gpx");
    let report =
        convert(&output, &back, &crs("EPSG:4326"), &crs("GCJ02"), &ConvertOptions::default())
            .unwrap();
    assert!(report.warnings[0].contains("WGS84 by definition"), "{:?}", report.warnings);
    let again = points_of(&template.numbers(&std::fs::read(&back).unwrap()));
    for (a, g) in again.iter().zip(&gcj) {
        assert!((a.0 - g.0).abs() < 1e-12 && (a.1 - g.1).abs() < 1e-12, "{a:?} vs {g:?}");
    }
}

#[test]
fn wgs84_to_gcj02_gives_the_published_values() {
    let dir = Scratch::new("gpx-forward");
    let mut doc = String::from("<gpx version=\"1.1\">\n");
    for v in &PUBLISHED {
        doc += &format!("<wpt lat=\"{}\" lon=\"{}\"><name>点</name></wpt>\n", v.1, v.0);
    }
    doc += "</gpx>\n";
    let input = dir.write("a.gpx", &doc);
    let output = dir.path("b.gpx");
    convert(&input, &output, &crs("EPSG:4326"), &crs("GCJ02"), &ConvertOptions::default()).unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!((lines.len(), lines[0], lines[5]), (6, "<gpx version=\"1.1\">", "</gpx>"));
    for (line, v) in lines[1..5].iter().zip(&PUBLISHED) {
        let (lat, lon) = (attr(line, "lat"), attr(line, "lon"));
        // 1e-12°: the published values' tolerance in tests/ops_webmaps.rs.
        assert!((lon - v.2).abs() < 1e-12 && (lat - v.3).abs() < 1e-12, "{line}");
        assert_eq!(line.replace(&format!("{lat}"), "").replace(&format!("{lon}"), ""), {
            "<wpt lat=\"\" lon=\"\"><name>点</name></wpt>"
        });
    }
}

/// The value of attribute `name="…"` in `line`.
fn attr(line: &str, name: &str) -> f64 {
    let start = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let len = line[start..].find('"').unwrap();
    line[start..start + len].parse().unwrap()
}

#[test]
fn elevations_are_copied_unless_heights_are_converted() {
    let dir = Scratch::new("gpx-ele");
    let doc = "<gpx><wpt lat=\"39.9\" lon=\"116.4\"><ele> 12.0 </ele></wpt></gpx>";
    let input = dir.write("a.gpx", doc);
    let out = dir.path("b.gpx");
    convert(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4326"), &ConvertOptions::default())
        .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), doc);
    // Ellipsoidal heights asked for (CGCS2000 3D): the ele goes through the conversion and is
    // written back (the same frame, so the same height, in the shortest form).
    let options = ConvertOptions { heights: Heights::Ellipsoidal, ..ConvertOptions::default() };
    let out3 = dir.path("c.gpx");
    convert(&input, &out3, &crs("EPSG:4490"), &crs("EPSG:4480"), &options).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out3).unwrap(),
        "<gpx><wpt lat=\"39.9\" lon=\"116.4\"><ele> 12 </ele></wpt></gpx>"
    );
}

#[test]
fn bounds_without_points_are_kept_with_a_warning() {
    let dir = Scratch::new("gpx-bounds");
    let doc = "<gpx><metadata><bounds minlat=\"1\" minlon=\"2\" maxlat=\"3\" maxlon=\"4\"/>\
               </metadata></gpx>\n";
    let input = dir.write("a.gpx", doc);
    let out = dir.path("b.gpx");
    let report =
        convert(&input, &out, &crs("GCJ02"), &crs("EPSG:4326"), &ConvertOptions::default())
            .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), doc);
    assert_eq!(report.features, 0);
    assert!(report.warnings.iter().any(|w| w.contains("<bounds> element is kept")));
}

#[test]
fn gbk_files_and_entities_in_attributes() {
    let dir = Scratch::new("gpx-gbk");
    let (name, _, _) = encoding_rs::GBK.encode("天安门");
    let mut doc = b"<?xml version=\"1.0\" encoding=\"GBK\"?>\n<gpx><wpt lat=\"39&#46;9\" \
                    lon=\"&#x31;16.4\"><name>"
        .to_vec();
    doc.extend_from_slice(&name);
    doc.extend_from_slice(b"</name></wpt></gpx>\n");
    let input = dir.write("a.gpx", &doc);
    let out = dir.path("b.gpx");
    convert(&input, &out, &crs("GCJ02"), &crs("EPSG:4326"), &ConvertOptions::default()).unwrap();
    let got = std::fs::read(&out).unwrap();
    let (lon, lat) = Transformer::new(&crs("GCJ02"), &crs("EPSG:4326"))
        .unwrap()
        .transform_xy(116.4, 39.9)
        .unwrap();
    let mut expected = format!(
        "<?xml version=\"1.0\" encoding=\"GBK\"?>\n<gpx><wpt lat=\"{lat}\" lon=\"{lon}\"><name>"
    )
    .into_bytes();
    expected.extend_from_slice(&name);
    expected.extend_from_slice(b"</name></wpt></gpx>\n");
    assert_eq!(got, expected);
    // --encoding does not apply: the XML declaration says it.
    let options = ConvertOptions {
        encoding: Some(geounify::convert::TextEncoding::Gbk),
        ..Default::default()
    };
    let err = convert(&input, &dir.path("c.gpx"), &crs("GCJ02"), &crs("EPSG:4326"), &options)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--encoding does not apply"), "{err}");
}

#[test]
fn malformed_and_empty_files_fail_with_their_line_and_write_nothing() {
    let dir = Scratch::new("gpx-malformed");
    let cases: [(&str, &str); 9] = [
        ("", "line 1: the file is empty (no root element)"),
        ("  \n\n", "line 3: the file is empty (no root element)"),
        (
            "<gpx>\n<wpt lat=\"1\" lon=\"2\">\n</gpx>",
            "line 3: </gpx> closes <wpt> opened at line 2",
        ),
        ("<gpx>\n<trk>\n", "line 2: the file ends before <trk> opened here is closed"),
        ("<gpx>\n<!-- never closed\n", "line 2: the file ends inside a comment opened here"),
        (
            "<gpx>\n<wpt lat=1 lon=\"2\"/></gpx>",
            "line 2: the value of attribute 'lat' is not quoted",
        ),
        ("<kml>\n</kml>", "line 1: not a GPX file: the root element is <kml>, not <gpx>"),
        ("<gpx/>\n<gpx/>", "line 2: a second root element <gpx> (an XML file has one)"),
        ("<gpx><wpt lat=\"1\" lon=\"2\"\n<name/></wpt></gpx>", "line 1: '<' inside a tag"),
    ];
    for (k, (doc, expected)) in cases.iter().enumerate() {
        let input = dir.write(&format!("in{k}.gpx"), doc);
        let output = dir.path(&format!("out{k}.gpx"));
        let err = convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default())
            .unwrap_err();
        assert!(matches!(err, ConvertError::Malformed { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(expected), "{doc:?}: {text}");
        assert!(!output.exists());
    }
    let listing = dir.listing();
    assert!(listing.iter().all(|f| f.starts_with("in")), "{listing:?}");
}

#[test]
fn bad_points_fail_with_their_location_or_are_left_out() {
    let dir = Scratch::new("gpx-bad-points");
    let doc = "<gpx><trk><trkseg>\n\
               <trkpt lat=\"39.9\" lon=\"116.3\"/>\n\
               <trkpt lat=\"95\" lon=\"116.3\"><ele>3</ele></trkpt>\n\
               <trkpt lat=\"abc\" lon=\"116.3\"/>\n\
               <trkpt lon=\"116.3\"/>\n\
               <trkpt lat=\"39.91\" lon=\"116.31\"/>\n\
               </trkseg></trk></gpx>\n";
    let input = dir.write("a.gpx", doc);
    let output = dir.path("b.gpx");
    let err =
        convert_skipping(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), false).unwrap_err();
    let ConvertError::PointsFailed { failures, total, .. } = err else { panic!("{err}") };
    assert_eq!(total, 3);
    let listed: Vec<String> =
        failures.iter().map(|f| format!("{}: {}", f.location, f.reason)).collect();
    assert_eq!(
        listed,
        [
            "line 3, trkpt 2: lat 95 is beyond ±90°",
            "line 4, trkpt 3: lat 'abc' is not a number",
            "line 5, trkpt 4: no lat attribute",
        ]
    );
    assert!(!output.exists());

    let report = convert_skipping(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), true).unwrap();
    assert_eq!((report.features, report.written, report.skipped.len()), (5, 2, 3));
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(!text.contains("95") && !text.contains("abc") && !text.contains("<ele>"), "{text}");
    assert_eq!(text.matches("<trkpt").count(), 2, "{text}");
}

#[test]
fn projected_crss_are_refused_and_gcj02_targets_warned() {
    let dir = Scratch::new("gpx-crs");
    let input = dir.write("a.gpx", "<gpx><wpt lat=\"39.9\" lon=\"116.4\"/></gpx>");
    for (from, to) in [("GCJ02", "EPSG:4547"), ("EPSG:4547", "EPSG:4326"), ("BD09", "BD09MC")] {
        let output = dir.path("b.gpx");
        let err = convert(&input, &output, &crs(from), &crs(to), &Default::default()).unwrap_err();
        assert!(matches!(err, ConvertError::Options { .. }), "{err}");
        assert!(err.to_string().contains("GPX coordinates are longitude/latitude"), "{err}");
        assert!(!output.exists());
    }
    let report =
        convert(&input, &dir.path("bd.gpx"), &crs("EPSG:4326"), &crs("BD09"), &Default::default())
            .unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("BD09 coordinates")), "{:?}", report);
}

#[test]
fn long_tracks_cross_chunk_boundaries_in_order() {
    // 300,000 points: more than one chunk by count (262,144) and by size (16 MiB).
    let dir = Scratch::new("gpx-long");
    let n = 300_000;
    let mut doc = String::from("<gpx><trk><name>长</name><trkseg>\n");
    for i in 0..n {
        let (lat, lon) = (30.0 + i as f64 * 1e-5, 110.0 + i as f64 * 1e-5);
        doc += &format!("<trkpt lat=\"{lat}\" lon=\"{lon}\"><time>t{i}</time></trkpt>\n");
    }
    doc += "</trkseg></trk></gpx>\n";
    assert!(doc.len() > 16 << 20);
    let input = dir.write("a.gpx", &doc);
    let output = dir.path("b.gpx");
    let report =
        convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default()).unwrap();
    assert_eq!(report.vertices, n);
    let t = Transformer::new(&crs("GCJ02"), &crs("EPSG:4326")).unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    for (i, line) in text.lines().skip(1).take(n as usize).enumerate() {
        if i % 9973 != 0 && i != n as usize - 1 {
            continue;
        }
        let (lat, lon) = (30.0 + i as f64 * 1e-5, 110.0 + i as f64 * 1e-5);
        let (x, y) = t.transform_xy(lon, lat).unwrap();
        assert_eq!(line, format!("<trkpt lat=\"{y}\" lon=\"{x}\"><time>t{i}</time></trkpt>"));
    }
}

/// `geounify convert` without `--from`: GPX declares no CRS (it says WGS84, but may hold GCJ-02),
/// so the user is asked, with the trap explained; nothing is written.
#[cfg(feature = "cli")]
#[test]
fn the_cli_asks_for_the_source_and_explains_the_trap() {
    let dir = Scratch::new("gpx-cli");
    dir.write("a.gpx", "<gpx><wpt lat=\"39.9\" lon=\"116.4\"/></gpx>");
    let (code, stderr) =
        common::cli::run_in(&["convert", "--to", "EPSG:4326", "a.gpx", "-o", "b.gpx"], &dir.0);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("WGS84 longitude/latitude by definition")
            && stderr.contains("--from EPSG:4326")
            && stderr.contains("--from GCJ02"),
        "{stderr}"
    );
    assert_eq!(dir.listing(), ["a.gpx"]);
    // --from GCJ02 is taken (no declaration contradicts it): the trap is what it is for.
    let (code, stderr) = common::cli::run_in(
        &["convert", "--from", "GCJ02", "--to", "EPSG:4326", "a.gpx", "-o", "b.gpx"],
        &dir.0,
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn deep_nesting_is_refused_not_recursed() {
    let dir = Scratch::new("gpx-deep");
    let doc = format!("<gpx>{}", "<extensions>".repeat(100_000));
    let input = dir.write("a.gpx", doc);
    let output = dir.path("b.gpx");
    let err = convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default())
        .unwrap_err();
    assert!(err.to_string().contains("line 1: elements nested deeper than 1024 levels"), "{err}");
    assert!(!output.exists());
}

/// Pieces of GPX markup, glued at random by the proptest below.
const PIECES: [&str; 30] = [
    "<gpx>",
    "</gpx>",
    "<wpt lat=\"",
    "\" lon=\"",
    "\">",
    "</wpt>",
    "<trk><trkseg>",
    "</trkseg></trk>",
    "<trkpt lat='39.9' lon='116.4'",
    "/>",
    ">",
    "</trkpt>",
    "<ele>",
    "</ele>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml version=\"1.0\"?>",
    "<metadata><bounds minlat=\"1\"",
    " maxlon=\"2\"/></metadata>",
    "39.9",
    "116.4",
    "-1e3",
    "&#51;",
    "&bad;",
    " ",
    "\n",
    "'",
    "天",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Any arrangement of GPX pieces converts or fails cleanly: no panic, and an output exactly
    /// when the conversion succeeded.
    #[test]
    fn any_gpx_like_text_converts_or_fails_cleanly(picks in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let dir = Scratch::new("gpx-prop");
        let doc: String = picks.iter().map(|&i| PIECES[i]).collect();
        let input = dir.write("a.gpx", &doc);
        let output = dir.path("b.gpx");
        let result = convert_skipping(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), true);
        proptest::prop_assert_eq!(result.is_ok(), output.exists(), "{:?}: {:?}", doc, result);
    }
}
