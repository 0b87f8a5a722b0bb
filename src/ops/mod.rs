//! Coordinate operations, one file each, every one a pair of `forward` / `inverse` functions on a
//! coordinate triple plus the parameters it is built from.
//!
//! Units inside a pipeline (the contract every operation keeps):
//! - geographic coordinates: `[longitude, latitude, ellipsoidal height]` in **radians, radians,
//!   metres** (the [`Transformer`](crate::Transformer) converts degrees at the edges);
//! - projected coordinates: `[easting, northing, height]` in metres;
//! - geocentric (earth-centred, earth-fixed) coordinates: `[X, Y, Z]` in metres.
//!
//! Axis order is always x = easting/longitude, y = northing/latitude.
//!
//! An operation never panics on any `f64` input: it returns `Err(PointError)` for a point it
//! cannot transform (NaN, a latitude beyond ±90°, a point outside its domain, an iteration that
//! did not converge).

use crate::error::PointError;

pub mod affine;
pub mod bd09;
pub mod bd09mc;
pub(crate) mod fastmath;
pub mod gauss_kruger;
pub mod gcj02;
pub mod geocentric;
pub mod helmert;
pub mod molodensky;
pub mod planar_helmert;
pub mod polynomial;
pub mod units;
pub mod web_mercator;

pub use affine::{Affine, AffineParams};
pub use bd09::Bd09;
pub use bd09mc::Bd09Mc;
pub use gauss_kruger::{GaussKruger, GaussKrugerParams};
pub use gcj02::{ChinaBounds, Gcj02};
pub use geocentric::Geocentric;
pub use helmert::{Helmert, HelmertConvention, HelmertParams};
pub use molodensky::{Molodensky, MolodenskyParams};
pub use planar_helmert::{PlanarHelmert, PlanarHelmertParams};
pub use polynomial::{Polynomial2, Polynomial2Params};
pub use units::DegreesToRadians;
pub use web_mercator::WebMercator;

/// A coordinate triple as it flows through a pipeline (see the module docs for units).
pub type Xyz = [f64; 3];

/// One coordinate operation: a forward and an inverse mapping of a coordinate triple.
pub trait Operation {
    /// Short method name as used in lineage records and messages, e.g. `"gauss-kruger"`.
    fn name(&self) -> &'static str;
    /// The forward mapping (e.g. geographic → projected).
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError>;
    /// The inverse mapping (e.g. projected → geographic).
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError>;

    /// The forward mapping as a branch-free kernel for the batch pipeline, which runs it over
    /// structure-of-arrays chunks so that the compiler vectorises it.
    ///
    /// Contract: it returns `(q, true)` only if [`forward`](Self::forward)`(p)` is `Ok(q)`,
    /// bit for bit; `(_, false)` means "take the scalar path" (the point is an error, or a case
    /// the kernel does not cover). The default calls [`forward`](Self::forward).
    #[inline(always)]
    fn forward_lane(&self, p: Xyz) -> (Xyz, bool) {
        match self.forward(p) {
            Ok(q) => (q, true),
            Err(_) => ([f64::NAN; 3], false),
        }
    }

    /// The inverse mapping as a branch-free kernel, under the same contract as
    /// [`forward_lane`](Self::forward_lane).
    #[inline(always)]
    fn inverse_lane(&self, p: Xyz) -> (Xyz, bool) {
        match self.inverse(p) {
            Ok(q) => (q, true),
            Err(_) => ([f64::NAN; 3], false),
        }
    }
}

/// Every operation geounify knows, as one enum so that a pipeline dispatches statically.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Degrees → radians on x and y.
    DegreesToRadians(DegreesToRadians),
    /// Gauss-Krüger / transverse Mercator.
    GaussKruger(GaussKruger),
    /// Geographic ↔ geocentric.
    Geocentric(Geocentric),
    /// 7- (or 3-) parameter Helmert on geocentric coordinates.
    Helmert(Helmert),
    /// Molodensky datum shift on geographic coordinates.
    Molodensky(Molodensky),
    /// WGS84 → GCJ-02.
    Gcj02(Gcj02),
    /// GCJ-02 → BD-09.
    Bd09(Bd09),
    /// BD-09 → Baidu Mercator (BD-09MC).
    Bd09Mc(Bd09Mc),
    /// Web Mercator (EPSG:3857).
    WebMercator(WebMercator),
    /// Planar 4-parameter Helmert of projected coordinates (local grids).
    PlanarHelmert(PlanarHelmert),
    /// Planar 6-parameter affine of projected coordinates (local grids).
    Affine(Affine),
    /// Planar second-order polynomial of projected coordinates (local grids).
    Polynomial2(Polynomial2),
}

impl Op {
    fn as_operation(&self) -> &dyn Operation {
        match self {
            Op::DegreesToRadians(o) => o,
            Op::GaussKruger(o) => o,
            Op::Geocentric(o) => o,
            Op::Helmert(o) => o,
            Op::Molodensky(o) => o,
            Op::Gcj02(o) => o,
            Op::Bd09(o) => o,
            Op::Bd09Mc(o) => o,
            Op::WebMercator(o) => o,
            Op::PlanarHelmert(o) => o,
            Op::Affine(o) => o,
            Op::Polynomial2(o) => o,
        }
    }
}

impl Operation for Op {
    fn name(&self) -> &'static str {
        self.as_operation().name()
    }

    #[inline]
    fn forward(&self, p: Xyz) -> Result<Xyz, PointError> {
        match self {
            Op::DegreesToRadians(o) => o.forward(p),
            Op::GaussKruger(o) => o.forward(p),
            Op::Geocentric(o) => o.forward(p),
            Op::Helmert(o) => o.forward(p),
            Op::Molodensky(o) => o.forward(p),
            Op::Gcj02(o) => o.forward(p),
            Op::Bd09(o) => o.forward(p),
            Op::Bd09Mc(o) => o.forward(p),
            Op::WebMercator(o) => o.forward(p),
            Op::PlanarHelmert(o) => o.forward(p),
            Op::Affine(o) => o.forward(p),
            Op::Polynomial2(o) => o.forward(p),
        }
    }

    #[inline]
    fn inverse(&self, p: Xyz) -> Result<Xyz, PointError> {
        match self {
            Op::DegreesToRadians(o) => o.inverse(p),
            Op::GaussKruger(o) => o.inverse(p),
            Op::Geocentric(o) => o.inverse(p),
            Op::Helmert(o) => o.inverse(p),
            Op::Molodensky(o) => o.inverse(p),
            Op::Gcj02(o) => o.inverse(p),
            Op::Bd09(o) => o.inverse(p),
            Op::Bd09Mc(o) => o.inverse(p),
            Op::WebMercator(o) => o.inverse(p),
            Op::PlanarHelmert(o) => o.inverse(p),
            Op::Affine(o) => o.inverse(p),
            Op::Polynomial2(o) => o.inverse(p),
        }
    }
}

/// Checks a geographic point in radians: finite, latitude within ±90° (a tolerance of 1e-12 rad
/// admits values that are ±90° up to rounding).
#[inline]
pub(crate) fn check_geographic(p: Xyz) -> Result<(), PointError> {
    if !(p[0].is_finite() && p[1].is_finite() && p[2].is_finite()) {
        return Err(PointError::NonFinite);
    }
    if p[1].abs() > std::f64::consts::FRAC_PI_2 + 1e-12 {
        return Err(PointError::LatitudeOutOfRange { latitude_deg: p[1].to_degrees() });
    }
    Ok(())
}

/// Checks a geographic input in degrees (the web-map formulas work in degrees): finite, latitude
/// within ±90° (up to 1e-10° of rounding).
#[inline]
pub(crate) fn check_degrees(lon: f64, lat: f64) -> Result<(), PointError> {
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(PointError::NonFinite);
    }
    if lat.abs() > 90.0 + 1e-10 {
        return Err(PointError::LatitudeOutOfRange { latitude_deg: lat });
    }
    Ok(())
}

/// Checks a geographic output in degrees of `operation`: finite, and a latitude the offset has
/// not pushed beyond ±90° (that point has no image: [`PointError::OutsideDomain`]).
#[inline]
pub(crate) fn check_output_degrees(
    lon: f64,
    lat: f64,
    operation: &'static str,
) -> Result<(f64, f64), PointError> {
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(PointError::NonFinite);
    }
    if lat.abs() > 90.0 {
        return Err(PointError::OutsideDomain { operation });
    }
    Ok((lon, lat))
}

/// Whether all three components are finite, branch-free (for lane kernels: `&`, not `&&`).
#[inline(always)]
pub(crate) fn all_finite(p: Xyz) -> bool {
    p[0].is_finite() & p[1].is_finite() & p[2].is_finite()
}

/// A lane kernel's `(q, ok)` as the scalar result of an operation that fails only on
/// non-finite values: `Ok(q)`, or [`PointError::NonFinite`].
#[inline(always)]
pub(crate) fn finite_or_error((q, ok): (Xyz, bool)) -> Result<Xyz, PointError> {
    if ok {
        Ok(q)
    } else {
        Err(PointError::NonFinite)
    }
}

/// Checks that all three components are finite.
#[inline]
pub(crate) fn check_finite(p: Xyz) -> Result<(), PointError> {
    if p[0].is_finite() && p[1].is_finite() && p[2].is_finite() {
        Ok(())
    } else {
        Err(PointError::NonFinite)
    }
}

/// An operation applied forward or inverse: one step of a [`Transformer`](crate::Transformer)'s
/// pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The operation.
    pub op: Op,
    /// Whether the operation's inverse is applied.
    pub inverse: bool,
}

impl Step {
    /// The operation applied forward.
    pub fn forward(op: Op) -> Self {
        Self { op, inverse: false }
    }
    /// The operation applied inverse.
    pub fn inverse(op: Op) -> Self {
        Self { op, inverse: true }
    }
    /// The same operation in the other direction.
    pub fn reversed(self) -> Self {
        Self { op: self.op, inverse: !self.inverse }
    }
    /// Whether this step undoes `other` (same operation, opposite direction).
    pub fn undoes(&self, other: &Step) -> bool {
        self.inverse != other.inverse && self.op == other.op
    }
    /// Applies the step to one point.
    #[inline]
    pub fn apply(&self, p: Xyz) -> Result<Xyz, PointError> {
        if self.inverse {
            self.op.inverse(p)
        } else {
            self.op.forward(p)
        }
    }
}
