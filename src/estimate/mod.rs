//! Transformation parameters from control points: least-squares estimation of a 4-parameter
//! planar Helmert (`helmert4`), a 6-parameter affine (`affine6`), a 12-parameter second-order
//! polynomial (`poly2`), a 3-parameter translation (`helmert3`) or a 7-parameter Helmert
//! (`helmert7`, either rotation convention), with per-point residuals and gross-error (outlier)
//! detection.
//!
//! Each [`ControlPoint`] holds the same physical point in the source and the target system.
//! The planar models work on `[E, N]` metres (z ignored); helmert3 / helmert7 on geocentric
//! `[X, Y, Z]` metres (see [`geocentric_on_datum`] to get them from geographic or projected
//! coordinates of a CRS). The estimated parameters are in the conventions of the operations
//! [`PlanarHelmert`](crate::ops::PlanarHelmert), [`Affine`](crate::ops::Affine),
//! [`Polynomial2`](crate::ops::Polynomial2) and [`Helmert`](crate::ops::Helmert), and of CRS
//! files: used with those operations they reproduce the control points up to the residuals.
//!
//! # Method
//! - **Least squares** in centred coordinates (the source centroid subtracted; the translation
//!   is converted back to the origin afterwards), by Householder QR of the column-equilibrated
//!   design matrix; a condition estimate above 10¹⁰ is refused as
//!   [`EstimateError::Degenerate`] (collinear, coincident or too few distinct points). The
//!   7-parameter model with the linearised rotation matrix is exactly linear in
//!   (T, k − 1, k·r) (k the scale), so the linear solution is the exact least-squares solution of
//!   the model [`Helmert`](crate::ops::Helmert) applies; no linearisation error remains.
//!   poly2 is linear in its 12 coefficients; its origin (e0, n0) is the centroid itself, so the
//!   centred solution *is* the CRS-file parameters (only a0, b0 and the unit diagonal are added
//!   back). Six points on one conic section (e.g. a circle) do not determine it.
//! - **Residual** of a point: v = target − model(source) (observed − computed), computed with
//!   the operation itself from the final parameters, metres, in the axes of the coordinates
//!   (E, N for planar models, geocentric X, Y, Z for helmert3 / helmert7).
//! - **RMSE** = √(Σ‖vᵢ‖² / n) over the n used points, ‖vᵢ‖ the 2D or 3D length of a point's
//!   residual: the typical misfit of one point, metres.
//! - **σ0** (a-posteriori standard deviation of one coordinate) = √(vᵀv / (m − u)), m the number
//!   of coordinate observations (2 or 3 per used point) and u the number of parameters; `None`
//!   when m = u (no redundancy). The **standard errors** of the parameters are σ0·√diag(Qₓₓ),
//!   propagated to the CRS-file parameters.
//! - **Outliers**: iterative data snooping with studentised residuals (Pope's τ test). For each
//!   used point and coordinate, wᵢ = |vᵢ| / (σ̂·√rᵢ), rᵢ = 1 − hᵢ its redundancy number (hᵢ the
//!   leverage) and σ̂ = max(σ0, [`Options::sigma_floor`]); a point's statistic is the largest
//!   over its coordinates. While the largest statistic exceeds [`Options::threshold`] (default
//!   3), that one point is flagged and the parameters are estimated again without it. The floor
//!   keeps rounding noise of exact data (σ0 ≈ 1e-9 m) from being "detected". The search stops
//!   (and names the point in [`Estimate::suspect`]) rather than leave fewer points than the
//!   minimum or no redundancy. With [`Outliers::FlagOnly`] the same points are flagged but the
//!   reported parameters use all points; [`Outliers::Off`] skips the search.
//!
//! # Errors
//! Too few points, a duplicated id, the same source coordinates twice, a non-finite coordinate,
//! or a degenerate geometry give an [`EstimateError`] that names the point ids (never
//! coordinates); no result ever contains NaN.

mod lsq;
mod models;
pub mod points;

use crate::crs::Crs;
use crate::error::PointError;
use crate::ops::{
    AffineParams, Geocentric, HelmertConvention, HelmertParams, Operation, PlanarHelmertParams,
    Polynomial2Params, Xyz,
};
use std::collections::HashMap;
use thiserror::Error;

pub use points::{control_points_text, parse_control_points, PointColumns, PointRow, PointsError};

/// The transformation model to estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Planar 4-parameter Helmert (similarity): dx, dy metres, θ arc-seconds, s ppm. Needs 2
    /// points.
    Helmert4,
    /// Planar 6-parameter affine: a0, a1, a2, b0, b1, b2. Needs 3 non-collinear points.
    Affine6,
    /// Planar second-order polynomial about the centroid of the source points (its origin
    /// e0, n0): a0…a5, b0…b5 (see [`Polynomial2`](crate::ops::Polynomial2)). Needs 6 points
    /// that do not lie on one conic section (a line, two lines, a circle, …).
    Poly2,
    /// Geocentric 3-parameter translation: tx, ty, tz metres. Needs 1 point.
    Helmert3,
    /// Geocentric 7-parameter Helmert in the given rotation convention: tx, ty, tz metres,
    /// rx, ry, rz arc-seconds, s ppm. Needs 3 non-collinear points.
    Helmert7(HelmertConvention),
}

impl Model {
    /// The method name as written in CRS files: `helmert4`, `affine6`, `poly2`, `helmert3`,
    /// `helmert7`.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Helmert4 => "helmert4",
            Model::Affine6 => "affine6",
            Model::Poly2 => "poly2",
            Model::Helmert3 => "helmert3",
            Model::Helmert7(_) => "helmert7",
        }
    }

    /// The fewest points that determine the model (with no redundancy).
    pub fn min_points(&self) -> usize {
        match self {
            Model::Helmert4 => 2,
            Model::Affine6 => 3,
            Model::Poly2 => 6,
            Model::Helmert3 => 1,
            Model::Helmert7(_) => 3,
        }
    }

    /// Whether the model is planar (2 coordinates per point, z ignored) rather than geocentric.
    pub fn is_planar(&self) -> bool {
        matches!(self, Model::Helmert4 | Model::Affine6 | Model::Poly2)
    }
}

/// The CRS-file name of a rotation convention: `position_vector` or `coordinate_frame`.
pub fn convention_name(convention: HelmertConvention) -> &'static str {
    match convention {
        HelmertConvention::PositionVector => "position_vector",
        HelmertConvention::CoordinateFrame => "coordinate_frame",
    }
}

/// One control point: the same point in the source and in the target system.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlPoint {
    /// Its name (any UTF-8, e.g. a Chinese point name); unique within a set.
    pub id: String,
    /// Source coordinates: `[E, N, ignored]` metres for planar models, geocentric `[X, Y, Z]`
    /// metres for helmert3 / helmert7.
    pub source: [f64; 3],
    /// Target coordinates, same axes and units as `source`.
    pub target: [f64; 3],
}

/// What to do with points the outlier test flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outliers {
    /// Flag them and estimate again without them (the default).
    #[default]
    Remove,
    /// Flag them but report the estimate from all points.
    FlagOnly,
    /// No outlier test.
    Off,
}

/// Estimation options.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// What to do with outliers.
    pub outliers: Outliers,
    /// Threshold of the studentised residual above which a point is an outlier (default 3, i.e.
    /// 3σ). Must be finite and positive.
    pub threshold: f64,
    /// Lower bound, metres, of the σ used in the outlier test (default 1e-4 m = 0.1 mm), so that
    /// the rounding noise of exact data is not tested as if it were measurement noise. Must be
    /// finite and ≥ 0.
    pub sigma_floor: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self { outliers: Outliers::Remove, threshold: 3.0, sigma_floor: 1e-4 }
    }
}

/// Estimated parameters, in the types (and units) of the operations and CRS files.
#[derive(Debug, Clone, PartialEq)]
pub enum Parameters {
    /// For [`PlanarHelmert`](crate::ops::PlanarHelmert), (E, N) axis order.
    Helmert4(PlanarHelmertParams),
    /// For [`Affine`](crate::ops::Affine), (E, N) axis order.
    Affine6(AffineParams),
    /// For [`Polynomial2`](crate::ops::Polynomial2), (E, N) axis order; the origin is the
    /// centroid of the used source points.
    Poly2(Polynomial2Params),
    /// For [`Helmert`](crate::ops::Helmert): translation only (rotations and scale 0).
    Helmert3(HelmertParams),
    /// For [`Helmert`](crate::ops::Helmert).
    Helmert7(HelmertParams),
}

impl Parameters {
    /// `(key, value, unit)` of each numeric parameter, keys as in CRS files, in this order:
    /// helmert4 `dx dy theta s`; affine6 `a0 a1 a2 b0 b1 b2`; poly2 `e0 n0 a0 … a5 b0 … b5`
    /// (the elements of the CRS file's `a` and `b` arrays; e0, n0 are the centroid, not
    /// estimated: standard error 0); helmert3 `tx ty tz`; helmert7 `tx ty tz rx ry rz s`.
    /// Units: `"m"`, `"arcsec"`, `"ppm"`, `"1/m"` or `""` (a ratio).
    pub fn values(&self) -> Vec<(&'static str, f64, &'static str)> {
        match self {
            Parameters::Helmert4(p) => {
                vec![
                    ("dx", p.dx, "m"),
                    ("dy", p.dy, "m"),
                    ("theta", p.theta, "arcsec"),
                    ("s", p.s, "ppm"),
                ]
            }
            Parameters::Affine6(p) => vec![
                ("a0", p.a0, "m"),
                ("a1", p.a1, ""),
                ("a2", p.a2, ""),
                ("b0", p.b0, "m"),
                ("b1", p.b1, ""),
                ("b2", p.b2, ""),
            ],
            Parameters::Poly2(p) => {
                const A: [&str; 6] = ["a0", "a1", "a2", "a3", "a4", "a5"];
                const B: [&str; 6] = ["b0", "b1", "b2", "b3", "b4", "b5"];
                const UNITS: [&str; 6] = ["m", "", "", "1/m", "1/m", "1/m"];
                let mut v = vec![("e0", p.e0, "m"), ("n0", p.n0, "m")];
                v.extend((0..6).map(|i| (A[i], p.a[i], UNITS[i])));
                v.extend((0..6).map(|i| (B[i], p.b[i], UNITS[i])));
                v
            }
            Parameters::Helmert3(p) => {
                vec![("tx", p.tx, "m"), ("ty", p.ty, "m"), ("tz", p.tz, "m")]
            }
            Parameters::Helmert7(p) => vec![
                ("tx", p.tx, "m"),
                ("ty", p.ty, "m"),
                ("tz", p.tz, "m"),
                ("rx", p.rx, "arcsec"),
                ("ry", p.ry, "arcsec"),
                ("rz", p.rz, "arcsec"),
                ("s", p.s, "ppm"),
            ],
        }
    }
}

/// The residual of one control point, v = target − model(source), metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    /// The point's id.
    pub id: String,
    /// Residual of the first coordinate (E, or geocentric X), metres.
    pub dx: f64,
    /// Residual of the second coordinate (N, or geocentric Y), metres.
    pub dy: f64,
    /// Residual of geocentric Z, metres; 0 for planar models.
    pub dz: f64,
    /// Length of the residual vector (2D or 3D), metres.
    pub norm: f64,
    /// The largest studentised residual |vᵢ| / (σ̂·√rᵢ) over the point's coordinates, for a
    /// point used in the final estimate with redundancy; `None` otherwise.
    pub standardised: Option<f64>,
    /// Whether the point was used in the final estimate.
    pub used: bool,
    /// Whether the outlier test flagged it.
    pub outlier: bool,
}

/// The result of an estimation.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The model.
    pub model: Model,
    /// The estimated parameters.
    pub parameters: Parameters,
    /// Standard errors (σ0·√diag Qₓₓ) of the parameters, in the order and units of
    /// [`Parameters::values`]; empty when there is no redundancy (σ0 undefined).
    pub standard_errors: Vec<f64>,
    /// √(Σ‖vᵢ‖² / n) over the used points, metres.
    pub rmse: f64,
    /// A-posteriori standard deviation of one coordinate, √(vᵀv / (m − u)), metres; `None`
    /// without redundancy.
    pub sigma0: Option<f64>,
    /// The largest residual length among the used points, metres.
    pub max_residual: f64,
    /// The id of the point with that residual.
    pub max_residual_id: String,
    /// Residuals of all points, in input order (dropped outliers included, `used == false`).
    pub residuals: Vec<Residual>,
    /// Ids of the points the outlier test flagged, in the order they were found (dropped from
    /// the estimate unless [`Outliers::FlagOnly`]).
    pub outliers: Vec<String>,
    /// A point whose studentised residual still exceeds the threshold but that was not dropped,
    /// because dropping it would leave too few points (or no redundancy, or a degenerate
    /// geometry). `None` when the search ended normally.
    pub suspect: Option<String>,
    /// Number of points used in the final estimate.
    pub points_used: usize,
    /// Redundancy m − u of the final estimate (coordinate observations minus parameters).
    pub redundancy: usize,
    /// Condition estimate of the equilibrated design matrix of the final estimate.
    pub condition: f64,
}

/// Why parameters could not be estimated. Messages name point ids, never coordinates.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EstimateError {
    /// Fewer points than the model needs.
    #[error("{model} needs at least {needed} control points, {got} given")]
    TooFewPoints {
        /// The model's name.
        model: &'static str,
        /// The minimum.
        needed: usize,
        /// How many were given.
        got: usize,
    },
    /// Two points have the same id.
    #[error("point id '{id}' is used twice")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// Two points have the same source coordinates.
    #[error("point '{id}' has the same source coordinates as point '{first}'")]
    DuplicateSource {
        /// The later point.
        id: String,
        /// The earlier point.
        first: String,
    },
    /// A coordinate is NaN or infinite.
    #[error("point '{id}' has a coordinate that is NaN or infinite")]
    NonFinite {
        /// The point.
        id: String,
    },
    /// The points do not determine the parameters (collinear, coincident, ...).
    #[error(
        "the control points do not determine the {model} parameters: they are collinear, \
         coincident or otherwise degenerate"
    )]
    Degenerate {
        /// The model's name.
        model: &'static str,
    },
    /// The estimated parameters are not a valid transformation (e.g. a scale ≤ 0), so the
    /// points cannot come from one.
    #[error("the control points give {model} parameters that are not a valid transformation")]
    InvalidResult {
        /// The model's name.
        model: &'static str,
    },
    /// An option is out of range.
    #[error("option {what} {reason}")]
    InvalidOption {
        /// The option.
        what: &'static str,
        /// What it must be.
        reason: &'static str,
    },
}

/// One least-squares fit on a subset of the points.
struct Fit {
    parameters: Parameters,
    solution: lsq::Solution,
    /// Residuals of all points (used or not), per coordinate.
    residuals: Vec<Xyz>,
    sigma0: Option<f64>,
    standard_errors: Vec<f64>,
    redundancy: usize,
}

/// Estimates `model` from `points` (see the [module docs](self) for the method and
/// definitions).
///
/// Errors: [`EstimateError::TooFewPoints`], [`EstimateError::DuplicateId`],
/// [`EstimateError::DuplicateSource`], [`EstimateError::NonFinite`] (planar models check only
/// E and N), [`EstimateError::Degenerate`], [`EstimateError::InvalidResult`],
/// [`EstimateError::InvalidOption`]. Never panics and never returns NaN.
pub fn estimate(
    model: Model,
    points: &[ControlPoint],
    options: &Options,
) -> Result<Estimate, EstimateError> {
    if !(options.threshold.is_finite() && options.threshold > 0.0) {
        return Err(EstimateError::InvalidOption {
            what: "threshold",
            reason: "must be a finite positive number",
        });
    }
    if !(options.sigma_floor.is_finite() && options.sigma_floor >= 0.0) {
        return Err(EstimateError::InvalidOption {
            what: "sigma_floor",
            reason: "must be a finite number of metres, at least 0",
        });
    }
    validate(model, points)?;
    let dim = models::dim(model);
    let u = models::unknowns(model);
    let mut used = vec![true; points.len()];
    let mut outliers: Vec<usize> = Vec::new();
    let mut suspect = None;
    let mut fit = fit(model, points, &used)?;
    if options.outliers != Outliers::Off {
        while let Some((worst, w)) = worst_point(&fit, points.len(), &used, dim, options) {
            if w <= options.threshold {
                break;
            }
            let remaining = used.iter().filter(|&&b| b).count() - 1;
            if remaining < model.min_points() || remaining * dim <= u {
                suspect = Some(worst);
                break;
            }
            used[worst] = false;
            match self::fit(model, points, &used) {
                Ok(f) => {
                    fit = f;
                    outliers.push(worst);
                }
                Err(EstimateError::Degenerate { .. }) => {
                    used[worst] = true;
                    suspect = Some(worst);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if options.outliers == Outliers::FlagOnly && !outliers.is_empty() {
            used.iter_mut().for_each(|b| *b = true);
            fit = self::fit(model, points, &used)?;
        }
    }
    let w = standardised(&fit, points.len(), &used, dim, options);
    let residuals: Vec<Residual> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let [dx, dy, dz] = fit.residuals[i];
            Residual {
                id: p.id.clone(),
                dx,
                dy,
                dz,
                norm: (dx * dx + dy * dy + dz * dz).sqrt(),
                standardised: w[i],
                used: used[i],
                outlier: outliers.contains(&i),
            }
        })
        .collect();
    let points_used = used.iter().filter(|&&b| b).count();
    let sum: f64 = residuals.iter().filter(|r| r.used).map(|r| r.norm * r.norm).sum();
    let (max_i, max_residual) = residuals
        .iter()
        .enumerate()
        .filter(|(_, r)| r.used)
        .map(|(i, r)| (i, r.norm))
        .fold((0, -1.0), |best, cur| if cur.1 > best.1 { cur } else { best });
    let rmse = (sum / points_used as f64).sqrt();
    if !(rmse.is_finite() && max_residual.is_finite()) {
        return Err(EstimateError::InvalidResult { model: model.name() });
    }
    Ok(Estimate {
        model,
        parameters: fit.parameters,
        standard_errors: fit.standard_errors,
        rmse,
        sigma0: fit.sigma0,
        max_residual,
        max_residual_id: points[max_i].id.clone(),
        residuals,
        outliers: outliers.iter().map(|&i| points[i].id.clone()).collect(),
        suspect: suspect.map(|i| points[i].id.clone()),
        points_used,
        redundancy: fit.redundancy,
        condition: fit.solution.condition,
    })
}

/// Checks the number of points, ids, finiteness and duplicated source coordinates.
fn validate(model: Model, points: &[ControlPoint]) -> Result<(), EstimateError> {
    if points.len() < model.min_points() {
        return Err(EstimateError::TooFewPoints {
            model: model.name(),
            needed: model.min_points(),
            got: points.len(),
        });
    }
    let dim = models::dim(model);
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut sources: HashMap<[u64; 3], usize> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        if ids.insert(p.id.as_str(), i).is_some() {
            return Err(EstimateError::DuplicateId { id: p.id.clone() });
        }
        if !p.source[..dim].iter().chain(&p.target[..dim]).all(|v| v.is_finite()) {
            return Err(EstimateError::NonFinite { id: p.id.clone() });
        }
        // + 0.0 makes −0 and +0 the same key.
        let mut key = [0_u64; 3];
        for (k, v) in key.iter_mut().zip(&p.source[..dim]) {
            *k = (v + 0.0).to_bits();
        }
        if let Some(&first) = sources.get(&key) {
            return Err(EstimateError::DuplicateSource {
                id: p.id.clone(),
                first: points[first].id.clone(),
            });
        }
        sources.insert(key, i);
    }
    Ok(())
}

/// Least squares on the used points; residuals of all points.
fn fit(model: Model, points: &[ControlPoint], used: &[bool]) -> Result<Fit, EstimateError> {
    let dim = models::dim(model);
    let u = models::unknowns(model);
    let name = model.name();
    let n_used = used.iter().filter(|&&b| b).count();
    let mut c = [0.0; 3];
    for p in points.iter().zip(used).filter(|(_, &b)| b).map(|(p, _)| p) {
        for (ck, v) in c.iter_mut().zip(&p.source[..dim]) {
            *ck += v;
        }
    }
    c.iter_mut().for_each(|v| *v /= n_used as f64);
    let mut a = Vec::with_capacity(n_used * dim * u);
    let mut b = Vec::with_capacity(n_used * dim);
    for p in points.iter().zip(used).filter(|(_, &b)| b).map(|(p, _)| p) {
        let mut q = [0.0; 3];
        for k in 0..dim {
            q[k] = p.source[k] - c[k];
            b.push(p.target[k] - p.source[k]);
        }
        models::design_rows(model, q, &mut a);
    }
    let solution =
        lsq::solve(&a, &b, u).map_err(|lsq::Singular| EstimateError::Degenerate { model: name })?;
    let parameters = models::parameters(model, c, &solution.x);
    let forward =
        models::Forward::new(&parameters).ok_or(EstimateError::InvalidResult { model: name })?;
    let mut residuals = Vec::with_capacity(points.len());
    for p in points {
        let mut src = p.source;
        if dim == 2 {
            src[2] = 0.0;
        }
        let image = forward.apply(src).ok_or(EstimateError::InvalidResult { model: name })?;
        let mut v = [0.0; 3];
        for k in 0..dim {
            v[k] = p.target[k] - image[k];
        }
        if !v.iter().all(|x| x.is_finite()) {
            return Err(EstimateError::InvalidResult { model: name });
        }
        residuals.push(v);
    }
    let redundancy = n_used * dim - u;
    let sigma0 = (redundancy > 0).then(|| {
        let vtv: f64 = residuals
            .iter()
            .zip(used)
            .filter(|(_, &b)| b)
            .flat_map(|(v, _)| v.iter().map(|x| x * x))
            .sum();
        (vtv / redundancy as f64).sqrt()
    });
    // Standard errors: (AᵀA)⁻¹ = L·Lᵀ, so the parameter covariance is Σₖ (σ0·lₖ)(σ0·lₖ)ᵀ with
    // lₖ the columns of L; each column is pushed through the (nearly linear) conversion to the
    // CRS-file parameters as a difference, which is exact for the linear parts.
    let standard_errors = match sigma0 {
        Some(s0) if s0 > 0.0 => {
            let base: Vec<f64> = parameters.values().iter().map(|v| v.1).collect();
            let mut var = vec![0.0; base.len()];
            for k in 0..u {
                let xk: Vec<f64> =
                    (0..u).map(|j| solution.x[j] + s0 * solution.l[j * u + k]).collect();
                let pk = models::parameters(model, c, &xk);
                for (vj, (bj, pj)) in var.iter_mut().zip(base.iter().zip(pk.values())) {
                    *vj += (pj.1 - bj) * (pj.1 - bj);
                }
            }
            var.iter().map(|v| v.sqrt()).collect()
        }
        Some(_) => vec![0.0; parameters.values().len()],
        None => Vec::new(),
    };
    if !standard_errors.iter().all(|v| v.is_finite()) {
        return Err(EstimateError::InvalidResult { model: name });
    }
    Ok(Fit { parameters, solution, residuals, sigma0, standard_errors, redundancy })
}

/// Studentised residual of each point (largest over its coordinates), for used points of a fit
/// with redundancy; `None` for the others.
fn standardised(
    fit: &Fit,
    n: usize,
    used: &[bool],
    dim: usize,
    options: &Options,
) -> Vec<Option<f64>> {
    let mut out = vec![None; n];
    let Some(s0) = fit.sigma0 else { return out };
    let sigma = s0.max(options.sigma_floor);
    if sigma <= 0.0 {
        return out;
    }
    let mut row = 0;
    for i in (0..n).filter(|&i| used[i]) {
        let mut w: Option<f64> = None;
        for k in 0..dim {
            let r = 1.0 - fit.solution.leverage[row + k];
            // A coordinate that fixes a parameter alone (r ≈ 0) cannot be checked.
            if r > 1e-9 {
                let wk = fit.residuals[i][k].abs() / (sigma * r.sqrt());
                w = Some(w.map_or(wk, |m: f64| m.max(wk)));
            }
        }
        out[i] = w;
        row += dim;
    }
    out
}

/// The used point with the largest studentised residual, and that residual.
fn worst_point(
    fit: &Fit,
    n: usize,
    used: &[bool],
    dim: usize,
    options: &Options,
) -> Option<(usize, f64)> {
    standardised(fit, n, used, dim, options)
        .into_iter()
        .enumerate()
        .filter_map(|(i, w)| w.map(|w| (i, w)))
        .fold(None, |best: Option<(usize, f64)>, cur| match best {
            Some(b) if b.1 >= cur.1 => Some(b),
            _ => Some(cur),
        })
}

/// Geocentric `[X, Y, Z]` metres, on `crs`'s own datum ellipsoid, of a point given in `crs`'s
/// coordinates `p` (`[lon°, lat°, h m]` for a geographic CRS, `[E, N, h]` metres for a
/// projected one, heights ellipsoidal): the inverse of the CRS's chain to geographic
/// coordinates on its datum, then geographic → geocentric. No datum shift is applied (that is
/// what helmert3 / helmert7 estimate).
///
/// Errors: whatever the CRS's inverse operations report ([`PointError::NonFinite`],
/// [`PointError::LatitudeOutOfRange`], [`PointError::OutsideDomain`],
/// [`PointError::NoConvergence`]).
pub fn geocentric_on_datum(crs: &Crs, p: [f64; 3]) -> Result<[f64; 3], PointError> {
    // A constructed Crs has a valid chain (Crs::new checks it).
    let chain = crs.chain().map_err(|_| PointError::OutsideDomain { operation: "crs" })?;
    let mut q = p;
    for step in chain.iter().rev() {
        q = step.clone().reversed().apply(q)?;
    }
    Geocentric::new(crs.datum().ellipsoid()).forward(q)
}
