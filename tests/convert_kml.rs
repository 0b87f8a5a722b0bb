//! KML conversion: the GCJ-02 trap undone against the published GCJ-02 values, round trips
//! GCJ-02 → WGS84 → GCJ-02, every byte but the coordinates kept (template) in every geometry
//! (Point, LineString, Polygon with holes, MultiGeometry, gx:Track, gx:LatLonQuad) and overlay
//! boxes, altitudes, malformed and empty files (clear error, nothing written), failures with
//! and without `skip_invalid`, refusals, chunk boundaries.
#![cfg(feature = "formats")]

mod common;
use common::conversion::{convert, convert_skipping};
use common::crs;
use common::scratch::Scratch;
use common::template::Template;
use geounify::convert::{ConvertError, ConvertOptions};
use geounify::{Heights, Transformer};

/// (WGS84 lon, lat, GCJ-02 lon, lat), degrees: the published values `tests/ops_webmaps.rs`
/// checks the operation against. Their tolerance there, 1e-12°, is the contract of the exact
/// GCJ-02 inverse.
const PUBLISHED: [(f64, f64, f64, f64); 4] = [
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
];

/// A KML document with everything a rewrite could disturb. `@` marks a coordinate; the slots
/// are, in order: the four published points (lon, lat each: a Point, a Point in a
/// MultiGeometry, the first and second tuples of a LineString), a polygon's outer ring (4
/// tuples) and hole (4 tuples), a gx:Track's two gx:coord (lon lat each), a GroundOverlay's
/// LatLonBox (north, south, east, west), a gx:LatLonQuad (4 tuples), a Region's LatLonAltBox
/// (north, south, east, west).
const DOC: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<kml xmlns=\"http://www.opengis.net/kml/2.2\" xmlns:gx=\"http://www.google.com/kml/ext/2.2\">\n\
<!-- 由某地图导出 -->\n\
<Document><name>北京 &amp; 上海</name>\n\
  <Style id=\"s\"><IconStyle><scale>1.1</scale></IconStyle></Style>\n\
  <Placemark id=\"p1\"><name>天安门</name>\n\
    <description><![CDATA[<p>坐标 116.404,39.915 <coordinates>1,2</coordinates></p>]]></description>\n\
    <Point><altitudeMode>absolute</altitudeMode><coordinates>@,@,44.5</coordinates></Point>\n\
  </Placemark>\n\
  <Placemark><name>多</name><MultiGeometry>\n\
    <Point><coordinates>\n      @,@\n    </coordinates></Point>\n\
    <LineString><tessellate>1</tessellate><coordinates>@,@,0\r\n\t@, @ ,10.25</coordinates></LineString>\n\
  </MultiGeometry></Placemark>\n\
  <Placemark><name>面</name><Polygon><outerBoundaryIs><LinearRing><coordinates>\
@,@ @,@ @,@ @,@</coordinates></LinearRing></outerBoundaryIs>\
<innerBoundaryIs><LinearRing><coordinates>@,@  @,@\n@,@ @,@ </coordinates></LinearRing>\
</innerBoundaryIs></Polygon></Placemark>\n\
  <Placemark><name>轨迹</name><gx:Track><when>2024-05-01T08:00:00Z</when>\
<when>2024-05-01T08:00:01Z</when><gx:coord>@ @ 50</gx:coord><gx:coord>@ @ 51</gx:coord>\
</gx:Track></Placemark>\n\
  <GroundOverlay><name>图</name><Icon><href>map.png</href></Icon>\n\
    <LatLonBox><north>@</north><south> @ </south><east>@</east><west>@</west>\
<rotation>2.5</rotation></LatLonBox>\n\
    <gx:LatLonQuad><coordinates>@,@ @,@ @,@ @,@</coordinates></gx:LatLonQuad>\n\
  </GroundOverlay>\n\
  <Folder><Region><LatLonAltBox><north>@</north><south>@</south><east>@</east><west>@</west>\
<minAltitude>0</minAltitude><maxAltitude>10</maxAltitude></LatLonAltBox></Region></Folder>\n\
</Document>\n\
</kml>\n";

/// Slot values for [`DOC`] from the GCJ-02 points: the published four, then points around
/// Beijing.
fn slots() -> Vec<f64> {
    let mut v = Vec::new();
    for p in &PUBLISHED {
        v.extend([p.2, p.3]);
    }
    let ring = [(116.3, 39.9), (116.31, 39.9), (116.31, 39.91), (116.3, 39.9)];
    let hole = [(116.302, 39.902), (116.303, 39.902), (116.303, 39.903), (116.302, 39.902)];
    for (x, y) in ring.iter().chain(&hole) {
        v.extend([*x, *y]);
    }
    v.extend([116.35, 39.95, 116.36, 39.96]); // gx:coord
    v.extend([39.93, 39.92, 116.42, 116.41]); // LatLonBox n s e w
    v.extend([116.41, 39.92, 116.42, 39.92, 116.42, 39.93, 116.41, 39.93]); // quad
    v.extend([39.93, 39.92, 116.42, 116.41]); // LatLonAltBox
    v
}

/// The (lon, lat) pairs of the slot values (everything but the two boxes).
fn pairs(v: &[f64]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = v[..28].chunks(2).map(|c| (c[0], c[1])).collect();
    p.extend(v[32..40].chunks(2).map(|c| (c[0], c[1])));
    p
}

#[test]
fn gcj02_trap_undone_against_published_values_and_every_other_byte_kept() {
    let dir = Scratch::new("kml-published");
    let template = Template::new(DOC.as_bytes());
    let gcj = slots();
    let input = dir.write("doc.kml", template.fill(&gcj));
    let output = dir.path("doc_wgs84.kml");
    let report =
        convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &ConvertOptions::default())
            .unwrap();
    assert_eq!((report.features, report.written, report.vertices), (5, 5, 18));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let values = template.numbers(&std::fs::read(&output).unwrap());
    for (k, v) in PUBLISHED.iter().enumerate() {
        let (lon, lat) = (values[2 * k], values[2 * k + 1]);
        assert!((lon - v.0).abs() < 1e-12 && (lat - v.1).abs() < 1e-12, "{lon} {lat} vs {v:?}");
    }
    // Every other pair is the transformer's result for its input.
    let t = Transformer::new(&crs("GCJ02"), &crs("EPSG:4326")).unwrap();
    for (a, b) in pairs(&values).iter().zip(pairs(&gcj)) {
        assert_eq!(*a, t.transform_xy(b.0, b.1).unwrap());
    }
    // LatLonBox: each edge the mean of its two converted corners; LatLonAltBox: the outer one.
    let corner = |lon: f64, lat: f64| t.transform_xy(lon, lat).unwrap();
    let (nw, ne, sw, se) = (
        corner(116.41, 39.93),
        corner(116.42, 39.93),
        corner(116.41, 39.92),
        corner(116.42, 39.92),
    );
    let mean = [(nw.1 + ne.1) / 2.0, (sw.1 + se.1) / 2.0, (ne.0 + se.0) / 2.0, (nw.0 + sw.0) / 2.0];
    assert_eq!(values[28..32], mean);
    let outer = [nw.1.max(ne.1), sw.1.min(se.1), ne.0.max(se.0), nw.0.min(sw.0)];
    assert_eq!(values[40..44], outer);
    // The GCJ-02 offset changes by less than 1e-5° across this 0.01° box: the corners' own
    // positions are within that of the mean box.
    for (got, want) in [(nw.1, mean[0]), (se.1, mean[1]), (se.0, mean[2]), (nw.0, mean[3])] {
        assert!((got - want).abs() < 1e-5);
    }

    // And back: GCJ-02 again to 1e-12° (forward(inverse(g)) = g), the same bytes around them.
    let back = dir.path("doc_gcj02.kml");
    let report =
        convert(&output, &back, &crs("EPSG:4326"), &crs("GCJ02"), &ConvertOptions::default())
            .unwrap();
    assert!(report.warnings[0].contains("KML coordinates are WGS84 by definition"));
    let again = template.numbers(&std::fs::read(&back).unwrap());
    for (a, g) in pairs(&again).iter().zip(pairs(&gcj)) {
        assert!((a.0 - g.0).abs() < 1e-12 && (a.1 - g.1).abs() < 1e-12, "{a:?} vs {g:?}");
    }
    // The boxes are not converted point for point (an edge is a mean or an envelope of
    // corners), so they come back only to within the change of the GCJ-02 offset across them:
    // 2.8e-6° measured on this 0.01° box, asserted below 1e-5°.
    for (a, g) in
        again[28..32].iter().chain(&again[40..44]).zip(gcj[28..32].iter().chain(&gcj[40..44]))
    {
        assert!((a - g).abs() < 1e-5, "{a} vs {g}");
    }
}

#[test]
fn altitudes_are_copied_unless_heights_are_converted() {
    let dir = Scratch::new("kml-alt");
    let doc = "<kml><Placemark><LineString><coordinates>116.4,39.9,12.0 116.41,39.91\
               </coordinates></LineString></Placemark></kml>";
    let input = dir.write("a.kml", doc);
    let out = dir.path("b.kml");
    convert(&input, &out, &crs("EPSG:4490"), &crs("EPSG:4326"), &ConvertOptions::default())
        .unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), doc);
    let options = ConvertOptions { heights: Heights::Ellipsoidal, ..ConvertOptions::default() };
    let out3 = dir.path("c.kml");
    convert(&input, &out3, &crs("EPSG:4490"), &crs("EPSG:4480"), &options).unwrap();
    assert_eq!(
        std::fs::read_to_string(&out3).unwrap(),
        doc.replace("12.0", "12"),
        "the altitude goes through the conversion and is written back; none is added"
    );
}

#[test]
fn malformed_and_empty_files_fail_with_their_line_and_write_nothing() {
    let dir = Scratch::new("kml-malformed");
    let cases: [(&str, &str); 6] = [
        ("", "line 1: the file is empty (no root element)"),
        ("<kml>\n<Placemark>\n</kml>", "line 3: </kml> closes <Placemark> opened at line 2"),
        ("<kml>\n<Document><![CDATA[ open", "line 2: the file ends inside a CDATA section"),
        ("<gpx>\n</gpx>", "line 1: not a KML file: the root element is <gpx>, not <kml>"),
        ("<kml/>\ntext", "line 2: text outside the root element: 'text'"),
        ("<?xml version=\"1.0\"?>\n<!-- only a comment -->\n", "the file is empty"),
    ];
    for (k, (doc, expected)) in cases.iter().enumerate() {
        let input = dir.write(&format!("in{k}.kml"), doc);
        let output = dir.path(&format!("out{k}.kml"));
        let err = convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default())
            .unwrap_err();
        assert!(matches!(err, ConvertError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(expected), "{doc:?}: {err}");
        assert!(!output.exists());
    }
    let listing = dir.listing();
    assert!(listing.iter().all(|f| f.starts_with("in")), "{listing:?}");
}

#[test]
fn bad_tuples_fail_their_placemark_with_the_line_or_leave_it_out() {
    let dir = Scratch::new("kml-bad");
    let doc = "<kml><Document>\n\
               <Placemark><name>好</name><Point><coordinates>116.4,39.9</coordinates></Point></Placemark>\n\
               <Placemark><name>坏1</name><LineString><coordinates>116.4,39.9\n116.4,95\n\
               </coordinates></LineString></Placemark>\n\
               <Placemark><name>坏2</name><Point><coordinates>116.4,abc</coordinates></Point></Placemark>\n\
               <Placemark><name>坏3</name><Point><coordinates>1,2,3,4</coordinates></Point></Placemark>\n\
               <Placemark><name>坏4</name><Point><coordinates>1,<!-- x -->2</coordinates></Point></Placemark>\n\
               <Placemark><name>好2</name><Point><coordinates>116.41,39.91</coordinates></Point></Placemark>\n\
               </Document></kml>\n";
    let input = dir.write("a.kml", doc);
    let output = dir.path("b.kml");
    let err =
        convert_skipping(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), false).unwrap_err();
    let ConvertError::PointsFailed { failures, total, .. } = err else { panic!("{err}") };
    assert_eq!(total, 4);
    let listed: Vec<String> =
        failures.iter().map(|f| format!("{}: {}", f.location, f.reason)).collect();
    assert_eq!(
        listed,
        [
            "line 4, Placemark 2: point 2: latitude 95 is beyond ±90°",
            "line 6, Placemark 3: point 1: 'abc' is not a number",
            "line 7, Placemark 4: point 1: 4 value(s); a tuple is lon,lat or lon,lat,alt",
            "line 8, Placemark 5: a <coordinates> holding a comment, CDATA or an element is not read",
        ]
    );
    assert!(!output.exists());

    let report = convert_skipping(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), true).unwrap();
    assert_eq!((report.features, report.written, report.skipped.len()), (6, 2, 4));
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(!text.contains('坏'), "{text}");
    assert_eq!(text.matches("<Placemark>").count(), 2, "{text}");
    assert!(text.starts_with("<kml><Document>\n<Placemark><name>好</name>"), "{text}");

    // Coordinates outside any feature cannot be left out.
    let loose = dir.write(
        "c.kml",
        "<kml><Document><Region><LatLonAltBox><north>1</north></LatLonAltBox></Region>\
         <coordinates>1,x</coordinates></Document></kml>",
    );
    let err = convert_skipping(&loose, &dir.path("d.kml"), &crs("GCJ02"), &crs("EPSG:4326"), true)
        .unwrap_err();
    assert!(err.to_string().contains("line 1: point 1: 'x' is not a number"), "{err}");
    assert!(!dir.path("d.kml").exists());
}

#[test]
fn boxes_without_four_edges_are_kept_with_a_warning() {
    let dir = Scratch::new("kml-box");
    let doc = "<kml><GroundOverlay><LatLonBox><north>39.9</north><south>39.8</south>\
               <east>116.5</east></LatLonBox></GroundOverlay></kml>";
    let input = dir.write("a.kml", doc);
    let out = dir.path("b.kml");
    let report =
        convert(&input, &out, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), doc);
    assert_eq!(
        report.warnings,
        ["line 1, GroundOverlay 1: a <LatLonBox> without four numeric edges (north, south, east, \
          west) is kept as it was"]
    );
}

#[test]
fn projected_crss_are_refused_and_encoding_options_too() {
    let dir = Scratch::new("kml-crs");
    let input = dir.write(
        "a.kml",
        "<kml><Placemark><Point><coordinates>116.4,39.9</coordinates></Point></Placemark></kml>",
    );
    for (from, to) in [("GCJ02", "EPSG:4547"), ("EPSG:3857", "EPSG:4326")] {
        let output = dir.path("b.kml");
        let err = convert(&input, &output, &crs(from), &crs(to), &Default::default()).unwrap_err();
        assert!(err.to_string().contains("KML coordinates are longitude/latitude"), "{err}");
        assert!(!output.exists());
    }
    let options = ConvertOptions {
        encoding: Some(geounify::convert::TextEncoding::Gbk),
        ..Default::default()
    };
    let err = convert(&input, &dir.path("b.kml"), &crs("GCJ02"), &crs("EPSG:4326"), &options)
        .unwrap_err();
    assert!(err.to_string().contains("--encoding does not apply"), "{err}");
}

#[test]
fn long_documents_cross_chunk_boundaries_in_order() {
    // 100,000 placemarks of 3 points: more than one chunk by points (262,144) and bytes.
    let dir = Scratch::new("kml-long");
    let n = 100_000;
    let mut doc = String::from("<kml><Document>\n");
    let point = |i: usize, j: usize| (110.0 + (3 * i + j) as f64 * 1e-5, 30.0 + i as f64 * 1e-5);
    for i in 0..n {
        doc += &format!("<Placemark><name>第{i}</name><LineString><coordinates>");
        for j in 0..3 {
            let (x, y) = point(i, j);
            doc += &format!("{x},{y} ");
        }
        doc += "</coordinates></LineString></Placemark>\n";
    }
    doc += "</Document></kml>\n";
    let input = dir.write("a.kml", &doc);
    let output = dir.path("b.kml");
    let report =
        convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default()).unwrap();
    assert_eq!((report.features, report.vertices), (n as u64, 3 * n as u64));
    let t = Transformer::new(&crs("GCJ02"), &crs("EPSG:4326")).unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    for (i, line) in text.lines().skip(1).take(n).enumerate() {
        if i % 997 != 0 && i != n - 1 {
            continue;
        }
        let mut expected = format!("<Placemark><name>第{i}</name><LineString><coordinates>");
        for j in 0..3 {
            let (x, y) = point(i, j);
            let (a, b) = t.transform_xy(x, y).unwrap();
            expected += &format!("{a},{b} ");
        }
        expected += "</coordinates></LineString></Placemark>";
        assert_eq!(line, expected);
    }
}

/// `geounify convert` without `--from`: KML declares no CRS (it says WGS84, but may hold
/// GCJ-02), so the user is asked; nothing is written.
#[cfg(feature = "cli")]
#[test]
fn the_cli_asks_for_the_source_and_explains_the_trap() {
    let dir = Scratch::new("kml-cli");
    dir.write(
        "a.kml",
        "<kml><Placemark><Point><coordinates>116.4,39.9</coordinates></Point></Placemark></kml>",
    );
    let (code, stderr) =
        common::cli::run_in(&["convert", "--to", "EPSG:4326", "a.kml", "-o", "b.kml"], &dir.0);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--from EPSG:4326") && stderr.contains("--from GCJ02"), "{stderr}");
    assert_eq!(dir.listing(), ["a.kml"]);
}

// ---- KMZ ----

use std::io::{Read, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// A KMZ archive of `entries` (name, method, bytes) with `comment`.
fn kmz(entries: &[(&str, CompressionMethod, &[u8])], comment: &str) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, method, bytes) in entries {
        let options = SimpleFileOptions::default()
            .compression_method(*method)
            .last_modified_time(zip::DateTime::from_date_and_time(2024, 5, 1, 8, 30, 0).unwrap())
            .unix_permissions(0o640);
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.set_comment(comment).unwrap();
    zip.finish().unwrap().into_inner()
}

/// Per entry of the archive at `path`: name, method, time, mode, CRC, raw (compressed) bytes,
/// and the decompressed bytes.
#[allow(clippy::type_complexity)]
fn entries(
    path: &std::path::Path,
) -> (
    Vec<(String, CompressionMethod, Option<zip::DateTime>, Option<u32>, u32, Vec<u8>, Vec<u8>)>,
    Vec<u8>,
) {
    let mut archive = ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut raw = Vec::new();
        let (name, method, time, mode, crc) = {
            let mut f = archive.by_index_raw(i).unwrap();
            f.read_to_end(&mut raw).unwrap();
            (
                f.name().unwrap().into_owned(),
                f.compression(),
                f.last_modified(),
                f.unix_mode(),
                f.crc32(),
            )
        };
        let mut data = Vec::new();
        archive.by_index(i).unwrap().read_to_end(&mut data).unwrap();
        out.push((name, method, time, mode, crc, raw, data));
    }
    (out, archive.comment().to_vec())
}

#[test]
fn kmz_kml_entries_convert_and_every_other_entry_is_copied_raw() {
    let dir = Scratch::new("kmz");
    let template = Template::new(DOC.as_bytes());
    let gcj = slots();
    let doc = template.fill(&gcj);
    let icon: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let extra = "<kml><Placemark><name>附</name><Point><coordinates>116.41024449916938,\
                 39.91640428150164</coordinates></Point></Placemark></kml>";
    let input = dir.write(
        "map.kmz",
        kmz(
            &[
                ("doc.kml", CompressionMethod::Deflated, &doc),
                ("files/", CompressionMethod::Stored, b""),
                ("files/icon.png", CompressionMethod::Stored, &icon),
                ("files/overlay.jpg", CompressionMethod::Deflated, &icon),
                ("sub/Extra.KML", CompressionMethod::Stored, extra.as_bytes()),
            ],
            "由某地图导出",
        ),
    );
    let output = dir.path("map_wgs84.kmz");
    let report =
        convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &ConvertOptions::default())
            .unwrap();
    assert_eq!((report.features, report.written, report.vertices), (6, 6, 19));
    let ((before, comment_in), (after, comment_out)) = (entries(&input), entries(&output));
    assert_eq!(comment_out, comment_in);
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        // Name, order, method, time, permissions kept.
        assert_eq!((&a.0, a.1, a.2, a.3), (&b.0, b.1, b.2, b.3), "{}", b.0);
        if !b.0.to_ascii_lowercase().ends_with(".kml") {
            // Copied raw: the compressed bytes and CRC untouched.
            assert_eq!((a.4, &a.5), (b.4, &b.5), "{}", b.0);
        }
    }
    // doc.kml converted as a .kml file is: the published values, every other byte kept.
    let values = template.numbers(&after[0].6);
    for (k, v) in PUBLISHED.iter().enumerate() {
        let (lon, lat) = (values[2 * k], values[2 * k + 1]);
        assert!((lon - v.0).abs() < 1e-12 && (lat - v.1).abs() < 1e-12, "{lon} {lat} vs {v:?}");
    }
    let single = dir.write("doc.kml", &doc);
    convert(&single, &dir.path("doc84.kml"), &crs("GCJ02"), &crs("EPSG:4326"), &Default::default())
        .unwrap();
    assert_eq!(after[0].6, std::fs::read(dir.path("doc84.kml")).unwrap());
    // The second KML entry too (its name in upper case).
    let extra_out = String::from_utf8(after[4].6.clone()).unwrap();
    let t = Transformer::new(&crs("GCJ02"), &crs("EPSG:4326")).unwrap();
    let (x, y) = t.transform_xy(PUBLISHED[0].2, PUBLISHED[0].3).unwrap();
    assert_eq!(
        extra_out,
        extra.replace("116.41024449916938,39.91640428150164", &format!("{x},{y}"))
    );

    // And back to GCJ-02 to 1e-12°.
    let back = dir.path("map_gcj02.kmz");
    convert(&output, &back, &crs("EPSG:4326"), &crs("GCJ02"), &Default::default()).unwrap();
    let again = template.numbers(&entries(&back).0[0].6);
    for (a, g) in pairs(&again).iter().zip(pairs(&gcj)) {
        assert!((a.0 - g.0).abs() < 1e-12 && (a.1 - g.1).abs() < 1e-12, "{a:?} vs {g:?}");
    }
}

#[test]
fn kmz_errors_name_the_entry_and_write_nothing() {
    let dir = Scratch::new("kmz-errors");
    let stored = CompressionMethod::Stored;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.kmz", Vec::new(), "archive: not a KMZ (zip) archive"),
        ("text.kmz", b"<kml></kml>".to_vec(), "archive: not a KMZ (zip) archive"),
        ("nokml.kmz", kmz(&[("a.png", stored, b"x")], ""), "archive: no .kml entry in the archive"),
        (
            "broken.kmz",
            kmz(&[("doc.kml", stored, b"<kml>\n<Placemark>\n</kml>")], ""),
            "broken.kmz/doc.kml: line 3: </kml> closes <Placemark> opened at line 2",
        ),
        (
            "bad.kmz",
            kmz(
                &[(
                    "doc.kml",
                    CompressionMethod::Deflated,
                    b"<kml>\n<Placemark><Point><coordinates>1,95</coordinates></Point></Placemark></kml>",
                )],
                "",
            ),
            "doc.kml, line 2, Placemark 1: point 1: latitude 95 is beyond ±90°",
        ),
    ];
    for (name, bytes, expected) in cases {
        let input = dir.write(name, &bytes);
        let output = dir.path(&format!("out-{name}"));
        let err = convert(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default())
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{name}: {err}");
        assert!(!output.exists());
    }
    let listing = dir.listing();
    assert!(listing.iter().all(|f| !f.starts_with("out")), "{listing:?}");
}

#[test]
fn a_box_edge_split_by_a_comment_is_not_misread() {
    let dir = Scratch::new("kml-box-comment");
    let doc = "<kml><GroundOverlay><LatLonBox><north>39.<!-- x -->9</north><south>39.8</south>\
               <east>116.5</east><west>116.4</west></LatLonBox></GroundOverlay></kml>";
    let input = dir.write("a.kml", doc);
    let out = dir.path("b.kml");
    let report =
        convert(&input, &out, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), doc);
    assert!(report.warnings[0].contains("is kept as it was"), "{:?}", report.warnings);
}

/// Pieces of KML markup, glued at random by the proptest below.
const PIECES: [&str; 30] = [
    "<kml>",
    "</kml>",
    "<Placemark>",
    "</Placemark>",
    "<Point><coordinates>",
    "</coordinates></Point>",
    "<coordinates>",
    "</coordinates>",
    "116.4,39.9",
    ",",
    " ",
    "\n",
    "1,2,3,4",
    "<gx:coord>",
    "</gx:coord>",
    "<LatLonBox><north>1</north><south>0</south><east>2</east><west>1</west>",
    "</LatLonBox>",
    "<GroundOverlay>",
    "</GroundOverlay>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<north>",
    "</north>",
    "95",
    "-1e3",
    "x",
    "<Folder>",
    "</Folder>",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Any arrangement of KML pieces converts or fails cleanly: no panic, and an output exactly
    /// when the conversion succeeded.
    #[test]
    fn any_kml_like_text_converts_or_fails_cleanly(picks in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let dir = Scratch::new("kml-prop");
        let doc: String = picks.iter().map(|&i| PIECES[i]).collect();
        let input = dir.write("a.kml", &doc);
        let output = dir.path("b.kml");
        let result = convert_skipping(&input, &output, &crs("GCJ02"), &crs("EPSG:4326"), true);
        proptest::prop_assert_eq!(result.is_ok(), output.exists(), "{:?}: {:?}", doc, result);
    }
}

#[test]
fn views_and_model_locations_are_converted_as_points() {
    let dir = Scratch::new("kml-views");
    let (lon, lat) = (PUBLISHED[0].2, PUBLISHED[0].3);
    let doc = format!(
        "<kml><Document><LookAt><longitude>{lon}</longitude><latitude> {lat} </latitude>\
         <altitude>100</altitude><range>500</range></LookAt>\n\
         <Placemark><Camera><latitude>{lat}</latitude><longitude>{lon}</longitude><tilt>30</tilt>\
         </Camera><Model><Location><longitude>{lon}</longitude><latitude>{lat}</latitude>\
         <altitude>5</altitude></Location></Model></Placemark>\n\
         <Placemark><LookAt><longitude>{lon}</longitude></LookAt></Placemark></Document></kml>"
    );
    let input = dir.write("a.kml", &doc);
    let out = dir.path("b.kml");
    let report =
        convert(&input, &out, &crs("GCJ02"), &crs("EPSG:4326"), &Default::default()).unwrap();
    let (x, y) =
        Transformer::new(&crs("GCJ02"), &crs("EPSG:4326")).unwrap().transform_xy(lon, lat).unwrap();
    assert!((x - PUBLISHED[0].0).abs() < 1e-12 && (y - PUBLISHED[0].1).abs() < 1e-12);
    let expected = doc.replacen(&format!("{lon}"), &format!("{x}"), 3).replacen(
        &format!("{lat}"),
        &format!("{y}"),
        3,
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    assert_eq!(
        report.warnings,
        ["line 3, Placemark 2: a <LookAt> without a numeric longitude and latitude is kept as it \
          was"]
    );
}
