//! WGS84 → GCJ-02. STUB: to be implemented.

use super::{Operation, Xyz};
use crate::error::PointError;

/// Where the GCJ-02 offset is applied.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ChinaBounds {
    /// The usual bounding box: longitude 72.004°–137.8347° E, latitude 0.8293°–55.8271° N.
    #[default]
    UsualBox,
    /// Everywhere: no out-of-China rule.
    Everywhere,
}

/// GCJ-02 forward (WGS84 → GCJ-02) and exact inverse, on geographic coordinates in radians.
#[derive(Debug, Clone, PartialEq)]
pub struct Gcj02 {
    bounds: ChinaBounds,
}

impl Gcj02 {
    /// With the given out-of-China rule.
    pub fn new(bounds: ChinaBounds) -> Self {
        Self { bounds }
    }
}

impl Operation for Gcj02 {
    fn name(&self) -> &'static str {
        "gcj02"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
