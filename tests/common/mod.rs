//! Fixtures shared by the integration tests and the benchmarks (`mod common;` in a test,
//! `#[path = "../tests/common/mod.rs"] mod fixtures;` in a bench). Each includer uses a part.
#![allow(dead_code)]

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "formats")]
pub mod conversion;
#[cfg(feature = "gdal-interop")]
pub mod gdal;
#[cfg(feature = "formats")]
pub mod gpkg;
pub mod points;
pub mod rng;
pub mod scratch;
pub mod template;

use geounify::ops::{HelmertConvention, HelmertParams};
use geounify::Crs;

/// The built-in CRS `id` (an EPSG code, alias or name the catalogue knows); panics on any other.
pub fn crs(id: &str) -> Crs {
    geounify::catalogue::lookup(id).unwrap()
}

/// An illustrative city 7-parameter set, Beijing 1954 realisation → CGCS2000, of the size cities
/// use: translations in metres, rotations in arc-seconds, scale in ppm. The same numbers as
/// `HELMERT` in `examples/gen_proj_vectors.rs`, which generated the committed PROJ vectors.
pub fn city_helmert(convention: HelmertConvention) -> HelmertParams {
    HelmertParams {
        tx: -12.7,
        ty: 131.2,
        tz: 47.6,
        rx: 0.41,
        ry: -0.16,
        rz: 1.05,
        s: -2.7,
        convention,
    }
}
