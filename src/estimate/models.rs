//! The five models as linear least-squares problems in centred coordinates.
//!
//! Every model is written as `target − source = f(x; source − c)`, with `c` the centroid of the
//! used source points and `x` a vector of small unknowns (translations of the centroid, scale
//! *differences*, rotations), so that neither the observations nor the unknowns carry the
//! 6e6 m magnitude of geocentric coordinates and the translation is not correlated with the
//! rotations. The parameters of the CRS file (translations at the origin) are computed from `x`
//! afterwards by formulas that avoid cancellation.
//!
//! The 7-parameter model X' = (1 + s·10⁻⁶)·R·X + T with the linearised rotation matrix R = I + M(r)
//! (M linear in r) is *exactly* linear in (T, k − 1, k·r), k = 1 + s·10⁻⁶: k·R·X = k·X +
//! M(k·r)·X. Solving for u = k·r and converting r = u / k is therefore the exact least-squares
//! solution of the bilinear model; no Gauss-Newton iteration is needed.

use super::{Model, Parameters};
use crate::ops::{
    Affine, AffineParams, Helmert, HelmertConvention, HelmertParams, Operation, PlanarHelmert,
    PlanarHelmertParams, Polynomial2, Polynomial2Params, Xyz,
};

/// Arc-seconds per radian.
const RAD_TO_ARCSEC: f64 = 180.0 * 3600.0 / std::f64::consts::PI;

/// Coordinate components per point (2 planar, 3 geocentric).
pub(crate) fn dim(model: Model) -> usize {
    match model {
        Model::Helmert4 | Model::Affine6 | Model::Poly2 => 2,
        Model::Helmert3 | Model::Helmert7(_) => 3,
    }
}

/// Number of unknowns.
pub(crate) fn unknowns(model: Model) -> usize {
    match model {
        Model::Helmert4 => 4,
        Model::Affine6 => 6,
        Model::Poly2 => 12,
        Model::Helmert3 => 3,
        Model::Helmert7(_) => 7,
    }
}

/// Appends the design rows (one per component, `unknowns(model)` entries each) of a source point
/// `q` already centred (q = source − c).
pub(crate) fn design_rows(model: Model, q: Xyz, rows: &mut Vec<f64>) {
    let [x, y, z] = q;
    match model {
        // E'−E = p + α·Ec − b·Nc ;  N'−N = q + b·Ec + α·Nc   (x = [p, q, α, b])
        Model::Helmert4 => rows.extend_from_slice(&[1.0, 0.0, x, -y, 0.0, 1.0, y, x]),
        // E'−E = p + α1·Ec + a2·Nc ; N'−N = q + b1·Ec + β2·Nc   (x = [p, α1, a2, q, b1, β2])
        Model::Affine6 => {
            rows.extend_from_slice(&[1.0, x, y, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, x, y])
        }
        // E'−E = p + α1·u + a2·v + a3·u² + a4·uv + a5·v² ; N'−N = q + b1·u + β2·v + b3·u² + …
        // with (u, v) the centred source (x = [p, α1, a2, a3, a4, a5, q, b1, β2, b3, b4, b5]).
        // The centroid is the polynomial's origin, so the coefficients need no conversion.
        Model::Poly2 => {
            let m = [1.0, x, y, x * x, x * y, y * y];
            rows.extend_from_slice(&m);
            rows.extend_from_slice(&[0.0; 6]);
            rows.extend_from_slice(&[0.0; 6]);
            rows.extend_from_slice(&m);
        }
        Model::Helmert3 => rows.extend_from_slice(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
        // X'−X = d + δ·Xc + M(u)·Xc, position-vector M(u)·X = [−uz·Y + uy·Z, uz·X − ux·Z,
        // −uy·X + ux·Y]   (x = [d0, d1, d2, δ, ux, uy, uz])
        Model::Helmert7(_) => rows.extend_from_slice(&[
            1.0, 0.0, 0.0, x, 0.0, z, -y, //
            0.0, 1.0, 0.0, y, -z, 0.0, x, //
            0.0, 0.0, 1.0, z, y, -x, 0.0,
        ]),
    }
}

/// The position-vector rotation term M(u)·p.
fn m_pv(u: [f64; 3], p: [f64; 3]) -> [f64; 3] {
    [-u[2] * p[1] + u[1] * p[2], u[2] * p[0] - u[0] * p[2], -u[1] * p[0] + u[0] * p[1]]
}

/// The model's parameters from the unknowns `x` and the centroid `c`.
pub(crate) fn parameters(model: Model, c: Xyz, x: &[f64]) -> Parameters {
    match model {
        Model::Helmert4 => {
            let (p, q, alpha, b) = (x[0], x[1], x[2], x[3]);
            let a = 1.0 + alpha;
            let m = a.hypot(b);
            // m − 1 without cancellation: (a² + b² − 1) / (m + 1), a² − 1 = 2α + α².
            let dm = (2.0 * alpha + alpha * alpha + b * b) / (m + 1.0);
            Parameters::Helmert4(PlanarHelmertParams {
                dx: p - alpha * c[0] + b * c[1],
                dy: q - b * c[0] - alpha * c[1],
                theta: b.atan2(a) * RAD_TO_ARCSEC,
                s: dm * 1e6,
            })
        }
        Model::Affine6 => {
            let (p, al1, a2, q, b1, be2) = (x[0], x[1], x[2], x[3], x[4], x[5]);
            Parameters::Affine6(AffineParams {
                a0: p - al1 * c[0] - a2 * c[1],
                a1: 1.0 + al1,
                a2,
                b0: q - b1 * c[0] - be2 * c[1],
                b1,
                b2: 1.0 + be2,
            })
        }
        Model::Poly2 => {
            // E' = E + (p + α1·u + …) with E = e0 + u: a0 = e0 + p, a1 = 1 + α1; the same for N'.
            let mut a = [x[0], x[1], x[2], x[3], x[4], x[5]];
            let mut b = [x[6], x[7], x[8], x[9], x[10], x[11]];
            a[0] += c[0];
            a[1] += 1.0;
            b[0] += c[1];
            b[2] += 1.0;
            Parameters::Poly2(Polynomial2Params { e0: c[0], n0: c[1], a, b })
        }
        Model::Helmert3 => Parameters::Helmert3(HelmertParams::translation(x[0], x[1], x[2])),
        Model::Helmert7(convention) => {
            let d = [x[0], x[1], x[2]];
            let delta = x[3];
            let u = [x[4], x[5], x[6]];
            let mc = m_pv(u, c);
            let k = 1.0 + delta;
            // Position-vector rotations; coordinate frame is the opposite sign.
            let sign = match convention {
                HelmertConvention::PositionVector => 1.0,
                HelmertConvention::CoordinateFrame => -1.0,
            };
            let r = |ui: f64| sign * ui / k * RAD_TO_ARCSEC;
            Parameters::Helmert7(HelmertParams {
                tx: d[0] - delta * c[0] - mc[0],
                ty: d[1] - delta * c[1] - mc[1],
                tz: d[2] - delta * c[2] - mc[2],
                rx: r(u[0]),
                ry: r(u[1]),
                rz: r(u[2]),
                s: delta * 1e6,
                convention,
            })
        }
    }
}

/// A compiled forward map of estimated parameters.
pub(crate) enum Forward {
    /// helmert3 / helmert7.
    Helmert(Helmert),
    /// helmert4.
    Planar(PlanarHelmert),
    /// affine6.
    Affine(Affine),
    /// poly2.
    Poly2(Polynomial2),
}

impl Forward {
    /// Compiles `params`; `None` when the operation refuses them (e.g. a scale ≤ 0).
    pub(crate) fn new(params: &Parameters) -> Option<Self> {
        Some(match params {
            Parameters::Helmert3(p) | Parameters::Helmert7(p) => {
                Forward::Helmert(Helmert::new(p.clone()).ok()?)
            }
            Parameters::Helmert4(p) => Forward::Planar(PlanarHelmert::new(p.clone()).ok()?),
            Parameters::Affine6(p) => Forward::Affine(Affine::new(p.clone()).ok()?),
            Parameters::Poly2(p) => Forward::Poly2(Polynomial2::new(p.clone()).ok()?),
        })
    }

    /// The image of `p` (planar models pass z through).
    pub(crate) fn apply(&self, p: Xyz) -> Option<Xyz> {
        match self {
            Forward::Helmert(o) => o.forward(p),
            Forward::Planar(o) => o.forward(p),
            Forward::Affine(o) => o.forward(p),
            Forward::Poly2(o) => o.forward(p),
        }
        .ok()
    }
}
