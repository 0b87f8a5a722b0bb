//! PROJJSON output of CRS definitions (PROJ's JSON encoding of ISO 19111, schema v0.7), as
//! GeoParquet's `geo` metadata declares a column's CRS.
//!
//! Geographic CRSs, Gauss-Krüger (transverse Mercator) zones and web Mercator are written with
//! their datum, ellipsoid, projection parameters and units, and an EPSG `id` when the CRS has
//! one (`tests/proj_differential.rs`-style checks read them back with PROJ under the `proj`
//! feature). A user datum with a shift to CGCS2000 is a `BoundCRS` towards WGS 84 with the
//! 7 parameters (position vector; geounify treats CGCS2000 and WGS 84 as one frame), as PROJ
//! writes a WKT 1 `TOWGS84`.
//!
//! GCJ-02, BD-09, BD-09MC and local grids have no standard definition: [`Crs::to_projjson`]
//! refuses them like [`Crs::to_wkt`]; [`marked`] writes a placeholder that says what the
//! coordinates are without claiming a datum they are not on (see its docs).

use crate::crs::{Crs, CrsKind, Projection};
use crate::error::ExportError;
use crate::export::{
    check_finite, exportable_transverse_mercator, known_datum, towgs84, unexpressible_reason,
};
use serde_json::{json, Value};

/// The schema URL PROJ writes into PROJJSON.
const SCHEMA: &str = "https://proj.org/schemas/v0.7/projjson.schema.json";

/// The authority of the ids of [`marked`] definitions: geounify's own CRS ids.
pub const MARK_AUTHORITY: &str = "GEOUNIFY";

fn epsg_id(code: u32) -> Value {
    json!({ "authority": "EPSG", "code": code })
}

fn axis(name: &str, abbreviation: &str, direction: &str, unit: &str) -> Value {
    json!({ "name": name, "abbreviation": abbreviation, "direction": direction, "unit": unit })
}

/// The datum of `crs` as a PROJJSON `GeodeticReferenceFrame`.
fn datum(crs: &Crs) -> Value {
    let d = crs.datum();
    let e = d.ellipsoid();
    match known_datum(d) {
        Some(k) => json!({
            "type": "GeodeticReferenceFrame",
            "name": k.wkt_name.replace('_', " ").replace("WGS 1984", "World Geodetic System 1984"),
            "ellipsoid": {
                "name": k.ellipsoid_name,
                "semi_major_axis": e.a(),
                "inverse_flattening": e.rf(),
                "id": epsg_id(k.ellipsoid_code),
            },
            "id": epsg_id(k.code),
        }),
        None => json!({
            "type": "GeodeticReferenceFrame",
            "name": d.name(),
            "ellipsoid": {
                "name": e.name(),
                "semi_major_axis": e.a(),
                "inverse_flattening": e.rf(),
            },
        }),
    }
}

/// The geographic CRS of `crs`'s datum (its own definition when `crs` is geographic), with
/// EPSG's latitude, longitude axis order when it has an EPSG code (GeoParquet coordinates are
/// longitude, latitude whatever the axis order says).
fn geographic(crs: &Crs, name: &str, code: Option<u32>, three_d: bool) -> Value {
    let mut axes = if code.is_some() {
        vec![
            axis("Geodetic latitude", "Lat", "north", "degree"),
            axis("Geodetic longitude", "Lon", "east", "degree"),
        ]
    } else {
        vec![
            axis("Geodetic longitude", "Lon", "east", "degree"),
            axis("Geodetic latitude", "Lat", "north", "degree"),
        ]
    };
    if three_d {
        axes.push(axis("Ellipsoidal height", "h", "up", "metre"));
    }
    let mut v = json!({
        "type": "GeographicCRS",
        "name": name,
        "datum": datum(crs),
        "coordinate_system": { "subtype": "ellipsoidal", "axis": axes },
    });
    if let Some(code) = code {
        v["id"] = epsg_id(code);
    }
    v
}

/// The base geographic CRS of a projected `crs`.
fn base(crs: &Crs) -> Value {
    match known_datum(crs.datum()) {
        Some(k) => geographic(crs, k.geographic_name, Some(k.geographic_code), false),
        None => geographic(crs, crs.datum().name(), None, false),
    }
}

fn parameter(name: &str, value: f64, unit: &str, code: u32) -> Value {
    json!({ "name": name, "value": value, "unit": unit, "id": epsg_id(code) })
}

/// `definition` bound to WGS 84 by the datum's 7-parameter shift, if the datum has one and is
/// not a built-in EPSG datum.
fn bound(crs: &Crs, definition: Value) -> Value {
    if known_datum(crs.datum()).is_some() {
        return definition;
    }
    let Some(t) = towgs84(crs.datum().to_cgcs2000()) else { return definition };
    let names = [
        ("X-axis translation", "metre", 8605),
        ("Y-axis translation", "metre", 8606),
        ("Z-axis translation", "metre", 8607),
        ("X-axis rotation", "arc-second", 8608),
        ("Y-axis rotation", "arc-second", 8609),
        ("Z-axis rotation", "arc-second", 8610),
        ("Scale difference", "parts per million", 8611),
    ];
    // PROJJSON names only metre, degree and unity by string; the others are unit objects.
    let unit = |name: &str| match name {
        "arc-second" => json!({ "type": "AngularUnit", "name": "arc-second",
                                "conversion_factor": 4.84813681109536e-06 }),
        "parts per million" => json!({ "type": "ScaleUnit", "name": "parts per million",
                                       "conversion_factor": 1e-06 }),
        other => Value::String(other.into()),
    };
    let parameters: Vec<Value> = names
        .iter()
        .zip(t)
        .map(|((name, u, code), v)| {
            json!({ "name": name, "value": v, "unit": unit(u), "id": epsg_id(*code) })
        })
        .collect();
    let wgs84 = crate::catalogue::lookup("EPSG:4326")
        .map(|w| geographic(&w, "WGS 84", Some(4326), false))
        .unwrap_or(Value::Null);
    json!({
        "type": "BoundCRS",
        "source_crs": definition,
        "target_crs": wgs84,
        "transformation": {
            "name": format!("{} to WGS 84", crs.datum().name()),
            "method": { "name": "Position Vector transformation (geog2D domain)",
                        "id": epsg_id(9606) },
            "parameters": parameters,
        },
    })
}

impl Crs {
    /// The CRS as PROJJSON text (one line), with an EPSG `id` when it has one (see the
    /// [module docs](crate::projjson)).
    ///
    /// Errors: GCJ-02, BD-09, BD-09MC, local grids and Gauss-Krüger on an expanded ellipsoid
    /// cannot be expressed and give [`ExportError::NotExpressible`] (see [`marked`]), as do
    /// non-finite parameters and geocentric CRSs (not used by GeoParquet).
    pub fn to_projjson(&self) -> Result<String, ExportError> {
        self.projjson().map(|v| v.to_string())
    }

    /// [`Crs::to_projjson`] as a JSON value.
    pub(crate) fn projjson(&self) -> Result<Value, ExportError> {
        const FORMAT: &str = "PROJJSON";
        check_finite(self, FORMAT, &towgs84(self.datum().to_cgcs2000()).unwrap_or_default())?;
        let mut v = match self.kind() {
            CrsKind::Geographic => {
                let g = geographic(self, self.name(), self.epsg(), self.is_3d());
                bound(self, g)
            }
            CrsKind::Projected(Projection::WebMercator) => {
                let mut v = json!({
                    "type": "ProjectedCRS",
                    "name": self.name(),
                    "base_crs": base(self),
                    "conversion": {
                        "name": "Popular Visualisation Pseudo-Mercator",
                        "method": { "name": "Popular Visualisation Pseudo Mercator",
                                    "id": epsg_id(1024) },
                        "parameters": [
                            parameter("Latitude of natural origin", 0.0, "degree", 8801),
                            parameter("Longitude of natural origin", 0.0, "degree", 8802),
                            parameter("False easting", 0.0, "metre", 8806),
                            parameter("False northing", 0.0, "metre", 8807),
                        ],
                    },
                    "coordinate_system": { "subtype": "Cartesian", "axis": [
                        axis("Easting", "X", "east", "metre"),
                        axis("Northing", "Y", "north", "metre"),
                    ]},
                });
                if let Some(code) = self.epsg() {
                    v["id"] = epsg_id(code);
                }
                v
            }
            CrsKind::Projected(_) => {
                let p = exportable_transverse_mercator(self, FORMAT)?;
                // EPSG's Chinese Gauss-Krüger zones are northing (X), easting (Y); a user-built
                // zone is easting, northing, as geounify's coordinates always are.
                let mut axes = if self.epsg().is_some() {
                    vec![
                        axis("Northing", "X", "north", "metre"),
                        axis("Easting", "Y", "east", "metre"),
                    ]
                } else {
                    vec![
                        axis("Easting", "E", "east", "metre"),
                        axis("Northing", "N", "north", "metre"),
                    ]
                };
                if self.is_3d() {
                    axes.push(axis("Ellipsoidal height", "h", "up", "metre"));
                }
                let mut v = json!({
                    "type": "ProjectedCRS",
                    "name": self.name(),
                    "base_crs": base(self),
                    "conversion": {
                        "name": format!("{} projection", self.name()),
                        "method": { "name": "Transverse Mercator", "id": epsg_id(9807) },
                        "parameters": [
                            parameter("Latitude of natural origin", p.lat0, "degree", 8801),
                            parameter("Longitude of natural origin", p.lon0, "degree", 8802),
                            parameter("Scale factor at natural origin", p.k0, "unity", 8805),
                            parameter("False easting", p.x0, "metre", 8806),
                            parameter("False northing", p.y0, "metre", 8807),
                        ],
                    },
                    "coordinate_system": { "subtype": "Cartesian", "axis": axes },
                });
                if let Some(code) = self.epsg() {
                    v["id"] = epsg_id(code);
                }
                bound(self, v)
            }
            CrsKind::Geocentric => {
                return Err(ExportError::NotExpressible {
                    id: self.id().to_string(),
                    format: FORMAT,
                    reason: "geocentric CRSs are not written as PROJJSON by geounify",
                })
            }
            kind @ (CrsKind::Local { .. }
            | CrsKind::Gcj02 { .. }
            | CrsKind::Bd09 { .. }
            | CrsKind::Bd09Mc { .. }) => {
                return Err(ExportError::NotExpressible {
                    id: self.id().to_string(),
                    format: FORMAT,
                    reason: unexpressible_reason(kind),
                })
            }
        };
        if let Some(o) = v.as_object_mut() {
            o.insert("$schema".into(), Value::String(SCHEMA.into()));
        }
        Ok(v)
    }
}

/// A marked PROJJSON for a CRS that [`Crs::to_projjson`] cannot express (GCJ-02, BD-09,
/// BD-09MC, a local grid, Gauss-Krüger on an expanded ellipsoid): never WGS 84 or the base
/// CRS, which would make other tools take the offset coordinates for true ones, and never
/// `null` (GeoParquet's "undefined"), which would lose what geounify knows.
///
/// - GCJ-02 and BD-09 (degrees): a `GeographicCRS` on the WGS 84 ellipsoid whose datum is named
///   for what the coordinates are (`"GCJ-02: WGS 84 with the published non-linear offset, not a
///   datum"`), so no tool identifies it with WGS 84;
/// - BD-09MC and local grids (metres): an `EngineeringCRS` (easting, northing in metres), the
///   ISO 19111 type for coordinates with no known relation to the earth's datums;
///
/// each with `id` `{"authority": "GEOUNIFY", "code": "<geounify id>"}` (which geounify reads
/// back as that CRS, through the catalogue or a CRS file) and a `remarks` member saying why.
pub fn marked(crs: &Crs) -> String {
    marked_value(crs).to_string()
}

pub(crate) fn marked_value(crs: &Crs) -> Value {
    let reason = match crs.kind() {
        kind @ (CrsKind::Local { .. }
        | CrsKind::Gcj02 { .. }
        | CrsKind::Bd09 { .. }
        | CrsKind::Bd09Mc { .. }) => unexpressible_reason(kind),
        _ => "no standard CRS definition expresses it",
    };
    let remarks = format!(
        "Written by geounify for {} ({}): {reason}. The id names the CRS in geounify's \
         catalogue or CRS files.",
        crs.id(),
        crs.name()
    );
    let id = json!({ "authority": MARK_AUTHORITY, "code": crs.id() });
    let degrees = crs.is_angular();
    let mut v = if degrees {
        json!({
            "type": "GeographicCRS",
            "name": crs.name(),
            "datum": {
                "type": "GeodeticReferenceFrame",
                "name": format!("{}: WGS 84 with a non-linear offset, not a datum", crs.name()),
                "ellipsoid": {
                    "name": "WGS 84",
                    "semi_major_axis": 6378137.0,
                    "inverse_flattening": 298.257223563,
                },
            },
            "coordinate_system": { "subtype": "ellipsoidal", "axis": [
                axis("Geodetic longitude", "Lon", "east", "degree"),
                axis("Geodetic latitude", "Lat", "north", "degree"),
            ]},
        })
    } else {
        json!({
            "type": "EngineeringCRS",
            "name": crs.name(),
            "datum": { "name": format!("{} (no known relation to a geodetic datum)", crs.name()) },
            "coordinate_system": { "subtype": "Cartesian", "axis": [
                axis("Easting", "E", "east", "metre"),
                axis("Northing", "N", "north", "metre"),
            ]},
        })
    };
    if let Some(o) = v.as_object_mut() {
        o.insert("$schema".into(), Value::String(SCHEMA.into()));
        o.insert("remarks".into(), Value::String(remarks));
        o.insert("id".into(), id);
    }
    v
}
