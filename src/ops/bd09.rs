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
use super::{check_degrees, check_geographic, check_output_degrees, Operation, Xyz};
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
        check_geographic(p)?;
        let (lon, lat) = gcj02_to_bd09_deg(p[0].to_degrees(), p[1].to_degrees())?;
        Ok([lon.to_radians(), lat.to_radians(), p[2]])
    }

    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_geographic(p)?;
        let (lon, lat) = bd09_to_gcj02_deg(p[0].to_degrees(), p[1].to_degrees())?;
        Ok([lon.to_radians(), lat.to_radians(), p[2]])
    }
}

fn forward_raw(x: f64, y: f64) -> (f64, f64) {
    let z = (x * x + y * y).sqrt() + A_Z * (y * X_PI).sin();
    let theta = y.atan2(x) + B_THETA * (x * X_PI).cos();
    let (s, c) = theta.sin_cos();
    (z * c + DX, z * s + DY)
}

/// GCJ-02 → BD-09 in degrees `(lon, lat)`. Errors as [`Bd09`]'s forward.
pub fn gcj02_to_bd09_deg(lon: f64, lat: f64) -> Result<(f64, f64), PointError> {
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
    check_degrees(lon, lat)?;
    let (mut x, mut y) = one_step(lon, lat);
    for _ in 0..MAX_ITERATIONS {
        let (u, v) = forward_raw(x, y);
        let (ru, rv) = (u - lon, v - lat);
        if !(ru.is_finite() && rv.is_finite()) {
            return Err(PointError::NonFinite);
        }
        if ru.abs() <= INVERSE_TOLERANCE_DEG && rv.abs() <= INVERSE_TOLERANCE_DEG {
            return check_output_degrees(x, y, OP);
        }
        // Jacobian of (u, v) with respect to (x, y).
        let r2 = x * x + y * y;
        let r = r2.sqrt();
        let z = r + A_Z * (y * X_PI).sin();
        let theta = y.atan2(x) + B_THETA * (x * X_PI).cos();
        let (s, c) = theta.sin_cos();
        let dz_dx = x / r;
        let dz_dy = y / r + A_Z * X_PI * (y * X_PI).cos();
        let dt_dx = -y / r2 - B_THETA * X_PI * (x * X_PI).sin();
        let dt_dy = x / r2;
        let a11 = c * dz_dx - z * s * dt_dx;
        let a12 = c * dz_dy - z * s * dt_dy;
        let a21 = s * dz_dx + z * c * dt_dx;
        let a22 = s * dz_dy + z * c * dt_dy;
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
    Err(PointError::NoConvergence { operation: "bd09 inverse", iterations: MAX_ITERATIONS })
}
