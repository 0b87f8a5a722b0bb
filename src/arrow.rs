//! Arrow geometry columns through the batch path (feature `arrow`).
//!
//! [`transform_array`] converts one Arrow array of geometries and gives back an array of the
//! same type and length:
//!
//! - **WKB** ([`Encoding::Wkb`]) in `Binary`, `LargeBinary` or `BinaryView` arrays: each value
//!   is rewritten in place by [`crate::wkb`] (byte orders, type codes, counts and m values
//!   kept; z converted by the height rule). `Binary` and `LargeBinary` keep their offsets and
//!   null buffer as they were; a `BinaryView` array's values are copied once into one buffer
//!   (views may share bytes, so its data buffers cannot be rewritten in place), converted, and
//!   viewed again.
//! - **GeoArrow native** arrays ([`Encoding::Point`] … [`Encoding::MultiPolygon`]): the
//!   coordinates, separated (`Struct<x, y[, z][, m]>` of `Float64`) or interleaved
//!   (`FixedSizeList<Float64>[2|3|4]`, the dimension from its child's name `xy`, `xyz`, `xym`,
//!   `xyzm`), under 0–3 levels of `List` / `LargeList`. The coordinate buffers are replaced;
//!   every offset buffer, field and null buffer is kept. A point whose x and y are both NaN is
//!   GeoArrow's empty point and is left alone.
//!
//! Points go through [`Transformer::transform_columns`] / [`Transformer::transform_slice`] in
//! batches, so every converted number is bit for bit what [`Transformer::transform`] gives.
//! Heights follow the transformer's rule ([`crate::Heights`]): between 2D CRSs a z is an
//! elevation, copied unchanged.
//!
//! A row that cannot be converted (a point outside the CRS's domain, malformed WKB) becomes
//! NULL in the output and is listed in [`Transformed::failures`] with its row index and the
//! reason; the other rows are converted. The caller decides whether a failure fails its query
//! or its file. Nothing panics on any input array.
//!
//! One call is single-threaded: engines that call it (DataFusion, Python) already run their
//! partitions or batches in parallel.

use crate::batch::BatchReport;
use crate::error::PointError;
use crate::transformer::Transformer;
use crate::wkb::{self, read_f64, write_f64, Envelope, WkbError};
use arrow_array::builder::BinaryViewBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{
    Array, ArrayRef, BinaryViewArray, FixedSizeListArray, Float64Array, GenericBinaryArray,
    GenericListArray, LargeBinaryArray, OffsetSizeTrait, StructArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field};
use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// The metadata key of an Arrow extension type's name.
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";

/// How a column holds its geometries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Well-known binary (`geoarrow.wkb`, `ogc.wkb`, or any binary column).
    Wkb,
    /// GeoArrow `geoarrow.point`: coordinates.
    Point,
    /// GeoArrow `geoarrow.linestring`: a list of coordinates.
    LineString,
    /// GeoArrow `geoarrow.polygon`: a list of rings.
    Polygon,
    /// GeoArrow `geoarrow.multipoint`: a list of coordinates.
    MultiPoint,
    /// GeoArrow `geoarrow.multilinestring`: a list of lines.
    MultiLineString,
    /// GeoArrow `geoarrow.multipolygon`: a list of polygons.
    MultiPolygon,
}

impl Encoding {
    /// The encoding a field declares: its `ARROW:extension:name` (`geoarrow.wkb` / `ogc.wkb`,
    /// `geoarrow.point`, ... `geoarrow.multipolygon`); without one, [`Encoding::Wkb`] for a
    /// `Binary`, `LargeBinary` or `BinaryView` field. `None` for anything else (including
    /// `geoarrow.wkt`, `geoarrow.geometry` and `geoarrow.box`, which this kernel does not take).
    pub fn of_field(field: &Field) -> Option<Encoding> {
        match field.metadata().get(EXTENSION_NAME_KEY) {
            Some(name) => Encoding::from_extension_name(name),
            None => match field.data_type() {
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                    Some(Encoding::Wkb)
                }
                _ => None,
            },
        }
    }

    /// The encoding of a GeoArrow extension name, `None` for one this kernel does not take.
    pub fn from_extension_name(name: &str) -> Option<Encoding> {
        Some(match name {
            "geoarrow.wkb" | "ogc.wkb" => Encoding::Wkb,
            "geoarrow.point" => Encoding::Point,
            "geoarrow.linestring" => Encoding::LineString,
            "geoarrow.polygon" => Encoding::Polygon,
            "geoarrow.multipoint" => Encoding::MultiPoint,
            "geoarrow.multilinestring" => Encoding::MultiLineString,
            "geoarrow.multipolygon" => Encoding::MultiPolygon,
            _ => return None,
        })
    }

    /// The GeoArrow extension name of this encoding.
    pub fn extension_name(self) -> &'static str {
        match self {
            Encoding::Wkb => "geoarrow.wkb",
            Encoding::Point => "geoarrow.point",
            Encoding::LineString => "geoarrow.linestring",
            Encoding::Polygon => "geoarrow.polygon",
            Encoding::MultiPoint => "geoarrow.multipoint",
            Encoding::MultiLineString => "geoarrow.multilinestring",
            Encoding::MultiPolygon => "geoarrow.multipolygon",
        }
    }

    /// Levels of lists above the coordinates of a native encoding (`None` for WKB).
    fn list_levels(self) -> Option<usize> {
        match self {
            Encoding::Wkb => None,
            Encoding::Point => Some(0),
            Encoding::LineString | Encoding::MultiPoint => Some(1),
            Encoding::Polygon | Encoding::MultiLineString => Some(2),
            Encoding::MultiPolygon => Some(3),
        }
    }
}

/// Why a row could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum RowError {
    /// A point of the row failed.
    Point {
        /// The point's index within the row's geometry, in traversal order (empty points not
        /// counted).
        vertex: usize,
        /// Why.
        error: PointError,
    },
    /// The row's WKB is malformed.
    Wkb(WkbError),
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::Point { vertex, error } => write!(f, "point {vertex}: {error}"),
            RowError::Wkb(e) => write!(f, "malformed WKB: {e}"),
        }
    }
}

impl std::error::Error for RowError {}

/// A row of the array that could not be converted (it is NULL in the output).
#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    /// The row's index in the input array.
    pub row: usize,
    /// Why (the first failure of the row).
    pub reason: RowError,
}

impl fmt::Display for RowFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: {}", self.row, self.reason)
    }
}

/// The converted array and what happened.
#[derive(Debug, Clone)]
pub struct Transformed {
    /// The converted array: the input's type and length; failed rows are NULL.
    pub array: ArrayRef,
    /// The rows that failed, in row order.
    pub failures: Vec<RowFailure>,
    /// The extent of the converted coordinates of the rows that are not NULL in the output.
    pub envelope: Envelope,
}

/// The array's type is not one the encoding takes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a {encoding} column cannot be a {data_type} array: {reason}")]
pub struct KernelError {
    /// The encoding asked for (its GeoArrow extension name).
    pub encoding: &'static str,
    /// The array's data type, as Arrow writes it.
    pub data_type: String,
    /// What is wrong with it.
    pub reason: String,
}

fn kernel_error(
    encoding: Encoding,
    data_type: &DataType,
    reason: impl Into<String>,
) -> KernelError {
    KernelError {
        encoding: encoding.extension_name(),
        data_type: data_type.to_string(),
        reason: reason.into(),
    }
}

/// Converts every geometry of `array` (held as `encoding`) with `transformer`; see the
/// [module docs](self).
///
/// ```
/// use arrow_array::{Array, BinaryArray};
/// use geounify::arrow::{transform_array, Encoding};
/// use geounify::Transformer;
///
/// // POINT (116.404 39.915), little-endian WKB.
/// let mut wkb = vec![1u8, 1, 0, 0, 0];
/// wkb.extend(116.404f64.to_le_bytes());
/// wkb.extend(39.915f64.to_le_bytes());
/// let array = BinaryArray::from(vec![Some(wkb.as_slice()), None]);
///
/// let t = Transformer::from_ids("EPSG:4490", "EPSG:4548").unwrap();
/// let out = transform_array(&t, &array, Encoding::Wkb).unwrap();
/// assert!(out.failures.is_empty() && out.array.is_null(1));
/// let (x, _) = out.envelope.x.unwrap();
/// assert!((x - 449_042.047_441).abs() < 1e-6);
/// ```
pub fn transform_array(
    transformer: &Transformer,
    array: &dyn Array,
    encoding: Encoding,
) -> Result<Transformed, KernelError> {
    let data_type = array.data_type();
    match encoding.list_levels() {
        None => match data_type {
            DataType::Binary => Ok(binary(transformer, array.as_binary::<i32>())),
            DataType::LargeBinary => Ok(binary(transformer, array.as_binary::<i64>())),
            DataType::BinaryView => Ok(binary_view(transformer, array.as_binary_view())),
            _ => Err(kernel_error(
                encoding,
                data_type,
                "WKB needs Binary, LargeBinary or BinaryView",
            )),
        },
        Some(levels) => native(transformer, array, encoding, levels),
    }
}

/// Rows whose WKB is gathered before one batch transform.
const WKB_BATCH_POINTS: usize = 64 * 1024;

/// Gathered WKB rows waiting for their batch: (row, range in the points).
struct WkbBatch {
    points: Vec<[f64; 3]>,
    /// (row, range of its points, its shape).
    rows: Vec<(usize, usize, usize, Shape)>,
}

/// How a gathered row is written back.
#[derive(Clone, Copy)]
enum Shape {
    /// Through [`wkb::scatter`].
    General,
    /// A point of 21 bytes (2D) or 29 (ISO or EWKB z), read and written directly: the common
    /// case of point tables, where the general parser's cost per geometry would dominate.
    Point { little: bool, z: bool },
}

/// A point `value` [`Shape::Point`] takes: its byte order and whether it has z.
fn simple_point(value: &[u8]) -> Option<(bool, bool)> {
    let little = match value.first()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let code: [u8; 4] = value.get(1..5)?.try_into().ok()?;
    let code = if little { u32::from_le_bytes(code) } else { u32::from_be_bytes(code) };
    match (value.len(), code) {
        (21, 1) => Some((little, false)),
        (29, 1001 | 0x8000_0001) => Some((little, true)),
        _ => None,
    }
}

impl WkbBatch {
    /// Gathers the points of `row`'s WKB (a malformed one is a failed row).
    fn gather(&mut self, row: usize, value: &[u8], out: &mut Outcome) {
        let start = self.points.len();
        if let Some((little, z)) = simple_point(value) {
            let (x, y) = (read_f64(value, 5, little), read_f64(value, 13, little));
            // Both NaN: the empty point, left alone (as `wkb::gather` leaves it).
            if !(x.is_nan() && y.is_nan()) {
                let h = if z { read_f64(value, 21, little) } else { 0.0 };
                self.points.push([x, y, h]);
            }
            self.rows.push((row, start, self.points.len(), Shape::Point { little, z }));
            return;
        }
        match wkb::gather(value, &mut self.points) {
            Ok(()) => self.rows.push((row, start, self.points.len(), Shape::General)),
            Err(e) => {
                self.points.truncate(start);
                out.fail(row, RowError::Wkb(e));
            }
        }
    }

    /// Transforms the gathered points and writes each row back (`value(row)` gives its bytes);
    /// a row with a failed point is recorded in `failed` and left unwritten.
    fn flush(&mut self, transformer: &Transformer, values: &mut impl RowBytes, out: &mut Outcome) {
        let BatchReport { failures, .. } = transformer.transform_slice(&mut self.points);
        let mut failures = failures.into_iter().peekable();
        for &(row, start, end, shape) in &self.rows {
            let mut first = None;
            while let Some(f) = failures.next_if(|f| f.index < end) {
                if first.is_none() && f.index >= start {
                    first = Some(RowError::Point { vertex: f.index - start, error: f.error });
                }
            }
            if let Some(reason) = first {
                out.fail(row, reason);
                continue;
            }
            let Some(bytes) = values.row_mut(row) else { continue };
            let converted = self.points.get(start..end).unwrap_or_default();
            if let Shape::Point { little, z } = shape {
                if let Some(&[x, y, h]) = converted.first() {
                    write_f64(bytes, 5, little, x);
                    write_f64(bytes, 13, little, y);
                    if z {
                        write_f64(bytes, 21, little, h);
                    }
                    out.envelope.add(x, y, z.then_some(h), None);
                }
                continue;
            }
            match wkb::scatter(bytes, converted) {
                Ok(summary) => out.envelope.extend(&summary.envelope),
                Err(e) => out.fail(row, RowError::Wkb(e)),
            }
        }
        self.points.clear();
        self.rows.clear();
    }
}

/// The bytes of each row, to be rewritten.
trait RowBytes {
    fn row_mut(&mut self, row: usize) -> Option<&mut [u8]>;
}

/// A binary array's values buffer (copied) and its offsets.
struct OffsetBytes<O: OffsetSizeTrait> {
    values: Vec<u8>,
    offsets: OffsetBuffer<O>,
}

impl<O: OffsetSizeTrait> OffsetBytes<O> {
    /// The value range of a row in `values` (the offsets of a sliced array need not start at
    /// 0: they index the whole values buffer).
    fn range(&self, row: usize) -> Option<(usize, usize)> {
        let start = self.offsets.get(row)?.as_usize();
        let end = self.offsets.get(row + 1)?.as_usize();
        (start <= end).then_some((start, end))
    }
}

impl<O: OffsetSizeTrait> RowBytes for OffsetBytes<O> {
    fn row_mut(&mut self, row: usize) -> Option<&mut [u8]> {
        let (s, e) = self.range(row)?;
        self.values.get_mut(s..e)
    }
}

/// The failures and extent gathered while converting an array.
struct Outcome {
    failures: Vec<RowFailure>,
    envelope: Envelope,
}

impl Outcome {
    fn new() -> Self {
        Outcome { failures: Vec::new(), envelope: Envelope::default() }
    }

    fn fail(&mut self, row: usize, reason: RowError) {
        self.failures.push(RowFailure { row, reason });
    }

    /// The validity of `len` rows: the input's, with the failed rows NULL.
    fn nulls(&mut self, len: usize, input: Option<&NullBuffer>) -> Option<NullBuffer> {
        self.failures.sort_by_key(|f| f.row);
        if self.failures.is_empty() {
            return input.cloned();
        }
        let mut valid = vec![true; len];
        for f in &self.failures {
            if let Some(v) = valid.get_mut(f.row) {
                *v = false;
            }
        }
        let failed = NullBuffer::from(BooleanBuffer::from(valid));
        NullBuffer::union(input, Some(&failed))
    }

    fn finish(
        mut self,
        len: usize,
        input: Option<&NullBuffer>,
        build: impl FnOnce(Option<NullBuffer>) -> ArrayRef,
    ) -> Transformed {
        let nulls = self.nulls(len, input);
        Transformed { array: build(nulls), failures: self.failures, envelope: self.envelope }
    }
}

fn binary<O: OffsetSizeTrait>(
    transformer: &Transformer,
    array: &GenericBinaryArray<O>,
) -> Transformed {
    // Only the values of the array's rows are copied (a slice's offsets index a larger buffer).
    let offsets = array.offsets();
    let (first, last) =
        (offsets.first().map_or(0, |o| o.as_usize()), offsets.last().map_or(0, |o| o.as_usize()));
    let values = array.values().get(first..last).unwrap_or_default().to_vec();
    let offsets = if first == 0 {
        offsets.clone()
    } else {
        let base = O::usize_as(first);
        OffsetBuffer::new(offsets.iter().map(|&o| o - base).collect::<ScalarBuffer<O>>())
    };
    let mut bytes = OffsetBytes { values, offsets };
    let mut out = Outcome::new();
    let mut batch = WkbBatch { points: Vec::new(), rows: Vec::new() };
    for row in 0..array.len() {
        if array.is_null(row) {
            continue;
        }
        let Some(value) = bytes.range(row).and_then(|(s, e)| bytes.values.get(s..e)) else {
            continue;
        };
        batch.gather(row, value, &mut out);
        if batch.points.len() >= WKB_BATCH_POINTS {
            batch.flush(transformer, &mut bytes, &mut out);
        }
    }
    batch.flush(transformer, &mut bytes, &mut out);
    let len = array.len();
    out.finish(len, array.nulls(), |nulls| {
        Arc::new(GenericBinaryArray::<O>::new(bytes.offsets, Buffer::from_vec(bytes.values), nulls))
    })
}

/// A data block of a rebuilt `BinaryView` array stays below a view's 32-bit offset.
const VIEW_BLOCK_BYTES: usize = 1 << 31;

fn binary_view(transformer: &Transformer, array: &BinaryViewArray) -> Transformed {
    // Views may share bytes, so the values are copied once into a `LargeBinary` layout,
    // converted as one, and viewed again in blocks of the converted buffer.
    let large: LargeBinaryArray = array.iter().collect();
    let mut done = binary(transformer, &large);
    let converted = done.array.as_binary::<i64>();
    let offsets: Vec<usize> =
        converted.offsets().iter().map(|&o| usize::try_from(o).unwrap_or(0)).collect();
    let values = converted.values();
    let len = converted.len();
    let mut builder = BinaryViewBuilder::with_capacity(len);
    let mut misviewed = Vec::new();
    let mut row = 0;
    while row < len {
        let start = offsets[row];
        let mut end_row = row + 1;
        while end_row < len && offsets[end_row + 1] - start <= VIEW_BLOCK_BYTES {
            end_row += 1;
        }
        let block = builder.append_block(values.slice_with_length(start, offsets[end_row] - start));
        for r in row..end_row {
            if converted.is_null(r) {
                builder.append_null();
                continue;
            }
            let at = u32::try_from(offsets[r] - start).unwrap_or(u32::MAX);
            let n = u32::try_from(offsets[r + 1] - offsets[r]).unwrap_or(u32::MAX);
            if builder.try_append_view(block, at, n).is_err() {
                // Never: every value of the input fitted a view and the lengths are unchanged.
                builder.append_null();
                misviewed.push(RowFailure {
                    row: r,
                    reason: RowError::Wkb(WkbError::Malformed {
                        offset: 0,
                        message: "the converted value does not fit a view".into(),
                    }),
                });
            }
        }
        row = end_row;
    }
    done.failures.extend(misviewed);
    done.failures.sort_by_key(|f| f.row);
    done.array = Arc::new(builder.finish());
    done
}

/// The coordinates of a native array, as columns, and how to put them back.
enum Coords<'a> {
    /// `Struct<x, y[, z][, m]>`: the indices of x, y and z among the children.
    Separated { array: &'a StructArray, x: usize, y: usize, z: Option<usize> },
    /// `FixedSizeList<Float64>[size]`, z at index 2 when the dimension has it.
    Interleaved { array: &'a FixedSizeListArray, size: usize, has_z: bool },
}

fn coords_of<'a>(array: &'a dyn Array, encoding: Encoding) -> Result<Coords<'a>, KernelError> {
    let dt = array.data_type();
    let err = |reason: &str| kernel_error(encoding, dt, reason);
    match dt {
        DataType::Struct(fields) => {
            let find = |name: &str| fields.iter().position(|f| f.name().eq_ignore_ascii_case(name));
            let (Some(x), Some(y)) = (find("x"), find("y")) else {
                return Err(err("separated coordinates need children named x and y"));
            };
            if fields.iter().any(|f| f.data_type() != &DataType::Float64) {
                return Err(err("coordinate children must be Float64"));
            }
            let Some(array) = array.as_struct_opt() else {
                return Err(err("not a struct array"));
            };
            Ok(Coords::Separated { array, x, y, z: find("z") })
        }
        DataType::FixedSizeList(child, size) => {
            if child.data_type() != &DataType::Float64 {
                return Err(err("interleaved coordinates must be Float64"));
            }
            let size = usize::try_from(*size).unwrap_or(0);
            let has_z = match (child.name().to_ascii_lowercase().as_str(), size) {
                ("xy", 2) | ("xym", 3) => false,
                ("xyz", 3) | ("xyzm", 4) => true,
                (_, 2) => false,
                (_, 3 | 4) => true,
                _ => return Err(err("interleaved coordinates need 2, 3 or 4 values")),
            };
            let Some(array) = array.as_fixed_size_list_opt() else {
                return Err(err("not a fixed-size list array"));
            };
            Ok(Coords::Interleaved { array, size, has_z })
        }
        _ => Err(err("coordinates must be a Struct or a FixedSizeList of Float64")),
    }
}

/// The leaf coordinate index ranges of each row, through `levels` list levels.
fn row_ranges(
    array: &dyn Array,
    levels: usize,
    encoding: Encoding,
) -> Result<Vec<(usize, usize)>, KernelError> {
    let mut ranges: Vec<(usize, usize)> = (0..array.len()).map(|i| (i, i + 1)).collect();
    let mut level: &dyn Array = array;
    for _ in 0..levels {
        let (offsets, values): (Vec<usize>, &ArrayRef) = match level.data_type() {
            DataType::List(_) => {
                let l = level.as_list::<i32>();
                (l.offsets().iter().map(|o| usize::try_from(*o).unwrap_or(0)).collect(), l.values())
            }
            DataType::LargeList(_) => {
                let l = level.as_list::<i64>();
                (l.offsets().iter().map(|o| usize::try_from(*o).unwrap_or(0)).collect(), l.values())
            }
            dt => return Err(kernel_error(encoding, dt, "expected a List or LargeList level")),
        };
        for r in &mut ranges {
            *r = (offsets.get(r.0).copied().unwrap_or(0), offsets.get(r.1).copied().unwrap_or(0));
        }
        level = values.as_ref();
    }
    Ok(ranges)
}

/// The coordinates below `levels` list levels.
fn leaf(array: &dyn Array, levels: usize) -> &dyn Array {
    let mut level: &dyn Array = array;
    for _ in 0..levels {
        level = match level.data_type() {
            DataType::List(_) => level.as_list::<i32>().values().as_ref(),
            DataType::LargeList(_) => level.as_list::<i64>().values().as_ref(),
            _ => return level,
        };
    }
    level
}

/// `array` with its coordinates (below `levels` list levels) replaced by `coords` and its
/// top-level null buffer by `nulls`; every offset buffer and field kept.
fn rebuild(
    array: &dyn Array,
    levels: usize,
    coords: ArrayRef,
    nulls: Option<NullBuffer>,
) -> ArrayRef {
    fn list<O: OffsetSizeTrait>(
        l: &GenericListArray<O>,
        values: ArrayRef,
        nulls: Option<NullBuffer>,
    ) -> ArrayRef {
        let field = match l.data_type() {
            DataType::List(f) | DataType::LargeList(f) => f.clone(),
            _ => Arc::new(Field::new_list_field(values.data_type().clone(), true)),
        };
        Arc::new(GenericListArray::<O>::new(field, l.offsets().clone(), values, nulls))
    }
    if levels == 0 {
        return with_nulls(coords, nulls);
    }
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let values =
                rebuild(l.values().as_ref(), levels - 1, coords, l.values().nulls().cloned());
            list(l, values, nulls)
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let values =
                rebuild(l.values().as_ref(), levels - 1, coords, l.values().nulls().cloned());
            list(l, values, nulls)
        }
        _ => coords, // never: `row_ranges` checked every level
    }
}

/// A coordinate array (struct or fixed-size list) with its null buffer replaced.
fn with_nulls(coords: ArrayRef, nulls: Option<NullBuffer>) -> ArrayRef {
    if let Some(s) = coords.as_struct_opt() {
        let (fields, columns, _) = s.clone().into_parts();
        return Arc::new(StructArray::new(fields, columns, nulls));
    }
    if let Some(l) = coords.as_fixed_size_list_opt() {
        let (field, size, values, _) = l.clone().into_parts();
        return Arc::new(FixedSizeListArray::new(field, size, values, nulls));
    }
    coords
}

fn native(
    transformer: &Transformer,
    array: &dyn Array,
    encoding: Encoding,
    levels: usize,
) -> Result<Transformed, KernelError> {
    let ranges = row_ranges(array, levels, encoding)?;
    let coords = coords_of(leaf(array, levels), encoding)?;
    // Copy the coordinates into columns (x, y, z = 0 without z).
    let (mut x, mut y, mut z, has_z) = match &coords {
        Coords::Separated { array, x, y, z } => {
            let col = |i: usize| array.column(i).as_primitive::<Float64Type>().values().to_vec();
            (col(*x), col(*y), z.map(col), z.is_some())
        }
        Coords::Interleaved { array, size, has_z } => {
            let v = array.values().as_primitive::<Float64Type>().values();
            let n = array.len();
            let at = |i: usize, k: usize| v.get(i * size + k).copied().unwrap_or(f64::NAN);
            let x = (0..n).map(|i| at(i, 0)).collect();
            let y = (0..n).map(|i| at(i, 1)).collect();
            let z = has_z.then(|| (0..n).map(|i| at(i, 2)).collect());
            (x, y, z, *has_z)
        }
    };
    // Empty points (x and y NaN) are not transformed.
    let live: Vec<usize> = (0..x.len()).filter(|&i| !(x[i].is_nan() && y[i].is_nan())).collect();
    let pick = |c: &[f64]| live.iter().map(|&i| c[i]).collect::<Vec<f64>>();
    let (mut lx, mut ly) = (pick(&x), pick(&y));
    let mut lz = z.as_deref().map(pick);
    // The columns were built with one length, so the length check cannot fail.
    let report =
        transformer.transform_columns(&mut lx, &mut ly, lz.as_deref_mut()).unwrap_or_default();
    for (k, &i) in live.iter().enumerate() {
        x[i] = lx[k];
        y[i] = ly[k];
        if let (Some(z), Some(lz)) = (z.as_mut(), lz.as_ref()) {
            z[i] = lz[k];
        }
    }
    // Each failure to the row whose range holds it (rows' ranges are ordered).
    let mut out = Outcome::new();
    let mut failed_rows: Vec<bool> = vec![false; ranges.len()];
    for f in &report.failures {
        let Some(&leaf_index) = live.get(f.index) else { continue };
        let r = ranges.partition_point(|&(_, end)| end <= leaf_index);
        let Some(&(start, _)) = ranges.get(r) else { continue };
        if start > leaf_index || array.is_null(r) || failed_rows[r] {
            continue;
        }
        failed_rows[r] = true;
        // The vertex index within the row, empty points not counted.
        let vertex = live[..f.index].iter().rev().take_while(|&&i| i >= start).count();
        out.fail(r, RowError::Point { vertex, error: f.error });
    }
    for (r, &(start, end)) in ranges.iter().enumerate() {
        if array.is_null(r) || failed_rows[r] {
            continue;
        }
        for i in start..end.min(x.len()) {
            if !(x[i].is_nan() && y[i].is_nan()) {
                out.envelope.add(
                    x[i],
                    y[i],
                    if has_z { z.as_ref().map(|z| z[i]) } else { None },
                    None,
                );
            }
        }
    }
    // The new coordinate array: same fields and null buffers, new values.
    let new_coords: ArrayRef = match coords {
        Coords::Separated { array: s, x: xi, y: yi, z: zi } => {
            let mut columns = s.columns().to_vec();
            let mut put = |i: usize, values: Vec<f64>| {
                let old = s.column(i).as_primitive::<Float64Type>();
                columns[i] =
                    Arc::new(Float64Array::new(ScalarBuffer::from(values), old.nulls().cloned()));
            };
            put(xi, x);
            put(yi, y);
            if let (Some(zi), Some(z)) = (zi, z) {
                put(zi, z);
            }
            Arc::new(StructArray::new(s.fields().clone(), columns, s.nulls().cloned()))
        }
        Coords::Interleaved { array: l, size, has_z } => {
            let old = l.values().as_primitive::<Float64Type>();
            let mut v = old.values().to_vec();
            for i in 0..x.len() {
                if let Some(c) = v.get_mut(i * size..i * size + size) {
                    c[0] = x[i];
                    c[1] = y[i];
                    if has_z {
                        if let Some(z) = &z {
                            c[2] = z[i];
                        }
                    }
                }
            }
            let values = Arc::new(Float64Array::new(ScalarBuffer::from(v), old.nulls().cloned()));
            let (field, size, _, nulls) = l.clone().into_parts();
            Arc::new(FixedSizeListArray::new(field, size, values, nulls))
        }
    };
    let len = array.len();
    Ok(out.finish(len, array.nulls(), |nulls| {
        if levels == 0 {
            with_nulls(new_coords, nulls)
        } else {
            rebuild(array, levels, new_coords, nulls)
        }
    }))
}
