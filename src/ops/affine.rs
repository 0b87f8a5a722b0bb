//! Planar 6-parameter affine transformation of projected coordinates:
//!
//! ```text
//! E' = a0 + a1·E + a2·N
//! N' = b0 + b1·E + b2·N
//! ```
//!
//! metres in, metres out; heights pass through. It allows a different scale along each axis and
//! a shear, which a 4-parameter Helmert does not. The inverse is the exact algebraic inverse of
//! the 2×2 matrix (refused when the matrix is singular or nearly so).
//!
//! Parameters stated for the survey axis order (X = north, Y = east) are converted by
//! [`AffineParams::from_north_east`].

use super::{all_finite, finite_or_error, Operation, Xyz};
use crate::error::{DefinitionError, PointError};

/// Parameters of a planar affine transformation, in the (E, N) axis order.
#[derive(Debug, Clone, PartialEq)]
pub struct AffineParams {
    /// Easting offset, metres.
    pub a0: f64,
    /// ∂E'/∂E.
    pub a1: f64,
    /// ∂E'/∂N.
    pub a2: f64,
    /// Northing offset, metres.
    pub b0: f64,
    /// ∂N'/∂E.
    pub b1: f64,
    /// ∂N'/∂N.
    pub b2: f64,
}

impl AffineParams {
    /// Parameters stated for the survey axis order (X = north, Y = east), i.e. for
    /// `X' = a0 + a1·X + a2·Y`, `Y' = b0 + b1·X + b2·Y`, as the same map in the (E, N) order.
    /// Exact in floating point (a permutation).
    pub fn from_north_east(a0: f64, a1: f64, a2: f64, b0: f64, b1: f64, b2: f64) -> Self {
        Self { a0: b0, a1: b2, a2: b1, b0: a0, b1: a2, b2: a1 }
    }

    /// These parameters stated for the survey axis order: the inverse of
    /// [`from_north_east`](Self::from_north_east), as `(a0, a1, a2, b0, b1, b2)`.
    pub fn to_north_east(&self) -> (f64, f64, f64, f64, f64, f64) {
        (self.b0, self.b2, self.b1, self.a0, self.a2, self.a1)
    }
}

/// A compiled affine transformation: forward and inverse map `[E, N, h]` metres to
/// `[E', N', h]` metres. Both fail only on non-finite input ([`PointError::NonFinite`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    params: AffineParams,
    /// The inverse matrix, row-major.
    inv: [[f64; 2]; 2],
}

impl Affine {
    /// Compiles `params`; fails with [`DefinitionError::OutOfRange`] unless every parameter is
    /// finite and the matrix is invertible: |a1·b2 − a2·b1| must exceed 10⁻¹² times the product of
    /// its row norms (a matrix closer to singular would lose the inverse to rounding).
    pub fn new(params: AffineParams) -> Result<Self, DefinitionError> {
        let AffineParams { a0, a1, a2, b0, b1, b2 } = params;
        if !(a0.is_finite() && b0.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "affine offsets a0, b0",
                reason: "must be finite numbers of metres",
            });
        }
        if ![a1, a2, b1, b2].iter().all(|v| v.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "affine coefficients a1, a2, b1, b2",
                reason: "must be finite numbers",
            });
        }
        let det = a1 * b2 - a2 * b1;
        let norms = a1.hypot(a2) * b1.hypot(b2);
        if !(det.abs() > 1e-12 * norms && det.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "affine matrix [a1 a2; b1 b2]",
                reason: "must be invertible (its determinant is zero or nearly so)",
            });
        }
        let inv = [[b2 / det, -a2 / det], [-b1 / det, a1 / det]];
        Ok(Self { params, inv })
    }

    /// The parameters it was built from.
    pub fn params(&self) -> &AffineParams {
        &self.params
    }
}

impl Operation for Affine {
    fn name(&self) -> &'static str {
        "affine6"
    }

    #[inline]
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.forward_lane(p))
    }

    /// Fails on non-finite input or output ([`PointError::NonFinite`]).
    #[inline]
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.inverse_lane(p))
    }

    /// Branch-free: ok for finite input (the output is not checked; the transformer checks the
    /// final result).
    #[inline(always)]
    fn forward_lane(&self, p: Xyz) -> (Xyz, bool) {
        let AffineParams { a0, a1, a2, b0, b1, b2 } = self.params;
        let q = [a0 + (a1 * p[0] + a2 * p[1]), b0 + (b1 * p[0] + b2 * p[1]), p[2]];
        (q, all_finite(p))
    }

    /// Branch-free: ok for finite input and output.
    #[inline(always)]
    fn inverse_lane(&self, p: Xyz) -> (Xyz, bool) {
        let (de, dn) = (p[0] - self.params.a0, p[1] - self.params.b0);
        let m = &self.inv;
        let q = [m[0][0] * de + m[0][1] * dn, m[1][0] * de + m[1][1] * dn, p[2]];
        (q, all_finite(p) & all_finite(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> AffineParams {
        AffineParams {
            a0: -421_337.25,
            a1: 0.999_7,
            a2: -0.026_2,
            b0: -4_201_112.5,
            b1: 0.026_1,
            b2: 1.000_3,
        }
    }

    #[test]
    fn forward_is_the_formula_and_inverse_undoes_it() {
        let t = Affine::new(example()).unwrap();
        let p = [450_000.0, 4_420_000.0, 3.0];
        let q = t.forward(p).unwrap();
        let want = [
            -421_337.25 + 0.999_7 * 450_000.0 - 0.026_2 * 4_420_000.0,
            -4_201_112.5 + 0.026_1 * 450_000.0 + 1.000_3 * 4_420_000.0,
        ];
        // Same arithmetic up to association: a few ulps of 4e6 m.
        assert!((q[0] - want[0]).abs() < 2e-9 && (q[1] - want[1]).abs() < 2e-9);
        let back = t.inverse(q).unwrap();
        assert!((back[0] - p[0]).abs() < 5e-9 && (back[1] - p[1]).abs() < 5e-9);
        assert_eq!(back[2], 3.0);
    }

    #[test]
    fn north_east_parameters_describe_the_same_map() {
        let ne = example(); // read as survey-order parameters
        let en = AffineParams::from_north_east(ne.a0, ne.a1, ne.a2, ne.b0, ne.b1, ne.b2);
        let (e, n) = (450_000.0, 4_420_000.0);
        let [n2, e2, _] = Affine::new(ne.clone()).unwrap().forward([n, e, 0.0]).unwrap();
        let [e3, n3, _] = Affine::new(en.clone()).unwrap().forward([e, n, 0.0]).unwrap();
        assert!((e2 - e3).abs() < 2e-9 && (n2 - n3).abs() < 2e-9);
        assert_eq!(en.to_north_east(), (ne.a0, ne.a1, ne.a2, ne.b0, ne.b1, ne.b2));
    }

    #[test]
    fn singular_or_non_finite_parameters_are_refused() {
        let mut p = example();
        p.a1 = 2.0;
        p.a2 = 4.0;
        p.b1 = 1.0;
        p.b2 = 2.0;
        assert!(Affine::new(p).is_err());
        let mut p = example();
        p.b0 = f64::NAN;
        assert!(Affine::new(p).is_err());
    }
}
