//! South CASS point files (`.dat`) in conversions between formats.
//!
//! **Reading.** Each point line `id,code,Y(east),X(north)[,H]` is a point feature: x = Y (the
//! easting or longitude), y = X (the northing or latitude), z = H when the line has one (H is a
//! height: the point is 3D, and a dataset where any line has H has z), with the text
//! attributes `id` (点号) and `code` (编码), spaces around them removed (an empty code is
//! null). Lines are read as a same-format conversion reads them
//! ([`cass`](super::super::cass): blank lines are no points, binary files refused, a line that
//! is no point line a failure of its line). Names are decoded in
//! [`ConvertOptions::encoding`](super::super::ConvertOptions::encoding) when it is given,
//! otherwise as UTF-8, and as GB 18030 (a superset of GBK, which CASS writes) when a name is
//! not valid UTF-8. A file without any point line is refused, as in a same-format conversion.
//!
//! **Writing.** Points only: a geometry of another type, or a feature without geometry, stops
//! the conversion naming the feature (CASS holds nothing else). One line a point: the id from
//! an attribute `id` (or `点号`, `name`, `点名`; the feature's number from 1 when there is none
//! or it is null), the code from `code` (or `编码`; empty when there is none), Y = x, X = y,
//! and H = z when the geometry has heights (a 2D point gets no H). Other attributes are not
//! carried: a warning names them. Values written: the shortest form that reads back exactly,
//! or [`ConvertOptions::precision`](super::super::ConvertOptions::precision). A comma, CR or LF
//! in an id or a code cannot be written (CASS has no quoting) and stops the conversion. Text
//! is written in `encoding` when given (GBK as CASS writes it), else UTF-8 without a
//! byte-order mark; CRLF line endings, as CASS writes them. CASS declares no CRS: a warning
//! names the output's.

use super::super::atomic::AtomicFile;
use super::super::cass::{parse_line, Line};
use super::super::features::{
    Counted, Counter, Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, Read,
    Schema, Shape, Value,
};
use super::super::runner::{Lines, RecordSource};
use super::super::text::{self, UTF8_BOM};
use super::super::{ConvertError, ConvertReport, Failure, Job, TextEncoding};
use super::Digits;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The reader of a CASS input (see the module docs).
pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
    // First pass: whether any point has a height; the file has points at all.
    let mut first = Points::open(job.input, job.options.encoding)?;
    let mut schema = Schema {
        fields: ["id", "code"]
            .into_iter()
            .map(|n| Field { name: n.into(), kind: FieldType::Text })
            .collect(),
        ..Schema::default()
    };
    let mut any = false;
    while let Some(read) = first.next()? {
        if let Ok(f) = read {
            any = true;
            if let Some(g) = &f.geometry {
                schema.add_geometry(g);
            }
        } else {
            any = true;
        }
    }
    if !any {
        return Err(ConvertError::Malformed {
            path: job.input.to_path_buf(),
            location: "line 1".into(),
            message: "no point lines (id,code,Y(east),X(north)[,H]): the file is empty or blank"
                .into(),
        });
    }
    let points = Points::open(job.input, job.options.encoding)?;
    Ok(Box::new(Reader { points, schema }))
}

/// The point lines of a file, as features.
struct Points<'p> {
    lines: Lines<'p, BufReader<Counted<std::fs::File>>>,
    /// Bytes read from the file.
    read: Counter,
    buf: Vec<u8>,
    path: &'p Path,
    encoding: Option<TextEncoding>,
}

impl<'p> Points<'p> {
    fn open(path: &'p Path, encoding: Option<TextEncoding>) -> Result<Self, ConvertError> {
        let (file, read) = Counted::new(super::super::open_regular(path)?);
        let reader = BufReader::with_capacity(1 << 20, file);
        let lines = Lines::new(reader, super::super::MAX_RECORD_BYTES, path);
        Ok(Self { lines, read, buf: Vec::new(), path, encoding })
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        loop {
            self.buf.clear();
            let Some(rec) = self.lines.next_record(&mut self.buf)? else { return Ok(None) };
            let mut body = &self.buf[rec.body()];
            if rec.line == 1 {
                body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
            }
            let location = format!("line {}", rec.line);
            let point = match parse_line(body) {
                Ok(Line::Blank) => continue,
                Ok(Line::Point(p)) => p,
                Err(super::super::cass::LineError::Binary) => {
                    return Err(ConvertError::Malformed {
                        path: self.path.to_path_buf(),
                        location,
                        message: "binary data (a NUL byte): not a CASS point file".into(),
                    })
                }
                Err(e) => {
                    return Ok(Some(Err(Failure { location, reason: e.to_string() })));
                }
            };
            let mut fields = body.split(|&b| b == b',');
            let mut name = |what: &str| -> Result<Value, Failure> {
                let raw = fields.next().unwrap_or_default().trim_ascii();
                if raw.is_empty() {
                    return Ok(Value::Null);
                }
                decode(raw, self.encoding).map(Value::Text).map_err(|_| Failure {
                    location: location.clone(),
                    reason: format!(
                        "the {what} '{}' is not text in the given encoding",
                        text::shown(raw)
                    ),
                })
            };
            let attributes = match (name("id"), name("code")) {
                (Ok(id), Ok(code)) => vec![id, code],
                (Err(f), _) | (_, Err(f)) => return Ok(Some(Err(f))),
            };
            let geometry = Geometry {
                shape: Shape::Point([point.east, point.north, point.height.unwrap_or(0.0)]),
                has_z: point.height.is_some(),
            };
            return Ok(Some(Ok(Feature { location, geometry: Some(geometry), attributes })));
        }
    }
}

/// `raw` as text: in `encoding`, or UTF-8 falling back to GB 18030.
fn decode(raw: &[u8], encoding: Option<TextEncoding>) -> Result<String, usize> {
    match encoding {
        Some(e) => text::decode(raw, e).map(|t| t.into_owned()),
        None => text::decode(raw, TextEncoding::Utf8)
            .or_else(|_| text::decode(raw, TextEncoding::Gb18030))
            .map(|t| t.into_owned()),
    }
}

struct Reader<'p> {
    points: Points<'p>,
    schema: Schema,
}

impl FeatureReader for Reader<'_> {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next(&mut self) -> Result<Option<Read>, ConvertError> {
        self.points.next()
    }

    fn consumed(&self) -> u64 {
        self.points.read.get()
    }
}

/// The attribute names an id is taken from, in order of preference.
const ID_NAMES: [&str; 4] = ["id", "点号", "name", "点名"];
/// The attribute names a code is taken from.
const CODE_NAMES: [&str; 2] = ["code", "编码"];

/// The writer of a CASS output (see the module docs).
pub(crate) fn writer(
    job: &Job<'_>,
    schema: &Schema,
) -> Result<Box<dyn FeatureWriter>, ConvertError> {
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| schema.fields.iter().position(|f| f.name.trim().eq_ignore_ascii_case(n)))
    };
    let (id, code) = (find(&ID_NAMES), find(&CODE_NAMES));
    let mut warnings = vec![format!(
        "a CASS point file declares no CRS: the output's coordinates are in {} (keep that with \
         the file)",
        job.target.id()
    )];
    let dropped: Vec<&str> = schema
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != id && Some(*i) != code)
        .map(|(_, f)| f.name.as_str())
        .collect();
    if !dropped.is_empty() {
        warnings.push(format!(
            "a CASS point file holds only an id and a code: the attribute(s) {} are not carried",
            dropped.join(", ")
        ));
    }
    let path = job.output.to_path_buf();
    let file = AtomicFile::create(job.output)
        .map_err(|source| ConvertError::Io { path: path.clone(), source })?;
    Ok(Box::new(Writer {
        file,
        path,
        id,
        code,
        encoding: job.options.encoding.unwrap_or(TextEncoding::Utf8),
        digits: Digits::of(job),
        number: 0,
        warnings,
        buf: Vec::new(),
    }))
}

struct Writer {
    file: AtomicFile,
    path: PathBuf,
    id: Option<usize>,
    code: Option<usize>,
    encoding: TextEncoding,
    digits: Digits,
    /// Features written so far (the id of one without an id).
    number: u64,
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

    /// Appends a name field (id or code).
    fn push_name(
        &mut self,
        f: &Feature,
        what: &str,
        value: Option<&Value>,
    ) -> Result<(), ConvertError> {
        let text = match value {
            None | Some(Value::Null) => return Ok(()),
            Some(v) => v.to_string(),
        };
        if text.contains([',', '\r', '\n']) {
            return Err(self.refuse(
                f,
                format!(
                    "its {what} '{}' holds a comma or a line break, which a CASS point file \
                     cannot hold",
                    text::shorten(&text)
                ),
            ));
        }
        match text::encode(&text, self.encoding) {
            Ok(bytes) => {
                self.buf.extend_from_slice(&bytes);
                Ok(())
            }
            Err(c) => Err(self.refuse(
                f,
                format!(
                    "its {what} '{}' holds '{c}', which the output encoding cannot hold",
                    text::shorten(&text)
                ),
            )),
        }
    }
}

impl FeatureWriter for Writer {
    fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
        self.buf.clear();
        for f in features {
            self.number += 1;
            let Some(Geometry { shape: Shape::Point(c), has_z }) = &f.geometry else {
                let what = f.geometry.as_ref().map_or("no geometry", |g| g.shape.kind().name());
                return Err(self.refuse(
                    f,
                    format!("a CASS point file holds points only, this feature has {what}"),
                ));
            };
            match self.id.and_then(|i| f.attributes.get(i)).filter(|v| !v.is_null()) {
                Some(v) => self.push_name(f, "id", Some(v))?,
                None => self.buf.extend_from_slice(self.number.to_string().as_bytes()),
            }
            self.buf.push(b',');
            self.push_name(f, "code", self.code.and_then(|i| f.attributes.get(i)))?;
            self.buf.push(b',');
            self.digits.push_xy(&mut self.buf, c[0]);
            self.buf.push(b',');
            self.digits.push_xy(&mut self.buf, c[1]);
            if *has_z {
                self.buf.push(b',');
                self.digits.push_z(&mut self.buf, c[2]);
            }
            self.buf.extend_from_slice(b"\r\n");
        }
        super::append(&mut self.file, &self.path, &self.buf)
    }

    fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
        super::commit(self.file, self.path, &mut self.warnings, report)
    }
}
