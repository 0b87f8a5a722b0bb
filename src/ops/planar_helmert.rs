//! Planar 4-parameter Helmert (similarity) transformation of projected coordinates, as cities
//! publish the link between a national Gauss-Krüger grid and a local grid:
//!
//! ```text
//! E' = dx + (1 + s·10⁻⁶)·(E·cos θ − N·sin θ)
//! N' = dy + (1 + s·10⁻⁶)·(E·sin θ + N·cos θ)
//! ```
//!
//! θ in arc-seconds, counter-clockwise in the (E, N) plane; s in ppm; dx, dy in metres. Heights
//! pass through. The inverse is the exact algebraic inverse (rotate back by −θ, divide by the
//! scale), so forward∘inverse is the identity to rounding.
//!
//! Survey software writes X = north, Y = east; parameters stated in that order are converted to
//! this (E, N) form by [`PlanarHelmertParams::from_north_east`].

use super::{all_finite, finite_or_error, Operation, Xyz};
use crate::error::{DefinitionError, PointError};

/// Parameters of a planar 4-parameter Helmert transformation, in the (E, N) axis order.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanarHelmertParams {
    /// Translation of the easting, metres.
    pub dx: f64,
    /// Translation of the northing, metres.
    pub dy: f64,
    /// Rotation, arc-seconds, counter-clockwise in the (E, N) plane.
    pub theta: f64,
    /// Scale difference, ppm.
    pub s: f64,
}

impl PlanarHelmertParams {
    /// Parameters stated for the survey axis order (X = north, Y = east), i.e. for
    /// `X' = dx + m(X cos θ − Y sin θ)`, `Y' = dy + m(X sin θ + Y cos θ)`, as the same
    /// transformation in the (E, N) order: the translations swap and the rotation changes sign
    /// (a counter-clockwise rotation in (N, E) is clockwise in (E, N)). Exact in floating point.
    pub fn from_north_east(dx: f64, dy: f64, theta: f64, s: f64) -> Self {
        Self { dx: dy, dy: dx, theta: -theta, s }
    }

    /// These parameters stated for the survey axis order (X = north, Y = east): the inverse of
    /// [`from_north_east`](Self::from_north_east), as `(dx, dy, theta, s)`.
    pub fn to_north_east(&self) -> (f64, f64, f64, f64) {
        (self.dy, self.dx, -self.theta, self.s)
    }
}

/// Arc-seconds to radians.
const ARCSEC_TO_RAD: f64 = std::f64::consts::PI / 180.0 / 3600.0;

/// A compiled planar Helmert transformation: forward and inverse map `[E, N, h]` metres to
/// `[E', N', h]` metres. Both fail only on non-finite input ([`PointError::NonFinite`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanarHelmert {
    params: PlanarHelmertParams,
    /// m·cos θ, m·sin θ.
    mc: f64,
    ms: f64,
    /// 1/m.
    inv_m: f64,
    cos: f64,
    sin: f64,
}

impl PlanarHelmert {
    /// Compiles `params`; fails with [`DefinitionError::OutOfRange`] unless every parameter is
    /// finite, |θ| ≤ 1 296 000″ (one turn) and the scale 1 + s·10⁻⁶ is positive.
    pub fn new(params: PlanarHelmertParams) -> Result<Self, DefinitionError> {
        let PlanarHelmertParams { dx, dy, theta, s } = params;
        if !(dx.is_finite() && dy.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "planar Helmert translation",
                reason: "must be a finite number of metres",
            });
        }
        if !(theta.is_finite() && theta.abs() <= 1_296_000.0) {
            return Err(DefinitionError::OutOfRange {
                what: "planar Helmert rotation theta",
                reason: "must be a finite number of arc-seconds within one turn",
            });
        }
        if !(s.is_finite() && s > -1.0e6) {
            return Err(DefinitionError::OutOfRange {
                what: "planar Helmert scale difference s",
                reason: "must be a finite number of ppm greater than -1e6",
            });
        }
        let m = 1.0 + s * 1e-6;
        let (sin, cos) = (theta * ARCSEC_TO_RAD).sin_cos();
        Ok(Self { params, mc: m * cos, ms: m * sin, inv_m: 1.0 / m, cos, sin })
    }

    /// The parameters it was built from.
    pub fn params(&self) -> &PlanarHelmertParams {
        &self.params
    }
}

impl Operation for PlanarHelmert {
    fn name(&self) -> &'static str {
        "helmert4"
    }

    #[inline]
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.forward_lane(p))
    }

    #[inline]
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        finite_or_error(self.inverse_lane(p))
    }

    /// Branch-free: ok for finite input (the output is not checked; the transformer checks the
    /// final result).
    #[inline(always)]
    fn forward_lane(&self, p: Xyz) -> (Xyz, bool) {
        let [e, n, h] = p;
        let q = [
            self.params.dx + (self.mc * e - self.ms * n),
            self.params.dy + (self.ms * e + self.mc * n),
            h,
        ];
        (q, all_finite(p))
    }

    #[inline(always)]
    fn inverse_lane(&self, p: Xyz) -> (Xyz, bool) {
        let (de, dn) = (p[0] - self.params.dx, p[1] - self.params.dy);
        let q = [
            (self.cos * de + self.sin * dn) * self.inv_m,
            (self.cos * dn - self.sin * de) * self.inv_m,
            p[2],
        ];
        (q, all_finite(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> PlanarHelmertParams {
        PlanarHelmertParams { dx: -421_337.25, dy: -4_201_112.5, theta: 5400.0, s: 12.5 }
    }

    #[test]
    fn forward_matches_the_formula_written_out() {
        // θ = 5400″ = 1.5°; m = 1.0000125. Values by the formula in the module docs.
        let t = PlanarHelmert::new(example()).unwrap();
        let (e, n) = (450_000.0, 4_420_000.0);
        let m = 1.0 + 12.5e-6;
        let th = 1.5_f64.to_radians();
        let want_e = -421_337.25 + m * (e * th.cos() - n * th.sin());
        let want_n = -4_201_112.5 + m * (e * th.sin() + n * th.cos());
        let got = t.forward([e, n, 7.0]).unwrap();
        // Same arithmetic up to association: agreement to a few ulps of 4e6 m (≈1e-9 m).
        assert!((got[0] - want_e).abs() < 2e-9, "{}", got[0] - want_e);
        assert!((got[1] - want_n).abs() < 2e-9, "{}", got[1] - want_n);
        assert_eq!(got[2], 7.0);
    }

    #[test]
    fn inverse_undoes_forward() {
        let t = PlanarHelmert::new(example()).unwrap();
        let p = [438_123.456, 4_433_210.987, 12.0];
        let back = t.inverse(t.forward(p).unwrap()).unwrap();
        // Coordinates of 4.4e6 m have an ulp of 9.3e-10 m; a handful of roundings.
        assert!((back[0] - p[0]).abs() < 5e-9 && (back[1] - p[1]).abs() < 5e-9);
    }

    #[test]
    fn north_east_parameters_describe_the_same_map() {
        let (dx, dy, theta, s) = (-4_201_112.5, -421_337.25, 5400.0, 12.5);
        let ne = PlanarHelmert::new(PlanarHelmertParams { dx, dy, theta, s }).unwrap();
        let en =
            PlanarHelmert::new(PlanarHelmertParams::from_north_east(dx, dy, theta, s)).unwrap();
        let (e, n) = (450_000.0, 4_420_000.0);
        let [n2, e2, _] = ne.forward([n, e, 0.0]).unwrap(); // survey order in, survey order out
        let [e3, n3, _] = en.forward([e, n, 0.0]).unwrap();
        assert!((e2 - e3).abs() < 2e-9 && (n2 - n3).abs() < 2e-9);
        assert_eq!(
            PlanarHelmertParams::from_north_east(dx, dy, theta, s).to_north_east(),
            (dx, dy, theta, s)
        );
    }

    #[test]
    fn invalid_parameters_are_refused() {
        let bad = |f: fn(&mut PlanarHelmertParams)| {
            let mut p = example();
            f(&mut p);
            PlanarHelmert::new(p).is_err()
        };
        assert!(bad(|p| p.dx = f64::NAN));
        assert!(bad(|p| p.theta = 2e6));
        assert!(bad(|p| p.s = -1e6));
        assert!(bad(|p| p.dy = f64::INFINITY));
    }

    #[test]
    fn non_finite_points_fail() {
        let t = PlanarHelmert::new(example()).unwrap();
        assert_eq!(t.forward([f64::NAN, 0.0, 0.0]), Err(PointError::NonFinite));
        assert_eq!(t.inverse([0.0, f64::INFINITY, 0.0]), Err(PointError::NonFinite));
    }
}
