//! Geographic ↔ geocentric. STUB: to be implemented.

use super::{Operation, Xyz};
use crate::ellipsoid::Ellipsoid;
use crate::error::PointError;

/// Forward: geographic `[lon rad, lat rad, h m]` → geocentric `[X, Y, Z]` metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Geocentric {
    a: f64,
    es: f64,
}

impl Geocentric {
    /// For `ellipsoid`.
    pub fn new(ellipsoid: &Ellipsoid) -> Self {
        Self { a: ellipsoid.a(), es: ellipsoid.es() }
    }
}

impl Operation for Geocentric {
    fn name(&self) -> &'static str {
        "geocentric"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
