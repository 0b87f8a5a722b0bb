//! Degrees ↔ radians on the horizontal components, the first and last step of every pipeline
//! whose end is a geographic CRS.

use super::{all_finite, finite_or_error, Operation, Xyz};
use crate::error::PointError;

/// Forward: `[lon°, lat°, h]` → `[lon rad, lat rad, h]`; inverse the reverse. Height untouched.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DegreesToRadians;

impl Operation for DegreesToRadians {
    fn name(&self) -> &'static str {
        "degrees-to-radians"
    }
    /// Fails only on non-finite input ([`PointError::NonFinite`]).
    #[inline]
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.forward_lane(p))
    }
    /// Fails only on non-finite input ([`PointError::NonFinite`]).
    #[inline]
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.inverse_lane(p))
    }
    /// One multiplication per angle (`to_radians` is `x · (π/180)`).
    #[inline(always)]
    fn forward_lane(&self, p: Xyz) -> (Xyz, bool) {
        ([p[0].to_radians(), p[1].to_radians(), p[2]], all_finite(p))
    }
    #[inline(always)]
    fn inverse_lane(&self, p: Xyz) -> (Xyz, bool) {
        ([p[0].to_degrees(), p[1].to_degrees(), p[2]], all_finite(p))
    }
}
