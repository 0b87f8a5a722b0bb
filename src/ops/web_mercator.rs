//! Web Mercator (EPSG:3857, "Popular Visualisation Pseudo-Mercator", EPSG method 1024):
//! the spherical Mercator formulas applied to geographic coordinates with the sphere radius
//! a = 6 378 137 m (WGS84's semi-major axis).
//!
//! ```text
//! x = a·λ,   y = a·asinh(tan φ)        (= a·ln tan(π/4 + φ/2))
//! λ = x/a,   φ = atan(sinh(y/a))
//! ```
//!
//! `asinh(tan φ)` is used rather than `atanh(sin φ)`: near the poles `sin φ` rounds to 1 and
//! loses the distance to the pole, while `tan φ` keeps it (its relative error stays that of
//! `π/2 − φ`). Both forms agree to a few ulps over China.
//!
//! Like PROJ, longitudes are reduced to [−180°, 180°] on the way in and out (values already in
//! range are not touched), so 190° E projects like 170° W.

use super::{check_finite, check_geographic, Operation, Xyz};
use crate::error::PointError;
use std::f64::consts::{FRAC_PI_2, PI, TAU};

/// The sphere radius of EPSG:3857, metres.
pub const WEB_MERCATOR_A: f64 = 6_378_137.0;

/// Popular visualisation pseudo-Mercator: spherical Mercator on a = 6 378 137 m.
///
/// Forward: `[lon, lat, h]` in radians → `[x, y, h]` in metres; inverse the reverse (h passes
/// through). The inverse is exact (closed form, a few ulps). Errors: non-finite input →
/// [`PointError::NonFinite`]; |lat| > 90° → [`PointError::LatitudeOutOfRange`]; a latitude of
/// ±90° (the poles project to infinity) → [`PointError::OutsideDomain`]. EPSG's area of use
/// stops at ±85.06° but the formulas are exact up to the poles, so nothing nearer is refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebMercator;

impl WebMercator {
    /// EPSG:3857's projection.
    pub fn new() -> Self {
        Self
    }
}

/// Reduces a longitude in radians to [−π, π]; values already in range are returned unchanged.
fn wrap_lon(lam: f64) -> f64 {
    if (-PI..=PI).contains(&lam) {
        lam
    } else {
        lam - TAU * (lam / TAU).round()
    }
}

impl Operation for WebMercator {
    fn name(&self) -> &'static str {
        "web-mercator"
    }

    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_geographic(p)?;
        if p[1].abs() >= FRAC_PI_2 {
            return Err(PointError::OutsideDomain { operation: "web-mercator" });
        }
        let x = WEB_MERCATOR_A * wrap_lon(p[0]);
        let y = WEB_MERCATOR_A * p[1].tan().asinh();
        Ok([x, y, p[2]])
    }

    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_finite(p)?;
        let lam = wrap_lon(p[0] / WEB_MERCATOR_A);
        let phi = (p[1] / WEB_MERCATOR_A).sinh().atan();
        Ok([lam, phi, p[2]])
    }
}
