//! Helmert (Bursa-Wolf) 7-parameter datum shift on geocentric coordinates.
//!
//! Forward, exactly as PROJ's `+proj=helmert` (its default, non-`exact` form):
//!
//! ```text
//! X' = (1 + s·10⁻⁶) · R · X + T
//! ```
//!
//! with the small-angle (linearised) rotation matrix, in the coordinate-frame convention
//! (EPSG:9607)
//!
//! ```text
//!     |  1   rz  -ry |
//! R = | -rz   1   rx |      (rx, ry, rz in radians)
//!     |  ry -rx   1  |
//! ```
//!
//! and its transpose in the position-vector convention (EPSG:9606): the two conventions differ
//! only by the sign of the rotations. The arithmetic is done in the same order as PROJ, so the
//! forward agrees with PROJ to the last bit on the same platform.
//!
//! Inverse: the **exact** inverse of the forward map, X = R⁻¹ · (X' − T) / (1 + s·10⁻⁶), with
//! R⁻¹ computed once in [`Helmert::new`]. PROJ's inverse instead multiplies by the transpose
//! Rᵀ, which is the inverse of R only to first order: R·Rᵀ = I + O(r²), so PROJ's
//! forward∘inverse is off by about |r|²·|X| (for rotations of a few arc-seconds, a few
//! millimetres on the earth's surface; see the tests). geounify's forward∘inverse is the
//! identity to rounding.

use super::{all_finite, finite_or_error, Operation, Xyz};
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

/// Arc-seconds to radians, as PROJ computes it (degrees-to-radians / 3600).
const ARCSEC_TO_RAD: f64 = std::f64::consts::PI / 180.0 / 3600.0;

/// A compiled Helmert transformation of geocentric coordinates: forward and inverse map
/// `[X, Y, Z]` metres to `[X, Y, Z]` metres.
///
/// Both directions fail only on non-finite input ([`PointError::NonFinite`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Helmert {
    params: HelmertParams,
    /// Rotation matrix (small-angle, unscaled), row-major, in the chosen convention.
    rot: [[f64; 3]; 3],
    /// 1 + s·10⁻⁶.
    scale: f64,
    /// Translation, metres.
    t: [f64; 3],
    /// (scale · rot)⁻¹, row-major.
    inv: [[f64; 3]; 3],
}

impl Helmert {
    /// Compiles `params`; fails with [`DefinitionError::OutOfRange`] when a parameter is not
    /// finite or the scale difference is ≤ −10⁶ ppm (a non-positive scale).
    pub fn new(params: HelmertParams) -> Result<Self, DefinitionError> {
        let HelmertParams { tx, ty, tz, rx, ry, rz, s, convention } = params;
        if ![tx, ty, tz].iter().all(|v| v.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "Helmert translation",
                reason: "must be a finite number of metres",
            });
        }
        if ![rx, ry, rz].iter().all(|v| v.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "Helmert rotation",
                reason: "must be a finite number of arc-seconds",
            });
        }
        if !(s.is_finite() && s > -1.0e6) {
            return Err(DefinitionError::OutOfRange {
                what: "Helmert scale difference",
                reason: "must be a finite number of ppm greater than -1e6",
            });
        }
        let (f, t, p) = (rx * ARCSEC_TO_RAD, ry * ARCSEC_TO_RAD, rz * ARCSEC_TO_RAD);
        // Coordinate frame; transposed for position vector.
        let mut rot = [[1.0, p, -t], [-p, 1.0, f], [t, -f, 1.0]];
        if convention == HelmertConvention::PositionVector {
            rot = transpose(rot);
        }
        let scale = 1.0 + s * 1e-6;
        let inv = invert_scaled(rot, scale);
        Ok(Self { params, rot, scale, t: [tx, ty, tz], inv })
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
    /// `[X, Y, Z]` → `[X', Y', Z']`, metres, as PROJ's `+proj=helmert` forward.
    #[inline]
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.forward_lane(p))
    }

    /// `[X', Y', Z']` → `[X, Y, Z]`, metres: the exact inverse of [`forward`](Self::forward).
    #[inline]
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.inverse_lane(p))
    }

    /// The forward map as a branch-free kernel: ok for finite input (the output is not
    /// checked, as in [`forward`](Self::forward); the transformer checks the final result).
    #[inline(always)]
    fn forward_lane(&self, p: Xyz) -> (Xyz, bool) {
        let m = &self.rot;
        let k = self.scale;
        // Same evaluation order as PROJ: scale · (row · X) + T.
        let q = [
            k * (m[0][0] * p[0] + m[0][1] * p[1] + m[0][2] * p[2]) + self.t[0],
            k * (m[1][0] * p[0] + m[1][1] * p[1] + m[1][2] * p[2]) + self.t[1],
            k * (m[2][0] * p[0] + m[2][1] * p[1] + m[2][2] * p[2]) + self.t[2],
        ];
        (q, all_finite(p))
    }

    /// The inverse map as a branch-free kernel, under the same rule as
    /// [`forward_lane`](Self::forward_lane).
    #[inline(always)]
    fn inverse_lane(&self, p: Xyz) -> (Xyz, bool) {
        let d = [p[0] - self.t[0], p[1] - self.t[1], p[2] - self.t[2]];
        let m = &self.inv;
        let q = [
            m[0][0] * d[0] + m[0][1] * d[1] + m[0][2] * d[2],
            m[1][0] * d[0] + m[1][1] * d[1] + m[1][2] * d[2],
            m[2][0] * d[0] + m[2][1] * d[1] + m[2][2] * d[2],
        ];
        (q, all_finite(p))
    }
}

fn transpose(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    [[m[0][0], m[1][0], m[2][0]], [m[0][1], m[1][1], m[2][1]], [m[0][2], m[1][2], m[2][2]]]
}

/// (k·m)⁻¹ by the adjugate. For the small-angle matrix det m = 1 + rx² + ry² + rz² ≥ 1, so the
/// inverse always exists; k > 0 is checked by the caller.
fn invert_scaled(m: [[f64; 3]; 3], k: f64) -> [[f64; 3]; 3] {
    let c = |i: usize, j: usize| {
        let (i1, i2) = ((i + 1) % 3, (i + 2) % 3);
        let (j1, j2) = ((j + 1) % 3, (j + 2) % 3);
        m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    let f = 1.0 / (det * k);
    // inverse[i][j] = cofactor(j, i) / det
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = c(j, i) * f;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_differ_by_the_sign_of_rotations() {
        let base = HelmertParams {
            tx: 1.0,
            ty: -2.0,
            tz: 3.0,
            rx: 1.5,
            ry: -0.7,
            rz: 2.2,
            s: 0.8,
            convention: HelmertConvention::PositionVector,
        };
        let pv = Helmert::new(base.clone()).unwrap();
        let cf = Helmert::new(HelmertParams {
            rx: -1.5,
            ry: 0.7,
            rz: -2.2,
            convention: HelmertConvention::CoordinateFrame,
            ..base
        })
        .unwrap();
        let p = [-2_148_000.0, 4_426_000.0, 4_045_000.0];
        assert_eq!(pv.forward(p).unwrap(), cf.forward(p).unwrap());
    }

    #[test]
    fn invalid_params_are_rejected() {
        let mut p = HelmertParams::translation(1.0, 2.0, 3.0);
        p.rx = f64::NAN;
        assert!(Helmert::new(p).is_err());
        assert!(Helmert::new(HelmertParams::translation(f64::INFINITY, 0.0, 0.0)).is_err());
        let mut p = HelmertParams::translation(1.0, 2.0, 3.0);
        p.s = -1e6;
        assert!(Helmert::new(p).is_err());
    }
}
