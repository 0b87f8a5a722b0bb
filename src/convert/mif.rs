//! MapInfo Interchange Format: a `.mif` (header and graphic objects) with its `.mid` (one row
//! of attributes per object, delimited text), read and written as a set.
//!
//! **What changes.** In the `.mif`, every coordinate pair of every object and clause is
//! converted and written in the shortest round-trip form ([`text::Number`]); every other byte
//! is copied: the header (`Version`, `Charset`, `Delimiter`, `Index`, `Columns` ...), keywords
//! and their case, counts, spacing, line endings (LF or CRLF, line by line), `Text` strings
//! (in the file's charset: `Charset "WindowsSimpChinese"` text is GBK and stays GBK, as every
//! byte outside the numbers is copied), style clauses (`Pen`, `Brush`, `Symbol`, `Font`,
//! `Smooth`, ...). The `.mid` is copied byte for byte: the objects are written in their order,
//! one for one, so its rows still belong to them.
//!
//! **Objects.** `Point x y`; `Line x1 y1 x2 y2`; `Pline [Multiple n] count` and its pairs;
//! `Region n` and n times a count and its pairs; `Multipoint n` and its pairs; `Collection n`
//! with its `Region`, `Pline` and `Multipoint` parts; `Text "…"` and its box `x1 y1 x2 y2`;
//! `Arc`, `Rect`, `RoundRect`, `Ellipse` and their box `x1 y1 x2 y2` (an arc's two angles and a
//! rounded rectangle's corner radius follow and are copied); `None`. The clauses `Center x y`
//! and `Label Line simple|arrow x y` carry a coordinate pair and are converted with their
//! object. Keywords are matched case-insensitively; pairs may run across lines as MapInfo and
//! GDAL accept.
//!
//! **Boxes.** `Rect`, `RoundRect`, `Ellipse`, `Arc` and a `Text`'s frame are defined by two
//! opposite corners of a box parallel to the axes, and a box does not stay a box under a change
//! of CRS (the grid turns by the difference of the meridian convergences, or by a city grid's
//! rotation). They are converted by their two corners, which land where those two points
//! belong, and stay axis-aligned boxes in the target CRS, so their shape is approximate; a
//! warning counts them. A corner radius, arc angles and font sizes are copied in the source's
//! units. Draw such objects as regions (MapInfo's "Convert to Regions") before converting when
//! their exact outline matters.
//!
//! **CoordSys.** The file's `CoordSys` clause is read as its declared CRS ([`super::declared`]: the
//! projection type, datum, units and parameters compared with the source CRS as a `.prj` is)
//! and replaced by the target's:
//! - longitude/latitude: `CoordSys Earth Projection 1, <datum>`; transverse Mercator /
//!   Gauss-Krüger: `CoordSys Earth Projection 8, <datum>, "m", lon0, lat0, k0, x0, y0`; web
//!   Mercator (EPSG:3857): `CoordSys Earth Projection 10, 157, "m", 0`, as GDAL writes it;
//! - the datum: WGS 84 is MapInfo datum 104. CGCS2000 has no datum number of its own in
//!   MapInfo's classic list: it is written as datum 33, "GRS 80" (the GRS 1980 ellipsoid,
//!   CGCS2000's own, with no shift to WGS 84), which GDAL reads as a GRS 80 datum and
//!   identifies as the CGCS2000 CRSs (`gdalsrsinfo -e` gives EPSG:4547 for the 114°E zone).
//!   GDAL 3.6 itself writes CGCS2000 as datum 104, which declares the WGS 84 ellipsoid and
//!   which it then cannot identify as a CGCS2000 CRS. Another datum with a shift to CGCS2000
//!   (a Beijing 1954 or Xi'an 1980 realisation of a city file) is written as MapInfo's
//!   explicit 7-parameter datum `9999, <ellipsoid>, dx, dy, dz, rx, ry, rz, ppm, 0`, rotations
//!   in MapInfo's sign (the opposite of `TOWGS84`'s, as GDAL writes and reads them; the scale
//!   as GDAL reads it, which GDAL 3.6 itself writes with its sign flipped); a datum
//!   without a known shift, or an ellipsoid MapInfo has no number for, cannot be written
//!   (a [`ConvertError::Options`] before anything is written);
//! - a CRS that no earth CoordSys describes — a local grid, BD-09MC, a Gauss-Krüger surface on
//!   an expanded ellipsoid — is written as `CoordSys NonEarth Units "m" Bounds (…) (…)`, the
//!   bounds being the converted data's extent widened by 1 % (at least 1 m) on each side,
//!   with a warning; GCJ-02 and BD-09 longitude/latitude are labelled as WGS 84 (no CoordSys
//!   can declare them), with a warning;
//! - a `Bounds` clause of the input (the extent MapInfo's integer storage covers) describes the
//!   old coordinates and is dropped from an earth CoordSys, with a warning (MapInfo then uses
//!   the projection's default bounds); a file without a `CoordSys` (longitude/latitude by
//!   MapInfo's rule) gets the target's before `Columns`.
//!
//! **Failures.** A `.mif` whose structure cannot be read (an unknown object keyword, a count
//! that is not a whole number, a number missing, the file ending inside an object, a header
//! without `Data`) is a [`ConvertError::Malformed`] naming its line. A point that cannot be
//! converted fails its object (`line 12 (object 5, Region)`); with
//! [`ConvertOptions::skip_invalid`](super::ConvertOptions::skip_invalid) the object is written
//! as `None` (so the `.mid` rows still match) and listed. The set is written through an
//! [`AtomicSet`]: nothing is left behind on failure. (For a NonEarth target the objects are
//! first written to a hidden temporary file beside the output, `.<name>.mif-body.geounify-*.tmp`,
//! removed on success, failure and Ctrl-C; only a SIGKILL can leave it.)
//!
//! **Memory.** Objects are read in chunks of at most 65 536 objects or 4 MiB and converted
//! through the shared runner (`runner::in_place`: parts of the chunk in parallel with
//! `parallel`, one [`Transformer::transform_slice`](crate::Transformer::transform_slice) per
//! part, each object's text written in its part); one object may be at most
//! [`MAX_RECORD_BYTES`] of text.

use super::atomic::AtomicSet;
use super::declared::DeclaredCrs;
use super::runner;
use super::text::{self, Number};
use super::{ConvertError, ConvertReport, Failure, Job, Tally, MAX_RECORD_BYTES};
use crate::crs::{Crs, CrsKind, Projection};
use crate::datum::{Datum, DatumShift};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The files an output set owns: the `.mif` and the `.mid`.
pub const SET_FAMILY: [&str; 2] = ["mif", "mid"];

/// Objects per chunk.
const CHUNK_OBJECTS: usize = 65_536;
/// Bytes per chunk (a chunk ends after the object that crosses this).
const CHUNK_BYTES: usize = 4 << 20;
/// The longest header read (everything before `Data`).
const MAX_HEADER: usize = 16 << 20;

// ------------------------------------------------------------------------------------------
// Lines and tokens.

/// A token of a line: its byte range and whether it is a quoted string.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) range: Range<usize>,
    pub(crate) quoted: bool,
}

/// Splits `line` into tokens: quoted strings (`""` inside is a quote), `(`, `)`, `,` alone,
/// and runs of other non-space bytes. Bytes of multi-byte characters (≥ 0x80 in UTF-8, GBK,
/// GB 18030) never equal the ASCII separators.
pub(crate) fn tokens(line: &[u8], offset: usize, out: &mut Vec<Token>) {
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'"' {
            let start = i;
            i += 1;
            while i < line.len() {
                if line[i] == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push(Token { range: offset + start..offset + i, quoted: true });
        } else if matches!(b, b'(' | b')' | b',') {
            out.push(Token { range: offset + i..offset + i + 1, quoted: false });
            i += 1;
        } else {
            let start = i;
            while i < line.len()
                && !line[i].is_ascii_whitespace()
                && !matches!(line[i], b'"' | b'(' | b')' | b',')
            {
                i += 1;
            }
            out.push(Token { range: offset + start..offset + i, quoted: false });
        }
    }
}

/// Reads lines with their numbers, one line of lookahead.
pub(crate) struct Lines<'p, R> {
    input: R,
    next_line: u64,
    peeked: Option<(u64, Vec<u8>)>,
    path: &'p Path,
}

impl<'p, R: BufRead> Lines<'p, R> {
    pub(crate) fn new(input: R, path: &'p Path) -> Self {
        Self { input, next_line: 1, peeked: None, path }
    }

    fn malformed(&self, line: u64, message: String) -> ConvertError {
        ConvertError::Malformed {
            path: self.path.to_path_buf(),
            location: format!("line {line}"),
            message,
        }
    }

    /// The next line (with its line ending) and its number; `None` at the end.
    fn peek(&mut self) -> Result<Option<(u64, &[u8])>, ConvertError> {
        if self.peeked.is_none() {
            let mut buf = Vec::new();
            let n = text::read_line_bounded(&mut self.input, &mut buf, MAX_RECORD_BYTES)
                .map_err(|source| ConvertError::Io { path: self.path.to_path_buf(), source })?;
            if n == 0 {
                return Ok(None);
            }
            if !buf.ends_with(b"\n") && n as u64 >= MAX_RECORD_BYTES {
                return Err(self.malformed(
                    self.next_line,
                    format!("a line longer than {} MiB", MAX_RECORD_BYTES >> 20),
                ));
            }
            self.peeked = Some((self.next_line, buf));
            self.next_line += 1;
        }
        Ok(self.peeked.as_ref().map(|(n, b)| (*n, b.as_slice())))
    }

    fn take(&mut self) -> Result<Option<(u64, Vec<u8>)>, ConvertError> {
        self.peek()?;
        Ok(self.peeked.take())
    }
}

/// The first word of `line`, lower case (empty for a blank line).
fn first_word(line: &[u8]) -> String {
    let mut t = Vec::new();
    tokens(line, 0, &mut t);
    t.first()
        .filter(|t| !t.quoted)
        .map(|t| String::from_utf8_lossy(&line[t.range.clone()]).to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The line ending of `line` (`\r\n`, `\n` or none).
fn ending(line: &[u8]) -> &'static [u8] {
    if line.ends_with(b"\r\n") {
        b"\r\n"
    } else if line.ends_with(b"\n") {
        b"\n"
    } else {
        b""
    }
}

// ------------------------------------------------------------------------------------------
// The header.

/// The header keywords that start a clause (a `CoordSys` clause runs until the next one).
const HEADER_KEYWORDS: [&str; 9] = [
    "version",
    "charset",
    "delimiter",
    "unique",
    "index",
    "coordsys",
    "transform",
    "columns",
    "data",
];

/// The header, read up to and including the `Data` line.
pub(crate) struct Header {
    /// The header's lines before the `CoordSys` clause (or before `Columns` without one).
    pub(crate) before: Vec<u8>,
    /// The `CoordSys` clause as written (its lines joined), if any, and its first line number.
    coordsys: Option<(String, u64)>,
    /// The line ending to write after a new `CoordSys` line.
    eol: &'static [u8],
    /// The rest of the header, from the line after the clause to the `Data` line.
    pub(crate) after: Vec<u8>,
}

pub(crate) fn read_header<R: BufRead>(lines: &mut Lines<'_, R>) -> Result<Header, ConvertError> {
    let mut header = Header { before: Vec::new(), coordsys: None, eol: b"\n", after: Vec::new() };
    let mut seen_coordsys = false;
    let mut in_coordsys = false;
    let mut columns_left: u64 = 0;
    let mut size = 0usize;
    let mut first = true;
    loop {
        let Some((n, line)) = lines.take()? else {
            let at = lines.next_line.saturating_sub(1).max(1);
            return Err(lines.malformed(
                at,
                if first {
                    "the file is empty: not a MIF file (no header)".into()
                } else {
                    "the header has no `Data` line: not a MIF file, or cut short".into()
                },
            ));
        };
        size += line.len();
        if size > MAX_HEADER {
            return Err(lines.malformed(n, "a header longer than 16 MiB".into()));
        }
        if first {
            header.eol = if ending(&line).is_empty() { b"\n" } else { ending(&line) };
            let bare = line.strip_prefix(text::UTF8_BOM).unwrap_or(&line);
            if first_word(bare) != "version" {
                return Err(lines.malformed(
                    n,
                    "a MIF file starts with `Version` (e.g. `Version 300`); this is not one".into(),
                ));
            }
            first = false;
        }
        let word = first_word(&line);
        if columns_left > 0 {
            columns_left -= 1;
            header_target(&mut header, seen_coordsys).extend_from_slice(&line);
            continue;
        }
        if in_coordsys && !HEADER_KEYWORDS.contains(&word.as_str()) {
            if let Some((clause, _)) = &mut header.coordsys {
                clause.push(' ');
                clause.push_str(String::from_utf8_lossy(&line).trim());
            }
            continue;
        }
        in_coordsys = false;
        match word.as_str() {
            "coordsys" => {
                if seen_coordsys {
                    return Err(lines.malformed(n, "a second `CoordSys` clause".into()));
                }
                seen_coordsys = true;
                in_coordsys = true;
                header.coordsys = Some((String::from_utf8_lossy(&line).trim().to_string(), n));
            }
            "transform" => {
                return Err(lines.malformed(
                    n,
                    "a `Transform` clause (a scaled and shifted coordinate space) is not \
                     supported"
                        .into(),
                ))
            }
            "columns" => {
                let mut t = Vec::new();
                tokens(&line, 0, &mut t);
                let count = t
                    .get(1)
                    .and_then(|t| std::str::from_utf8(&line[t.range.clone()]).ok())
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| {
                        lines.malformed(n, "`Columns` is not followed by a whole number".into())
                    })?;
                columns_left = count;
                if !seen_coordsys {
                    // No CoordSys: the target's goes before `Columns`.
                    seen_coordsys = true;
                }
                header.after.extend_from_slice(&line);
            }
            "data" => {
                header.after.extend_from_slice(&line);
                return Ok(header);
            }
            _ => header_target(&mut header, seen_coordsys).extend_from_slice(&line),
        }
    }
}

fn header_target(header: &mut Header, after_coordsys: bool) -> &mut Vec<u8> {
    if after_coordsys {
        &mut header.after
    } else {
        &mut header.before
    }
}

// ------------------------------------------------------------------------------------------
// CoordSys clauses: read as a declared CRS, written for a target.

/// MapInfo ellipsoid numbers geounify reads and writes: number, a, 1/f.
const ELLIPSOIDS: [(u32, f64, f64); 3] = [
    (0, 6_378_137.0, 298.257_222_101),
    (28, 6_378_137.0, 298.257_223_563),
    (3, 6_378_245.0, 298.3),
];

/// MapInfo datum numbers read, with their ellipsoid numbers.
const DATUMS: [(u32, u32); 4] = [(104, 28), (33, 0), (74, 0), (1001, 3)];

/// The CRS a `CoordSys` clause declares, as WKT 1 for [`DeclaredCrs::from_wkt`]; `Err` with
/// why it cannot be read (NonEarth, another projection, an unknown datum or unit).
fn coordsys_wkt(clause: &str) -> Result<Option<String>, String> {
    let mut t = Vec::new();
    tokens(clause.as_bytes(), 0, &mut t);
    let words: Vec<&str> =
        t.iter().filter_map(|t| clause.get(t.range.clone())).filter(|w| *w != ",").collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    match lower.get(1).map(String::as_str) {
        Some("nonearth") => return Ok(None),
        Some("earth") if lower.get(2).map(String::as_str) == Some("projection") => {}
        _ => return Err("not `CoordSys Earth Projection …` or `CoordSys NonEarth …`".into()),
    }
    if lower.iter().any(|w| w == "affine") {
        return Err("an `Affine` transformation is not read".into());
    }
    let end = lower.iter().position(|w| w == "bounds").unwrap_or(words.len());
    let values = words.get(3..end).unwrap_or_default();
    let num = |i: usize| -> Result<f64, String> {
        values
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("value {} is missing or not a number", i + 1))
    };
    let projection = num(0)? as u32;
    let datum = num(1)? as u32;
    let (ellipsoid, mut next) = match datum {
        999 => (num(2)? as u32, 6),
        9999 => (num(2)? as u32, 11),
        d => match DATUMS.iter().find(|(n, _)| *n == d) {
            Some((_, e)) => (*e, 2),
            None => return Err(format!("MapInfo datum {d} is not one geounify knows")),
        },
    };
    let Some(&(_, a, rf)) = ELLIPSOIDS.iter().find(|(n, _, _)| *n == ellipsoid) else {
        return Err(format!("MapInfo ellipsoid {ellipsoid} is not one geounify knows"));
    };
    let datum_name = match datum {
        104 => "WGS_1984".to_string(),
        33 | 74 => "GRS_80".to_string(),
        d => format!("MapInfo_datum_{d}"),
    };
    let geogcs = format!(
        "GEOGCS[\"{datum_name}\",DATUM[\"{datum_name}\",SPHEROID[\"MapInfo {ellipsoid}\",{a},{rf}]],\
         PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]]"
    );
    match projection {
        1 => Ok(Some(geogcs)),
        8 => {
            let unit = values.get(next).map(|u| u.trim_matches('"').to_ascii_lowercase());
            let factor = match unit.as_deref() {
                Some("m") => 1.0,
                Some("km") => 1000.0,
                Some("cm") => 0.01,
                Some("mm") => 0.001,
                Some("ft") => 0.3048,
                Some("survey ft") => 1200.0 / 3937.0,
                Some(u) => return Err(format!("unit \"{u}\" is not one geounify knows")),
                None => return Err("the unit is missing".into()),
            };
            next += 1;
            let (lon0, lat0, k0, x0, y0) =
                (num(next)?, num(next + 1)?, num(next + 2)?, num(next + 3)?, num(next + 4)?);
            Ok(Some(format!(
                "PROJCS[\"MapInfo transverse Mercator\",{geogcs},PROJECTION[\"Transverse_Mercator\"],\
                 PARAMETER[\"latitude_of_origin\",{lat0}],PARAMETER[\"central_meridian\",{lon0}],\
                 PARAMETER[\"scale_factor\",{k0}],PARAMETER[\"false_easting\",{}],\
                 PARAMETER[\"false_northing\",{}],UNIT[\"MapInfo unit\",{factor}]]",
                x0 * factor,
                y0 * factor
            )))
        }
        p => Err(format!("MapInfo projection type {p} is not read (only 1 and 8)")),
    }
}

/// The `CoordSys` clause written for a target CRS.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TargetCoordSys {
    /// An earth CoordSys (the clause), and a warning if it only labels the data.
    Earth(String, Option<String>),
    /// `NonEarth Units "m"`: bounds computed from the data; the reason.
    NonEarth(String),
}

/// The `CoordSys` of `crs` (see the module documentation); `Err` with why none can be written.
pub(crate) fn target_coordsys(crs: &Crs) -> Result<TargetCoordSys, String> {
    let n = |v: f64| crate::export::num(v);
    let datum = || datum_clause(crs.datum());
    match crs.kind() {
        CrsKind::Geographic => {
            Ok(TargetCoordSys::Earth(format!("CoordSys Earth Projection 1, {}", datum()?), None))
        }
        CrsKind::Gcj02 { .. } | CrsKind::Bd09 { .. } => Ok(TargetCoordSys::Earth(
            "CoordSys Earth Projection 1, 104".into(),
            Some(format!(
                "{} cannot be declared in a MapInfo CoordSys: labelled as WGS 84 \
                 longitude/latitude (Earth Projection 1, 104)",
                crs.id()
            )),
        )),
        CrsKind::Projected(Projection::WebMercator) => {
            Ok(TargetCoordSys::Earth("CoordSys Earth Projection 10, 157, \"m\", 0".into(), None))
        }
        CrsKind::Projected(_) => match crs.transverse_mercator() {
            Some(p) => Ok(TargetCoordSys::Earth(
                format!(
                    "CoordSys Earth Projection 8, {}, \"m\", {}, {}, {}, {}, {}",
                    datum()?,
                    n(p.lon0),
                    n(p.lat0),
                    n(p.k0),
                    n(p.x0),
                    n(p.y0)
                ),
                None,
            )),
            None => Ok(TargetCoordSys::NonEarth(
                "its Gauss-Krüger surface is an expanded ellipsoid".into(),
            )),
        },
        kind @ (CrsKind::Local { .. } | CrsKind::Bd09Mc { .. }) => {
            Ok(TargetCoordSys::NonEarth(crate::export::unexpressible_reason(kind).into()))
        }
        CrsKind::Geocentric => Err("a geocentric CRS has no MapInfo CoordSys".into()),
    }
}

/// The datum part of a CoordSys for `datum`.
fn datum_clause(datum: &Datum) -> Result<String, String> {
    if *datum == Datum::cgcs2000() {
        return Ok("33".into());
    }
    if *datum == Datum::wgs84() {
        return Ok("104".into());
    }
    let e = datum.ellipsoid();
    let Some(&(number, _, _)) =
        ELLIPSOIDS.iter().find(|(_, a, rf)| (e.a() - a).abs() < 1e-3 && (e.rf() - rf).abs() < 1e-9)
    else {
        return Err(format!(
            "its ellipsoid (a = {} m, 1/f = {}) has no MapInfo ellipsoid number geounify knows",
            e.a(),
            e.rf()
        ));
    };
    let n = |v: f64| crate::export::num(v);
    match datum.to_cgcs2000() {
        DatumShift::SameFrame => Ok(format!("999, {number}, 0, 0, 0")),
        DatumShift::Unknown => Err(format!(
            "its datum ({}) has no known shift to WGS 84, which a MapInfo CoordSys states",
            datum.name()
        )),
        shift => {
            let t = crate::export::towgs84(shift).unwrap_or_default();
            Ok(format!(
                "9999, {number}, {}, {}, {}, {}, {}, {}, {}, 0",
                n(t[0]),
                n(t[1]),
                n(t[2]),
                n(-t[3]),
                n(-t[4]),
                n(-t[5]),
                n(t[6])
            ))
        }
    }
}

/// The CRS the `.mif` at `path` declares in its `CoordSys` clause (nothing for a NonEarth one,
/// or without a clause).
pub(crate) fn declared(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    let file = super::open_regular(path)?;
    let mut lines = Lines::new(BufReader::new(file), path);
    let header = read_header(&mut lines)?;
    let Some((clause, line)) = header.coordsys else { return Ok(Vec::new()) };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let origin = format!("{name} line {line} (CoordSys)");
    Ok(match coordsys_wkt(&clause) {
        Ok(Some(wkt)) => {
            let mut d = DeclaredCrs::from_wkt(&wkt, &origin);
            d.text = clause;
            vec![d]
        }
        Ok(None) => Vec::new(),
        Err(why) => vec![DeclaredCrs::from_name(&format!("{clause} ({why})"), &origin)],
    })
}

// ------------------------------------------------------------------------------------------
// Objects.

/// One graphic object with its clauses, as read: its text, the byte ranges of its coordinate
/// values (x, y alternating), and what it is. The reading half of the format.
#[derive(Debug, Clone, Default)]
pub struct MifObject {
    /// The line where it starts (1-based).
    pub line: u64,
    /// The object keyword as written (`Region`, `PLINE`, ...).
    pub kind: String,
    /// Its text, clause lines and blank lines after it included, with line endings.
    pub text: Vec<u8>,
    /// Byte ranges in `text` of its coordinate values: x, y, x, y, ...
    pub coordinates: Vec<Range<usize>>,
    /// The values of `coordinates`.
    pub values: Vec<f64>,
    /// Whether it (or a part of it) is a box: `Rect`, `RoundRect`, `Ellipse`, `Arc`, `Text`.
    pub boxes: bool,
    /// Its geometry as read: the object, or each part of a `Collection` (clause points such as
    /// `Center` are in `values` but in no piece).
    pub(crate) pieces: Vec<Piece>,
}

/// One geometry of an object (or of a `Collection` part): what it is, where its values start
/// in [`MifObject::values`], and its point count per section, ring or box.
#[derive(Debug, Clone, Default)]
pub(crate) struct Piece {
    /// `point`, `line`, `pline`, `pline multiple`, `region`, `multipoint`, `rect`,
    /// `roundrect`, `ellipse`, `arc`, `text` or `none`.
    pub(crate) kind: &'static str,
    /// Index in `values` of its first x.
    pub(crate) start: usize,
    /// Points per section (a polyline section, a region's polygon); one entry for the others.
    pub(crate) counts: Vec<usize>,
}

/// Reads objects from the data section.
pub(crate) struct ObjectReader<'p, R> {
    pub(crate) lines: Lines<'p, R>,
}

/// Clause keywords that may follow an object on their own lines.
const CLAUSES: [&str; 10] =
    ["pen", "brush", "symbol", "smooth", "center", "font", "spacing", "justify", "angle", "label"];

/// A cursor over the tokens of an object being read, pulling lines as needed.
struct Cursor<'a, 'p, R> {
    lines: &'a mut Lines<'p, R>,
    object: &'a mut MifObject,
    toks: Vec<Token>,
    at: usize,
    line: u64,
}

impl<'a, 'p, R: BufRead> Cursor<'a, 'p, R> {
    fn malformed(&self, message: String) -> ConvertError {
        self.lines.malformed(self.line, format!("{}: {message}", self.object.kind))
    }

    /// Appends the next line to the object (its tokens become the cursor's).
    fn pull(&mut self, what: &str) -> Result<(), ConvertError> {
        let Some((n, line)) = self.lines.take()? else {
            return Err(self.lines.malformed(
                self.line,
                format!("the file ends inside the {} object: {what} missing", self.object.kind),
            ));
        };
        if (self.object.text.len() + line.len()) as u64 > MAX_RECORD_BYTES {
            return Err(self.lines.malformed(
                self.object.line,
                format!("an object longer than {} MiB", MAX_RECORD_BYTES >> 20),
            ));
        }
        let offset = self.object.text.len();
        self.object.text.extend_from_slice(&line);
        self.toks.clear();
        tokens(&line, offset, &mut self.toks);
        self.at = 0;
        self.line = n;
        Ok(())
    }

    /// The next token, from this line or the following ones.
    fn next(&mut self, what: &str) -> Result<Token, ConvertError> {
        while self.at >= self.toks.len() {
            self.pull(what)?;
        }
        self.at += 1;
        Ok(self.toks[self.at - 1].clone())
    }

    fn word(&self, t: &Token) -> String {
        String::from_utf8_lossy(&self.object.text[t.range.clone()]).into_owned()
    }

    /// The next token as a number.
    fn number(&mut self, what: &str) -> Result<(f64, Range<usize>), ConvertError> {
        let t = self.next(what)?;
        let w = self.word(&t);
        match text::parse_coordinate(&w) {
            Some(v) if !t.quoted => Ok((v, t.range)),
            _ => Err(self.lines.malformed(
                self.line,
                format!("{}: {what} expected, found '{}'", self.object.kind, text::shorten(&w)),
            )),
        }
    }

    /// The next token as a count (a whole number ≥ 0).
    fn count(&mut self, what: &str) -> Result<u64, ConvertError> {
        let t = self.next(what)?;
        let w = self.word(&t);
        w.parse::<u64>().map_err(|_| {
            self.lines.malformed(
                self.line,
                format!(
                    "{}: {what} expected (a whole number), found '{}'",
                    self.object.kind,
                    text::shorten(&w)
                ),
            )
        })
    }

    /// `n` coordinate pairs.
    fn pairs(&mut self, n: u64) -> Result<(), ConvertError> {
        for _ in 0..n {
            let (x, xr) = self.number("an x coordinate")?;
            let (y, yr) = self.number("a y coordinate")?;
            self.object.values.extend([x, y]);
            self.object.coordinates.extend([xr, yr]);
        }
        Ok(())
    }

    /// Whether the rest of the current line has no tokens.
    fn line_done(&self) -> bool {
        self.at >= self.toks.len()
    }

    /// An object (or a Collection part) whose keyword `kw` (lower case) was just read.
    fn object_body(&mut self, kw: &str, in_collection: bool) -> Result<(), ConvertError> {
        let start = self.object.values.len();
        let (kind, counts) = self.geometry(kw, in_collection)?;
        self.object.pieces.push(Piece { kind, start, counts });
        Ok(())
    }

    /// The body of an object or part `kw`: its kind and point counts (see [`Piece`]).
    fn geometry(
        &mut self,
        kw: &str,
        in_collection: bool,
    ) -> Result<(&'static str, Vec<usize>), ConvertError> {
        let mut counts = Vec::new();
        let pairs = |c: &mut Self, n: u64, counts: &mut Vec<usize>| {
            counts.push(n as usize);
            c.pairs(n)
        };
        let kind = match kw {
            "none" if !in_collection => "none",
            "point" if !in_collection => {
                pairs(self, 1, &mut counts)?;
                "point"
            }
            "line" if !in_collection => {
                pairs(self, 2, &mut counts)?;
                "line"
            }
            "pline" => {
                let t = self.next("a point count or MULTIPLE")?;
                if self.word(&t).eq_ignore_ascii_case("multiple") {
                    let sections = self.count("the number of sections")?;
                    for _ in 0..sections {
                        let n = self.count("a section's point count")?;
                        pairs(self, n, &mut counts)?;
                    }
                    "pline multiple"
                } else {
                    self.at -= 1;
                    let n = self.count("the point count")?;
                    pairs(self, n, &mut counts)?;
                    "pline"
                }
            }
            "region" => {
                let polygons = self.count("the number of polygons")?;
                for _ in 0..polygons {
                    let n = self.count("a polygon's point count")?;
                    pairs(self, n, &mut counts)?;
                }
                "region"
            }
            "multipoint" => {
                let n = self.count("the number of points")?;
                pairs(self, n, &mut counts)?;
                "multipoint"
            }
            "rect" | "ellipse" if !in_collection => {
                self.object.boxes = true;
                pairs(self, 2, &mut counts)?;
                if kw == "rect" {
                    "rect"
                } else {
                    "ellipse"
                }
            }
            "roundrect" if !in_collection => {
                self.object.boxes = true;
                pairs(self, 2, &mut counts)?;
                self.number("the corner radius")?;
                "roundrect"
            }
            "arc" if !in_collection => {
                self.object.boxes = true;
                pairs(self, 2, &mut counts)?;
                self.number("the start angle")?;
                self.number("the end angle")?;
                "arc"
            }
            "text" if !in_collection => {
                self.object.boxes = true;
                let t = self.next("the text string")?;
                if !t.quoted {
                    return Err(self.malformed("the text string (in quotes) expected".into()));
                }
                pairs(self, 2, &mut counts)?;
                "text"
            }
            "collection" if !in_collection => {
                let parts = self.count("the number of parts")?;
                for _ in 0..parts {
                    self.clauses()?;
                    let t = self.next("a Collection part")?;
                    let part = self.word(&t).to_ascii_lowercase();
                    if !matches!(part.as_str(), "region" | "pline" | "multipoint") {
                        return Err(self.lines.malformed(
                            self.line,
                            format!(
                                "Collection: a part is Region, Pline or Multipoint, found '{}'",
                                text::shorten(&part)
                            ),
                        ));
                    }
                    self.object_body(&part, true)?;
                }
                return Ok(("collection", Vec::new()));
            }
            other => {
                let other =
                    if in_collection { other.to_string() } else { self.object.kind.clone() };
                return Err(self.lines.malformed(
                    self.line,
                    format!(
                        "'{}' is not a MIF object (Point, Line, Pline, Region, Arc, Text, Rect, \
                         RoundRect, Ellipse, Multipoint, Collection, None)",
                        text::shorten(&other)
                    ),
                ));
            }
        };
        Ok((kind, counts))
    }

    /// The clause lines (and blank lines) that follow: `Center x y` and `Label Line … x y`
    /// carry a coordinate pair.
    fn clauses(&mut self) -> Result<(), ConvertError> {
        if !self.line_done() {
            // Tokens left on the object's last line: clauses written on the same line.
            self.line_clauses()?;
        }
        loop {
            let Some((_, line)) = self.lines.peek()? else { return Ok(()) };
            if !is_blank(line) && !CLAUSES.contains(&first_word(line).as_str()) {
                return Ok(());
            }
            self.pull("a clause")?;
            self.line_clauses()?;
        }
    }

    /// The clauses on the rest of the current line.
    fn line_clauses(&mut self) -> Result<(), ConvertError> {
        while !self.line_done() {
            let t = self.toks[self.at].clone();
            self.at += 1;
            match self.word(&t).to_ascii_lowercase().as_str() {
                "center" => self.pairs(1)?,
                // `Justify Center`: a word, not the Center clause.
                "justify" => self.at += 1,
                "label" => {
                    // Label Line {simple | arrow} x y
                    let rest: Vec<Token> = self.toks[self.at..].to_vec();
                    let numbers: Vec<&Token> = rest
                        .iter()
                        .filter(|t| !t.quoted && text::parse_coordinate(&self.word(t)).is_some())
                        .collect();
                    if let [x, y] = numbers.as_slice() {
                        let (xv, yv) = (
                            text::parse_coordinate(&self.word(x)).unwrap_or(f64::NAN),
                            text::parse_coordinate(&self.word(y)).unwrap_or(f64::NAN),
                        );
                        self.object.values.extend([xv, yv]);
                        self.object.coordinates.extend([x.range.clone(), y.range.clone()]);
                    }
                    self.at = self.toks.len();
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl<'p, R: BufRead> ObjectReader<'p, R> {
    /// The next object, blank lines before it attached to it; `None` at the end (blank lines
    /// at the end are returned as an object of kind "" without coordinates).
    pub(crate) fn next(&mut self) -> Result<Option<MifObject>, ConvertError> {
        let mut object = MifObject::default();
        loop {
            let Some((n, line)) = self.lines.peek()? else {
                return Ok((!object.text.is_empty()).then_some(object));
            };
            if !is_blank(line) {
                object.line = n;
                break;
            }
            let (_, line) = self.lines.take()?.unwrap_or_default();
            object.text.extend_from_slice(&line);
        }
        let mut cursor = Cursor {
            lines: &mut self.lines,
            object: &mut object,
            toks: Vec::new(),
            at: 0,
            line: 0,
        };
        cursor.pull("an object")?;
        let t = cursor.next("an object")?;
        let kw = cursor.word(&t);
        cursor.object.kind = kw.clone();
        cursor.object_body(&kw.to_ascii_lowercase(), false)?;
        cursor.clauses()?;
        Ok(Some(object))
    }
}

// ------------------------------------------------------------------------------------------
// Conversion.

/// The `.mid` beside a `.mif` (extension in the `.mif`'s case, else the other case).
pub(crate) fn mid_of(mif: &Path) -> Option<PathBuf> {
    let ext = mif.extension().and_then(|e| e.to_str()).unwrap_or("mif");
    let lower = if ext.chars().any(|c| c.is_ascii_uppercase()) { "MID" } else { "mid" };
    [lower, if lower == "mid" { "MID" } else { "mid" }]
        .into_iter()
        .map(|e| mif.with_extension(e))
        .find(|p| p.exists())
}

/// Converts the MIF/MID set `job.input` into the set named by `job.output`.
pub fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
    let input = job.input;
    super::format::of(super::FileFormat::Mif).require_regular_members(input)?;
    let target = target_coordsys(job.target).map_err(|why| ConvertError::Options {
        path: job.output.to_path_buf(),
        message: format!("{} cannot be written as a MapInfo CoordSys: {why}", job.target.id()),
    })?;
    let file = super::open_regular(input)?;
    let mut lines = Lines::new(BufReader::with_capacity(1 << 20, file), input);
    let header = read_header(&mut lines)?;
    let mut reader = ObjectReader { lines };
    let mut report = ConvertReport::default();

    let io_out = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ConvertError::Io { path, source }
    };
    let recovered =
        super::atomic::recover_leftovers(job.output, &SET_FAMILY).map_err(io_out(job.output))?;
    report.warnings.extend(recovered);
    let mut set = AtomicSet::new(job.output, &SET_FAMILY).map_err(io_out(job.output))?;
    let out_mif = job.output.to_path_buf();
    let mif_i = set.create(&out_mif).map_err(io_out(&out_mif))?;

    // A NonEarth target needs the data's extent in its header: the objects go to a temporary
    // file first and follow the header once it is known.
    let mut body_tmp = match &target {
        TargetCoordSys::NonEarth(_) => Some(
            super::atomic::AtomicFile::create(&job.output.with_extension("mif-body"))
                .map_err(io_out(job.output))?,
        ),
        TargetCoordSys::Earth(..) => None,
    };
    if body_tmp.is_none() {
        write_header(set.file(mif_i).writer(), &header, &target, None, &mut report)
            .map_err(io_out(&out_mif))?;
    }
    let mut extent = Extent::default();
    {
        let out: &mut dyn Write = match body_tmp.as_mut() {
            Some(tmp) => tmp.writer(),
            None => set.file(mif_i).writer(),
        };
        convert_objects(job, &mut reader, out, &mut report, &mut extent)?;
    }
    if let Some(mut tmp) = body_tmp.take() {
        let w = set.file(mif_i).writer();
        write_header(w, &header, &target, Some(&extent), &mut report).map_err(io_out(&out_mif))?;
        let tmp_path = tmp.temp_path().to_path_buf();
        tmp.writer().flush().map_err(io_out(&tmp_path))?;
        let mut body = std::fs::File::open(&tmp_path).map_err(io_out(&tmp_path))?;
        std::io::copy(&mut body, set.file(mif_i).writer()).map_err(io_out(&out_mif))?;
        drop(tmp); // removed: never committed
    }

    // Attributes, byte for byte.
    match mid_of(input) {
        Some(mid) => {
            let upper = out_mif.extension().and_then(|e| e.to_str()) == Some("MIF");
            let to = job.output.with_extension(if upper { "MID" } else { "mid" });
            let i = set.create(&to).map_err(io_out(&to))?;
            let mut src = super::open_regular(&mid)?;
            let rows = copy_counting_rows(&mut src, set.file(i).writer()).map_err(io_out(&to))?;
            if rows != report.features {
                report.warnings.push(format!(
                    "{}: {rows} rows for {} objects (copied unchanged)",
                    mid.display(),
                    report.features
                ));
            }
        }
        None => report.warnings.push(format!(
            "{}: no .mid beside the .mif; the output has no attribute file",
            input.display()
        )),
    }
    report.outputs = set.commit().map_err(io_out(job.output))?;
    Ok(report)
}

/// Copies `src` into `out`; the number of rows (lines outside quotes; a last row without a
/// line ending counts).
fn copy_counting_rows(src: &mut impl Read, out: &mut impl Write) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 16];
    let (mut rows, mut quoted, mut pending) = (0u64, false, false);
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &b in &buf[..n] {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    rows += 1;
                    pending = false;
                    continue;
                }
                _ => {}
            }
            pending = true;
        }
        out.write_all(&buf[..n])?;
    }
    Ok(rows + u64::from(pending))
}

/// The converted data's extent, for a NonEarth target's bounds.
#[derive(Debug, Default)]
struct Extent {
    min: Option<[f64; 2]>,
    max: [f64; 2],
}

impl Extent {
    fn add(&mut self, x: f64, y: f64) {
        match &mut self.min {
            None => {
                self.min = Some([x, y]);
                self.max = [x, y];
            }
            Some(min) => {
                min[0] = min[0].min(x);
                min[1] = min[1].min(y);
                self.max[0] = self.max[0].max(x);
                self.max[1] = self.max[1].max(y);
            }
        }
    }
}

/// Writes the header with the target's `CoordSys` clause (for NonEarth, with the bounds of
/// `extent`), noting what was dropped.
fn write_header(
    out: &mut impl Write,
    header: &Header,
    target: &TargetCoordSys,
    extent: Option<&Extent>,
    report: &mut ConvertReport,
) -> std::io::Result<()> {
    out.write_all(&header.before)?;
    let clause = match target {
        TargetCoordSys::Earth(clause, warning) => {
            if let Some(w) = warning {
                report.warnings.push(w.clone());
            }
            clause.clone()
        }
        TargetCoordSys::NonEarth(why) => {
            // No point at all: a unit square, any bounds will do.
            let (min, max) =
                extent.and_then(|e| e.min.map(|m| (m, e.max))).unwrap_or(([0.0, 0.0], [1.0, 1.0]));
            let pad = |lo: f64, hi: f64| ((hi - lo) * 0.01).max(1.0);
            let (px, py) = (pad(min[0], max[0]), pad(min[1], max[1]));
            let n = |v: f64| crate::export::num(v.floor());
            let c = |v: f64| crate::export::num(v.ceil());
            report.warnings.push(format!(
                "the target has no MapInfo earth CoordSys ({why}): written as CoordSys NonEarth \
                 in metres, bounds from the data"
            ));
            format!(
                "CoordSys NonEarth Units \"m\" Bounds ({}, {}) ({}, {})",
                n(min[0] - px),
                n(min[1] - py),
                c(max[0] + px),
                c(max[1] + py)
            )
        }
    };
    if let Some((old, _)) = &header.coordsys {
        if matches!(target, TargetCoordSys::Earth(..))
            && old.to_ascii_lowercase().contains("bounds")
        {
            report.warnings.push(
                "the input's CoordSys Bounds describe the old coordinates: dropped (MapInfo uses \
                 the projection's default bounds)"
                    .into(),
            );
        }
    }
    out.write_all(clause.as_bytes())?;
    out.write_all(header.eol)?;
    out.write_all(&header.after)
}

/// An object of a chunk and what converting it gave: its text with the converted coordinates,
/// or why a point of it cannot be converted.
struct Slot {
    object: MifObject,
    converted: Result<Vec<u8>, String>,
}

/// Reads, converts and writes every object after `Data`.
fn convert_objects<R: BufRead>(
    job: &Job<'_>,
    reader: &mut ObjectReader<'_, R>,
    out: &mut dyn Write,
    report: &mut ConvertReport,
    extent: &mut Extent,
) -> Result<(), ConvertError> {
    let io_out = |source| ConvertError::Io { path: job.output.to_path_buf(), source };
    let mut tally = Tally::default();
    let mut boxes = 0u64;
    let mut chunk: Vec<Slot> = Vec::new();
    let mut first_index = 1u64;
    loop {
        chunk.clear();
        let mut bytes = 0usize;
        let mut more = true;
        while chunk.len() < CHUNK_OBJECTS && bytes < CHUNK_BYTES {
            match reader.next()? {
                Some(object) => {
                    bytes += object.text.len();
                    chunk.push(Slot { object, converted: Ok(Vec::new()) });
                }
                None => {
                    more = false;
                    break;
                }
            }
        }
        job.progress.advance(bytes as u64);
        runner::in_place(
            job.transformer,
            job.options.parallel,
            &mut chunk,
            |slot, points| {
                let values = &slot.object.values;
                points.extend(values.chunks_exact(2).map(|p| [p[0], p[1], 0.0]));
                // Blank lines at the end of the file (kind "") are copied as they are.
                !slot.object.kind.is_empty()
            },
            |slot, converted| {
                slot.converted = match converted {
                    Ok(points) => {
                        let o = &mut slot.object;
                        let mut text = Vec::with_capacity(o.text.len() + o.text.len() / 4);
                        let mut at = 0;
                        for (c, r) in o.coordinates.iter().enumerate() {
                            let v = points.get(c / 2).map_or(f64::NAN, |p| p[c % 2]);
                            text.extend_from_slice(o.text.get(at..r.start).unwrap_or_default());
                            Number(v).push_to(&mut text);
                            at = r.end;
                        }
                        text.extend_from_slice(o.text.get(at..).unwrap_or_default());
                        o.values.clear();
                        o.values.extend(points.iter().flat_map(|p| [p[0], p[1]]));
                        // The source text is not needed any more: the chunk holds one copy.
                        o.text = Vec::new();
                        o.coordinates = Vec::new();
                        Ok(text)
                    }
                    Err(e) => Err(e.to_string()),
                }
            },
        );
        for (k, Slot { object, converted }) in chunk.iter().enumerate() {
            let n = object.values.len() / 2;
            if object.kind.is_empty() {
                if !tally.failed() {
                    out.write_all(&object.text).map_err(io_out)?;
                }
                continue;
            }
            let index = first_index + k as u64;
            report.features += 1;
            let text = match converted {
                Ok(text) => text,
                Err(error) => {
                    let location =
                        format!("line {} (object {index}, {})", object.line, object.kind);
                    let skip = job.options.skip_invalid;
                    let reason =
                        if skip { format!("{error}; written as None") } else { error.clone() };
                    tally.record(report, skip, Failure { location, reason });
                    if skip && !tally.failed() {
                        let eol = ending(&object.text);
                        out.write_all(b"None").map_err(io_out)?;
                        out.write_all(if eol.is_empty() { b"\n" } else { eol }).map_err(io_out)?;
                    }
                    continue;
                }
            };
            if n == 0 {
                report.empty += 1;
            }
            report.vertices += n as u64;
            boxes += u64::from(object.boxes);
            if tally.failed() {
                continue;
            }
            for p in object.values.chunks_exact(2) {
                extent.add(p[0], p[1]);
            }
            out.write_all(text).map_err(io_out)?;
        }
        first_index += chunk.len() as u64;
        if !more {
            break;
        }
    }
    tally.finish(report, job.input)?;
    if boxes > 0 {
        report.warnings.push(format!(
            "{boxes} Rect, RoundRect, Ellipse, Arc or Text object(s) converted by the two corners \
             of their box, which stays parallel to the axes: their shape is approximate (see \
             the MIF documentation)"
        ));
    }
    Ok(())
}

/// Up to `max` coordinates `[x, y, 0]` from the first objects, for the sanity check.
pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
    let file = super::open_regular(job.input)?;
    let mut lines = Lines::new(BufReader::new(file), job.input);
    read_header(&mut lines)?;
    let mut reader = ObjectReader { lines };
    let mut out = Vec::new();
    while out.len() < max {
        let Some(object) = reader.next()? else { break };
        out.extend(object.values.chunks_exact(2).map(|p| [p[0], p[1], 0.0]).take(max - out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(data: &str) -> Result<Vec<MifObject>, ConvertError> {
        let mut reader = ObjectReader { lines: Lines::new(data.as_bytes(), Path::new("t.mif")) };
        let mut out = Vec::new();
        while let Some(o) = reader.next()? {
            out.push(o);
        }
        Ok(out)
    }

    #[test]
    fn every_object_type_is_read_with_its_coordinates() {
        let data = "Point 1 2\n    Symbol (35,0,12)\nLine 1 2 3 4\n    Pen (1,2,0)\n\
                    PLINE MULTIPLE 2\n  2\n1 2\n3 4\n  1\n5 6\nPline 2\n1 2 3 4\n\
                    Region 1\n 3\n1 1\n2 2\n3 1\n    Pen (1,2,0)\n    Brush (2,16777215,16777215)\n    Center 2 1.5\n\
                    Text \"路口 \"\"A\"\"\"\n 10 20 30 40\n    Font (\"Arial\",0,0,0)\n    Label Line Arrow 11 21\n\
                    Rect 1 2 3 4\nRoundRect 1 2 3 4\n 0.5\nEllipse 1 2 3 4\nArc 1 2 3 4\n 0 90\n\
                    Multipoint 2\n 7 8 9 10\nCollection 2\nRegion 1\n 1\n0 0\nPline 2\n1 1\n2 2\nNONE\n\n";
        let o = objects(data).unwrap();
        let kinds: Vec<&str> = o.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Point",
                "Line",
                "PLINE",
                "Pline",
                "Region",
                "Text",
                "Rect",
                "RoundRect",
                "Ellipse",
                "Arc",
                "Multipoint",
                "Collection",
                "NONE"
            ]
        );
        let counts: Vec<usize> = o.iter().map(|o| o.values.len() / 2).collect();
        assert_eq!(counts, [1, 2, 3, 2, 4, 3, 2, 2, 2, 2, 2, 3, 0]);
        assert_eq!(o[4].values[6..], [2.0, 1.5], "Center converted");
        assert_eq!(o[5].values[4..], [11.0, 21.0], "Label Line converted");
        assert!(o[5].boxes && o[6].boxes && !o[4].boxes);
        assert_eq!(o[12].text, b"NONE\n\n");
        let all: Vec<u8> = o.iter().flat_map(|o| o.text.clone()).collect();
        assert_eq!(all, data.as_bytes(), "the texts are the data, byte for byte");
    }

    #[test]
    fn malformed_objects_are_located_by_line() {
        let err = |d: &str| objects(d).unwrap_err().to_string();
        assert!(
            err("Point 1\n").contains("line 1: the file ends inside the Point object"),
            "{}",
            err("Point 1\n")
        );
        assert!(err("Point 1 2\nPline x\n")
            .contains("line 2: Pline: the point count expected (a whole number), found 'x'"));
        assert!(err("Region 1\n 2\n1 2\nabc 4\n")
            .contains("line 4: Region: an x coordinate expected, found 'abc'"));
        assert!(err("Blob 1 2\n").contains("line 1: 'Blob' is not a MIF object"));
    }

    #[test]
    fn coordsys_clauses_read_and_written() {
        let wkt = coordsys_wkt("CoordSys Earth Projection 8, 104, \"m\", 114, 0, 1, 500000, 0")
            .unwrap()
            .unwrap();
        assert!(
            wkt.contains("central_meridian\",114") && wkt.contains("6378137,298.257223563"),
            "{wkt}"
        );
        let wkt = coordsys_wkt("CoordSys Earth Projection 1, 33").unwrap().unwrap();
        assert!(wkt.starts_with("GEOGCS") && wkt.contains("298.257222101"), "{wkt}");
        assert_eq!(coordsys_wkt("CoordSys NonEarth Units \"m\" Bounds (0, 0) (1, 1)"), Ok(None));
        assert!(coordsys_wkt("CoordSys Earth Projection 3, 104, \"m\", 1, 2, 3, 4, 5, 6")
            .unwrap_err()
            .contains("projection type 3"));
        let cs = |id: &str| target_coordsys(&crate::catalogue::lookup(id).unwrap()).unwrap();
        assert_eq!(
            cs("EPSG:4547"),
            TargetCoordSys::Earth(
                "CoordSys Earth Projection 8, 33, \"m\", 114, 0, 1, 500000, 0".into(),
                None
            )
        );
        assert_eq!(
            cs("EPSG:4490"),
            TargetCoordSys::Earth("CoordSys Earth Projection 1, 33".into(), None)
        );
        assert_eq!(
            cs("EPSG:4326"),
            TargetCoordSys::Earth("CoordSys Earth Projection 1, 104".into(), None)
        );
        assert!(matches!(cs("GCJ02"), TargetCoordSys::Earth(_, Some(_))));
        assert!(matches!(cs("BD09MC"), TargetCoordSys::NonEarth(_)));
    }
}
