//! GeoParquet (`.parquet`, GeoParquet 1.0 / 1.1): Apache Parquet files whose `geo` key-value
//! metadata names the geometry columns, their encoding and CRS (feature `geoparquet`; the
//! command-line tool has it).
//!
//! **Into GeoParquet** (same format): the file is streamed row group by row group in record
//! batches (bounded memory: one batch of [`BATCH_ROWS`] rows read at a time, and the writer's
//! one encoded row group, as large as the input's, until it is written), every geometry column
//! named in `geo` — WKB (`Binary`, `LargeBinary`, `BinaryView`) or the GeoArrow native
//! encodings `point`, `linestring`, `polygon`, `multipoint`, `multilinestring`,
//! `multipolygon` — is rewritten through the Arrow kernel ([`crate::arrow::transform_array`]:
//! the batch path, offsets and nulls kept), and the batch is written with every other column
//! as it was, in the input's row order, one output row group per input row group. The
//! key-value metadata other than `geo` is copied (GeoPandas's `pandas` entry included), each
//! column keeps the compression of the input's first row group where this build writes it
//! (uncompressed, snappy, gzip; anything else becomes snappy). In `geo`, each converted column
//! gets the target's `crs` ([`Crs::to_projjson`](crate::Crs::to_projjson), or the
//! [marked](crate::projjson::marked) placeholder for GCJ-02, BD-09, BD-09MC and local grids,
//! with a warning) and a recomputed `bbox`; `encoding`, `geometry_types`, `edges` and every
//! other member are kept. A WKB column's `covering` (GeoParquet 1.1's per-row bounding-box
//! struct column, as GeoPandas's `write_covering_bbox` writes it) is recomputed from the
//! converted geometries (`float` bounds rounded outwards); a native column's is refused.
//!
//! **Failures**: a row whose geometry cannot be converted (a point outside the CRS's domain,
//! malformed WKB) is reported as `row group G, row R` (both counted from 0, as pyarrow indexes
//! them; R counts rows from the start of the file); with `skip_invalid` the whole row (every
//! column) is left out, otherwise nothing is written. The output is a temporary file beside
//! the output renamed on success; the input is only read.
//!
//! **Declared CRS** (`declared`): each geometry column's `crs` — a PROJJSON object with an
//! `id` (EPSG → the catalogue; `GEOUNIFY` → geounify's own id, as [`crate::projjson::marked`]
//! writes it; a `BoundCRS` by its source CRS's id), a PROJJSON without one (by its name, which
//! `--from` must then confirm), `null` (undefined: declares nothing), or no `crs` member at all,
//! which GeoParquet defines as OGC:CRS84 (longitude, latitude on WGS 84).
//!
//! **Reading Parquet**: the pages may be uncompressed, snappy (pyarrow's and GeoPandas's
//! default) or gzip; other codecs (zstd, lz4, brotli) are refused with the parquet reader's
//! message naming the codec. A file without `geo` metadata is not GeoParquet and is refused.

#[cfg(feature = "geoparquet")]
use super::features::GeometryKind;
use super::sniff::Sniffed;
#[cfg(not(feature = "geoparquet"))]
use super::{ConvertError, ConvertReport, Job};
#[cfg(not(feature = "geoparquet"))]
use std::path::Path;

/// Rows per record batch read and converted at once.
pub const BATCH_ROWS: usize = 8192;

/// Parquet's magic number, at the start and at the end of every file.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// A Parquet file starts with `PAR1` (its end, checked by the reader, too).
pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(MAGIC) {
        Sniffed::Binary("an Apache Parquet file (magic PAR1)")
    } else {
        Sniffed::No
    }
}

/// The GeoParquet name of a geometry type with or without z (`"Point"`, `"Polygon Z"`), as
/// `geometry_types` lists them.
#[cfg(feature = "geoparquet")]
pub(crate) fn type_name(kind: GeometryKind, z: bool) -> String {
    if z {
        format!("{} Z", kind.name())
    } else {
        kind.name().to_string()
    }
}

#[cfg(not(feature = "geoparquet"))]
mod unavailable {
    use super::super::declared::DeclaredCrs;
    use super::*;

    fn refused(path: &Path) -> ConvertError {
        ConvertError::Options {
            path: path.to_path_buf(),
            message: "GeoParquet needs geounify built with the `geoparquet` feature (the \
                      command-line tool has it)"
                .into(),
        }
    }

    /// Refused: this build has no GeoParquet.
    pub(crate) fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
        Err(refused(job.input))
    }

    /// Refused: this build has no GeoParquet.
    pub(crate) fn sample(job: &Job<'_>, _max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
        Err(refused(job.input))
    }

    /// Refused: this build has no GeoParquet.
    pub(crate) fn declared(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
        Err(refused(path))
    }
}
#[cfg(not(feature = "geoparquet"))]
pub(crate) use unavailable::{convert_file, declared, sample};

#[cfg(feature = "geoparquet")]
pub(crate) use on::{convert_file, declared, sample};
#[cfg(feature = "geoparquet")]
pub(crate) use on::{crs_value, finish, io_error, parquet_error, writer, Extent, Input};

/// The GeoParquet implementation (feature `geoparquet`).
#[cfg(feature = "geoparquet")]
mod on {
    use super::super::atomic::AtomicFile;
    use super::super::declared::DeclaredCrs;
    use super::super::{open_regular, ConvertError, ConvertReport, Failure, Job, Tally};
    use crate::arrow::{transform_array, Encoding};
    use crate::crs::Crs;
    use arrow_array::{
        Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, FixedSizeListArray,
        Float64Array, LargeBinaryArray, LargeListArray, ListArray, RecordBatch, StructArray,
    };
    use arrow_schema::{Schema, SchemaRef};
    use parquet::arrow::arrow_reader::{
        ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
        ParquetRecordBatchReaderBuilder,
    };
    use parquet::arrow::arrow_writer::ArrowWriterOptions;
    use parquet::arrow::{ArrowWriter, ProjectionMask};
    use parquet::basic::Compression;
    use parquet::errors::ParquetError;
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use parquet::schema::types::ColumnPath;
    use serde_json::{Map, Value};
    use std::collections::BTreeMap;
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    /// A Parquet reader error as [`ConvertError::Malformed`] at `location`.
    /// A codec this build does not decompress is named as such.
    pub(crate) fn parquet_error(path: &Path, location: &str, e: ParquetError) -> ConvertError {
        let text = e.to_string();
        const DISABLED: &str = "Disabled feature at compile time: ";
        let message = match text.find(DISABLED) {
            Some(i) => format!(
                "its pages are compressed with {}, which geounify does not read (it reads \
                 snappy, gzip and uncompressed pages); write the file with snappy (pyarrow and \
                 GeoPandas: compression=\"snappy\", their default)",
                text[i + DISABLED.len()..].trim()
            ),
            None => format!("not a readable Parquet file: {text}"),
        };
        ConvertError::Malformed {
            path: path.to_path_buf(),
            location: location.to_string(),
            message,
        }
    }

    /// A Parquet writer error as an I/O error on `path`.
    pub(crate) fn io_error(path: &Path, e: impl std::fmt::Display) -> ConvertError {
        ConvertError::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
    }

    /// One geometry column of `geo`: its name, its index among the schema's top-level fields, its
    /// encoding.
    #[derive(Debug, Clone)]
    pub(crate) struct GeoColumn {
        pub(crate) name: String,
        pub(crate) index: usize,
        pub(crate) encoding: Encoding,
    }

    /// The `geo` metadata of a file: the JSON object, the primary column and the geometry columns
    /// found in the schema.
    #[derive(Debug, Clone)]
    pub(crate) struct GeoMeta {
        pub(crate) json: Map<String, Value>,
        pub(crate) primary: String,
        pub(crate) columns: Vec<GeoColumn>,
    }

    impl GeoMeta {
        /// Reads `geo` from the key-value metadata and finds its columns in `schema`.
        fn read(path: &Path, text: Option<&str>, schema: &Schema) -> Result<Self, ConvertError> {
            let bad = |message: String| ConvertError::Malformed {
                path: path.to_path_buf(),
                location: "the geo metadata".into(),
                message,
            };
            let Some(text) = text else {
                return Err(ConvertError::Options {
                    path: path.to_path_buf(),
                    message: "a Parquet file without the `geo` key-value metadata is not \
                          GeoParquet: it names no geometry column"
                        .into(),
                });
            };
            let json: Map<String, Value> =
                serde_json::from_str(text).map_err(|e| bad(format!("not a JSON object: {e}")))?;
            let primary = json
                .get("primary_column")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no \"primary_column\" string".into()))?
                .to_string();
            let cols = json
                .get("columns")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("no \"columns\" object".into()))?;
            let mut columns = Vec::new();
            for (name, c) in cols {
                let index = schema.index_of(name).map_err(|_| {
                    bad(format!("geometry column '{name}' is not a column of the file"))
                })?;
                let enc = c.get("encoding").and_then(Value::as_str).unwrap_or("");
                let encoding = match enc.to_ascii_lowercase().as_str() {
                    "wkb" => Encoding::Wkb,
                    "point" => Encoding::Point,
                    "linestring" => Encoding::LineString,
                    "polygon" => Encoding::Polygon,
                    "multipoint" => Encoding::MultiPoint,
                    "multilinestring" => Encoding::MultiLineString,
                    "multipolygon" => Encoding::MultiPolygon,
                    other => {
                        return Err(bad(format!(
                            "geometry column '{name}' has encoding \"{other}\"; GeoParquet's are \
                         WKB, point, linestring, polygon, multipoint, multilinestring, \
                         multipolygon"
                        )))
                    }
                };
                columns.push(GeoColumn { name: name.clone(), index, encoding });
            }
            if !columns.iter().any(|c| c.name == primary) {
                return Err(bad(format!("the primary column '{primary}' is not in \"columns\"")));
            }
            Ok(Self { json, primary, columns })
        }

        /// The primary geometry column.
        pub(crate) fn primary(&self) -> Option<&GeoColumn> {
            self.columns.iter().find(|c| c.name == self.primary)
        }

        /// The metadata object of column `name`.
        pub(crate) fn column(&self, name: &str) -> Option<&Map<String, Value>> {
            self.json.get("columns")?.get(name)?.as_object()
        }
    }

    /// An opened GeoParquet input: the file, its footer and its `geo` metadata.
    pub(crate) struct Input {
        pub(crate) path: PathBuf,
        pub(crate) file: File,
        pub(crate) meta: ArrowReaderMetadata,
        pub(crate) geo: GeoMeta,
    }

    impl Input {
        /// Opens `path` (a regular file) and reads its footer and `geo` metadata. Errors: not
        /// Parquet (no `PAR1` at both ends, a corrupt footer) or not GeoParquet: nothing read.
        pub(crate) fn open(path: &Path) -> Result<Self, ConvertError> {
            let file = open_regular(path)?;
            let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| parquet_error(path, "the footer", e))?;
            let text = meta
                .metadata()
                .file_metadata()
                .key_value_metadata()
                .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
                .and_then(|k| k.value.as_deref());
            let geo = GeoMeta::read(path, text, meta.schema())?;
            Ok(Self { path: path.to_path_buf(), file, meta, geo })
        }

        /// The schema (Arrow).
        pub(crate) fn schema(&self) -> &SchemaRef {
            self.meta.schema()
        }

        /// The number of row groups.
        pub(crate) fn row_groups(&self) -> usize {
            self.meta.metadata().num_row_groups()
        }

        /// A reader of row group `g` in batches of [`super::BATCH_ROWS`], of the top-level
        /// columns `only` (all if `None`).
        pub(crate) fn row_group(
            &self,
            g: usize,
            only: Option<&[usize]>,
        ) -> Result<ParquetRecordBatchReader, ConvertError> {
            let location = format!("row group {g}");
            let file = self
                .file
                .try_clone()
                .map_err(|source| ConvertError::Io { path: self.path.clone(), source })?;
            let mut b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
                .with_row_groups(vec![g])
                .with_batch_size(super::BATCH_ROWS);
            if let Some(only) = only {
                let mask = ProjectionMask::roots(
                    self.meta.metadata().file_metadata().schema_descr(),
                    only.iter().copied(),
                );
                b = b.with_projection(mask);
            }
            b.build().map_err(|e| parquet_error(&self.path, &location, e))
        }

        /// The compressed bytes of row group `g` (for progress).
        pub(crate) fn row_group_bytes(&self, g: usize) -> u64 {
            self.meta
                .metadata()
                .row_groups()
                .get(g)
                .map_or(0, |r| u64::try_from(r.compressed_size()).unwrap_or(0))
        }
    }

    /// The extent, vertex count and empty geometries of converted geometries.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Extent {
        pub(crate) min: [f64; 3],
        pub(crate) max: [f64; 3],
        pub(crate) any: bool,
        pub(crate) any_z: bool,
        pub(crate) vertices: u64,
        pub(crate) empty: u64,
    }

    impl Extent {
        pub(crate) fn add(&mut self, x: f64, y: f64, z: Option<f64>) {
            if x.is_nan() && y.is_nan() {
                return;
            }
            if !self.any {
                self.min = [x, y, f64::INFINITY];
                self.max = [x, y, f64::NEG_INFINITY];
                self.any = true;
            }
            self.min[0] = self.min[0].min(x);
            self.min[1] = self.min[1].min(y);
            self.max[0] = self.max[0].max(x);
            self.max[1] = self.max[1].max(y);
            if let Some(z) = z {
                self.any_z = true;
                self.min[2] = self.min[2].min(z);
                self.max[2] = self.max[2].max(z);
            }
        }

        /// GeoParquet's `bbox`: `[xmin, ymin, xmax, ymax]`, or with z `[xmin, ymin, zmin, xmax,
        /// ymax, zmax]` when `with_z` and the geometries have z. `None` without coordinates.
        pub(crate) fn bbox(&self, with_z: bool) -> Option<Vec<f64>> {
            if !self.any {
                return None;
            }
            Some(if with_z && self.any_z {
                vec![self.min[0], self.min[1], self.min[2], self.max[0], self.max[1], self.max[2]]
            } else {
                vec![self.min[0], self.min[1], self.max[0], self.max[1]]
            })
        }

        /// Adds the geometries of a column `array` of `encoding`.
        fn scan(&mut self, array: &dyn Array, encoding: Encoding) {
            if encoding != Encoding::Wkb {
                self.empty += array.null_count() as u64;
                self.leaves(array);
                return;
            }
            let mut one = |b: Option<&[u8]>| match b.map(crate::wkb::summary) {
                None => self.empty += 1,
                Some(Ok(s)) => {
                    self.vertices += s.vertices;
                    self.empty += u64::from(s.is_empty());
                    let e = s.envelope;
                    if let (Some((x0, x1)), Some((y0, y1))) = (e.x, e.y) {
                        self.add(x0, y0, e.z.map(|z| z.0));
                        self.add(x1, y1, e.z.map(|z| z.1));
                    }
                }
                Some(Err(_)) => {}
            };
            if let Some(a) = array.as_any().downcast_ref::<BinaryArray>() {
                a.iter().for_each(&mut one);
            } else if let Some(a) = array.as_any().downcast_ref::<LargeBinaryArray>() {
                a.iter().for_each(&mut one);
            } else if let Some(a) = array.as_any().downcast_ref::<BinaryViewArray>() {
                a.iter().for_each(&mut one);
            }
        }

        /// Adds the coordinates of a GeoArrow native array: lists down to the separated
        /// (`Struct` x, y[, z]) or interleaved (`FixedSizeList<f64>`) coordinates, over the values
        /// the array's offsets reach.
        fn leaves(&mut self, array: &dyn Array) {
            if let Some(l) = array.as_any().downcast_ref::<ListArray>() {
                let o = l.value_offsets();
                let (a, b) = (o.first().copied().unwrap_or(0), o.last().copied().unwrap_or(0));
                let len = usize::try_from(b - a).unwrap_or(0);
                self.leaves(l.values().slice(usize::try_from(a).unwrap_or(0), len).as_ref());
            } else if let Some(l) = array.as_any().downcast_ref::<LargeListArray>() {
                let o = l.value_offsets();
                let (a, b) = (o.first().copied().unwrap_or(0), o.last().copied().unwrap_or(0));
                let len = usize::try_from(b - a).unwrap_or(0);
                self.leaves(l.values().slice(usize::try_from(a).unwrap_or(0), len).as_ref());
            } else if let Some(s) = array.as_any().downcast_ref::<StructArray>() {
                let f = |i: usize| {
                    s.columns().get(i).and_then(|c| c.as_any().downcast_ref::<Float64Array>())
                };
                let (Some(x), Some(y)) = (f(0), f(1)) else { return };
                let z = f(2);
                for i in 0..s.len() {
                    if s.is_null(i) {
                        continue;
                    }
                    self.vertices += 1;
                    self.add(x.value(i), y.value(i), z.map(|z| z.value(i)));
                }
            } else if let Some(l) = array.as_any().downcast_ref::<FixedSizeListArray>() {
                let n = usize::try_from(l.value_length()).unwrap_or(0);
                let values = l.values().slice(l.offset() * n, l.len() * n);
                let Some(v) = values.as_any().downcast_ref::<Float64Array>() else { return };
                let v = v.values();
                for i in 0..l.len() {
                    if l.is_null(i) || n < 2 {
                        continue;
                    }
                    let at = i * n;
                    let (Some(&x), Some(&y)) = (v.get(at), v.get(at + 1)) else { continue };
                    self.vertices += 1;
                    self.add(x, y, if n > 2 { v.get(at + 2).copied() } else { None });
                }
            }
        }
    }

    /// The `crs` member written for `target`, and a warning when it is only a marked placeholder.
    pub(crate) fn crs_value(target: &Crs) -> (Value, Option<String>) {
        match target.projjson() {
            Ok(v) => (v, None),
            Err(e) => (
                crate::projjson::marked_value(target),
                Some(format!(
                    "the geo metadata's crs cannot define {} ({e}); it is written as a marked \
                 placeholder (id GEOUNIFY:{}, a datum named for what the coordinates are), \
                 which geounify reads back but other tools cannot convert",
                    target.id(),
                    target.id()
                )),
            ),
        }
    }

    /// The CRSs `path` declares: one per geometry column (see the module docs).
    pub(crate) fn declared(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
        let input = Input::open(path)?;
        let mut found = Vec::new();
        for c in &input.geo.columns {
            let origin = format!("the geo metadata of column '{}'", c.name);
            let Some(col) = input.geo.column(&c.name) else { continue };
            match col.get("crs") {
                None => {
                    found.push(DeclaredCrs::from_name("urn:ogc:def:crs:OGC:1.3:CRS84", &origin))
                }
                Some(Value::Null) => {}
                // Not GeoParquet's form, but some writers put WKT or a name here.
                Some(Value::String(s)) if s.contains('[') => {
                    found.push(DeclaredCrs::from_wkt(s, &origin))
                }
                Some(Value::String(s)) => found.push(DeclaredCrs::from_name(s, &origin)),
                Some(v) => found.push(from_projjson(v, &origin)),
            }
        }
        Ok(found)
    }

    /// A PROJJSON declaration: by its `id` (or a `BoundCRS`'s source CRS's), else by its name.
    fn from_projjson(v: &Value, origin: &str) -> DeclaredCrs {
        let id = v
            .get("id")
            .or_else(|| v.get("ids").and_then(|i| i.get(0)))
            .or_else(|| v.get("source_crs").and_then(|s| s.get("id")));
        if let Some(id) = id {
            let authority = id.get("authority").and_then(Value::as_str).unwrap_or("");
            let code = match id.get("code") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            if authority.eq_ignore_ascii_case("EPSG") {
                if let Ok(n) = code.parse::<u32>() {
                    return DeclaredCrs::from_epsg(n, origin);
                }
            }
            if authority.eq_ignore_ascii_case(crate::projjson::MARK_AUTHORITY) {
                return DeclaredCrs::from_name(&code, origin);
            }
            if authority.eq_ignore_ascii_case("OGC") && code.eq_ignore_ascii_case("CRS84") {
                return DeclaredCrs::from_name("urn:ogc:def:crs:OGC:1.3:CRS84", origin);
            }
            return DeclaredCrs::from_name(&format!("{authority}:{code}"), origin);
        }
        let name = v.get("name").and_then(Value::as_str).unwrap_or("a PROJJSON CRS without a name");
        DeclaredCrs::from_name(name, origin)
    }

    /// Up to `max` coordinates of the primary geometry column, from the start of the file.
    pub(crate) fn sample(job: &Job<'_>, max: usize) -> Result<Vec<[f64; 3]>, ConvertError> {
        let input = Input::open(job.input)?;
        let Some(col) = input.geo.primary().cloned() else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for g in 0..input.row_groups() {
            for batch in input.row_group(g, Some(&[col.index]))? {
                let batch = batch.map_err(|e| {
                    parquet_error(job.input, &format!("row group {g}"), ParquetError::from(e))
                })?;
                let Some(array) = batch.columns().first() else { continue };
                collect(array.as_ref(), col.encoding, max, &mut out);
                if out.len() >= max {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Appends up to `max` coordinates of `array` to `out`.
    fn collect(array: &dyn Array, encoding: Encoding, max: usize, out: &mut Vec<[f64; 3]>) {
        if encoding == Encoding::Wkb {
            let mut one = |b: Option<&[u8]>| {
                if let Some(b) = b {
                    if out.len() < max {
                        let _ = crate::wkb::coordinates(b, max - out.len(), out);
                    }
                }
            };
            if let Some(a) = array.as_any().downcast_ref::<BinaryArray>() {
                a.iter().for_each(&mut one);
            } else if let Some(a) = array.as_any().downcast_ref::<LargeBinaryArray>() {
                a.iter().for_each(&mut one);
            } else if let Some(a) = array.as_any().downcast_ref::<BinaryViewArray>() {
                a.iter().for_each(&mut one);
            }
            return;
        }
        leaf_points(array, &mut |p| {
            if out.len() < max {
                out.push(p);
            }
        });
    }

    /// Calls `f` on each coordinate of a GeoArrow native array (z = 0 when absent).
    fn leaf_points(array: &dyn Array, f: &mut dyn FnMut([f64; 3])) {
        if let Some(l) = array.as_any().downcast_ref::<ListArray>() {
            leaf_points(l.values().as_ref(), f);
        } else if let Some(l) = array.as_any().downcast_ref::<LargeListArray>() {
            leaf_points(l.values().as_ref(), f);
        } else if let Some(s) = array.as_any().downcast_ref::<StructArray>() {
            let c = |i: usize| {
                s.columns().get(i).and_then(|c| c.as_any().downcast_ref::<Float64Array>())
            };
            let (Some(x), Some(y)) = (c(0), c(1)) else { return };
            for i in 0..s.len() {
                f([x.value(i), y.value(i), c(2).map_or(0.0, |z| z.value(i))]);
            }
        } else if let Some(l) = array.as_any().downcast_ref::<FixedSizeListArray>() {
            let n = usize::try_from(l.value_length()).unwrap_or(0);
            let Some(v) = l.values().as_any().downcast_ref::<Float64Array>() else { return };
            if n >= 2 {
                for p in v.values().chunks_exact(n) {
                    f([p[0], p[1], p.get(2).copied().unwrap_or(0.0)]);
                }
            }
        }
    }

    /// The writer properties of the output: the input's key-value metadata other than `geo` and
    /// `ARROW:schema`, each leaf column's compression as in the input's first row group (where this
    /// build writes it), row groups only where [`ArrowWriter::flush`] ends them.
    fn properties(input: &Input) -> (WriterProperties, Vec<KeyValue>) {
        let md = input.meta.metadata();
        let kv: Vec<KeyValue> = md
            .file_metadata()
            .key_value_metadata()
            .map(|kv| {
                kv.iter()
                    .filter(|k| k.key != "geo" && k.key != parquet::arrow::ARROW_SCHEMA_META_KEY)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let mut b = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(None)
            .set_max_row_group_bytes(None)
            .set_key_value_metadata(if kv.is_empty() { None } else { Some(kv.clone()) });
        if let Some(rg) = md.row_groups().first() {
            for c in rg.columns() {
                let compression = match c.compression() {
                    Compression::UNCOMPRESSED => Compression::UNCOMPRESSED,
                    Compression::GZIP(l) => Compression::GZIP(l),
                    _ => Compression::SNAPPY,
                };
                b = b.set_column_compression(
                    ColumnPath::new(c.column_path().parts().to_vec()),
                    compression,
                );
            }
        }
        (b.build(), kv)
    }

    /// A writer of `schema` into `file` with `props`, without the embedded Arrow schema: that is
    /// written by [`finish`] with the final metadata (pyarrow takes a file's schema metadata, `geo`
    /// included, from the embedded Arrow schema when there is one).
    pub(crate) fn writer(
        path: &Path,
        file: File,
        schema: SchemaRef,
        props: WriterProperties,
    ) -> Result<ArrowWriter<File>, ConvertError> {
        let options =
            ArrowWriterOptions::new().with_properties(props).with_skip_arrow_metadata(true);
        ArrowWriter::try_new_with_options(file, schema, options).map_err(|e| io_error(path, e))
    }

    /// Completes a file of [`writer`]: `geo` and the embedded Arrow schema (with the key-value
    /// metadata `kv` and `geo` as its metadata) appended to the key-value metadata, the footer
    /// written.
    pub(crate) fn finish(
        path: &Path,
        mut writer: ArrowWriter<File>,
        schema: &Schema,
        kv: &[KeyValue],
        geo: String,
    ) -> Result<(), ConvertError> {
        let mut metadata: std::collections::HashMap<String, String> =
            kv.iter().filter_map(|k| Some((k.key.clone(), k.value.clone()?))).collect();
        metadata.insert("geo".into(), geo.clone());
        let embedded = Schema::new_with_metadata(schema.fields().clone(), metadata);
        writer.append_key_value_metadata(KeyValue::new("geo".into(), geo));
        writer.append_key_value_metadata(KeyValue::new(
            parquet::arrow::ARROW_SCHEMA_META_KEY.into(),
            parquet::arrow::encode_arrow_schema(&embedded),
        ));
        writer.close().map_err(|e| io_error(path, e))?;
        Ok(())
    }

    /// `field` with the `crs` of its GeoArrow extension metadata (`ARROW:extension:metadata`, which
    /// pyarrow and GeoPandas write beside `geo`) replaced by `crs`; other fields unchanged.
    fn with_extension_crs(field: &arrow_schema::Field, crs: &Value) -> arrow_schema::Field {
        const KEY: &str = "ARROW:extension:metadata";
        let mut metadata = field.metadata().clone();
        let Some(text) = metadata.get(KEY) else { return field.clone() };
        let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(text) else {
            return field.clone();
        };
        if !m.contains_key("crs") {
            return field.clone();
        }
        m.insert("crs".into(), crs.clone());
        if m.contains_key("crs_type") {
            m.insert("crs_type".into(), Value::String("projjson".into()));
        }
        metadata.insert(KEY.into(), Value::Object(m).to_string());
        field.clone().with_metadata(metadata)
    }

    /// The WKB bytes of row `i` of a WKB column (`None` for a null or another type).
    fn wkb_at(a: &dyn Array, i: usize) -> Option<&[u8]> {
        use arrow_array::cast::AsArray;
        if a.is_null(i) {
            return None;
        }
        if let Some(b) = a.as_binary_opt::<i32>() {
            Some(b.value(i))
        } else if let Some(b) = a.as_binary_opt::<i64>() {
            Some(b.value(i))
        } else {
            a.as_binary_view_opt().map(|b| b.value(i))
        }
    }

    /// A GeoParquet 1.1 `covering`: the per-row bounding-box struct column (its top-level
    /// index) and its `xmin`, `ymin`, `xmax`, `ymax` children (their indices).
    struct Covering {
        column: usize,
        children: [usize; 4],
    }

    /// The covering of geometry column `c`, if it has one. Errors: a covering that is not a
    /// struct column of the file with the four children, or one of a GeoArrow native column
    /// (refused: only WKB coverings are recomputed).
    fn covering(input: &Input, c: &GeoColumn) -> Result<Option<Covering>, ConvertError> {
        let Some(cov) = input.geo.column(&c.name).and_then(|m| m.get("covering")) else {
            return Ok(None);
        };
        let refuse = |why: &str| ConvertError::Options {
            path: input.path.clone(),
            message: format!("geometry column '{}' has a covering {why}", c.name),
        };
        if c.encoding != Encoding::Wkb {
            return Err(refuse(
                "on a GeoArrow native encoding, which geounify does not recompute; write the \
                 file without it (GeoPandas: to_parquet(write_covering_bbox=False))",
            ));
        }
        let path = |k: &str| -> Option<(String, String)> {
            let p = cov.get("bbox")?.get(k)?.as_array()?;
            Some((p.first()?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string()))
        };
        let mut column = None;
        let mut children = [0usize; 4];
        for (k, key) in ["xmin", "ymin", "xmax", "ymax"].into_iter().enumerate() {
            let (top, child) = path(key)
                .ok_or_else(|| refuse(&format!("without a [column, field] path for {key}")))?;
            let i = input
                .schema()
                .index_of(&top)
                .map_err(|_| refuse(&format!("in column '{top}', which the file lacks")))?;
            if column.is_some_and(|c| c != i) {
                return Err(refuse("spread over several columns"));
            }
            column = Some(i);
            let arrow_schema::DataType::Struct(fields) = input.schema().field(i).data_type() else {
                return Err(refuse(&format!("in column '{top}', which is not a struct")));
            };
            children[k] = fields
                .iter()
                .position(|f| f.name() == &child)
                .ok_or_else(|| refuse(&format!("naming '{top}.{child}', which is not there")))?;
        }
        Ok(column.map(|column| Covering { column, children }))
    }

    impl Covering {
        /// The bounding-box column `bbox` with each row's box from the converted WKB `geometry`
        /// (null children for a null or empty geometry; the struct's own nulls kept). A
        /// `Float32` child is rounded outwards, so that the box still contains the geometry.
        fn recompute(&self, bbox: &dyn Array, geometry: &dyn Array) -> Result<ArrayRef, String> {
            let s = bbox.as_any().downcast_ref::<StructArray>().ok_or("not a struct column")?;
            let n = s.len();
            let mut values: [Vec<Option<f64>>; 4] = Default::default();
            for v in values.iter_mut() {
                v.reserve(n);
            }
            for i in 0..n {
                let env = wkb_at(geometry, i)
                    .and_then(|b| crate::wkb::summary(b).ok())
                    .and_then(|sum| Some((sum.envelope.x?, sum.envelope.y?)));
                let row = match env {
                    Some(((x0, x1), (y0, y1))) => [Some(x0), Some(y0), Some(x1), Some(y1)],
                    None => [None; 4],
                };
                for (v, r) in values.iter_mut().zip(row) {
                    v.push(r);
                }
            }
            let mut children = s.columns().to_vec();
            for (k, (&ci, v)) in self.children.iter().zip(values).enumerate() {
                let Some(child) = children.get(ci) else { continue };
                let lower = k < 2;
                let array: ArrayRef = match child.data_type() {
                    arrow_schema::DataType::Float64 => Arc::new(Float64Array::from(v)),
                    arrow_schema::DataType::Float32 => Arc::new(arrow_array::Float32Array::from(
                        v.into_iter().map(|x| x.map(|x| outward_f32(x, lower))).collect::<Vec<_>>(),
                    )),
                    other => return Err(format!("a {other} bound (float or double expected)")),
                };
                children[ci] = array;
            }
            StructArray::try_new(s.fields().clone(), children, s.nulls().cloned())
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| e.to_string())
        }
    }

    /// `x` as `f32`, rounded down for a lower bound and up for an upper one.
    fn outward_f32(x: f64, lower: bool) -> f32 {
        let f = x as f32;
        if lower && f64::from(f) > x {
            f.next_down()
        } else if !lower && f64::from(f) < x {
            f.next_up()
        } else {
            f
        }
    }

    /// Converts a GeoParquet file into GeoParquet (see the module docs).
    pub(crate) fn convert_file(job: &Job<'_>) -> Result<ConvertReport, ConvertError> {
        let input = Input::open(job.input)?;
        let path = job.input;
        let mut coverings = Vec::new();
        for c in &input.geo.columns {
            coverings.push(covering(&input, c)?);
        }
        let io_out =
            |e: std::io::Error| ConvertError::Io { path: job.output.to_path_buf(), source: e };
        let (crs, warning) = crs_value(job.target);
        let schema: SchemaRef = Arc::new(Schema::new(
            input
                .schema()
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    if input.geo.columns.iter().any(|c| c.index == i) {
                        Arc::new(with_extension_crs(f, &crs))
                    } else {
                        f.clone()
                    }
                })
                .collect::<Vec<_>>(),
        ));
        let out = AtomicFile::create(job.output).map_err(io_out)?;
        let handle =
            std::fs::OpenOptions::new().write(true).open(out.temp_path()).map_err(io_out)?;
        let (props, kv) = properties(&input);
        let mut writer = writer(job.output, handle, schema.clone(), props)?;
        let mut report = ConvertReport::default();
        let mut tally = Tally::default();
        let mut extents: Vec<Extent> = vec![Extent::default(); input.geo.columns.len()];
        let mut row_base = 0u64;
        for g in 0..input.row_groups() {
            let location = format!("row group {g}");
            for batch in input.row_group(g, None)? {
                let batch =
                    batch.map_err(|e| parquet_error(path, &location, ParquetError::from(e)))?;
                let n = batch.num_rows();
                let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
                let mut failed: BTreeMap<usize, String> = BTreeMap::new();
                for c in &input.geo.columns {
                    let Some(array) = columns.get(c.index) else { continue };
                    let t = transform_array(job.transformer, array.as_ref(), c.encoding).map_err(
                        |e| ConvertError::Options {
                            path: path.to_path_buf(),
                            message: format!("geometry column '{}': {e}", c.name),
                        },
                    )?;
                    for f in t.failures {
                        failed.entry(f.row).or_insert_with(|| {
                            if input.geo.columns.len() > 1 {
                                format!("column '{}': {}", c.name, f.reason)
                            } else {
                                f.reason.to_string()
                            }
                        });
                    }
                    columns[c.index] = t.array;
                }
                for (c, cov) in input.geo.columns.iter().zip(&coverings) {
                    let Some(cov) = cov else { continue };
                    let (Some(b), Some(g)) = (columns.get(cov.column), columns.get(c.index)) else {
                        continue;
                    };
                    columns[cov.column] = cov.recompute(b.as_ref(), g.as_ref()).map_err(|e| {
                        ConvertError::Malformed {
                            path: path.to_path_buf(),
                            location: location.clone(),
                            message: format!("the covering of column '{}': {e}", c.name),
                        }
                    })?;
                }
                report.features += n as u64;
                for (row, reason) in &failed {
                    let location = format!("row group {g}, row {}", row_base + *row as u64);
                    tally.record(
                        &mut report,
                        job.options.skip_invalid,
                        Failure { location, reason: reason.clone() },
                    );
                }
                row_base += n as u64;
                if tally.failed() {
                    continue;
                }
                let mut out_batch = RecordBatch::try_new(schema.clone(), columns)
                    .map_err(|e| io_error(job.output, e))?;
                if !failed.is_empty() {
                    let keep: BooleanArray =
                        (0..n).map(|i| Some(!failed.contains_key(&i))).collect();
                    out_batch = arrow_select::filter::filter_record_batch(&out_batch, &keep)
                        .map_err(|e| io_error(job.output, e))?;
                }
                for (c, e) in input.geo.columns.iter().zip(extents.iter_mut()) {
                    if let Some(a) = out_batch.columns().get(c.index) {
                        e.scan(a.as_ref(), c.encoding);
                    }
                }
                writer.write(&out_batch).map_err(|e| io_error(job.output, e))?;
            }
            if tally.failed() {
                continue;
            }
            // One output row group per input row group.
            writer.flush().map_err(|e| io_error(job.output, e))?;
            job.progress.advance(input.row_group_bytes(g));
        }
        tally.finish(&mut report, path)?;
        let primary = input.geo.columns.iter().position(|c| c.name == input.geo.primary);
        if let Some(e) = primary.and_then(|i| extents.get(i)) {
            report.vertices = e.vertices;
            report.empty = e.empty;
        }
        report.warnings.extend(warning);
        let mut geo = input.geo.json.clone();
        if let Some(Value::Object(cols)) = geo.get_mut("columns") {
            for (c, e) in input.geo.columns.iter().zip(&extents) {
                let Some(Value::Object(m)) = cols.get_mut(&c.name) else { continue };
                m.insert("crs".into(), crs.clone());
                let with_z = m.get("bbox").and_then(Value::as_array).is_some_and(|b| b.len() == 6);
                match e.bbox(with_z) {
                    Some(b) => {
                        m.insert("bbox".into(), Value::from(b));
                    }
                    None => {
                        m.remove("bbox");
                    }
                }
            }
        }
        finish(job.output, writer, &schema, &kv, Value::Object(geo).to_string())?;
        report.outputs.push(out.commit().map_err(io_out)?);
        Ok(report)
    }
}
