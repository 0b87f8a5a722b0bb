//! A GeoJSON file is converted by a fast path (values cut out by a structural scanner and
//! validated from slices) that falls back to the exact streaming parser on anything it does not
//! take. The fast path must give the streaming parser's bytes and report for every document it
//! takes, and every document it does not take must end exactly as the streaming parser ends it:
//! checked here against `geojson::convert_str`, which always streams.
#![cfg(feature = "formats")]

mod common;

use common::crs;
use common::scratch::Scratch;
use geounify::convert::geojson::convert_str;
use geounify::convert::{convert_file, ConvertOptions, Progress};
use geounify::Transformer;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the bytes of input read: a document the fast path takes is read once, one it falls
/// back on twice.
#[derive(Default)]
struct Read(AtomicU64);

impl Progress for Read {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

/// The file conversion's result (text and report, or the error's location and message) against
/// the stream conversion's, for one document; `fast`: whether the fast path takes it (the file
/// is read once) or falls back (read again).
fn same_as_streaming(dir: &Scratch, name: &str, text: &str, options: &ConvertOptions, fast: bool) {
    let (from, to) = (crs("EPSG:4326"), crs("EPSG:4548"));
    let t = Transformer::new(&from, &to).unwrap();
    let input = dir.write(&format!("{name}.geojson"), text);
    let output = dir.path(&format!("{name}-out.geojson"));
    let read = Read::default();
    let file = convert_file(&input, &output, &from, &to, options, &read);
    let times = if fast { 1 } else { 2 };
    assert_eq!(read.0.load(Ordering::Relaxed), times * text.len() as u64, "{name}: read {times}×");
    let stream = convert_str(text, &t, options);
    match (file, stream) {
        (Ok(mut report), Ok((expected, stream_report))) => {
            assert_eq!(std::fs::read_to_string(&output).unwrap(), expected, "{name}");
            report.outputs.clear();
            assert_eq!(report, stream_report, "{name}");
        }
        (Err(e), Err(s)) => {
            let (e, s) = (e.to_string(), s.to_string());
            let strip = |m: &str, prefix: &str| m.strip_prefix(prefix).unwrap_or(m).to_string();
            assert_eq!(
                strip(&e, &format!("{}: ", input.display())),
                strip(&s, "<stream>: "),
                "{name}"
            );
            assert!(!output.exists(), "{name}: nothing written");
        }
        (file, stream) => panic!("{name}: file {file:?} but stream {stream:?}"),
    }
}

fn feature(i: usize) -> String {
    format!(
        r#"{{"type":"Feature","id":{i},"properties":{{"名称":"路 \"{i}\"\u8def","v":[1,{{"a":null}}]}},"geometry":{{"type":"LineString","coordinates":[[116.{i},39.9],[116.4,39.{i},5.5]]}},"bbox":[0,0,0,0]}}"#
    )
}

#[test]
fn documents_the_fast_path_takes_convert_to_the_streaming_bytes() {
    let dir = Scratch::new("fast-path-valid");
    let features: Vec<String> = (0..5000).map(feature).collect();
    let all = features.join(",\n  ");
    let docs = [
        ("plain", format!(r#"{{"type":"FeatureCollection","features":[{all}]}}"#)),
        (
            "members-around",
            format!(
                "\u{feff}\n {{ \"name\" : \"测试\", \"bbox\":[1,2,3,4] ,\"type\":\"FeatureCollection\",\r\n\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}}}}, \"features\" :\t[ {all} ] , \"after\":{{\"x\":[true,false,null,-1e-3]}}, \"bbox2\":\"]\"}}  \n"
            ),
        ),
        ("empty", r#"{"type":"FeatureCollection","features":[]}"#.to_string()),
        ("empty-spaced", "{\"features\" : [ \n ] , \"type\":\"FeatureCollection\"}".to_string()),
        (
            "null-geometry-and-escapes",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"k\"}":"\\\"]"},"geometry":null},{"type":"Feature","properties":null,"geometry":{"type":"Point","coordinates":[116.4,39.9]}}]}"#.to_string(),
        ),
    ];
    for (name, text) in &docs {
        same_as_streaming(&dir, name, text, &ConvertOptions::default(), true);
        let sequential = ConvertOptions { parallel: false, ..ConvertOptions::default() };
        same_as_streaming(&dir, &format!("{name}-seq"), text, &sequential, true);
    }
}

#[test]
fn documents_the_fast_path_does_not_take_end_as_the_streaming_parser_ends_them() {
    let dir = Scratch::new("fast-path-fallback");
    let f = feature(1);
    let bad_point = r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[116.4,95]}}"#;
    let docs = [
        ("trailing-comma", format!(r#"{{"type":"FeatureCollection","features":[{f},]}}"#)),
        ("missing-comma", format!(r#"{{"type":"FeatureCollection","features":[{f} {f}]}}"#)),
        ("trailing-text", format!(r#"{{"type":"FeatureCollection","features":[{f}]}} x"#)),
        ("cut-off", format!(r#"{{"type":"FeatureCollection","features":[{f},{f}"#)),
        ("bad-number", format!(r#"{{"type":"FeatureCollection","features":[{f},{{"type":"Feature","geometry":{{"type":"Point","coordinates":[1.2.3,4]}}}}]}}"#)),
        ("control-char", format!("{{\"type\":\"FeatureCollection\",\"features\":[{f},{{\"type\":\"Feature\",\"properties\":{{\"a\":\"x\u{1}y\"}},\"geometry\":null}}]}}")),
        ("features-not-array", r#"{"type":"FeatureCollection","features":{"a":1}}"#.to_string()),
        ("second-features", format!(r#"{{"type":"FeatureCollection","features":[{f}],"features":[]}}"#)),
        ("not-an-object", "[1,2]".to_string()),
        ("empty-object", "{}".to_string()),
        ("a-feature", f.clone()),
        ("unknown-type", format!(r#"{{"type":"FeatureCollection","features":[{f},{{"type":"Thing"}}]}}"#)),
        ("point-fails", format!(r#"{{"type":"FeatureCollection","features":[{f},{bad_point}]}}"#)),
        ("whitespace", " \n ".to_string()),
        ("lone-surrogate-escape", format!(r#"{{"type":"FeatureCollection","features":[{f}],"x":"\ud800"}}"#)),
    ];
    // `force`: no sanity check, whose sample would meet the bad JSON before the conversion.
    let force = ConvertOptions { force: true, ..ConvertOptions::default() };
    for (name, text) in &docs {
        // Failures of points and feature structure are the converter's, found on the fast path
        // too; only JSON it does not take makes it fall back.
        let fast = matches!(
            *name,
            "unknown-type" | "point-fails" | "second-features" | "lone-surrogate-escape"
        );
        same_as_streaming(&dir, name, text, &force, fast);
    }
    let skip = ConvertOptions { skip_invalid: true, ..force };
    same_as_streaming(&dir, "point-skipped", &docs[12].1, &skip, true);
}
