//! KML/KMZ review fixes, each test failing before its fix: a KMZ's progress counts bytes of the
//! archive (the total is its size; before, decompressed KML bytes were counted against the
//! compressed size and the bar overshot); warnings for boxes and views without numbers are
//! capped at 20 with one `... and N more`; features without geometry are counted in
//! `ConvertReport::empty`.
#![cfg(feature = "formats")]

mod common;
use common::conversion::convert_skipping;
use common::crs;
use common::scratch::Scratch;
use geounify::convert::{convert_file, ConvertOptions, Progress};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Records the total and the bytes counted.
#[derive(Default)]
struct Recorder {
    total: AtomicU64,
    counted: AtomicU64,
}

impl Progress for Recorder {
    fn start(&self, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
    }
    fn advance(&self, bytes: u64) {
        self.counted.fetch_add(bytes, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

#[test]
fn kmz_progress_counts_the_archive_bytes_it_started_with() {
    let dir = Scratch::new("kmz-progress");
    // A KML that deflate compresses well (repetitive), so decompressed ≫ compressed.
    let mut kml = String::from("<kml><Document>\n");
    for i in 0..2000 {
        kml.push_str(&format!(
            "<Placemark><name>点{i}</name><Point><coordinates>116.{:04},39.9</coordinates></Point></Placemark>\n",
            i
        ));
    }
    kml.push_str("</Document></kml>\n");
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("doc.kml", deflated).unwrap();
    zip.write_all(kml.as_bytes()).unwrap();
    zip.start_file("files/icon.png", deflated).unwrap();
    zip.write_all(&[7u8; 5000]).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() * 4 < kml.len(), "the test needs a well-compressed entry");
    let input = dir.write("a.kmz", &bytes);
    let progress = Recorder::default();
    let options = ConvertOptions::default();
    convert_file(&input, &dir.path("b.kmz"), &crs("GCJ02"), &crs("EPSG:4326"), &options, &progress)
        .unwrap();
    let (total, counted) =
        (progress.total.load(Ordering::Relaxed), progress.counted.load(Ordering::Relaxed));
    assert_eq!(total, bytes.len() as u64);
    assert_eq!(counted, total, "progress must end exactly at the archive's size");
}

#[test]
fn warnings_for_boxes_and_views_without_numbers_are_capped() {
    let dir = Scratch::new("kml-box-cap");
    let mut doc = String::from("<kml><Document>\n");
    for _ in 0..50 {
        doc.push_str("<Placemark><LookAt><longitude>x</longitude></LookAt></Placemark>\n");
    }
    for _ in 0..5 {
        doc.push_str("<GroundOverlay><LatLonBox><north>1</north></LatLonBox></GroundOverlay>\n");
    }
    doc.push_str("</Document></kml>\n");
    let input = dir.write("a.kml", &doc);
    let report =
        convert_skipping(&input, &dir.path("b.kml"), &crs("GCJ02"), &crs("EPSG:4326"), false)
            .unwrap();
    let boxes: Vec<&String> = report.warnings.iter().filter(|w| w.contains("is kept as")).collect();
    assert_eq!(boxes.len(), 20, "{:#?}", report.warnings);
    assert_eq!(boxes[0], "line 2, Placemark 1: a <LookAt> without a numeric longitude and latitude is kept as it was");
    let more: Vec<&String> = report.warnings.iter().filter(|w| w.contains("more")).collect();
    assert_eq!(
        more,
        ["... and 35 more boxes or views without numbers, kept as they were"],
        "{:#?}",
        report.warnings
    );
    assert_eq!(report.warnings.len(), 21);
}

#[test]
fn features_without_geometry_are_counted_empty() {
    let dir = Scratch::new("kml-empty");
    let doc = "<kml><Document>\n\
               <Placemark><name>只有名字</name></Placemark>\n\
               <Placemark><name>视角</name><LookAt><longitude>116.4</longitude><latitude>39.9</latitude></LookAt></Placemark>\n\
               <Placemark><Point><coordinates>116.4,39.9</coordinates></Point></Placemark>\n\
               <Placemark><LineString><coordinates> </coordinates></LineString></Placemark>\n\
               <GroundOverlay><LatLonBox><north>40</north><south>39.9</south><east>116.5</east><west>116.4</west></LatLonBox></GroundOverlay>\n\
               </Document></kml>\n";
    let input = dir.write("a.kml", doc);
    let report =
        convert_skipping(&input, &dir.path("b.kml"), &crs("GCJ02"), &crs("EPSG:4326"), false)
            .unwrap();
    assert_eq!((report.features, report.written, report.vertices), (5, 5, 1));
    // The name-only Placemark, the view-only one and the empty LineString.
    assert_eq!(report.empty, 3);
}
