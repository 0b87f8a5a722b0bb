//! Arrow arrays through the core crate's kernel ([`geounify::arrow::transform_array`]): the
//! encoding found from the field (or named by the caller), the GeoArrow `crs` metadata checked
//! against the source and rewritten for the target, chunks of a chunked array converted in
//! parallel with their rows numbered across chunks.

use arrow_array::ArrayRef;
use arrow_schema::Field;
use geounify::arrow::{
    transform_array, Encoding, KernelError, RowFailure, Transformed, EXTENSION_NAME_KEY,
};
use geounify::Crs;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;
use serde_json::Value;

/// The GeoArrow extension metadata key (a JSON object: `crs`, `crs_type`, `edges`).
const EXTENSION_METADATA_KEY: &str = "ARROW:extension:metadata";

/// The encoding named by the caller: a GeoArrow extension name (`"geoarrow.wkb"`) or its short
/// form (`"wkb"`, `"point"`, ... `"multipolygon"`), case-insensitive.
fn named(name: &str) -> PyResult<Encoding> {
    let lower = name.trim().to_ascii_lowercase();
    let full = if lower.contains('.') { lower } else { format!("geoarrow.{lower}") };
    Encoding::from_extension_name(&full).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown encoding {name:?}: expected wkb, point, linestring, polygon, multipoint, \
             multilinestring or multipolygon"
        ))
    })
}

/// The encoding of an array with this field: the caller's, else the field's extension name,
/// else WKB for a binary type; a `TypeError` otherwise.
pub(crate) fn encoding(field: &Field, name: Option<&str>) -> PyResult<Encoding> {
    if let Some(name) = name {
        return named(name);
    }
    Encoding::of_field(field).ok_or_else(|| {
        let extension = field
            .metadata()
            .get(EXTENSION_NAME_KEY)
            .map(|n| format!(" with extension {n:?}"))
            .unwrap_or_default();
        PyTypeError::new_err(format!(
            "not a geometry array geounify takes: a {} array{extension} (give encoding= for a \
             GeoArrow array without its extension type; WKB needs Binary, LargeBinary or \
             BinaryView)",
            field.data_type()
        ))
    })
}

/// The EPSG code a GeoArrow `crs` value names: `"EPSG:4326"` (an authority code) or a PROJJSON
/// object whose `id` is EPSG's. `None` for anything else (WKT, other authorities, none).
fn declared_epsg(crs: &Value) -> Option<u32> {
    match crs {
        Value::String(s) => {
            let (authority, code) = s.split_once(':')?;
            authority.trim().eq_ignore_ascii_case("EPSG").then(|| code.trim().parse().ok())?
        }
        Value::Object(o) => {
            let id = o.get("id")?;
            let authority = id.get("authority")?.as_str()?;
            if !authority.eq_ignore_ascii_case("EPSG") {
                return None;
            }
            match id.get("code")? {
                Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The field of the converted array: the input's name, type, nullability and metadata, with the
/// GeoArrow `crs` replaced by the target's EPSG code (`crs_type` `"authority_code"`), or removed
/// when the target has none (GCJ-02, BD-09, city grids: no identifier a reader would
/// understand). Only a field with a GeoArrow extension name carries extension metadata; a plain
/// binary field is returned as it was.
///
/// Refuses (`ValueError`) a field whose metadata declares an EPSG code other than the
/// source's, when the source has one.
pub(crate) fn target_field(field: &Field, source: &Crs, target: &Crs) -> PyResult<Field> {
    if !field.metadata().contains_key(EXTENSION_NAME_KEY) {
        return Ok(field.clone());
    }
    let mut object = field
        .metadata()
        .get(EXTENSION_METADATA_KEY)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|value| match value {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .unwrap_or_default();
    if let (Some(declared), Some(epsg)) = (object.get("crs").and_then(declared_epsg), source.epsg())
    {
        if declared != epsg {
            let code = format!("EPSG:{epsg}");
            let source_id = source.id();
            let named = if source_id.eq_ignore_ascii_case(&code) {
                code
            } else {
                format!("{source_id} ({code})")
            };
            return Err(PyValueError::new_err(format!(
                "the array declares EPSG:{declared} in its GeoArrow metadata but the source is \
                 {named}"
            )));
        }
    }
    object.remove("crs");
    object.remove("crs_type");
    if let Some(epsg) = target.epsg() {
        object.insert("crs".into(), Value::String(format!("EPSG:{epsg}")));
        object.insert("crs_type".into(), Value::String("authority_code".into()));
    }
    let mut metadata = field.metadata().clone();
    metadata.insert(EXTENSION_METADATA_KEY.into(), Value::Object(object).to_string());
    Ok(field.clone().with_metadata(metadata))
}

/// Converts `chunks` (arrays of one type), in parallel when there are several, and returns the
/// converted chunks and every failed row, numbered across the chunks (as in the concatenated
/// array).
pub(crate) fn transform_chunks(
    transformer: &geounify::Transformer,
    chunks: &[ArrayRef],
    encoding: Encoding,
) -> Result<(Vec<ArrayRef>, Vec<RowFailure>), KernelError> {
    let converted: Vec<Result<Transformed, KernelError>> = if chunks.len() > 1 {
        chunks.par_iter().map(|c| transform_array(transformer, c.as_ref(), encoding)).collect()
    } else {
        chunks.iter().map(|c| transform_array(transformer, c.as_ref(), encoding)).collect()
    };
    let mut arrays = Vec::with_capacity(chunks.len());
    let mut failures = Vec::new();
    let mut offset = 0;
    for (chunk, result) in chunks.iter().zip(converted) {
        let out = result?;
        failures.extend(
            out.failures.into_iter().map(|f| RowFailure { row: f.row + offset, reason: f.reason }),
        );
        arrays.push(out.array);
        offset += chunk.len();
    }
    Ok((arrays, failures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::DataType;
    use std::collections::HashMap;

    fn crs(id: &str) -> Crs {
        geounify::Registry::new().lookup(id).expect("a catalogue id")
    }

    fn geoarrow_field(metadata: &str) -> Field {
        Field::new("geom", DataType::Binary, true).with_metadata(HashMap::from([
            (EXTENSION_NAME_KEY.to_string(), "geoarrow.wkb".to_string()),
            (EXTENSION_METADATA_KEY.to_string(), metadata.to_string()),
        ]))
    }

    fn extension_metadata(field: &Field) -> Value {
        let text = field.metadata().get(EXTENSION_METADATA_KEY).expect("metadata");
        serde_json::from_str(text).expect("JSON")
    }

    #[test]
    fn declared_epsg_reads_authority_codes_and_projjson_ids() {
        assert_eq!(declared_epsg(&Value::from("EPSG:4490")), Some(4490));
        assert_eq!(declared_epsg(&Value::from("epsg: 4326")), Some(4326));
        assert_eq!(declared_epsg(&Value::from("OGC:CRS84")), None);
        assert_eq!(declared_epsg(&Value::from("GEOGCS[\"x\"]")), None);
        let projjson =
            serde_json::json!({"type": "GeographicCRS", "id": {"authority": "EPSG", "code": 4490}});
        assert_eq!(declared_epsg(&projjson), Some(4490));
        let other = serde_json::json!({"id": {"authority": "ESRI", "code": 102100}});
        assert_eq!(declared_epsg(&other), None);
    }

    #[test]
    fn target_field_rewrites_checks_or_removes_the_crs() {
        let field = geoarrow_field(
            r#"{"crs": "EPSG:4490", "crs_type": "authority_code", "edges": "spherical"}"#,
        );
        let out = target_field(&field, &crs("EPSG:4490"), &crs("EPSG:4548")).expect("same EPSG");
        assert_eq!(
            extension_metadata(&out),
            serde_json::json!({"edges": "spherical", "crs": "EPSG:4548", "crs_type": "authority_code"})
        );
        let out = target_field(&field, &crs("EPSG:4490"), &crs("GCJ02")).expect("same EPSG");
        assert_eq!(extension_metadata(&out), serde_json::json!({"edges": "spherical"}));
        // A source without an EPSG code (GCJ-02 data labelled 4490) is taken at its word.
        assert!(target_field(&field, &crs("GCJ02"), &crs("EPSG:4326")).is_ok());
        // Unreadable metadata is replaced by the target's.
        let out = target_field(&geoarrow_field("not json"), &crs("EPSG:4326"), &crs("EPSG:4548"));
        let out = out.expect("no declared crs");
        assert_eq!(extension_metadata(&out)["crs"], "EPSG:4548");
        // A plain binary field is kept as it was.
        let plain = Field::new("wkb", DataType::Binary, true);
        assert_eq!(target_field(&plain, &crs("EPSG:4490"), &crs("EPSG:4548")).ok(), Some(plain));
    }

    #[test]
    fn target_field_refuses_another_declared_epsg() {
        let field = geoarrow_field(r#"{"crs": "EPSG:4326"}"#);
        Python::initialize();
        let err = target_field(&field, &crs("EPSG:4490"), &crs("EPSG:4548")).expect_err("4326");
        Python::attach(|py| {
            assert_eq!(
                err.value(py).to_string(),
                "the array declares EPSG:4326 in its GeoArrow metadata but the source is EPSG:4490"
            );
        });
    }

    #[test]
    fn encodings_by_name() {
        assert_eq!(named("WKB").ok(), Some(Encoding::Wkb));
        assert_eq!(named("geoarrow.multipolygon").ok(), Some(Encoding::MultiPolygon));
        assert!(named("triangle").is_err());
        let field = Field::new("g", DataType::LargeBinary, true);
        assert_eq!(encoding(&field, None).ok(), Some(Encoding::Wkb));
        assert_eq!(encoding(&field, Some("point")).ok(), Some(Encoding::Point));
    }
}
