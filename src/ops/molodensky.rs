//! Molodensky datum shift. STUB: to be implemented.

use super::{Operation, Xyz};
use crate::ellipsoid::Ellipsoid;
use crate::error::{DefinitionError, PointError};

/// Molodensky parameters: geocentric translations in metres, and whether the abridged formulas
/// are used.
#[derive(Debug, Clone, PartialEq)]
pub struct MolodenskyParams {
    /// X translation, metres.
    pub dx: f64,
    /// Y translation, metres.
    pub dy: f64,
    /// Z translation, metres.
    pub dz: f64,
    /// Abridged Molodensky (EPSG:9605) instead of the standard one (EPSG:9604).
    pub abridged: bool,
}

/// A compiled Molodensky shift between two ellipsoids, on geographic coordinates (radians).
#[derive(Debug, Clone, PartialEq)]
pub struct Molodensky {
    params: MolodenskyParams,
}

impl Molodensky {
    /// From `source` to `target` ellipsoid.
    pub fn new(
        source: &Ellipsoid,
        target: &Ellipsoid,
        params: MolodenskyParams,
    ) -> Result<Self, DefinitionError> {
        let _ = (source, target);
        Ok(Self { params })
    }
}

impl Operation for Molodensky {
    fn name(&self) -> &'static str {
        "molodensky"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
