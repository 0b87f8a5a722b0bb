//! The scalar function itself.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use geounify::arrow::{transform_array, Encoding, RowError, RowFailure};

use crate::Geounify;

/// The Arrow field metadata key of an extension type's name.
const EXTENSION_NAME: &str = "ARROW:extension:name";
/// The Arrow field metadata key of an extension type's metadata.
const EXTENSION_METADATA: &str = "ARROW:extension:metadata";

/// What a row that cannot be converted does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureMode {
    /// Fail the query with the first failing row's reason (`gu_transform`, `st_transform`).
    Fail,
    /// Return NULL for that row (`gu_try_transform`).
    Null,
}

/// `name(geom, from, to)`: geometries from one CRS to another (see the crate docs).
#[derive(Debug)]
pub struct TransformUdf {
    name: String,
    mode: FailureMode,
    state: Arc<Geounify>,
    signature: Signature,
}

impl TransformUdf {
    /// A function called `name` over a session state.
    pub fn new(name: &str, mode: FailureMode, state: Arc<Geounify>) -> Self {
        Self {
            name: name.to_string(),
            mode,
            state,
            signature: Signature::any(3, Volatility::Immutable),
        }
    }

    /// Whether failed rows fail the query or become NULL.
    pub fn mode(&self) -> FailureMode {
        self.mode
    }

    /// The session state (registry, CRS files, transformers) the function uses.
    pub fn state(&self) -> &Arc<Geounify> {
        &self.state
    }
}

// Two functions are the same when they have the same name, failure mode and CRS files (by
// path and digest): that is what their results depend on.
impl PartialEq for TransformUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.mode == other.mode
            && self.state.manifest() == other.state.manifest()
    }
}

impl Eq for TransformUdf {}

impl Hash for TransformUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.mode.hash(state);
        self.state.manifest().hash(state);
    }
}

/// A string literal's value, for the `from`/`to` arguments.
fn literal_id<'a>(fname: &str, which: &str, value: Option<&'a ScalarValue>) -> Result<&'a str> {
    match value {
        Some(ScalarValue::Utf8(Some(s)))
        | Some(ScalarValue::LargeUtf8(Some(s)))
        | Some(ScalarValue::Utf8View(Some(s))) => Ok(s.as_str()),
        Some(v) if v.is_null() => {
            plan_err!("{fname}: the {which} CRS is NULL; give a CRS id such as 'EPSG:4490'")
        }
        _ => plan_err!(
            "{fname}: the {which} CRS must be a string literal (a CRS id such as 'EPSG:4490'), \
             not a column or another expression"
        ),
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The GeoArrow extension metadata for the target CRS (see the crate docs).
fn crs_metadata(state: &Geounify, to: &str) -> String {
    match state.registry().lookup(to).ok().and_then(|c| c.epsg()) {
        Some(code) => format!(r#"{{"crs":"EPSG:{code}","crs_type":"authority_code"}}"#),
        None => "{}".to_string(),
    }
}

impl ScalarUDFImpl for TransformUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t) => Ok(t.clone()),
            None => plan_err!("{} takes (geom, from, to)", self.name),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let [geom, from_field, to_field] = args.arg_fields else {
            return plan_err!("{} takes (geom, from, to)", self.name);
        };
        if Encoding::of_field(geom).is_none() {
            return plan_err!(
                "{}: the geometry argument must be WKB (Binary, LargeBinary, BinaryView) or a \
                 GeoArrow array, not {}",
                self.name,
                geom.data_type()
            );
        }
        for (which, field) in [("source", from_field), ("target", to_field)] {
            if !is_string(field.data_type()) && field.data_type() != &DataType::Null {
                return plan_err!(
                    "{}: the {which} CRS must be a string literal, not {}",
                    self.name,
                    field.data_type()
                );
            }
        }
        let mut metadata = geom.metadata().clone();
        // Known at planning time (literals): check the ids and build the transformer now, so
        // an unknown id fails the plan with a message naming it.
        let scalars = args.scalar_arguments;
        let from = literal_id(&self.name, "source", scalars.get(1).copied().flatten())?;
        let to = literal_id(&self.name, "target", scalars.get(2).copied().flatten())?;
        self.state.transformer(from, to)?;
        if !metadata.contains_key(EXTENSION_NAME) {
            metadata.insert(EXTENSION_NAME.to_string(), "geoarrow.wkb".to_string());
        }
        metadata.insert(EXTENSION_METADATA.to_string(), crs_metadata(&self.state, to));
        Ok(Arc::new(
            Field::new(self.name.clone(), geom.data_type().clone(), true).with_metadata(metadata),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [geom, from, to] = args.args.as_slice() else {
            return exec_err!("{} takes (geom, from, to)", self.name);
        };
        let scalar = |v: &ColumnarValue| match v {
            ColumnarValue::Scalar(s) => Some(s.clone()),
            ColumnarValue::Array(_) => None,
        };
        let (from, to) = (scalar(from), scalar(to));
        let from = literal_id(&self.name, "source", from.as_ref())?;
        let to = literal_id(&self.name, "target", to.as_ref())?;
        let transformer = self.state.transformer(from, to)?;
        let Some(field) = args.arg_fields.first() else {
            return exec_err!("{} takes (geom, from, to)", self.name);
        };
        let Some(encoding) = Encoding::of_field(field) else {
            return exec_err!(
                "{}: the geometry argument must be WKB or a GeoArrow array, not {}",
                self.name,
                field.data_type()
            );
        };
        let (array, was_scalar) = match geom {
            ColumnarValue::Array(a) => (Arc::clone(a), false),
            ColumnarValue::Scalar(s) => (s.to_array_of_size(1)?, true),
        };
        // DataFusion reads Parquet's binary columns as BinaryView. The kernel rebuilds a view
        // array value by value (views may share bytes); one cast to contiguous Binary and a
        // cast back (views over the converted buffer) is about twice as fast (measured on 1M
        // WKB points in 8192-row batches) and gives the same bytes.
        // (A batch too large for 32-bit offsets stays a view array.)
        let view = matches!(array.data_type(), DataType::BinaryView) && encoding == Encoding::Wkb;
        let contiguous = if view { cast(&array, &DataType::Binary).ok() } else { None };
        let input = contiguous.as_ref().unwrap_or(&array);
        let mut out = transform_array(&transformer, input.as_ref(), encoding)
            .map_err(|e| datafusion::error::DataFusionError::Execution(e.to_string()))?;
        if contiguous.is_some() {
            out.array = cast(&out.array, &DataType::BinaryView)?;
        }
        if self.mode == FailureMode::Fail {
            if let Some(first) = out.failures.first() {
                // A batch's row number does not locate the row in a table, so the message also
                // gives the failed point as it was read (WKB) and how to list every such row.
                let at = failed_point(input.as_ref(), encoding, first)
                    .map(|[x, y]| format!(" (the point read was {x} {y})"))
                    .unwrap_or_default();
                return exec_err!(
                    "{}({from} → {to}): row {} of a batch of {} cannot be converted: {}{at}{}; \
                     gu_try_transform gives NULL for such rows, so `WHERE gu_try_transform(…) \
                     IS NULL` with the geometry not NULL lists them all",
                    self.name,
                    first.row,
                    array.len(),
                    first.reason,
                    if out.failures.len() > 1 {
                        format!(" ({} failed rows in this batch)", out.failures.len())
                    } else {
                        String::new()
                    }
                );
            }
        }
        if was_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out.array, 0)?))
        } else {
            Ok(ColumnarValue::Array(out.array))
        }
    }
}

/// The point of a WKB row whose conversion failed, as the input holds it (x y).
fn failed_point(input: &dyn Array, encoding: Encoding, failure: &RowFailure) -> Option<[f64; 2]> {
    let RowError::Point { vertex, .. } = failure.reason else { return None };
    if encoding != Encoding::Wkb || input.is_null(failure.row) {
        return None;
    }
    let bytes = if let Some(a) = input.as_binary_opt::<i32>() {
        a.value(failure.row)
    } else if let Some(a) = input.as_binary_opt::<i64>() {
        a.value(failure.row)
    } else {
        input.as_binary_view_opt()?.value(failure.row)
    };
    let mut points = Vec::new();
    geounify::wkb::coordinates(bytes, vertex + 1, &mut points).ok()?;
    points.get(vertex).map(|p| [p[0], p[1]])
}
