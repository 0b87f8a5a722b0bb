//! GCJ-02 → BD-09 (Baidu's geographic coordinates) and its exact inverse.
//!
//! The published formula (Baidu's, reproduced by every open-source converter), in degrees, with
//! `x = lon`, `y = lat` of the GCJ-02 point and `k = x_pi = π·3000/180`:
//!
//! ```text
//! z = √(x² + y²) + 0.00002·sin(y·k)
//! θ = atan2(y, x) + 0.000003·cos(x·k)
//! BD-09 lon = z·cos θ + 0.0065,   BD-09 lat = z·sin θ + 0.006
//! ```
//!
//! The common inverse (subtract the offsets, then subtract the perturbations evaluated at the
//! BD-09 point) is off by up to 2.1e-6° (≈ 0.2 m) over China's box; here it is only the
//! starting guess of a Newton iteration with the analytic Jacobian, which reproduces the input
//! through the forward to 1e-12°. It is exposed as [`bd09_to_gcj02_one_step_deg`] for comparison.
//!
//! There is no out-of-China rule: the formula is applied to every point (as in Baidu's and
//! `coordtransform`'s code), to the longitude as given (it is not normalised, and the formula
//! is only meaningful for longitudes in [−180°, 180°]).

use super::gcj02::{INVERSE_TOLERANCE_DEG, MAX_ITERATIONS};
use super::{
    all_finite, check_degrees, check_geographic, check_output_degrees, fastmath, Operation, Xyz,
};
use crate::error::PointError;

const OP: &str = "bd09";
const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
const A_Z: f64 = 0.00002;
const B_THETA: f64 = 0.000003;
const DX: f64 = 0.0065;
const DY: f64 = 0.006;

/// BD-09 forward (GCJ-02 → BD-09) and exact inverse, on geographic coordinates in radians
/// `[lon, lat, h]` (h passes through unchanged).
///
/// Accuracy: the forward is the published formula (to ~1e-15°); the inverse reproduces its
/// input through the forward to 1e-12°. Errors: non-finite input → [`PointError::NonFinite`];
/// |lat| > 90° → [`PointError::LatitudeOutOfRange`]; an output latitude beyond ±90° (the 0.006°
/// offset pushes points near the north pole past it) → [`PointError::OutsideDomain`]; an
/// inverse that does not converge within 30 iterations (only at the singular origin
/// lon = lat = 0 of the polar formula) → [`PointError::NoConvergence`].
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

    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        let (q, ok) = self.forward_lane(p);
        if ok {
            return Ok(q);
        }
        check_geographic(p)?;
        let (lon, lat) = forward_slow(p[0].to_degrees(), p[1].to_degrees())?;
        Ok([lon.to_radians(), lat.to_radians(), p[2]])
    }

    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        let (q, ok) = self.inverse_lane(p);
        if ok {
            return Ok(q);
        }
        check_geographic(p)?;
        let (lon, lat) = inverse_slow(p[0].to_degrees(), p[1].to_degrees())?;
        Ok([lon.to_radians(), lat.to_radians(), p[2]])
    }

    /// The forward as a branch-free kernel: not ok (→ the scalar path) for invalid input, an
    /// output latitude beyond ±90°, or the origin lon = lat = 0.
    #[inline(always)]
    fn forward_lane(&self, p: Xyz) -> (Xyz, bool) {
        let (lon, lat, ok) = forward_kernel(p[0].to_degrees(), p[1].to_degrees());
        ([lon.to_radians(), lat.to_radians(), p[2]], ok & geographic_ok(p))
    }

    /// The inverse as a branch-free kernel: two Newton steps from the input less the constant
    /// offsets, then a residual check; not ok (→ the iterative scalar path) where it fails.
    #[inline(always)]
    fn inverse_lane(&self, p: Xyz) -> (Xyz, bool) {
        let (lon, lat, ok) = inverse_kernel(p[0].to_degrees(), p[1].to_degrees());
        ([lon.to_radians(), lat.to_radians(), p[2]], ok & geographic_ok(p))
    }
}

/// [`check_geographic`] as a flag, branch-free.
#[inline(always)]
fn geographic_ok(p: Xyz) -> bool {
    all_finite(p) & (p[1].abs() <= std::f64::consts::FRAC_PI_2 + 1e-12)
}

/// [`check_degrees`] as a flag, branch-free.
#[inline(always)]
fn degrees_ok(lon: f64, lat: f64) -> bool {
    lon.is_finite() & lat.is_finite() & (lat.abs() <= 90.0 + 1e-10)
}

/// [`check_output_degrees`] as a flag, branch-free.
#[inline(always)]
fn output_ok(lon: f64, lat: f64) -> bool {
    lon.is_finite() & lat.is_finite() & (lat.abs() <= 90.0)
}

/// The published forward with its perturbations, and the Jacobian of `(u, v)` with respect to
/// `(x, y)`, branch-free. Instead of `atan2` and a `sin_cos` of θ = atan2(y, x) + δ, it uses
/// `cos θ = (x cos δ − y sin δ)/r`, `sin θ = (y cos δ + x sin δ)/r` (the same maths; |δ| ≤ 3e-6,
/// so two terms of each series are exact to far below an ulp). Non-finite at the origin.
#[inline(always)]
fn forward_raw_with_jacobian(x: f64, y: f64) -> ((f64, f64), [[f64; 2]; 2]) {
    let (sy, cy) = fastmath::sin_cos(y * X_PI);
    let (sx, cx) = fastmath::sin_cos(x * X_PI);
    let r2 = x * x + y * y;
    let r = r2.sqrt();
    let z = r + A_Z * sy;
    let delta = B_THETA * cx;
    // |δ| ≤ 3e-6: the next terms, δ⁵/120 and δ⁴/24, are below 1e-27.
    let sd = delta - delta * delta * delta * (1.0 / 6.0);
    let cd = 1.0 - 0.5 * delta * delta;
    let inv_r = 1.0 / r;
    let c = (x * cd - y * sd) * inv_r;
    let s = (y * cd + x * sd) * inv_r;
    let uv = (z * c + DX, z * s + DY);
    let dz_dx = x * inv_r;
    let dz_dy = y * inv_r + A_Z * X_PI * cy;
    let dt_dx = -y / r2 - B_THETA * X_PI * sx;
    let dt_dy = x / r2;
    let j = [
        [c * dz_dx - z * s * dt_dx, c * dz_dy - z * s * dt_dy],
        [s * dz_dx + z * c * dt_dx, s * dz_dy + z * c * dt_dy],
    ];
    (uv, j)
}

/// The forward in degrees, branch-free: `(lon, lat, ok)`, ok meaning "this is the result of
/// [`gcj02_to_bd09_deg`]" and not ok "take [`forward_slow`]".
#[inline(always)]
fn forward_kernel(x: f64, y: f64) -> (f64, f64, bool) {
    let ((u, v), _) = forward_raw_with_jacobian(x, y);
    (u, v, degrees_ok(x, y) & output_ok(u, v))
}

/// The exact inverse in degrees, branch-free: `(lon, lat, ok)` as [`forward_kernel`], not ok
/// where two Newton steps from (lon − 0.0065, lat − 0.006) did not reach
/// [`INVERSE_TOLERANCE_DEG`] (→ [`inverse_slow`]; over China they always do, tested on a dense
/// grid). The steps are written out, not looped: an inner loop would stop the batch loop's
/// vectorisation.
#[inline(always)]
fn inverse_kernel(lon: f64, lat: f64) -> (f64, f64, bool) {
    let (x, y) = newton_step(lon - DX, lat - DY, lon, lat);
    let (x, y) = newton_step(x, y, lon, lat);
    let ((u, v), _) = forward_raw_with_jacobian(x, y);
    let converged =
        ((u - lon).abs() <= INVERSE_TOLERANCE_DEG) & ((v - lat).abs() <= INVERSE_TOLERANCE_DEG);
    (x, y, degrees_ok(lon, lat) & converged & output_ok(x, y))
}

/// One Newton step for `forward(x, y) = (lon, lat)` from `(x, y)`.
#[inline(always)]
fn newton_step(x: f64, y: f64, lon: f64, lat: f64) -> (f64, f64) {
    let ((u, v), a) = forward_raw_with_jacobian(x, y);
    let (ru, rv) = (u - lon, v - lat);
    let inv_det = 1.0 / (a[0][0] * a[1][1] - a[0][1] * a[1][0]);
    (x - (a[1][1] * ru - a[0][1] * rv) * inv_det, y - (a[0][0] * rv - a[1][0] * ru) * inv_det)
}

/// The published forward with libm (the slow path's; the origin gives (0.0065, 0.006)).
fn forward_raw(x: f64, y: f64) -> (f64, f64) {
    let z = (x * x + y * y).sqrt() + A_Z * (y * X_PI).sin();
    let theta = y.atan2(x) + B_THETA * (x * X_PI).cos();
    let (s, c) = theta.sin_cos();
    (z * c + DX, z * s + DY)
}

/// GCJ-02 → BD-09 in degrees `(lon, lat)`. Errors as [`Bd09`]'s forward.
pub fn gcj02_to_bd09_deg(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
    let (u, v, ok) = forward_kernel(lon, lat);
    if ok {
        return Ok((u, v));
    }
    forward_slow(lon, lat)
}

/// The forward with every check spelt out: the error (or the origin) behind a not-ok kernel.
fn forward_slow(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
    check_degrees(lon, lat)?;
    let (u, v) = forward_raw(lon, lat);
    check_output_degrees(u, v, OP)
}

/// The common **approximate** one-step BD-09 → GCJ-02 inverse in degrees (off by up to
/// 2.1e-6°, ≈ 0.2 m, over China's box); kept only for comparison with other libraries. Use
/// [`bd09_to_gcj02_deg`] or [`Bd09`]'s inverse. Non-finite input or |lat| > 90° → error.
pub fn bd09_to_gcj02_one_step_deg(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
    check_degrees(lon, lat)?;
    let (x, y) = one_step(lon, lat);
    check_output_degrees(x, y, OP)
}

fn one_step(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon - DX;
    let y = lat - DY;
    let z = (x * x + y * y).sqrt() - A_Z * (y * X_PI).sin();
    let theta = y.atan2(x) - B_THETA * (x * X_PI).cos();
    let (s, c) = theta.sin_cos();
    (z * c, z * s)
}

/// Exact BD-09 → GCJ-02 in degrees `(lon, lat)`: the point whose forward reproduces the input
/// to within 1e-12° on both axes. Errors as [`Bd09`]'s inverse.
pub fn bd09_to_gcj02_deg(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
    let (x, y, ok) = inverse_kernel(lon, lat);
    if ok {
        return Ok((x, y));
    }
    inverse_slow(lon, lat)
}

/// The iterative inverse with every check and an iteration cap (started at the one-step
/// inverse): the error (or rare case) behind a not-ok kernel.
fn inverse_slow(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
    bd09_to_gcj02_deg_with_max_iterations(lon, lat, MAX_ITERATIONS)
}

/// The iterative inverse alone (no kernel) with another iteration cap: for tests, which show
/// with a small cap that hitting it is reported as [`PointError::NoConvergence`] (no input
/// has been seen to reach the real cap of [`MAX_ITERATIONS`]).
#[doc(hidden)]
pub fn bd09_to_gcj02_deg_with_max_iterations(
    lon: f64,
    lat: f64,
    max_iterations: u32,
) -> Result<(f64, f64), PointError> {
    check_degrees(lon, lat)?;
    let (mut x, mut y) = one_step(lon, lat);
    for _ in 0..max_iterations {
        let ((mut u, mut v), a) = forward_raw_with_jacobian(x, y);
        if !(u.is_finite() && v.is_finite()) {
            // The origin, where the kernel's division by r fails.
            (u, v) = forward_raw(x, y);
        }
        let (ru, rv) = (u - lon, v - lat);
        if !(ru.is_finite() && rv.is_finite()) {
            return Err(PointError::NonFinite);
        }
        if ru.abs() <= INVERSE_TOLERANCE_DEG && rv.abs() <= INVERSE_TOLERANCE_DEG {
            return check_output_degrees(x, y, OP);
        }
        let [[a11, a12], [a21, a22]] = a;
        let det = a11 * a22 - a12 * a21;
        if !(det.is_finite() && det.abs() > 1e-6) {
            // Only at the origin of the polar formula: plain fixed-point step.
            x -= ru;
            y -= rv;
            continue;
        }
        x -= (a22 * ru - a12 * rv) / det;
        y -= (a11 * rv - a21 * ru) / det;
    }
    Err(PointError::NoConvergence { operation: "bd09 inverse", iterations: max_iterations })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dense grid (degrees) of China's usual box, `n + 1` points a side.
    fn grid(n: u32) -> impl Iterator<Item = (f64, f64)> {
        let (w, e, s, north) = (72.004, 137.8347, 0.8293, 55.8271);
        (0..=n).flat_map(move |i| {
            (0..=n).map(move |k| {
                let t = f64::from(i) / f64::from(n);
                (w + (e - w) * t, s + (north - s) * f64::from(k) / f64::from(n))
            })
        })
    }

    #[test]
    fn kernel_forward_matches_libm_formula() {
        // The kernel (no atan2, branch-free sin/cos) against the literal formula with libm over
        // a 1001 × 1001 grid; the brief's bound for a re-evaluation of the same maths is 1e-13°
        // (an ulp at 137° is 2.8e-14°).
        let mut worst: f64 = 0.0;
        for (x, y) in grid(1000) {
            let (u, v, ok) = forward_kernel(x, y);
            assert!(ok);
            let (a, b) = forward_raw(x, y);
            worst = worst.max((u - a).abs()).max((v - b).abs());
        }
        eprintln!("BD-09 forward kernel vs libm formula: {worst:e}°");
        assert!(worst <= 1e-13, "{worst:e}");
    }

    #[test]
    fn kernel_inverse_converges_over_china() {
        // Two Newton steps reach 1e-12° at every point of the grid (the kernel is ok), and the
        // result reproduces the input through the forward.
        let mut slow = 0u32;
        for (lon, lat) in grid(1000) {
            let (x, y, ok) = inverse_kernel(lon, lat);
            if !ok {
                slow += 1;
                continue;
            }
            let (u, v) = gcj02_to_bd09_deg(x, y).unwrap();
            assert!((u - lon).abs() <= 1e-12 && (v - lat).abs() <= 1e-12);
        }
        assert_eq!(slow, 0);
    }

    #[test]
    fn the_origin_takes_the_slow_path() {
        assert!(!forward_kernel(0.0, 0.0).2);
        assert_eq!(gcj02_to_bd09_deg(0.0, 0.0).unwrap(), forward_raw(0.0, 0.0));
    }

    proptest::proptest! {
        /// inverse ∘ forward = identity to 1e-12° over China's box.
        #[test]
        fn inverse_of_forward_is_identity(x in 72.004f64..137.8347, y in 0.8293f64..55.8271) {
            let (u, v) = gcj02_to_bd09_deg(x, y).unwrap();
            let (a, b) = bd09_to_gcj02_deg(u, v).unwrap();
            proptest::prop_assert!((a - x).abs() <= 1e-12 && (b - y).abs() <= 1e-12,
                "{} {}", a - x, b - y);
        }
    }
}
