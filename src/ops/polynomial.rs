//! Planar second-order polynomial of projected coordinates (`poly2`), for local grids that a
//! similarity or an affine map does not fit to the centimetre. Centred at an origin (e0, n0) so
//! that the coefficients and the inverse are well conditioned:
//!
//! ```text
//! u = E − e0,  v = N − n0                                   (metres)
//! E' = a0 + a1·u + a2·v + a3·u² + a4·u·v + a5·v²
//! N' = b0 + b1·u + b2·v + b3·u² + b4·u·v + b5·v²
//! ```
//!
//! metres in, metres out; heights pass through. a0, b0 are metres (the image of the origin),
//! a1, a2, b1, b2 ratios, a3…a5, b3…b5 per metre.
//!
//! The inverse has no closed form: it is Newton's method started from the inverse of the linear
//! part, iterated until the correction is below 10⁻¹⁰ m (or a few ulps of the offset from the
//! origin, whichever is larger, beyond about 100 km from it), at most 20 iterations
//! ([`PointError::NoConvergence`]). A point where the Jacobian is singular, or whose solution
//! lies beyond the fold of the map (where the Jacobian's determinant has changed sign, i.e. a
//! second preimage on another sheet), has no inverse here: [`PointError::OutsideDomain`].
//! Within a city (tens of kilometres, quadratic terms of metres at most) Newton converges in
//! two or three iterations.
//!
//! The map is taken on the origin's sheet only: the points joined to the origin (e0, n0) by a
//! segment along which the Jacobian determinant keeps its sign. The forward refuses a point
//! beyond the fold ([`PointError::OutsideDomain`], "beyond the fold of the grid"), as the
//! inverse refuses a solution there: either would otherwise give a value that converts back to
//! another point. A CRS file's grid with an `area` is checked whole at load instead
//! ([`Polynomial2::fold_free_over`]).
//!
//! Parameters stated for the survey axis order (X = north, Y = east) are converted by
//! [`Polynomial2Params::from_north_east`].

use super::{check_finite, Operation, Xyz};
use crate::error::{DefinitionError, PointError};

/// The method name, in CRS files and messages.
const NAME: &str = "poly2";

/// Iteration cap of the inverse.
const MAX_ITERATIONS: u32 = 20;

/// Convergence tolerance of the inverse, metres.
const TOLERANCE: f64 = 1e-10;

/// The smallest Jacobian determinant accepted over a declared area, as a fraction of its value
/// at the origin ([`Polynomial2::fold_free_over`]): below it the grid is close to folding
/// (points a tenth as far apart as at the origin), far from any real grid (whose determinant
/// varies by parts per million over a city).
pub const MIN_DET_RATIO: f64 = 0.1;

/// The error of a point beyond the fold of the map.
const BEYOND_FOLD: &str = "poly2 (beyond the fold of the grid, where it maps two points to one)";

/// Parameters of a planar second-order polynomial, in the (E, N) axis order (see the
/// [module docs](self) for the formula).
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial2Params {
    /// Easting of the origin, metres (in the source CRS).
    pub e0: f64,
    /// Northing of the origin, metres (in the source CRS).
    pub n0: f64,
    /// Coefficients of E': `[a0 (m), a1, a2, a3 (1/m), a4 (1/m), a5 (1/m)]` of
    /// `1, u, v, u², u·v, v²`.
    pub a: [f64; 6],
    /// Coefficients of N': `[b0 (m), b1, b2, b3 (1/m), b4 (1/m), b5 (1/m)]` of
    /// `1, u, v, u², u·v, v²`.
    pub b: [f64; 6],
}

/// The permutation of the six monomials `1, u, v, u², uv, v²` when u and v swap.
const SWAP: [usize; 6] = [0, 2, 1, 5, 4, 3];

fn permuted(c: &[f64; 6]) -> [f64; 6] {
    SWAP.map(|i| c[i])
}

impl Polynomial2Params {
    /// Parameters stated for the survey axis order (X = north, Y = east), i.e. for
    /// `X' = a0 + a1·x + a2·y + a3·x² + a4·x·y + a5·y²`, `Y' = b0 + b1·x + …` with
    /// `x = X − x0 = N − n0`, `y = Y − y0 = E − e0`, as the same map in the (E, N) order:
    /// `x0` is the origin's northing, `y0` its easting; the E' coefficients are the Y'
    /// coefficients `[b0, b2, b1, b5, b4, b3]` and the N' ones the X' coefficients
    /// `[a0, a2, a1, a5, a4, a3]`. Exact in floating point (a permutation).
    pub fn from_north_east(x0: f64, y0: f64, a: [f64; 6], b: [f64; 6]) -> Self {
        Self { e0: y0, n0: x0, a: permuted(&b), b: permuted(&a) }
    }

    /// These parameters stated for the survey axis order: the inverse of
    /// [`from_north_east`](Self::from_north_east), as `(x0, y0, a, b)` (x0 the origin's
    /// northing).
    pub fn to_north_east(&self) -> (f64, f64, [f64; 6], [f64; 6]) {
        (self.n0, self.e0, permuted(&self.b), permuted(&self.a))
    }
}

/// A compiled second-order polynomial: forward maps `[E, N, h]` metres to `[E', N', h]` metres
/// by the formula; inverse by Newton's method (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial2 {
    params: Polynomial2Params,
    /// Inverse of the linear part (the Jacobian at the origin), row-major: the start of Newton.
    inv: [[f64; 2]; 2],
    /// Sign of the Jacobian's determinant at the origin.
    sign: f64,
}

/// Whether a 2×2 determinant is safely non-zero: |det| above 10⁻¹² times the product of the row
/// norms (as [`Affine`](super::Affine) requires of its matrix).
fn invertible(m: [[f64; 2]; 2], det: f64) -> bool {
    let norms = m[0][0].hypot(m[0][1]) * m[1][0].hypot(m[1][1]);
    det.is_finite() && det.abs() > 1e-12 * norms
}

impl Polynomial2 {
    /// Compiles `params`; fails with [`DefinitionError::OutOfRange`] unless every parameter is
    /// finite, e0, n0, a0 and b0 are within ±10⁸ m, the linear coefficients within ±10, the
    /// quadratic ones within ±10⁻³ per metre (a larger one is a unit mistake: 1 km of metres),
    /// and the Jacobian at the origin (the linear part) is invertible, with the same criterion as
    /// [`Affine`](super::Affine).
    pub fn new(params: Polynomial2Params) -> Result<Self, DefinitionError> {
        let Polynomial2Params { e0, n0, a, b } = &params;
        let within = |v: f64, limit: f64| v.is_finite() && v.abs() <= limit;
        if !(within(*e0, 1e8) && within(*n0, 1e8)) {
            return Err(DefinitionError::OutOfRange {
                what: "poly2 origin e0, n0",
                reason: "must be finite numbers of metres within ±100 000 000",
            });
        }
        if !(within(a[0], 1e8) && within(b[0], 1e8)) {
            return Err(DefinitionError::OutOfRange {
                what: "poly2 constant terms a0, b0",
                reason: "must be finite numbers of metres within ±100 000 000",
            });
        }
        if ![a[1], a[2], b[1], b[2]].iter().all(|&v| within(v, 10.0)) {
            return Err(DefinitionError::OutOfRange {
                what: "poly2 linear coefficients a1, a2, b1, b2",
                reason: "must be finite numbers within ±10",
            });
        }
        if ![a[3], a[4], a[5], b[3], b[4], b[5]].iter().all(|&v| within(v, 1e-3)) {
            return Err(DefinitionError::OutOfRange {
                what: "poly2 quadratic coefficients a3, a4, a5, b3, b4, b5",
                reason: "must be finite numbers within ±0.001 per metre",
            });
        }
        let m = [[a[1], a[2]], [b[1], b[2]]];
        let det = a[1] * b[2] - a[2] * b[1];
        if !invertible(m, det) {
            return Err(DefinitionError::OutOfRange {
                what: "poly2 linear part [a1 a2; b1 b2]",
                reason: "must be invertible (its determinant is zero or nearly so)",
            });
        }
        let inv = [[b[2] / det, -a[2] / det], [-b[1] / det, a[1] / det]];
        Ok(Self { params, inv, sign: det.signum() })
    }

    /// The parameters it was built from.
    pub fn params(&self) -> &Polynomial2Params {
        &self.params
    }

    /// The non-constant part of the polynomial at (u, v): `(E' − a0, N' − b0)`.
    #[inline]
    fn variable_part(&self, u: f64, v: f64) -> (f64, f64) {
        let (a, b) = (&self.params.a, &self.params.b);
        (
            u * (a[1] + a[3] * u + a[4] * v) + v * (a[2] + a[5] * v),
            u * (b[1] + b[3] * u + b[4] * v) + v * (b[2] + b[5] * v),
        )
    }

    /// Whether the map is one-to-one and well conditioned over the rectangle `e` × `n`
    /// (eastings and northings in metres, `(min, max)` each, in the source CRS): its Jacobian
    /// determinant keeps the sign it has at the origin and stays above a tenth of its value
    /// there ([`MIN_DET_RATIO`]). Exact up to rounding: the determinant is a quadratic in
    /// (u, v), so its extremes over the rectangle are among the corners, the vertices of its
    /// restrictions to the edges and its one interior critical point, all evaluated here.
    /// `false` for a non-finite or empty rectangle.
    ///
    /// The rectangle checked is the smallest containing both `e` × `n` and the origin
    /// (e0, n0): the same sign elsewhere is not enough (E' = u + k·u², N' = v + k·v² has the
    /// origin's sign again beyond both of its folds, on another sheet).
    pub fn fold_free_over(&self, e: (f64, f64), n: (f64, f64)) -> bool {
        let (e0, n0) = (self.params.e0, self.params.n0);
        let (u0, u1, v0, v1) = (e.0 - e0, e.1 - e0, n.0 - n0, n.1 - n0);
        if !([u0, u1, v0, v1].iter().all(|x| x.is_finite()) && u0 <= u1 && v0 <= v1) {
            return false;
        }
        let (u0, u1, v0, v1) = (u0.min(0.0), u1.max(0.0), v0.min(0.0), v1.max(0.0));
        let d = self.det_coefficients();
        let det = |u: f64, v: f64| {
            d[0] + d[1] * u + d[2] * v + d[3] * u * u + d[4] * u * v + d[5] * v * v
        };
        let mut candidates = vec![(u0, v0), (u0, v1), (u1, v0), (u1, v1)];
        // Edges u = const: det(v) has v² coefficient d5 and v coefficient d2 + d4·u.
        for u in [u0, u1] {
            if d[5] != 0.0 {
                candidates.push((u, -(d[2] + d[4] * u) / (2.0 * d[5])));
            }
        }
        for v in [v0, v1] {
            if d[3] != 0.0 {
                candidates.push((-(d[1] + d[4] * v) / (2.0 * d[3]), v));
            }
        }
        // The interior critical point: d1 + 2·d3·u + d4·v = 0, d2 + d4·u + 2·d5·v = 0.
        let h = 4.0 * d[3] * d[5] - d[4] * d[4];
        if h != 0.0 {
            candidates.push((
                (d[4] * d[2] - 2.0 * d[5] * d[1]) / h,
                (d[4] * d[1] - 2.0 * d[3] * d[2]) / h,
            ));
        }
        let origin = d[0] * self.sign;
        candidates
            .into_iter()
            .filter(|&(u, v)| (u0..=u1).contains(&u) && (v0..=v1).contains(&v))
            .all(|(u, v)| det(u, v) * self.sign >= MIN_DET_RATIO * origin)
    }

    /// Whether (u, v) is on the origin's sheet: the Jacobian determinant keeps the origin's
    /// sign along the segment from the origin to (u, v) (a quadratic in the segment's
    /// parameter t: its ends and its vertex are checked). `false` for non-finite input.
    fn on_origin_sheet(&self, u: f64, v: f64) -> bool {
        let d = self.det_coefficients();
        let (c0, c1, c2) = (d[0], d[1] * u + d[2] * v, d[3] * u * u + d[4] * u * v + d[5] * v * v);
        let mut low = (c0 * self.sign).min((c0 + c1 + c2) * self.sign);
        if c2 != 0.0 {
            let t = -c1 / (2.0 * c2);
            if t > 0.0 && t < 1.0 {
                low = low.min((c0 + t * (c1 + t * c2)) * self.sign);
            }
        }
        low > 0.0
    }

    /// The Jacobian determinant as a quadratic in (u, v): `[d0, du, dv, duu, duv, dvv]` of
    /// `1, u, v, u², u·v, v²`.
    fn det_coefficients(&self) -> [f64; 6] {
        let (a, b) = (&self.params.a, &self.params.b);
        // J = [[p0 + p1·u + p2·v, q0 + q1·u + q2·v], [r0 + r1·u + r2·v, s0 + s1·u + s2·v]].
        let (p0, p1, p2) = (a[1], 2.0 * a[3], a[4]);
        let (q0, q1, q2) = (a[2], a[4], 2.0 * a[5]);
        let (r0, r1, r2) = (b[1], 2.0 * b[3], b[4]);
        let (s0, s1, s2) = (b[2], b[4], 2.0 * b[5]);
        [
            p0 * s0 - q0 * r0,
            p0 * s1 + p1 * s0 - q0 * r1 - q1 * r0,
            p0 * s2 + p2 * s0 - q0 * r2 - q2 * r0,
            p1 * s1 - q1 * r1,
            p1 * s2 + p2 * s1 - q1 * r2 - q2 * r1,
            p2 * s2 - q2 * r2,
        ]
    }

    /// The Jacobian ∂(E', N')/∂(u, v) at (u, v), row-major.
    #[inline]
    fn jacobian(&self, u: f64, v: f64) -> [[f64; 2]; 2] {
        let (a, b) = (&self.params.a, &self.params.b);
        [
            [a[1] + 2.0 * a[3] * u + a[4] * v, a[2] + a[4] * u + 2.0 * a[5] * v],
            [b[1] + 2.0 * b[3] * u + b[4] * v, b[2] + b[4] * u + 2.0 * b[5] * v],
        ]
    }
}

impl Operation for Polynomial2 {
    fn name(&self) -> &'static str {
        NAME
    }

    #[inline]
    /// `[E, N, h]` → `[E', N', h]`. A point where the Jacobian determinant has not the sign
    /// it has at the origin (here or anywhere on the segment from the origin), or is singular,
    /// lies beyond the fold of the map (on another sheet,
    /// whose image the inverse would take back to the origin's sheet):
    /// [`PointError::OutsideDomain`], never a value that does not round-trip.
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_finite(p)?;
        let (u, v) = (p[0] - self.params.e0, p[1] - self.params.n0);
        let j = self.jacobian(u, v);
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        if !(det * self.sign > 0.0 && invertible(j, det) && self.on_origin_sheet(u, v)) {
            return Err(PointError::OutsideDomain { operation: BEYOND_FOLD });
        }
        let (du, dv) = self.variable_part(u, v);
        let q = [self.params.a[0] + du, self.params.b[0] + dv, p[2]];
        check_finite(q)?;
        Ok(q)
    }

    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_finite(p)?;
        // The targets of the variable part, computed once: small numbers (tens of km) whose
        // rounding no longer carries the 10⁶ m magnitude of the coordinates.
        let (de, dn) = (p[0] - self.params.a[0], p[1] - self.params.b[0]);
        if !(de.is_finite() && dn.is_finite()) {
            return Err(PointError::NonFinite);
        }
        let m = &self.inv;
        let (mut u, mut v) = (m[0][0] * de + m[0][1] * dn, m[1][0] * de + m[1][1] * dn);
        for _ in 0..MAX_ITERATIONS {
            if !(u.is_finite() && v.is_finite()) {
                break;
            }
            let (fu, fv) = self.variable_part(u, v);
            let (ru, rv) = (fu - de, fv - dn);
            let j = self.jacobian(u, v);
            let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
            if !invertible(j, det) {
                return Err(PointError::OutsideDomain { operation: "poly2 inverse" });
            }
            let du = (j[1][1] * ru - j[0][1] * rv) / det;
            let dv = (j[0][0] * rv - j[1][0] * ru) / det;
            u -= du;
            v -= dv;
            let tolerance = TOLERANCE.max(1e-15 * (u.abs() + v.abs()));
            if du.abs() <= tolerance && dv.abs() <= tolerance {
                // A root where the Jacobian has the other sign lies beyond the fold: another
                // sheet of the map, not the inverse of the grid around its origin.
                let j = self.jacobian(u, v);
                let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
                if det * self.sign <= 0.0 || !self.on_origin_sheet(u, v) {
                    return Err(PointError::OutsideDomain { operation: BEYOND_FOLD });
                }
                let q = [u + self.params.e0, v + self.params.n0, p[2]];
                check_finite(q)?;
                return Ok(q);
            }
        }
        Err(PointError::NoConvergence { operation: "poly2 inverse", iterations: MAX_ITERATIONS })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Realistic magnitudes for a city grid: a rotation of about 5', a scale difference of
    /// ~10 ppm and quadratic terms of 1e-10 … 3e-10 per metre (decimetres at 30 km).
    fn example() -> Polynomial2Params {
        Polynomial2Params {
            e0: 460_000.0,
            n0: 4_420_000.0,
            a: [50_012.375, 0.999_987_31, 0.001_523_07, 2.1e-10, -1.3e-10, 0.8e-10],
            b: [30_007.625, -0.001_523_11, 0.999_990_37, -0.6e-10, 1.7e-10, 2.4e-10],
        }
    }

    #[test]
    fn forward_is_the_formula() {
        let t = Polynomial2::new(example()).unwrap();
        let (e, n) = (481_234.5, 4_398_765.25);
        let q = t.forward([e, n, 7.5]).unwrap();
        let (u, v) = (e - 460_000.0, n - 4_420_000.0);
        let p = example();
        // The formula term by term, in the written order (a different association from the
        // operation's factored form).
        let want_e =
            p.a[0] + p.a[1] * u + p.a[2] * v + p.a[3] * u * u + p.a[4] * u * v + p.a[5] * v * v;
        let want_n =
            p.b[0] + p.b[1] * u + p.b[2] * v + p.b[3] * u * u + p.b[4] * u * v + p.b[5] * v * v;
        // A few ulps of 5e4 m.
        assert!((q[0] - want_e).abs() < 1e-10, "{}", q[0] - want_e);
        assert!((q[1] - want_n).abs() < 1e-10, "{}", q[1] - want_n);
        assert_eq!(q[2], 7.5);
        // The origin maps to (a0, b0) exactly.
        assert_eq!(t.forward([460_000.0, 4_420_000.0, 0.0]).unwrap(), [p.a[0], p.b[0], 0.0]);
    }

    #[test]
    fn inverse_undoes_forward_over_a_30_km_area() {
        let t = Polynomial2::new(example()).unwrap();
        let mut worst: f64 = 0.0;
        for i in -10..=10 {
            for j in -10..=10 {
                let p = [460_000.0 + 3_000.0 * i as f64, 4_420_000.0 + 3_000.0 * j as f64, 1.0];
                let back = t.inverse(t.forward(p).unwrap()).unwrap();
                worst = worst.max((back[0] - p[0]).abs()).max((back[1] - p[1]).abs());
                assert_eq!(back[2], 1.0);
            }
        }
        // Newton stops below 1e-10 m; what remains is rounding of the 4.4e6 m coordinates
        // (measured: 0 on this grid).
        assert!(worst < 1e-9, "{worst:e}");
    }

    #[test]
    fn north_east_parameters_describe_the_same_map() {
        // Read the example as survey-order parameters (x0 = northing of the origin).
        let ne = example();
        let (x0, y0) = (4_420_000.0, 460_000.0);
        let en = Polynomial2Params::from_north_east(x0, y0, ne.a, ne.b);
        assert_eq!((en.e0, en.n0), (y0, x0));
        // The survey formula, evaluated directly: X' from x = N − x0, y = E − y0.
        let (e, n) = (471_000.5, 4_405_500.25);
        let (x, y) = (n - x0, e - y0);
        let (a, b) = (ne.a, ne.b);
        let xp = a[0] + a[1] * x + a[2] * y + a[3] * x * x + a[4] * x * y + a[5] * y * y;
        let yp = b[0] + b[1] * x + b[2] * y + b[3] * x * x + b[4] * x * y + b[5] * y * y;
        let [e2, n2, _] = Polynomial2::new(en.clone()).unwrap().forward([e, n, 0.0]).unwrap();
        assert!((e2 - yp).abs() < 1e-10 && (n2 - xp).abs() < 1e-10, "{} {}", e2 - yp, n2 - xp);
        assert_eq!(en.to_north_east(), (x0, y0, ne.a, ne.b));
    }

    #[test]
    fn no_preimage_far_outside_is_an_error() {
        // E' = u + 1e-6·u² takes no value below −250 km: Newton cannot converge there.
        let p = Polynomial2Params {
            e0: 0.0,
            n0: 0.0,
            a: [0.0, 1.0, 0.0, 1e-6, 0.0, 0.0],
            b: [0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        };
        let t = Polynomial2::new(p).unwrap();
        let e = t.inverse([-1.0e6, 0.0, 0.0]).unwrap_err();
        assert!(
            matches!(
                e,
                PointError::NoConvergence { iterations: 20, .. } | PointError::OutsideDomain { .. }
            ),
            "{e:?}"
        );
        // Beyond the fold at u = −500 km there is a second preimage of every reachable value:
        // the one on the origin's sheet is found, never the other.
        let q = t.forward([-200_000.0, 3.0, 0.0]).unwrap();
        let back = t.inverse(q).unwrap();
        assert!((back[0] + 200_000.0).abs() < 1e-9 && (back[1] - 3.0).abs() < 1e-12);
        // The other sheet's point (−900 km, 0): its forward is refused (issue 11); its image,
        // −900 000 + 10⁻⁶·900 000² = −90 000, inverts on the origin's sheet.
        assert_eq!(
            t.forward([-900_000.0, 0.0, 0.0]),
            Err(PointError::OutsideDomain { operation: BEYOND_FOLD })
        );
        let near = t.inverse([-90_000.0, 0.0, 0.0]).unwrap();
        assert!((near[0] + 100_000.0).abs() < 1e-9, "{near:?}");
        // The example grid's fold is ~1/(2·2e-10) = 2.5e9 m away: 1e8 m still inverts (and
        // round-trips), 1e300 m overflows into an error, never a panic.
        let t = Polynomial2::new(example()).unwrap();
        let p = [-4.0e7, 9.0e7, 0.0];
        let back = t.inverse(t.forward(p).unwrap()).unwrap();
        assert!((back[0] - p[0]).abs() < 1e-6 && (back[1] - p[1]).abs() < 1e-6, "{back:?}");
        assert!(t.inverse([1e300, -1e300, 0.0]).is_err());
    }

    #[test]
    fn out_of_range_or_singular_parameters_are_refused() {
        let refused = |f: &dyn Fn(&mut Polynomial2Params)| {
            let mut p = example();
            f(&mut p);
            Polynomial2::new(p).is_err()
        };
        assert!(refused(&|p| p.e0 = f64::NAN));
        assert!(refused(&|p| p.n0 = 2e8));
        assert!(refused(&|p| p.b[0] = f64::INFINITY));
        assert!(refused(&|p| p.a[2] = 11.0));
        assert!(refused(&|p| p.b[4] = 2e-3)); // a unit mistake (per km)
        assert!(refused(&|p| {
            p.a[1] = 1.0;
            p.a[2] = 2.0;
            p.b[1] = 2.0;
            p.b[2] = 4.0;
        }));
        assert!(!refused(&|_| ()));
    }

    /// A grid with an interior minimum of its determinant (E' = u + k·u², N' = v + k·v²:
    /// det = (1 + 2ku)(1 + 2kv)): fold-free exactly up to the fold lines, refused across them
    /// and where the determinant falls below a tenth of the origin's.
    #[test]
    fn fold_check_over_a_rectangle() {
        let k = 1e-5; // fold lines at u = −50 km and v = −50 km
        let t = Polynomial2::new(Polynomial2Params {
            e0: 500_000.0,
            n0: 4_000_000.0,
            a: [0.0, 1.0, 0.0, k, 0.0, 0.0],
            b: [0.0, 0.0, 1.0, 0.0, 0.0, k],
        })
        .unwrap();
        let around = |w: f64| (500_000.0 - w, 500_000.0 + w);
        let around_n = |w: f64| (4_000_000.0 - w, 4_000_000.0 + w);
        assert!(t.fold_free_over(around(30_000.0), around_n(30_000.0)));
        // det ≥ 0.1 needs (1 − 2k·w)² ≥ 0.1 at the corner: w ≤ 34 189 m.
        assert!(t.fold_free_over(around(34_000.0), around_n(34_000.0)));
        assert!(!t.fold_free_over(around(35_000.0), around_n(35_000.0)));
        assert!(!t.fold_free_over(around(60_000.0), around_n(1_000.0)));
        // Beyond both fold lines the determinant is positive again (another sheet): refused.
        assert!(!t.fold_free_over((380_000.0, 420_000.0), (3_880_000.0, 3_920_000.0)));
        assert!(!t.fold_free_over((1.0, 0.0), (0.0, 1.0)), "an empty rectangle");
    }

    proptest! {
        /// The exact check against a dense 101 × 101 grid of the rectangle: wherever the grid
        /// sees the determinant below the bound, the check refuses; the check accepts only
        /// where every grid point is above it.
        #[test]
        fn fold_check_agrees_with_a_dense_grid(
            q in prop::array::uniform6(-2e-5f64..2e-5),
            lin in prop::array::uniform4(-1.5f64..1.5),
            w in 1_000.0f64..80_000.0,
            h in 1_000.0f64..80_000.0,
            du in -40_000.0f64..40_000.0,
            dv in -40_000.0f64..40_000.0,
        ) {
            let params = Polynomial2Params {
                e0: 0.0,
                n0: 0.0,
                a: [0.0, lin[0], lin[1], q[0], q[1], q[2]],
                b: [0.0, lin[2], lin[3], q[3], q[4], q[5]],
            };
            let Ok(t) = Polynomial2::new(params) else { return Ok(()) };
            let (e, n) = ((du - w, du + w), (dv - h, dv + h));
            let d = t.det_coefficients();
            let origin = d[0] * t.sign;
            let mut grid_ok = true;
            for i in 0..=100 {
                for j in 0..=100 {
                    let u = e.0 + (e.1 - e.0) * f64::from(i) / 100.0;
                    let v = n.0 + (n.1 - n.0) * f64::from(j) / 100.0;
                    let m = t.jacobian(u, v);
                    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
                    // A relative margin for rounding: the two evaluations differ by ulps.
                    if det * t.sign < MIN_DET_RATIO * origin * (1.0 - 1e-9) {
                        grid_ok = false;
                    }
                }
            }
            if !grid_ok {
                prop_assert!(!t.fold_free_over(e, n));
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip_within_30_km(u in -30_000.0..30_000.0f64, v in -30_000.0..30_000.0f64) {
            let t = Polynomial2::new(example()).unwrap();
            let p = [460_000.0 + u, 4_420_000.0 + v, 0.0];
            let back = t.inverse(t.forward(p).unwrap()).unwrap();
            prop_assert!((back[0] - p[0]).abs() < 1e-9 && (back[1] - p[1]).abs() < 1e-9);
        }

        #[test]
        fn never_panics(x in any::<f64>(), y in any::<f64>(), z in any::<f64>()) {
            let t = Polynomial2::new(example()).unwrap();
            for q in [t.forward([x, y, z]), t.inverse([x, y, z])].into_iter().flatten() {
                prop_assert!(q.iter().all(|c| c.is_finite()));
            }
        }
    }
}
