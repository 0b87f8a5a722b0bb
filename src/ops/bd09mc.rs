//! BD-09 → Baidu Mercator. STUB: to be implemented.

use super::{Operation, Xyz};
use crate::error::PointError;

/// Baidu Mercator forward (BD-09 radians → metres) and inverse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bd09Mc;

impl Bd09Mc {
    /// Baidu's published transformation.
    pub fn new() -> Self {
        Self
    }
}

impl Operation for Bd09Mc {
    fn name(&self) -> &'static str {
        "bd09mc"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
