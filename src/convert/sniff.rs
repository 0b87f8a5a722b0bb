//! What a file's first bytes say it is: each format row's `sniff` entry (see
//! [`Format`]), and [`identify`] over the whole table.
//!
//! The extension chooses the format; the content is only asked to catch a file named for
//! another format than it holds. Two uses:
//! - **A mismatch with a signature**: a file whose first bytes carry another format's magic
//!   number (a GeoPackage's `SQLite format 3`, a Shapefile's file code 9994, a zip archive
//!   holding KML) while its own format's check fails is refused before anything reads it,
//!   saying what it is and which extension it needs ([`mismatch`]). Text signatures never
//!   refuse a file: the format's own reader gives its own, more precise, message (a `.kml`
//!   holding `<gpx>` is told so by the KML reader).
//! - **An unknown extension**: the message lists the supported extensions and adds what the
//!   content looks like, when a signature says ([`hint`]).
//!
//! A sniffer sees at most [`HEAD`] bytes and says [`Sniffed::No`] unless its signature is
//! there: formats without one (CSV, TSV, CASS `.dat`) always say `No`, and their converters
//! check the content themselves.

use super::format::{Format, FORMATS};
use std::io::Read;
use std::path::Path;

/// Bytes read from the start of a file to sniff it.
pub const HEAD: usize = 4096;

/// What a sniffer found in a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// Not this format's signature (or the format has none).
    No,
    /// The format's text signature (e.g. a `<kml` root, a DXF `SECTION`).
    Text,
    /// The format's binary signature (a magic number), described for messages, e.g. `"a SQLite
    /// 3 database"`.
    Binary(&'static str),
}

/// Up to [`HEAD`] bytes from the start of `path` (empty if it cannot be read: the conversion
/// reports that itself).
pub fn head(path: &Path) -> Vec<u8> {
    let mut head = Vec::with_capacity(HEAD);
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(HEAD as u64).read_to_end(&mut head);
    }
    head
}

/// The first format (in table order) whose signature `head` carries, with what was found.
pub fn identify(head: &[u8]) -> Option<(&'static Format, Sniffed)> {
    FORMATS.iter().find_map(|f| match (f.sniff)(head) {
        Sniffed::No => None,
        found => Some((f, found)),
    })
}

/// Why the file of format `format`, starting with `head`, holds another format: its own
/// signature is absent and another format's binary signature is there. `None` otherwise.
pub fn mismatch(format: &Format, head: &[u8]) -> Option<String> {
    if (format.sniff)(head) != Sniffed::No {
        return None;
    }
    let (other, Sniffed::Binary(what)) = identify(head)? else { return None };
    (other.format != format.format).then(|| {
        format!(
            "the file is not {}: its content is {what} ({}); name it .{} (or convert the right \
             file)",
            format.name,
            other.name,
            other.extensions.first().copied().unwrap_or(other.name)
        )
    })
}

/// What the content of `path` looks like, for the message of an unknown extension:
/// `"; its content looks like geojson (name it .geojson)"`, or nothing.
pub fn hint(path: &Path) -> String {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return String::new();
    }
    match identify(&head(path)) {
        Some((f, _)) => format!(
            "; its content looks like {} (name it .{})",
            f.name,
            f.extensions.first().copied().unwrap_or(f.name)
        ),
        None => String::new(),
    }
}

/// `head` without a UTF-8 byte-order mark and leading white space.
fn text_start(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.trim_ascii_start()
}

/// Formats without a signature (CSV, TSV, CASS `.dat`).
pub(crate) fn none(_: &[u8]) -> Sniffed {
    Sniffed::No
}

/// WKT lines: the first line that is not blank or a `#` comment starts with a geometry keyword
/// or `SRID=` (an id column before it is not recognised).
pub(crate) fn wkt(head: &[u8]) -> Sniffed {
    let first = text_start(head)
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    match first {
        Some(line) if super::wkt::starts_geometry(line, 0) => Sniffed::Text,
        _ => Sniffed::No,
    }
}

/// GeoJSON: a JSON object with a `"type"` member in the first bytes, not a sequence of them
/// (see [`geojson_seq`]).
pub(crate) fn geojson(head: &[u8]) -> Sniffed {
    let start = text_start(head);
    let is_object = start.starts_with(b"{") && contains(start, b"\"type\"");
    if is_object && geojson_seq(head) == Sniffed::No {
        Sniffed::Text
    } else {
        Sniffed::No
    }
}

/// Newline-delimited GeoJSON: RFC 8142's record separator first, or a first line that is a
/// whole JSON object followed by a line starting another.
pub(crate) fn geojson_seq(head: &[u8]) -> Sniffed {
    let start = text_start(head);
    if start.starts_with(b"\x1e") {
        return Sniffed::Text;
    }
    let mut lines = start.split(|b| *b == b'\n').map(<[u8]>::trim_ascii);
    match (lines.next(), lines.next()) {
        (Some(a), Some(b)) if a.starts_with(b"{") && a.ends_with(b"}") && b.starts_with(b"{") => {
            Sniffed::Text
        }
        _ => Sniffed::No,
    }
}

/// A Shapefile's main file: file code 9994, big-endian, at byte 0.
pub(crate) fn shapefile(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0x00, 0x00, 0x27, 0x0A]) {
        Sniffed::Binary("a Shapefile main file (file code 9994)")
    } else {
        Sniffed::No
    }
}

/// A GeoPackage: a SQLite 3 database (its header string).
pub(crate) fn gpkg(head: &[u8]) -> Sniffed {
    if head.starts_with(b"SQLite format 3\0") {
        Sniffed::Binary("a SQLite 3 database (a GeoPackage?)")
    } else {
        Sniffed::No
    }
}

/// MapInfo MIF: the `Version` clause first.
pub(crate) fn mif(head: &[u8]) -> Sniffed {
    let start = text_start(head);
    if start.len() >= 8 && start[..8].eq_ignore_ascii_case(b"version ") {
        Sniffed::Text
    } else {
        Sniffed::No
    }
}

/// GPX: a `<gpx` element in the first bytes.
pub(crate) fn gpx(head: &[u8]) -> Sniffed {
    xml_root(head, b"<gpx")
}

/// KML: a `<kml` element in the first bytes.
pub(crate) fn kml(head: &[u8]) -> Sniffed {
    xml_root(head, b"<kml")
}

fn xml_root(head: &[u8], tag: &[u8]) -> Sniffed {
    let start = text_start(head);
    let follows = |at: usize| {
        matches!(start.get(at + tag.len()), Some(b' ' | b'>' | b'/' | b'\t' | b'\r' | b'\n'))
    };
    let found = start.starts_with(b"<")
        && start.windows(tag.len()).enumerate().any(|(i, w)| w == tag && follows(i));
    if found {
        Sniffed::Text
    } else {
        Sniffed::No
    }
}

/// KMZ: a zip archive whose first entry is a `.kml` file (as KMZ writers put `doc.kml` first).
pub(crate) fn kmz(head: &[u8]) -> Sniffed {
    match first_zip_entry(head) {
        Some(name) if name.len() > 4 && name[name.len() - 4..].eq_ignore_ascii_case(b".kml") => {
            Sniffed::Binary("a zip archive holding KML (a KMZ)")
        }
        _ => Sniffed::No,
    }
}

/// The name of a zip archive's first entry (its local file header at byte 0).
pub(crate) fn first_zip_entry(head: &[u8]) -> Option<&[u8]> {
    if !head.starts_with(b"PK\x03\x04") {
        return None;
    }
    let n = usize::from(u16::from_le_bytes([*head.get(26)?, *head.get(27)?]));
    head.get(30..30 + n)
}

/// DXF: ASCII (group code 0, then `SECTION`) or binary (its sentinel).
pub(crate) fn dxf(head: &[u8]) -> Sniffed {
    if head.starts_with(b"AutoCAD Binary DXF\r\n\x1a\0") {
        return Sniffed::Binary("a binary DXF drawing");
    }
    let mut lines = text_start(head).split(|b| *b == b'\n').map(<[u8]>::trim_ascii);
    match (lines.next(), lines.next()) {
        (Some(b"0"), Some(s)) if s.eq_ignore_ascii_case(b"SECTION") => Sniffed::Text,
        _ => Sniffed::No,
    }
}

/// An Excel workbook: a zip archive with `xl/` parts among the entries in the first bytes
/// (`[Content_Types].xml` alone is any Office document).
pub(crate) fn xlsx(head: &[u8]) -> Sniffed {
    if first_zip_entry(head).is_some() && contains(head, b"xl/") {
        Sniffed::Binary("an Excel workbook (a zip holding xl/)")
    } else {
        Sniffed::No
    }
}

/// FlatGeobuf: its magic bytes `fgb`, major version 3.
pub(crate) fn fgb(head: &[u8]) -> Sniffed {
    if head.starts_with(b"fgb\x03") {
        Sniffed::Binary("a FlatGeobuf file")
    } else {
        Sniffed::No
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(head: &[u8]) -> Option<&'static str> {
        identify(head).map(|(f, _)| f.name)
    }

    #[test]
    fn each_signature_names_its_format_and_plain_text_names_none() {
        assert_eq!(named(b"SQLite format 3\0\x10\0"), Some("gpkg"));
        assert_eq!(named(&[0, 0, 0x27, 0x0A, 0, 0, 0, 0]), Some("shapefile"));
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend([0; 22]);
        zip.extend(7u16.to_le_bytes());
        zip.extend([0, 0]);
        zip.extend(b"doc.kml");
        assert_eq!(named(&zip), Some("kmz"));
        assert_eq!(
            named(b"\xEF\xBB\xBF{\"type\": \"FeatureCollection\", \"features\": []}"),
            Some("geojson")
        );
        assert_eq!(named(b"{\"type\":\"Feature\"}\n{\"type\":\"Feature\"}\n"), Some("geojsonseq"));
        assert_eq!(named(b"\x1e{\"type\":\"Feature\"}\n"), Some("geojsonseq"));
        assert_eq!(named(b"# roads\nSRID=4490;POINT (1 2)\n"), Some("wkt"));
        assert_eq!(named(b"<?xml version=\"1.0\"?>\n<gpx version=\"1.1\">"), Some("gpx"));
        assert_eq!(named(b"<?xml version=\"1.0\"?><kml xmlns=\"x\">"), Some("kml"));
        assert_eq!(named(b"Version 300\nCharset \"WindowsSimpChinese\"\n"), Some("mif"));
        assert_eq!(named(b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n"), Some("dxf"));
        assert_eq!(named(b"AutoCAD Binary DXF\r\n\x1a\0"), Some("dxf"));
        assert_eq!(named(b"fgb\x03fgb\x00"), Some("fgb"));
        let mut workbook = b"PK\x03\x04".to_vec();
        workbook.extend([0; 22]);
        workbook.extend(19u16.to_le_bytes());
        workbook.extend([0, 0]);
        workbook.extend(b"[Content_Types].xml...PK\x03\x04...xl/workbook.xml");
        assert_eq!(named(&workbook), Some("xlsx"));
        for plain in
            [&b"id,lon,lat\n1,116.4,39.9\n"[..], b"not geodata\n", b"", b"<gpxx>", b"PK\x03\x04"]
        {
            assert_eq!(named(plain), None, "{:?}", String::from_utf8_lossy(plain));
        }
    }

    #[test]
    fn only_another_formats_binary_signature_is_a_mismatch() {
        let csv = super::super::format::of(super::super::FileFormat::Csv);
        let kmz = super::super::format::of(super::super::FileFormat::Kmz);
        let gpkg = super::super::format::of(super::super::FileFormat::GeoPackage);
        let m = mismatch(csv, b"SQLite format 3\0").unwrap();
        assert_eq!(
            m,
            "the file is not csv: its content is a SQLite 3 database (a GeoPackage?) (gpkg); \
             name it .gpkg (or convert the right file)"
        );
        // A text signature is left to the format's own reader; its own signature is no
        // mismatch.
        assert_eq!(mismatch(kmz, b"<kml></kml>"), None);
        assert_eq!(mismatch(gpkg, b"SQLite format 3\0"), None);
        assert_eq!(mismatch(gpkg, b"garbage"), None);
    }
}
