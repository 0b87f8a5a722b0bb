//! WKT lines (`.wkt`) in conversions between formats.
//!
//! **Reading.** Lines are read as a same-format conversion reads them
//! ([`wkt`](super::super::wkt): the same parser, so the same WKT and EWKT, the optional id
//! column before a tab, `;` or `,`, blank lines and `#` comments passed over, a UTF-8
//! byte-order mark on line 1). Each geometry line is a feature with its geometry (a top-level
//! `POINT EMPTY`: none) and, when any line has an id, the text attribute `id` (decoded in
//! [`ConvertOptions::encoding`](super::super::ConvertOptions::encoding), UTF-8 by default). A
//! line that is not WKT, or whose `SRID=n;` is not the source CRS (EPSG:n = `--from`), is a
//! failure of its line. M values are dropped with a warning.
//!
//! **Writing.** One line per feature: the `id` attribute (any case; none if the dataset has
//! none, empty when null) and a tab, then `SRID=n;` when the target is EPSG:n (the declaration
//! a same-format conversion reads back), then the geometry as WKT (`POINT EMPTY` for a
//! feature without one), coordinates in the shortest form that reads back exactly or
//! [`ConvertOptions::precision`](super::super::ConvertOptions::precision). Other attributes are
//! not carried: a warning names them. An id holding a tab or a line break cannot be written
//! and stops the conversion, naming the feature. Text in `encoding` when given, else UTF-8;
//! LF line endings.

use super::super::atomic::AtomicFile;
use super::super::features::{
    Feature, FeatureReader, FeatureWriter, Field, FieldType, Read, Schema, Value,
};
use super::super::runner::{Lines, RecordSource};
use super::super::text::{self, UTF8_BOM};
use super::super::wkt::{parse_line, read_geometry, WktGeometry};
use super::super::{ConvertError, ConvertReport, Failure, Job, TextEncoding};
use super::Digits;
use std::io::BufReader;
use std::path::PathBuf;

/// The reader of a `.wkt` input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    // First pass: the geometry types and heights, and whether lines have ids.
    let mut first = Geometries::open(job)?;
    let mut schema = Schema::default();
    let mut ids = false;
    while let Some(read) = first.next()? {
        if let Ok(f) = read {
            ids |= !f.attributes.is_empty();
            if let Some(g) = &f.geometry {
                schema.add_geometry(g);
            }
        }
    }
    if ids {
        schema.fields.push(Field { name: "id".into(), kind: FieldType::Text });
    }
    let lines = Geometries::open(job)?;
    Ok(Box::new(Reader { lines, ids, schema }))
}

/// The geometry lines of a file, as features (an `id` attribute when the line has one).
struct Geometries<'p> {
    lines: Lines<'p, BufReader<std::fs::File>>,
    buf: Vec<u8>,
    encoding: TextEncoding,
    epsg: Option<u32>,
    source: String,
    m_dropped: u64,
    bytes: u64,
}

impl<'p> Geometries<'p> {
    fn open(job: &Job<'p>) -> Result<Self, ConvertError> {
        let file = super::super::open_regular(job.input)?;
        let reader = BufReader::with_capacity(1 << 20, file);
        Ok(Self {
            lines: Lines::new(reader, super::super::MAX_RECORD_BYTES, job.input),
            buf: Vec::new(),
            encoding: job.options.encoding.unwrap_or(TextEncoding::Utf8),
            epsg: job.source.epsg(),
            source: job.source.id().to_string(),
            m_dropped: 0,
            bytes: 0,
        })
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        loop {
            self.buf.clear();
            let Some(rec) = self.lines.next_record(&mut self.buf)? else { return Ok(None) };
            self.bytes += self.buf.len() as u64;
            let mut body = &self.buf[rec.body()];
            if rec.line == 1 {
                body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
            }
            let location = format!("line {}", rec.line);
            let fail =
                |reason: String| Ok(Some(Err(Failure { location: location.clone(), reason })));
            let line = match parse_line(body) {
                Ok(None) => continue,
                Ok(Some(line)) => line,
                Err(reason) => return fail(reason),
            };
            let (id, geometry) = match &line.id {
                Some(id) => (body.get(id.clone()), body.get(id.end + 1..).unwrap_or_default()),
                None => (None, body),
            };
            // The geometry's bytes are ASCII once parsed.
            let Ok(geometry) = std::str::from_utf8(geometry) else {
                return fail("the geometry is not ASCII text".into());
            };
            let w = match read_geometry(geometry) {
                Ok(WktGeometry { srid: Some(srid), .. }) if Some(srid) != self.epsg => {
                    return fail(format!(
                        "SRID={srid} says EPSG:{srid}, but the source CRS (--from) is {}",
                        self.source
                    ));
                }
                Ok(w) => w,
                Err(reason) => return fail(reason),
            };
            self.m_dropped += u64::from(w.m);
            let mut attributes = Vec::new();
            if let Some(id) = id {
                match text::decode(id.trim_ascii(), self.encoding) {
                    Ok(t) => attributes.push(Value::Text(t.into_owned())),
                    Err(_) => {
                        return fail(format!(
                            "the id '{}' is not text in the file's encoding",
                            text::shown(id)
                        ))
                    }
                }
            }
            return Ok(Some(Ok(Feature { location, geometry: w.geometry, attributes })));
        }
    }
}

struct Reader<'p> {
    lines: Geometries<'p>,
    /// Whether the schema has the `id` field (a line without an id gets null).
    ids: bool,
    schema: Schema,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        let mut read = self.lines.next()?;
        if let Some(Ok(f)) = &mut read {
            if self.ids && f.attributes.is_empty() {
                f.attributes.push(Value::Null);
            }
        }
        Ok(read)
    }

    fn consumed(&self) -> u64 {
        self.lines.bytes
    }

    fn warnings(&mut self) -> Vec<String> {
        match self.lines.m_dropped {
            0 => Vec::new(),
            n => vec![format!("{n} geometries had m values; they are dropped")],
        }
    }
}

/// The writer of a `.wkt` output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let id = schema.fields.iter().position(|f| f.name.trim().eq_ignore_ascii_case("id"));
    let mut warnings = Vec::new();
    let dropped: Vec<&str> = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != id)
        .map(|(_, f)| f.name.as_str())
        .collect();
    if !dropped.is_empty() {
        warnings.push(format!(
            "WKT lines hold a geometry and an id only: the attribute(s) {} are not carried",
            dropped.join(", ")
        ));
    }
    let srid = job.target.epsg();
    if srid.is_none() {
        warnings.push(format!(
            "{} has no EPSG code for an EWKT SRID=: the WKT lines do not declare their CRS",
            job.target.id()
        ));
    }
    let path = job.output.to_path_buf();
    let file = AtomicFile::create(job.output)
        .map_err(|source| ConvertError::Io { path: path.clone(), source })?;
    Ok(Box::new(Writer {
        file,
        path,
        id,
        srid: srid.map(|n| format!("SRID={n};")),
        encoding: job.options.encoding.unwrap_or(TextEncoding::Utf8),
        digits: Digits::of(job),
        warnings,
        buf: Vec::new(),
    }))
}

struct Writer {
    file: AtomicFile,
    path: PathBuf,
    /// The `id` attribute, if the dataset has one.
    id: Option<usize>,
    srid: Option<String>,
    encoding: TextEncoding,
    digits: Digits,
    warnings: Vec<String>,
    buf: Vec<u8>,
}

impl Writer {
    fn refuse(&self, f: &Feature, message: String) -> ConvertError {
        ConvertError::Options {
            path: self.path.clone(),
            message: format!("{}: {message}", f.location),
        }
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        self.buf.clear();
        for f in features {
            if let Some(i) = self.id {
                let text = f.attributes.get(i).map(Value::to_string).unwrap_or_default();
                if text.contains(['\t', '\r', '\n']) {
                    return Err(self.refuse(
                        f,
                        format!(
                            "its id '{}' holds a tab or a line break, which a WKT line cannot \
                             hold",
                            text::shorten(&text)
                        ),
                    ));
                }
                match text::encode(&text, self.encoding) {
                    Ok(bytes) => self.buf.extend_from_slice(&bytes),
                    Err(c) => {
                        return Err(self.refuse(
                            f,
                            format!("its id holds '{c}', which the output encoding cannot hold"),
                        ))
                    }
                }
                self.buf.push(b'\t');
            }
            if let Some(srid) = &self.srid {
                self.buf.extend_from_slice(srid.as_bytes());
            }
            match &f.geometry {
                Some(g) => super::wkb::write_wkt(g, self.digits, &mut self.buf),
                None => self.buf.extend_from_slice(b"POINT EMPTY"),
            }
            self.buf.push(b'\n');
        }
        super::append(&mut self.file, &self.path, &self.buf)
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        super::commit(self.file, self.path, &mut self.warnings, report)
    }
}
