//! GCJ-02 → BD-09. STUB: to be implemented.

use super::{Operation, Xyz};
use crate::error::PointError;

/// BD-09 forward (GCJ-02 → BD-09) and exact inverse, on geographic coordinates in radians.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bd09;

impl Bd09 {
    /// The published transformation.
    pub fn new() -> Self {
        Self
    }
}

impl Operation for Bd09 {
    fn name(&self) -> &'static str {
        "bd09"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
