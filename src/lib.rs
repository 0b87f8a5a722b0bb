//! # geounify
//!
//! Exact conversions between the coordinate systems Chinese cities use: CGCS2000 and its
//! Gauss-Krüger zones, Beijing 1954, Xi'an 1980, WGS84, GCJ-02, BD-09, Web Mercator, and
//! user-defined datums.
//!
//! **Axis order is always x = easting/longitude, y = northing/latitude**, whatever the EPSG
//! registry says for the CRS. Angles are degrees, lengths metres, heights ellipsoidal metres.
//!
//! ```
//! use geounify::Transformer;
//! // WGS84 longitude/latitude → CGCS2000 3° Gauss-Krüger CM 117E (no zone prefix).
//! let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
//! let (e, n) = t.transform_xy(116.404, 39.915).unwrap();
//! // PROJ 9 (cs2cs EPSG:4326 EPSG:4548) gives 449042.047441, 4420261.219997.
//! assert!((e - 449_042.047_441).abs() < 1e-6 && (n - 4_420_261.219_997).abs() < 1e-6);
//! ```
//!
//! See `ARCHITECTURE.md` for a map of the modules.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod batch;
pub mod catalogue;
#[cfg(feature = "formats")]
pub mod convert;
pub mod crs;
#[cfg(feature = "crs-file")]
pub mod crs_file;
pub mod datum;
pub mod ellipsoid;
pub mod error;
pub mod estimate;
pub(crate) mod export;
#[cfg(feature = "geo")]
pub mod geometry;
pub mod ops;
pub mod proj_string;
#[cfg(feature = "formats")]
pub mod projjson;
pub mod registry;
pub mod transformer;
#[cfg(any(feature = "formats", feature = "arrow"))]
pub mod wkb;
pub mod wkt;

/// The README's code blocks, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use batch::{BatchReport, ColumnLengthMismatch, Coordinate, PointFailure};
pub use crs::{
    AreaOfUse, Crs, CrsKind, HeightMethod, PlanarTransform, Projection, ProjectionSurface,
};
#[cfg(feature = "crs-file")]
pub use crs_file::CrsFileError;
pub use datum::{Datum, DatumShift};
pub use ellipsoid::Ellipsoid;
pub use error::{BuildError, CrsError, DefinitionError, ExportError, PointError};
pub use registry::{Registry, RegistryError};
pub use transformer::{Heights, Transformer};
