//! PROJ pipeline strings equivalent to geounify conversions between CRS-file CRSs, written by
//! hand from each CRS's parameters (never from geounify's steps), so that PROJ can serve as an
//! independent oracle for `data/crs/city.toml`. Used by `tests/proj_differential.rs` and
//! `examples/gen_crs_file_vectors.rs` (`#[path]`); it needs no PROJ itself.
//!
//! Mapping, per CRS kind (the pipeline runs from the source CRS's units to the target's;
//! inside it geographic coordinates are radians, as PROJ's operators take them):
//! - geographic: `+proj=unitconvert +xy_in=rad +xy_out=deg`;
//! - Gauss-Krüger: `+proj=tmerc +lat_0 +lon_0 +k_0 +x_0 +y_0` on the datum's ellipsoid by its
//!   PROJ name (`GRS80`, `WGS84`, `krass`, `IAU76` = IAG 1975);
//! - projection surface, `scale_factor`: the same with `+k_0 = k0·(1 + H/R)`;
//!   `ellipsoid_expansion`: `+proj=cart` on the datum's ellipsoid, `+inv +proj=cart` on the
//!   expanded one (`+a = a + H/√(1 − e²·sin²φ_ref) +rf = 1/f`), then the same `tmerc` on it;
//! - local grid: the base's steps, then `+proj=affine` (helmert4: `s11 = m·cosθ`,
//!   `s12 = −m·sinθ`, `s21 = m·sinθ`, `s22 = m·cosθ`, `xoff = dx`, `yoff = dy`; affine6 as
//!   given). `city:survey-grid` states its parameters in X = north, Y = east order: PROJ gets
//!   them exactly as the file writes them, between two `+proj=axisswap +order=2,1`;
//!   poly2 as `+proj=horner +deg=2` about `+fwd_origin=e0,n0` (see [`horner`] for the
//!   coefficient order), inverted by PROJ's own iteration (no `inv_u`/`inv_v` given);
//! - datum shift (only when the datums differ and are not CGCS2000 / WGS 84, which geounify
//!   treats as one frame): `+proj=cart` on the source ellipsoid, `+proj=helmert` with the
//!   file's parameters and convention, `+inv +proj=cart +ellps=GRS80` (the CGCS2000 hub), and
//!   from the hub to a target datum the **exact** inverse of its Helmert: the same linearised
//!   map written as a 3D `+proj=affine` (matrix `(1 + s·10⁻⁶)·R`, offsets `T`) applied with
//!   `+inv`, which PROJ inverts exactly. (`+inv +proj=helmert` multiplies by the transpose
//!   instead, correct only to first order in the rotations: see [`helmert_inverse`].)
#![allow(dead_code)]

use geounify::ops::{HelmertConvention, HelmertParams};
use geounify::{
    Crs, CrsKind, Datum, DatumShift, Ellipsoid, HeightMethod, PlanarTransform, Projection,
};

/// `city:survey-grid`'s helmert4 parameters exactly as `data/crs/city.toml` writes them, in the
/// X = north, Y = east order: dx (m), dy (m), θ (arc-seconds), s (ppm).
pub const SURVEY_GRID_NORTH_EAST: (f64, f64, f64, f64) =
    (-4_398_212.875, -443_019.5, -312.75, -4.2);

/// Arc-seconds to radians.
const ARCSEC: f64 = std::f64::consts::PI / 180.0 / 3600.0;

/// One pipeline step: an operator with its parameters, forward or `+inv`.
#[derive(Debug, Clone)]
pub struct Step {
    /// Applied inverse.
    pub inv: bool,
    /// `+proj=... +param=...`.
    pub body: String,
}

fn fwd(body: String) -> Step {
    Step { inv: false, body }
}

/// The steps in the other direction: reversed order, each inverted.
pub fn reversed(steps: &[Step]) -> Vec<Step> {
    steps.iter().rev().map(|s| Step { inv: !s.inv, body: s.body.clone() }).collect()
}

/// A `+proj=pipeline` string of `steps`.
pub fn pipeline_string(steps: &[Step]) -> String {
    let mut out = String::from("+proj=pipeline");
    for s in steps {
        out.push_str(if s.inv { " +step +inv " } else { " +step " });
        out.push_str(&s.body);
    }
    out
}

/// The ellipsoid parameters, by PROJ name for the built-in ones.
pub fn ellps(e: &Ellipsoid) -> String {
    match e.id() {
        "grs80" => "+ellps=GRS80".into(),
        "wgs84" => "+ellps=WGS84".into(),
        "krassovsky" => "+ellps=krass".into(),
        "iag1975" => "+ellps=IAU76".into(),
        _ => format!("+a={} +rf={}", e.a(), e.rf()),
    }
}

/// The steps from geographic coordinates (radians) on `crs`'s datum to `crs`'s coordinates.
pub fn definition(crs: &Crs) -> Vec<Step> {
    let e = crs.datum().ellipsoid();
    let tmerc = |p: &geounify::ops::GaussKrugerParams, k0: f64, ellps: String| {
        fwd(format!(
            "+proj=tmerc +lat_0={} +lon_0={} +k_0={k0} +x_0={} +y_0={} {ellps}",
            p.lat0, p.lon0, p.x0, p.y0
        ))
    };
    match crs.kind() {
        CrsKind::Geographic => vec![fwd("+proj=unitconvert +xy_in=rad +xy_out=deg".into())],
        CrsKind::Projected(Projection::GaussKruger(p)) => vec![tmerc(p, p.k0, ellps(e))],
        CrsKind::Projected(Projection::GaussKrugerSurface(p, surface)) => {
            let h = surface.height;
            match &surface.method {
                HeightMethod::ScaleFactor { radius } => {
                    vec![tmerc(p, p.k0 * (1.0 + h / radius), ellps(e))]
                }
                HeightMethod::EllipsoidExpansion { lat_ref } => {
                    let w = (1.0 - e.es() * lat_ref.to_radians().sin().powi(2)).sqrt();
                    let expanded = format!("+a={} +rf={}", e.a() + h / w, e.rf());
                    vec![
                        fwd(format!("+proj=cart {}", ellps(e))),
                        Step { inv: true, body: format!("+proj=cart {expanded}") },
                        tmerc(p, p.k0, expanded),
                    ]
                }
            }
        }
        CrsKind::Local { base, planar } => {
            let mut steps = definition(base);
            match planar {
                PlanarTransform::Helmert4(h)
                    if crs.id().eq_ignore_ascii_case("city:survey-grid") =>
                {
                    // As written in the file (X = north, Y = east); guard against a stale copy.
                    let (dx, dy, theta, s) = SURVEY_GRID_NORTH_EAST;
                    assert_eq!(h.to_north_east(), (dx, dy, theta, s), "city.toml changed");
                    let swap = fwd("+proj=axisswap +order=2,1".into());
                    steps.push(swap.clone());
                    steps.push(fwd(helmert4(dx, dy, theta, s)));
                    steps.push(swap);
                }
                PlanarTransform::Helmert4(h) => steps.push(fwd(helmert4(h.dx, h.dy, h.theta, h.s))),
                PlanarTransform::Affine6(a) => steps.push(fwd(format!(
                    "+proj=affine +xoff={} +s11={} +s12={} +yoff={} +s21={} +s22={}",
                    a.a0, a.a1, a.a2, a.b0, a.b1, a.b2
                ))),
                PlanarTransform::Polynomial2(p) => steps.push(fwd(horner(p))),
            }
            steps
        }
        other => panic!("{}: no PROJ mapping for {other:?}", crs.id()),
    }
}

/// A poly2 grid as PROJ's `+proj=horner` (PROJ 9.1+, `src/transformations/horner.cpp`).
///
/// PROJ's real 2-D Horner polynomial of degree 2 about `fwd_origin` = (e0, n0), with
/// e = E − e0, n = N − n0, evaluates (derived from its double Horner scheme: the E' polynomial
/// is nested in e inside n, the N' polynomial in n inside e)
///
/// ```text
/// E' = u[0] + u[1]·e + u[2]·e² + u[3]·n + u[4]·e·n + u[5]·n²
/// N' = v[0] + v[1]·n + v[2]·n² + v[3]·e + v[4]·e·n + v[5]·e²
/// ```
///
/// so poly2's `E' = a0 + a1·u + a2·v + a3·u² + a4·u·v + a5·v²` is `fwd_u = a0,a1,a3,a2,a4,a5`
/// and `N' = b0 + b1·u + b2·v + b3·u² + b4·u·v + b5·v²` is `fwd_v = b0,b2,b5,b1,b4,b3`: the
/// same model, exactly. Without `inv_u`/`inv_v` PROJ inverts it by its own fixed-point
/// iteration, to `inv_tolerance` (metres; 1e-9 here: far below the 1 µm comparison, and above
/// the ~1e-11 m rounding of its iterates, which a smaller tolerance might never get under).
/// `range` is the largest |coordinate| PROJ accepts; its iterative inverse tests it on the
/// *absolute* grid coordinates, so it must exceed them (the default is 500 000 m).
pub fn horner(p: &geounify::ops::Polynomial2Params) -> String {
    let (a, b) = (&p.a, &p.b);
    format!(
        "+proj=horner +deg=2 +range=1e9 +inv_tolerance=1e-9 +fwd_origin={},{} \
         +fwd_u={},{},{},{},{},{} +fwd_v={},{},{},{},{},{}",
        p.e0, p.n0, a[0], a[1], a[3], a[2], a[4], a[5], b[0], b[2], b[5], b[1], b[4], b[3]
    )
}

/// A planar 4-parameter Helmert as `+proj=affine`: θ arc-seconds, s ppm.
fn helmert4(dx: f64, dy: f64, theta: f64, s: f64) -> String {
    let m = 1.0 + s * 1e-6;
    let (sin, cos) = (theta * ARCSEC).sin_cos();
    format!(
        "+proj=affine +xoff={dx} +yoff={dy} +s11={} +s12={} +s21={} +s22={}",
        m * cos,
        -m * sin,
        m * sin,
        m * cos
    )
}

/// `+proj=helmert` with the parameters and convention as given (forward: datum → CGCS2000).
pub fn helmert(p: &HelmertParams) -> String {
    let convention = match p.convention {
        HelmertConvention::CoordinateFrame => "coordinate_frame",
        HelmertConvention::PositionVector => "position_vector",
    };
    format!(
        "+proj=helmert +x={} +y={} +z={} +rx={} +ry={} +rz={} +s={} +convention={convention}",
        p.tx, p.ty, p.tz, p.rx, p.ry, p.rz, p.s
    )
}

/// The same linearised Helmert map as [`helmert`], written as a 3D `+proj=affine`:
/// `X' = T + (1 + s·10⁻⁶)·R·X`, with R in the coordinate-frame convention
/// `[[1, rz, −ry], [−rz, 1, rx], [ry, −rx, 1]]` (EPSG 9607) and its transpose in the
/// position-vector convention (EPSG 9606). Its `+inv` is PROJ's exact matrix inverse.
pub fn helmert_as_affine(p: &HelmertParams) -> String {
    let (rx, ry, rz) = (p.rx * ARCSEC, p.ry * ARCSEC, p.rz * ARCSEC);
    let cf = [[1.0, rz, -ry], [-rz, 1.0, rx], [ry, -rx, 1.0]];
    let r = match p.convention {
        HelmertConvention::CoordinateFrame => cf,
        HelmertConvention::PositionVector => [0, 1, 2].map(|i| [0, 1, 2].map(|j| cf[j][i])),
    };
    let m = 1.0 + p.s * 1e-6;
    let mut out = format!("+proj=affine +xoff={} +yoff={} +zoff={}", p.tx, p.ty, p.tz);
    for (i, row) in r.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            out.push_str(&format!(" +s{}{}={}", i + 1, j + 1, m * v));
        }
    }
    out
}

/// Which inverse of a target datum's Helmert the pipeline uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelmertInverse {
    /// The exact inverse (`+inv` of [`helmert_as_affine`]), as geounify computes it.
    Exact,
    /// PROJ's own `+inv +proj=helmert` (the transposed rotation: first order only).
    ProjTranspose,
}

fn helmert_of(datum: &Datum) -> Option<&HelmertParams> {
    match datum.to_cgcs2000() {
        DatumShift::SameFrame => None,
        DatumShift::Helmert(p) => Some(p),
        other => panic!("datum {}: no PROJ mapping for {other:?}", datum.id()),
    }
}

/// The steps from geographic coordinates (radians) on `source` to those on `target`.
pub fn datum_shift(source: &Datum, target: &Datum, inverse: HelmertInverse) -> Vec<Step> {
    if source.same_as(target) {
        return Vec::new();
    }
    let mut steps = Vec::new();
    if let Some(p) = helmert_of(source) {
        steps.push(fwd(format!("+proj=cart {}", ellps(source.ellipsoid()))));
        steps.push(fwd(helmert(p)));
        steps.push(Step { inv: true, body: "+proj=cart +ellps=GRS80".into() });
    }
    if let Some(p) = helmert_of(target) {
        if steps.is_empty() {
            steps.push(fwd("+proj=cart +ellps=GRS80".into()));
        } else {
            steps.pop(); // inv cart GRS80 then cart GRS80: left out, as geounify does
        }
        steps.push(Step {
            inv: true,
            body: match inverse {
                HelmertInverse::Exact => helmert_as_affine(p),
                HelmertInverse::ProjTranspose => helmert(p),
            },
        });
        steps.push(Step { inv: true, body: format!("+proj=cart {}", ellps(target.ellipsoid())) });
    }
    steps
}

/// The whole pipeline `source` → `target`, in each CRS's units (degrees or metres, x = longitude
/// / easting); 2D input is taken at height 0 on the source datum, as geounify's `transform_xy`.
pub fn pipeline(source: &Crs, target: &Crs, inverse: HelmertInverse) -> String {
    let mut steps = reversed(&definition(source));
    steps.extend(datum_shift(source.datum(), target.datum(), inverse));
    steps.extend(definition(target));
    pipeline_string(&steps)
}

/// Whether the conversion `source` → `target` inverts a Helmert (the target's datum has one and
/// differs from the source's).
pub fn inverts_helmert(source: &Crs, target: &Crs) -> bool {
    !source.datum().same_as(target.datum()) && helmert_of(target.datum()).is_some()
}

/// The pipeline from longitude, latitude in degrees on `crs`'s datum to `crs`'s coordinates
/// (how the test points are placed in each source CRS).
pub fn from_geographic(crs: &Crs) -> String {
    let mut steps = vec![fwd("+proj=unitconvert +xy_in=deg +xy_out=rad".into())];
    steps.extend(definition(crs));
    pipeline_string(&steps)
}

/// The CRS file's CRSs, then the catalogue CRSs each is paired with, then the file ↔ file pairs
/// across datums (each pair is compared in both directions).
pub const FILE_CRSS: [&str; 9] = [
    "city:bj54-gk117",
    "city:xian80-gk117",
    "city:bj54-geog",
    "city:old-grid",
    "city:survey-grid",
    "city:affine-grid",
    "city:poly-grid",
    "city:cgcs-116.5-h60",
    "city:cgcs-116.5-h60e",
];

/// Catalogue partners of every file CRS.
pub const CATALOGUE_PARTNERS: [&str; 3] = ["EPSG:4326", "EPSG:4548", "EPSG:4490"];

/// File ↔ file pairs across datums.
pub const FILE_PAIRS: [(&str, &str); 5] = [
    ("city:bj54-gk117", "city:xian80-gk117"),
    ("city:old-grid", "city:xian80-gk117"),
    ("city:old-grid", "city:affine-grid"),
    ("city:survey-grid", "city:bj54-geog"),
    ("city:poly-grid", "city:old-grid"),
];

/// Every (source, target) id pair, both directions.
pub fn all_pairs() -> Vec<(&'static str, &'static str)> {
    let mut pairs = Vec::new();
    for f in FILE_CRSS {
        for c in CATALOGUE_PARTNERS {
            pairs.push((f, c));
            pairs.push((c, f));
        }
    }
    for (a, b) in FILE_PAIRS {
        pairs.push((a, b));
        pairs.push((b, a));
    }
    pairs
}

/// The city area, degrees: west, south, east, north.
pub const CITY_AREA: (f64, f64, f64, f64) = (115.9, 39.5, 117.2, 40.4);

/// An `nx` × `ny` grid of longitude, latitude (degrees) over [`CITY_AREA`], cell centres.
pub fn city_grid(nx: usize, ny: usize) -> Vec<(f64, f64)> {
    let (w, s, e, n) = CITY_AREA;
    let mut points = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            points.push((
                w + (e - w) * (i as f64 + 0.5) / nx as f64,
                s + (n - s) * (j as f64 + 0.5) / ny as f64,
            ));
        }
    }
    points
}

/// The CRS file the pairs come from.
pub fn city_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/crs/city.toml")
}
