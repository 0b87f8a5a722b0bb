//! Web Mercator (EPSG:3857). STUB: to be implemented.

use super::{Operation, Xyz};
use crate::error::PointError;

/// Popular visualisation pseudo-Mercator: spherical Mercator on a = 6 378 137 m.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebMercator;

impl WebMercator {
    /// EPSG:3857's projection.
    pub fn new() -> Self {
        Self
    }
}

impl Operation for WebMercator {
    fn name(&self) -> &'static str {
        "web-mercator"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
