//! GeoParquet in conversions between formats (feature `geoparquet`).
//!
//! **Reading**: the primary geometry column (WKB; a GeoArrow native encoding is converted only
//! into GeoParquet, and refused here with that advice) gives each row's geometry (`M` values
//! dropped with a warning, curves fail their row); a first pass over that column alone finds
//! the geometry types and heights. Every other column is a field, typed: signed and unsigned
//! integers → integer (a `UInt64` beyond 2⁶³ − 1 fails its row, naming the column), floats →
//! real, booleans → boolean, `Utf8` / `LargeUtf8` / `Utf8View` and dictionaries of them
//! (pandas categoricals) → text, `Date32` / `Date64` → date, and as text: timestamps (ISO 8601,
//! `Z` when the column has a time zone: the value is then an instant in UTC), times of day,
//! decimals (exact), all-null columns. Nested columns (lists, structs, maps), binary columns
//! (other than geometry), durations and intervals are refused, naming the column — a
//! conversion into GeoParquet keeps them; other geometry columns than the primary one are
//! refused likewise. Rows are read in record batches (bounded memory); a row's location is
//! `row group G, row R` (both from 0, R from the start of the file).
//!
//! **Writing**: one Parquet file (snappy pages, row groups of up to 65,536 rows) with a column
//! per field (integer → `Int64`, real → `Float64`, text → `Utf8`, boolean → `Boolean`, date →
//! `Date32`), then the geometry column `geometry` (WKB, `Binary`; `geometry_2`, ... if a field
//! has that name), null for a feature without geometry, and `geo` metadata version 1.1.0 with
//! `primary_column`, the column's `encoding` `WKB`, `geometry_types` (those written, `" Z"` for
//! 3D), `bbox` and `crs` (PROJJSON of the target, or the marked placeholder for GCJ-02, BD-09,
//! BD-09MC and local grids, with a warning; see [`crate::projjson`]). Written into a
//! temporary file beside the output, renamed by `finish`.

#[cfg(feature = "geoparquet")]
pub(crate) use on::{reader, writer};

#[cfg(not(feature = "geoparquet"))]
pub(crate) use off::{reader, writer};

#[cfg(not(feature = "geoparquet"))]
mod off {
    use super::super::super::features::{FeatureReader, FeatureWriter, Schema};
    use super::super::super::{ConvertError, Job};

    fn refused(path: &std::path::Path) -> ConvertError {
        ConvertError::Options {
            path: path.to_path_buf(),
            message: "GeoParquet needs geounify built with the `geoparquet` feature (the \
                      command-line tool has it)"
                .into(),
        }
    }

    /// Refused: this build has no GeoParquet.
    pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
        Err(refused(job.input))
    }

    /// Refused: this build has no GeoParquet.
    pub(crate) fn writer(
        job: &Job<'_>,
        _schema: &Schema,
    ) -> Result<Box<dyn FeatureWriter>, ConvertError> {
        Err(refused(job.output))
    }
}

#[cfg(feature = "geoparquet")]
mod on {
    use super::super::super::atomic::AtomicFile;
    use super::super::super::features::{
        Feature, FeatureReader, FeatureWriter, Field, FieldType, Geometry, GeometryKind, Read,
        Schema, Value,
    };
    use super::super::super::geoparquet::{
        crs_value, finish, io_error, parquet_error, type_name, writer as parquet_writer, Extent,
        Input,
    };
    use super::super::super::{ConvertError, ConvertReport, Failure, Job};
    use super::super::wkb::{read_wkb, write_wkb};
    use crate::arrow::Encoding;
    use arrow_array::builder::{
        BinaryBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    };
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type,
        Int64Type, Int8Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
        Time64NanosecondType, TimestampMicrosecondType, TimestampMillisecondType,
        TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type,
        UInt8Type,
    };
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_schema::{DataType, Field as ArrowField, Schema as ArrowSchema, TimeUnit};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReader;
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::errors::ParquetError;
    use parquet::file::properties::WriterProperties;
    use serde_json::{json, Value as Json};
    use std::fs::File;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    /// Rows per output row group.
    const ROW_GROUP: usize = 65_536;

    fn refuse(path: &Path, message: String) -> ConvertError {
        ConvertError::Options { path: path.to_path_buf(), message }
    }

    /// The field type of an Arrow column, or why it cannot be carried.
    fn field_type(t: &DataType) -> Result<FieldType, &'static str> {
        Ok(match t {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => FieldType::Integer,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => FieldType::Real,
            DataType::Boolean => FieldType::Boolean,
            DataType::Date32 | DataType::Date64 => FieldType::Date,
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Null
            | DataType::Timestamp(..)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => FieldType::Text,
            DataType::Dictionary(_, v)
                if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) =>
            {
                FieldType::Text
            }
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => return Err("binary"),
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
            | DataType::Map(..)
            | DataType::Union(..) => return Err("nested (a list, struct, map or union)"),
            _ => return Err("of a type the feature model has no value for"),
        })
    }

    /// Year, month, day of `days` since 1970-01-01 (proleptic Gregorian).
    fn civil(days: i64) -> (i64, u32, u32) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    /// Days since 1970-01-01 of `y-m-d`.
    fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = i64::from((m + 9) % 12);
        let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn date_text(days: i64) -> String {
        let (y, m, d) = civil(days);
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// `HH:MM:SS` and the fraction of `nanos` nanoseconds into a day.
    fn time_text(nanos: i64) -> String {
        let s = nanos.div_euclid(1_000_000_000);
        let frac = nanos.rem_euclid(1_000_000_000);
        let t = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        if frac == 0 {
            t
        } else {
            let f = format!("{frac:09}");
            format!("{t}.{}", f.trim_end_matches('0'))
        }
    }

    fn timestamp_text(v: i64, unit: TimeUnit, tz: bool) -> String {
        let per_second: i64 = match unit {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        };
        let secs = v.div_euclid(per_second);
        let sub = v.rem_euclid(per_second) * (1_000_000_000 / per_second);
        let days = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400) * 1_000_000_000 + sub;
        format!("{}T{}{}", date_text(days), time_text(in_day), if tz { "Z" } else { "" })
    }

    /// The values of an attribute column, one per row.
    fn values(a: &dyn Array, name: &str) -> Result<Vec<Result<Value, String>>, String> {
        let n = a.len();
        let mut out = Vec::with_capacity(n);
        macro_rules! each {
            ($f:expr) => {
                for i in 0..n {
                    out.push(if a.is_null(i) { Ok(Value::Null) } else { $f(i) });
                }
            };
        }
        match a.data_type() {
            DataType::Int8 => {
                each!(|i| Ok(Value::Integer(i64::from(a.as_primitive::<Int8Type>().value(i)))))
            }
            DataType::Int16 => {
                each!(|i| Ok(Value::Integer(i64::from(a.as_primitive::<Int16Type>().value(i)))))
            }
            DataType::Int32 => {
                each!(|i| Ok(Value::Integer(i64::from(a.as_primitive::<Int32Type>().value(i)))))
            }
            DataType::Int64 => {
                each!(|i| Ok(Value::Integer(a.as_primitive::<Int64Type>().value(i))))
            }
            DataType::UInt8 => {
                each!(|i| Ok(Value::Integer(i64::from(a.as_primitive::<UInt8Type>().value(i)))))
            }
            DataType::UInt16 => {
                each!(|i| Ok(Value::Integer(i64::from(a.as_primitive::<UInt16Type>().value(i)))))
            }
            DataType::UInt32 => {
                each!(|i| Ok(Value::Integer(i64::from(a.as_primitive::<UInt32Type>().value(i)))))
            }
            DataType::UInt64 => each!(|i| {
                let u = a.as_primitive::<UInt64Type>().value(i);
                i64::try_from(u).map(Value::Integer).map_err(|_| {
                    format!("column '{name}': {u} is beyond the 64-bit signed integers")
                })
            }),
            DataType::Float16 => {
                each!(|i| Ok(Value::Real(f64::from(a.as_primitive::<Float16Type>().value(i)))))
            }
            DataType::Float32 => {
                each!(|i| Ok(Value::Real(f64::from(a.as_primitive::<Float32Type>().value(i)))))
            }
            DataType::Float64 => {
                each!(|i| Ok(Value::Real(a.as_primitive::<Float64Type>().value(i))))
            }
            DataType::Boolean => each!(|i| Ok(Value::Boolean(a.as_boolean().value(i)))),
            DataType::Date32 => each!(|i| Ok(Value::Date(date_text(i64::from(
                a.as_primitive::<Date32Type>().value(i)
            ))))),
            DataType::Date64 => each!(|i| Ok(Value::Date(date_text(
                a.as_primitive::<Date64Type>().value(i).div_euclid(86_400_000)
            )))),
            DataType::Utf8 => each!(|i| Ok(Value::Text(a.as_string::<i32>().value(i).to_string()))),
            DataType::LargeUtf8 => {
                each!(|i| Ok(Value::Text(a.as_string::<i64>().value(i).to_string())))
            }
            DataType::Utf8View => {
                each!(|i| Ok(Value::Text(a.as_string_view().value(i).to_string())))
            }
            DataType::Null => each!(|_| Ok(Value::Null)),
            DataType::Timestamp(unit, tz) => {
                let tz = tz.is_some();
                let unit = *unit;
                each!(|i| {
                    let v = match unit {
                        TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value(i),
                        TimeUnit::Millisecond => {
                            a.as_primitive::<TimestampMillisecondType>().value(i)
                        }
                        TimeUnit::Microsecond => {
                            a.as_primitive::<TimestampMicrosecondType>().value(i)
                        }
                        TimeUnit::Nanosecond => {
                            a.as_primitive::<TimestampNanosecondType>().value(i)
                        }
                    };
                    Ok(Value::Text(timestamp_text(v, unit, tz)))
                })
            }
            DataType::Time32(TimeUnit::Second) => each!(|i| Ok(Value::Text(time_text(
                i64::from(a.as_primitive::<Time32SecondType>().value(i)) * 1_000_000_000
            )))),
            DataType::Time32(_) => each!(|i| Ok(Value::Text(time_text(
                i64::from(a.as_primitive::<Time32MillisecondType>().value(i)) * 1_000_000
            )))),
            DataType::Time64(TimeUnit::Microsecond) => each!(|i| Ok(Value::Text(time_text(
                a.as_primitive::<Time64MicrosecondType>().value(i) * 1_000
            )))),
            DataType::Time64(_) => each!(|i| Ok(Value::Text(time_text(
                a.as_primitive::<Time64NanosecondType>().value(i)
            )))),
            DataType::Decimal128(..) => {
                let d = a.as_primitive::<arrow_array::types::Decimal128Type>();
                each!(|i| Ok(Value::Text(d.value_as_string(i))))
            }
            DataType::Decimal256(..) => {
                let d = a.as_primitive::<arrow_array::types::Decimal256Type>();
                each!(|i| Ok(Value::Text(d.value_as_string(i))))
            }
            DataType::Dictionary(..) => {
                let d = a.as_any_dictionary();
                let keys = d.normalized_keys();
                let dict = values(d.values().as_ref(), name)?;
                for (i, k) in keys.iter().enumerate() {
                    out.push(if a.is_null(i) {
                        Ok(Value::Null)
                    } else {
                        dict.get(*k).cloned().unwrap_or(Ok(Value::Null))
                    });
                }
            }
            other => return Err(format!("column '{name}' has type {other}")),
        }
        Ok(out)
    }

    /// The WKB bytes of row `i` of a geometry column.
    fn wkb_at(a: &dyn Array, i: usize) -> Option<&[u8]> {
        if a.is_null(i) {
            return None;
        }
        match a.data_type() {
            DataType::Binary => Some(a.as_binary::<i32>().value(i)),
            DataType::LargeBinary => Some(a.as_binary::<i64>().value(i)),
            DataType::BinaryView => Some(a.as_binary_view().value(i)),
            _ => None,
        }
    }

    /// The reader of a GeoParquet input (see the module docs).
    pub(crate) fn reader<'a>(job: &Job<'a>) -> Result<Box<dyn FeatureReader + 'a>, ConvertError> {
        let path = job.input;
        let input = Input::open(path)?;
        let Some(primary) = input.geo.primary().cloned() else {
            return Err(refuse(path, "the geo metadata names no primary column".into()));
        };
        if primary.encoding != Encoding::Wkb {
            return Err(refuse(
                path,
                format!(
                    "geometry column '{}' is in a GeoArrow native encoding, which conversions \
                     between formats do not read; convert it into GeoParquet (.parquet), or \
                     write it with WKB (GeoPandas: to_parquet(geometry_encoding=\"WKB\"))",
                    primary.name
                ),
            ));
        }
        if let Some(other) = input.geo.columns.iter().find(|c| c.name != primary.name) {
            return Err(refuse(
                path,
                format!(
                    "geometry column '{}' is not the primary one ('{}'); conversions between \
                     formats carry one geometry per feature: convert into GeoParquet (.parquet) \
                     to keep both",
                    other.name, primary.name
                ),
            ));
        }
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for (i, f) in input.schema().fields().iter().enumerate() {
            if i == primary.index {
                continue;
            }
            let kind = field_type(f.data_type()).map_err(|why| {
                refuse(
                    path,
                    format!(
                        "column '{}' is {why} ({}), which conversions between formats cannot \
                         carry; convert into GeoParquet (.parquet) to keep it",
                        f.name(),
                        f.data_type()
                    ),
                )
            })?;
            fields.push(Field { name: f.name().clone(), kind });
            columns.push(i);
        }
        // First pass: the primary column alone, for the geometry types and heights.
        let mut schema = Schema { fields, ..Schema::default() };
        for g in 0..input.row_groups() {
            for batch in input.row_group(g, Some(&[primary.index]))? {
                let batch = batch.map_err(|e| {
                    parquet_error(path, &format!("row group {g}"), ParquetError::from(e))
                })?;
                let Some(a) = batch.columns().first() else { continue };
                for i in 0..a.len() {
                    let Some(b) = wkb_at(a.as_ref(), i) else { continue };
                    if let Ok(s) = crate::wkb::summary(b) {
                        let Some(kind) = GeometryKind::from_wkb_code(s.geometry_type) else {
                            continue;
                        };
                        if !schema.kinds.contains(&kind) {
                            schema.kinds.push(kind);
                        }
                        schema.has_z |= s.has_z;
                    }
                }
            }
        }
        Ok(Box::new(Reader {
            input,
            primary: primary.index,
            columns,
            schema,
            group: 0,
            batches: None,
            batch: None,
            values: Vec::new(),
            at: 0,
            row: 0,
            consumed: 0,
            m_dropped: 0,
        }))
    }

    struct Reader {
        input: Input,
        primary: usize,
        columns: Vec<usize>,
        schema: Schema,
        group: usize,
        batches: Option<ParquetRecordBatchReader>,
        batch: Option<RecordBatch>,
        values: Vec<Vec<Result<Value, String>>>,
        at: usize,
        row: u64,
        consumed: u64,
        m_dropped: u64,
    }

    impl Reader {
        /// Loads the next batch; `false` at the end of the file.
        fn load(&mut self) -> Result<bool, ConvertError> {
            loop {
                if let Some(batches) = self.batches.as_mut() {
                    match batches.next() {
                        Some(b) => {
                            let b = b.map_err(|e| {
                                parquet_error(
                                    &self.input.path,
                                    &format!("row group {}", self.group - 1),
                                    ParquetError::from(e),
                                )
                            })?;
                            self.values.clear();
                            for (&c, f) in self.columns.iter().zip(&self.schema.fields) {
                                let Some(a) = b.columns().get(c) else { continue };
                                let v = values(a.as_ref(), &f.name)
                                    .map_err(|m| refuse(&self.input.path, m))?;
                                self.values.push(v);
                            }
                            self.batch = Some(b);
                            self.at = 0;
                            return Ok(true);
                        }
                        None => {
                            self.batches = None;
                            self.consumed += self.input.row_group_bytes(self.group - 1);
                        }
                    }
                }
                if self.group >= self.input.row_groups() {
                    return Ok(false);
                }
                self.batches = Some(self.input.row_group(self.group, None)?);
                self.group += 1;
            }
        }
    }

    impl FeatureReader for Reader {
        fn schema(&self) -> &Schema {
            &self.schema
        }

        fn next(&mut self) -> Result<Option<Read>, ConvertError> {
            while self.batch.as_ref().is_none_or(|b| self.at >= b.num_rows()) {
                if !self.load()? {
                    return Ok(None);
                }
            }
            let Some(batch) = self.batch.as_ref() else { return Ok(None) };
            let i = self.at;
            self.at += 1;
            let location = format!("row group {}, row {}", self.group - 1, self.row);
            self.row += 1;
            let mut attributes = Vec::with_capacity(self.values.len());
            for v in &self.values {
                match v.get(i).cloned().unwrap_or(Ok(Value::Null)) {
                    Ok(v) => attributes.push(v),
                    Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
                }
            }
            let geometry =
                match batch.columns().get(self.primary).and_then(|a| wkb_at(a.as_ref(), i)) {
                    None => None,
                    Some(b) => {
                        let mut m = false;
                        match read_wkb(b, &mut m) {
                            Ok(g) => {
                                self.m_dropped += u64::from(m);
                                Some(g)
                            }
                            Err(reason) => return Ok(Some(Err(Failure { location, reason }))),
                        }
                    }
                };
            Ok(Some(Ok(Feature { location, geometry, attributes })))
        }

        fn warnings(&mut self) -> Vec<String> {
            if self.m_dropped > 0 {
                vec![format!("{} geometries had m values; they are dropped", self.m_dropped)]
            } else {
                Vec::new()
            }
        }

        fn consumed(&self) -> u64 {
            self.consumed
        }
    }

    // -----------------------------------------------------------------------------------------
    // Writing

    /// The writer of a GeoParquet output (see the module docs).
    pub(crate) fn writer(
        job: &Job<'_>,
        schema: &Schema,
    ) -> Result<Box<dyn FeatureWriter>, ConvertError> {
        let path = job.output.to_path_buf();
        let io = |source| ConvertError::Io { path: path.clone(), source };
        let mut geometry = "geometry".to_string();
        let mut k = 2;
        while schema.fields.iter().any(|f| f.name == geometry) {
            geometry = format!("geometry_{k}");
            k += 1;
        }
        let mut arrow_fields: Vec<ArrowField> = schema
            .fields
            .iter()
            .map(|f| {
                let t = match f.kind {
                    FieldType::Integer => DataType::Int64,
                    FieldType::Real => DataType::Float64,
                    FieldType::Text => DataType::Utf8,
                    FieldType::Boolean => DataType::Boolean,
                    FieldType::Date => DataType::Date32,
                };
                ArrowField::new(&f.name, t, true)
            })
            .collect();
        arrow_fields.push(ArrowField::new(&geometry, DataType::Binary, true));
        let arrow_schema = Arc::new(ArrowSchema::new(arrow_fields));
        let file = AtomicFile::create(job.output).map_err(io)?;
        let handle = std::fs::OpenOptions::new().write(true).open(file.temp_path()).map_err(io)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build();
        let out = parquet_writer(job.output, handle, arrow_schema.clone(), props)?;
        let mut warnings = Vec::new();
        warnings.extend(super::super::precision_unused(job, "GeoParquet"));
        let (crs, warning) = crs_value(job.target);
        warnings.extend(warning);
        Ok(Box::new(Writer {
            file: Some(file),
            out: Some(out),
            path,
            schema: arrow_schema,
            kinds: schema.fields.iter().map(|f| f.kind).collect(),
            geometry,
            crs,
            types: Vec::new(),
            extent: Extent::default(),
            warnings,
        }))
    }

    struct Writer {
        file: Option<AtomicFile>,
        out: Option<ArrowWriter<File>>,
        path: PathBuf,
        schema: Arc<ArrowSchema>,
        kinds: Vec<FieldType>,
        geometry: String,
        crs: Json,
        types: Vec<String>,
        extent: Extent,
        warnings: Vec<String>,
    }

    impl Writer {
        fn column(
            &self,
            i: usize,
            kind: FieldType,
            features: &[Feature],
        ) -> Result<ArrayRef, ConvertError> {
            let bad = |f: &Feature, v: &Value| ConvertError::Options {
                path: self.path.clone(),
                message: format!(
                    "{}: value {v} in the {} column '{}'",
                    f.location,
                    kind.name(),
                    self.schema.field(i).name()
                ),
            };
            let value =
                |f: &Feature| kind.coerce(f.attributes.get(i).cloned().unwrap_or(Value::Null));
            Ok(match kind {
                FieldType::Integer => {
                    let mut b = Int64Builder::with_capacity(features.len());
                    for f in features {
                        match value(f) {
                            Value::Null => b.append_null(),
                            Value::Integer(x) => b.append_value(x),
                            v => return Err(bad(f, &v)),
                        }
                    }
                    Arc::new(b.finish())
                }
                FieldType::Real => {
                    let mut b = Float64Builder::with_capacity(features.len());
                    for f in features {
                        match value(f) {
                            Value::Null => b.append_null(),
                            Value::Real(x) => b.append_value(x),
                            v => return Err(bad(f, &v)),
                        }
                    }
                    Arc::new(b.finish())
                }
                FieldType::Boolean => {
                    let mut b = BooleanBuilder::with_capacity(features.len());
                    for f in features {
                        match value(f) {
                            Value::Null => b.append_null(),
                            Value::Boolean(x) => b.append_value(x),
                            v => return Err(bad(f, &v)),
                        }
                    }
                    Arc::new(b.finish())
                }
                FieldType::Date => {
                    let mut b = Date32Builder::with_capacity(features.len());
                    for f in features {
                        match value(f) {
                            Value::Null => b.append_null(),
                            Value::Date(t) => {
                                let day = parse_date(&t)
                                    .and_then(|d| i32::try_from(d).ok())
                                    .ok_or_else(|| bad(f, &Value::Date(t.clone())))?;
                                b.append_value(day)
                            }
                            v => return Err(bad(f, &v)),
                        }
                    }
                    Arc::new(b.finish())
                }
                FieldType::Text => {
                    let mut b = StringBuilder::with_capacity(features.len(), 0);
                    for f in features {
                        match value(f) {
                            Value::Null => b.append_null(),
                            Value::Text(t) | Value::Date(t) => b.append_value(t),
                            v => b.append_value(v.to_string()),
                        }
                    }
                    Arc::new(b.finish())
                }
            })
        }
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date.
    fn parse_date(t: &str) -> Option<i64> {
        let y: i64 = t.get(0..4)?.parse().ok()?;
        let m: u32 = t.get(5..7)?.parse().ok()?;
        let d: u32 = t.get(8..10)?.parse().ok()?;
        Some(days_from_civil(y, m, d))
    }

    impl FeatureWriter for Writer {
        fn write(&mut self, features: &[Feature]) -> Result<(), ConvertError> {
            let mut columns = Vec::with_capacity(self.kinds.len() + 1);
            for (i, kind) in self.kinds.iter().enumerate() {
                columns.push(self.column(i, *kind, features)?);
            }
            let mut g = BinaryBuilder::new();
            let mut wkb = Vec::new();
            for f in features {
                match &f.geometry {
                    None => g.append_null(),
                    Some(geometry) => {
                        let Geometry { shape, has_z } = geometry;
                        wkb.clear();
                        write_wkb(geometry, &mut wkb);
                        let name = type_name(shape.kind(), *has_z);
                        if !self.types.contains(&name) {
                            self.types.push(name);
                        }
                        shape.for_each(&mut |c| self.extent.add(c[0], c[1], has_z.then_some(c[2])));
                        g.append_value(&wkb);
                    }
                }
            }
            columns.push(Arc::new(g.finish()));
            let batch = RecordBatch::try_new(self.schema.clone(), columns)
                .map_err(|e| io_error(&self.path, e))?;
            if let Some(out) = self.out.as_mut() {
                out.write(&batch).map_err(|e| io_error(&self.path, e))?;
            }
            Ok(())
        }

        fn finish(mut self: Box<Self>, report: &mut ConvertReport) -> Result<(), ConvertError> {
            let (Some(out), Some(file)) = (self.out.take(), self.file.take()) else {
                return Ok(());
            };
            let mut types = self.types.clone();
            types.sort();
            let mut column = json!({
                "encoding": "WKB",
                "geometry_types": types,
                "crs": self.crs,
            });
            if let Some(b) = self.extent.bbox(false) {
                column["bbox"] = Json::from(b);
            }
            let geo = json!({
                "version": "1.1.0",
                "primary_column": self.geometry,
                "columns": { self.geometry.clone(): column },
            });
            finish(&self.path, out, &self.schema, &[], geo.to_string())?;
            report.warnings.append(&mut self.warnings);
            report.outputs.push(
                file.commit()
                    .map_err(|source| ConvertError::Io { path: self.path.clone(), source })?,
            );
            Ok(())
        }
    }
}
