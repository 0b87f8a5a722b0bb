//! Degrees ↔ radians on the horizontal components, the first and last step of every pipeline
//! whose end is a geographic CRS.

use super::{check_finite, Operation, Xyz};
use crate::error::PointError;

/// Forward: `[lon°, lat°, h]` → `[lon rad, lat rad, h]`; inverse the reverse. Height untouched.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DegreesToRadians;

impl Operation for DegreesToRadians {
    fn name(&self) -> &'static str {
        "degrees-to-radians"
    }
    #[inline]
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_finite(p)?;
        Ok([p[0].to_radians(), p[1].to_radians(), p[2]])
    }
    #[inline]
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_finite(p)?;
        Ok([p[0].to_degrees(), p[1].to_degrees(), p[2]])
    }
}
