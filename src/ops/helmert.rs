//! Helmert (Bursa-Wolf) datum shift. STUB: to be implemented.

use super::{Operation, Xyz};
use crate::error::{DefinitionError, PointError};

/// Which sign convention the rotations follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelmertConvention {
    /// Position vector (EPSG:9606, PROJ `+convention=position_vector`).
    PositionVector,
    /// Coordinate frame (EPSG:9607, PROJ `+convention=coordinate_frame`).
    CoordinateFrame,
}

/// Helmert parameters. Translations in metres, rotations in arc-seconds, scale in ppm.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmertParams {
    /// X translation, metres.
    pub tx: f64,
    /// Y translation, metres.
    pub ty: f64,
    /// Z translation, metres.
    pub tz: f64,
    /// X rotation, arc-seconds.
    pub rx: f64,
    /// Y rotation, arc-seconds.
    pub ry: f64,
    /// Z rotation, arc-seconds.
    pub rz: f64,
    /// Scale difference, parts per million.
    pub s: f64,
    /// Rotation convention.
    pub convention: HelmertConvention,
}

impl HelmertParams {
    /// A 3-parameter (translation only) shift, metres.
    pub fn translation(tx: f64, ty: f64, tz: f64) -> Self {
        Self {
            tx,
            ty,
            tz,
            rx: 0.0,
            ry: 0.0,
            rz: 0.0,
            s: 0.0,
            convention: HelmertConvention::PositionVector,
        }
    }
}

/// A compiled Helmert transformation of geocentric coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Helmert {
    params: HelmertParams,
}

impl Helmert {
    /// Compiles `params`; fails on non-finite values.
    pub fn new(params: HelmertParams) -> Result<Self, DefinitionError> {
        Ok(Self { params })
    }
    /// The parameters it was built from.
    pub fn params(&self) -> &HelmertParams {
        &self.params
    }
}

impl Operation for Helmert {
    fn name(&self) -> &'static str {
        "helmert"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
