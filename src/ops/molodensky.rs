//! Molodensky datum shift (standard, EPSG:9604, and abridged, EPSG:9605) on geographic
//! coordinates.
//!
//! Forward follows PROJ's `+proj=molodensky` (after R. E. Deakin, "The Standard and Abridged
//! Molodensky Coordinate Transformation Formulae", 2004): the shifts (Δφ, Δλ, Δh) are evaluated
//! at the source point with the source ellipsoid's a, f, e² and the differences
//! Δa = a_target − a_source, Δf = f_target − f_source, then added.
//!
//! Standard (M, N the meridian and prime-vertical radii of curvature):
//!
//! ```text
//! Δφ = (−dx sinφ cosλ − dy sinφ sinλ + dz cosφ + N e² sinφ cosφ Δa / a
//!       + sinφ cosφ (M / (1 − f) + N (1 − f)) Δf) / (M + h)
//! Δλ = (−dx sinλ + dy cosλ) / ((N + h) cosφ)
//! Δh = dx cosφ cosλ + dy cosφ sinλ + dz sinφ − (a / N) Δa + N (1 − f) sin²φ Δf
//! ```
//!
//! Abridged:
//!
//! ```text
//! Δφ = (−dx sinφ cosλ − dy sinφ sinλ + dz cosφ + (a Δf + f Δa) sin 2φ) / M
//! Δλ = (−dx sinλ + dy cosλ) / (N cosφ)
//! Δh = dx cosφ cosλ + dy cosφ sinλ + dz sinφ − Δa + (a Δf + f Δa) sin²φ
//! ```
//!
//! Inverse: PROJ's inverse evaluates the same shifts at the *target* point and subtracts them,
//! a one-step approximation whose round trip is off by the change of the shift across the
//! shift itself (~1e-9 rad, a few millimetres, for typical datum shifts of a few hundred
//! metres). geounify instead solves `p + Δ(p) = target` for `p` by fixed-point iteration
//! (starting from PROJ's one-step value; the map contracts by ~1e-5 per step), so that
//! forward∘inverse is the identity to ~1e-14 rad. The iteration stops when the update is below
//! 1e-14 rad and 1e-8 m and is capped at 10 steps ([`PointError::NoConvergence`]).

use super::{check_geographic, Operation, Xyz};
use crate::ellipsoid::Ellipsoid;
use crate::error::{DefinitionError, PointError};

/// Molodensky parameters: geocentric translations in metres, and whether the abridged formulas
/// are used.
#[derive(Debug, Clone, PartialEq)]
pub struct MolodenskyParams {
    /// X translation, metres.
    pub dx: f64,
    /// Y translation, metres.
    pub dy: f64,
    /// Z translation, metres.
    pub dz: f64,
    /// Abridged Molodensky (EPSG:9605) instead of the standard one (EPSG:9604).
    pub abridged: bool,
}

/// Iteration cap of the inverse.
const MAX_ITER: u32 = 10;

/// A compiled Molodensky shift between two ellipsoids, on geographic coordinates: forward and
/// inverse map `[lon rad, lat rad, h m]` to `[lon rad, lat rad, h m]`.
///
/// Fails with [`PointError::NonFinite`] / [`PointError::LatitudeOutOfRange`] on bad input, with
/// [`PointError::OutsideDomain`] where the formulas are singular (at the poles, where Δλ divides
/// by cos φ, or where M + h or N + h vanishes), and in the inverse with
/// [`PointError::NoConvergence`] if the iteration does not settle in 10 steps.
///
/// Accuracy: the Molodensky formulas themselves approximate the geocentric 3-parameter shift to
/// roughly 0.1–1 m (abridged: worse); the forward reproduces PROJ's `+proj=molodensky` to
/// rounding, and forward∘inverse is the identity to ~1e-14 rad.
#[derive(Debug, Clone, PartialEq)]
pub struct Molodensky {
    params: MolodenskyParams,
    /// Source semi-major axis, metres.
    a: f64,
    /// Source flattening.
    f: f64,
    /// Source first eccentricity squared.
    es: f64,
    /// a_target − a_source, metres.
    da: f64,
    /// f_target − f_source.
    df: f64,
}

impl Molodensky {
    /// From `source` to `target` ellipsoid. Fails with [`DefinitionError::OutOfRange`] when a
    /// translation is not finite.
    pub fn new(
        source: &Ellipsoid,
        target: &Ellipsoid,
        params: MolodenskyParams,
    ) -> Result<Self, DefinitionError> {
        if ![params.dx, params.dy, params.dz].iter().all(|v| v.is_finite()) {
            return Err(DefinitionError::OutOfRange {
                what: "Molodensky translation",
                reason: "must be a finite number of metres",
            });
        }
        Ok(Self {
            a: source.a(),
            f: source.f(),
            es: source.es(),
            da: target.a() - source.a(),
            df: target.f() - source.f(),
            params,
        })
    }

    /// The parameters it was built from.
    pub fn params(&self) -> &MolodenskyParams {
        &self.params
    }

    /// The shift (Δλ, Δφ, Δh) evaluated at `p` (radians, radians, metres).
    #[inline]
    fn shift(&self, p: Xyz) -> Result<Xyz, PointError> {
        let MolodenskyParams { dx, dy, dz, abridged } = self.params;
        let (a, f, es, da, df) = (self.a, self.f, self.es, self.da, self.df);
        let (phi, h) = (p[1], p[2]);
        let (slam, clam) = p[0].sin_cos();
        let (sphi, cphi) = phi.sin_cos();
        let w2 = 1.0 - es * sphi * sphi;
        let w = w2.sqrt();
        let nu = a / w; // prime vertical radius N
        let rho = a * (1.0 - es) / (w2 * w); // meridian radius M
        let common = -dx * sphi * clam - dy * sphi * slam + dz * cphi;
        let dh_common = dx * cphi * clam + dy * cphi * slam + dz * sphi;
        let dlam_num = -dx * slam + dy * clam;
        let (dphi, dlam, dh) = if abridged {
            let adffda = a * df + f * da;
            let dphi = (common + adffda * (2.0 * phi).sin()) / rho;
            let dlam = dlam_num / (nu * cphi);
            let dh = dh_common - da + adffda * sphi * sphi;
            (dphi, dlam, dh)
        } else {
            let dphi = (common
                + nu * es * sphi * cphi * da / a
                + sphi * cphi * (rho / (1.0 - f) + nu * (1.0 - f)) * df)
                / (rho + h);
            let dlam = dlam_num / ((nu + h) * cphi);
            let dh = dh_common - (a / nu) * da + nu * (1.0 - f) * sphi * sphi * df;
            (dphi, dlam, dh)
        };
        if !(dphi.is_finite() && dlam.is_finite() && dh.is_finite()) || cphi.abs() < 1e-12 {
            return Err(PointError::OutsideDomain { operation: "molodensky" });
        }
        Ok([dlam, dphi, dh])
    }
}

impl Operation for Molodensky {
    fn name(&self) -> &'static str {
        "molodensky"
    }
    /// Source `[lon rad, lat rad, h m]` → target `[lon rad, lat rad, h m]`, as PROJ.
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_geographic(p)?;
        let d = self.shift(p)?;
        Ok([p[0] + d[0], p[1] + d[1], p[2] + d[2]])
    }

    /// Target → source: the exact inverse of [`forward`](Self::forward) by fixed-point
    /// iteration (see the module docs for how this differs from PROJ).
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        check_geographic(p)?;
        let mut q = p;
        for _ in 0..MAX_ITER {
            let d = self.shift(q)?;
            let next = [p[0] - d[0], p[1] - d[1], p[2] - d[2]];
            let step = (next[0] - q[0]).abs().max((next[1] - q[1]).abs());
            let step_h = (next[2] - q[2]).abs();
            q = next;
            if step <= 1e-14 && step_h <= 1e-8 {
                return Ok(q);
            }
        }
        Err(PointError::NoConvergence { operation: "molodensky inverse", iterations: MAX_ITER })
    }
}
