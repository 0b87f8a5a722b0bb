//! The transformer: a (source, target) CRS pair compiled once into a flat list of steps, then
//! applied to as many points as needed, from any number of threads.

use crate::catalogue;
use crate::crs::Crs;
use crate::datum::{Datum, DatumShift};
use crate::ellipsoid::Ellipsoid;
use crate::error::{BuildError, PointError, MAX_LONGITUDE_DEG};
use crate::ops::{Geocentric, Helmert, Molodensky, Op, Step, Xyz};

/// A compiled conversion from one CRS to another.
///
/// - Axis order is always x = easting/longitude, y = northing/latitude; angles are degrees,
///   lengths metres, heights ellipsoidal metres.
/// - Built once, applied many times; `Send + Sync`, so one transformer can be shared by reference
///   across threads.
/// - Two CRSs on the same datum convert with no datum shift at all. CGCS2000 and WGS84 are
///   treated as the same frame (their realisations agree to a few centimetres): geographic
///   coordinates pass unchanged between them.
/// - Between datums where either lacks a shift to CGCS2000 (Beijing 1954 and Xi'an 1980 as
///   built in), [`Transformer::new`] fails with [`BuildError::MissingDatumShift`]; it never
///   substitutes a "ballpark" no-op.
/// - Heights. The third coordinate of a 2D CRS (every catalogue CRS but EPSG:4479, 4480, 4978
///   and 4979, and CRS-file CRSs without `dimension = 3`) is an *elevation* in the national
///   height datum, not an ellipsoidal height. Between two 2D CRSs it is copied unchanged, and
///   the plane coordinates are those of the point without it (height 0 on the source datum),
///   so a point converts to the same place with or without a z. Heights are converted only
///   when they are ellipsoidal: between 3D CRSs ([`Crs::is_3d`]), or when the caller says the
///   2D heights are ellipsoidal ([`Heights::Ellipsoidal`] with [`Transformer::with_heights`]).
///   A 2D ↔ 3D pair has no conversion of heights without a geoid model, which geounify does
///   not have: it is refused with [`BuildError::HeightsNotConvertible`] unless
///   [`Heights::Ellipsoidal`] is given.
/// - Geographic input: a non-finite coordinate is [`PointError::NonFinite`], a latitude beyond
///   ±90° [`PointError::LatitudeOutOfRange`], a longitude beyond ±10 radians (≈ 572.96°, PROJ's
///   limit) [`PointError::LongitudeOutOfRange`] unless the conversion is the identity (e.g.
///   WGS84 → CGCS2000, which passes every finite value through unchanged); longitudes within
///   the limit are wrapped where an operation needs it (477° projects as 117°).
#[derive(Debug, Clone, PartialEq)]
pub struct Transformer {
    source_id: String,
    target_id: String,
    source_angular: bool,
    target_angular: bool,
    /// Heights are elevations copied unchanged (the pipeline runs at height 0).
    copies_height: bool,
    steps: Vec<Step>,
}

/// What the third coordinate of a 2D CRS holds (see [`Transformer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Heights {
    /// Elevations in the national height datum (users' data unless they say otherwise):
    /// copied unchanged between 2D CRSs; a 2D ↔ 3D pair is refused (no geoid model).
    #[default]
    Elevation,
    /// Ellipsoidal heights on the CRS's own datum, in metres: converted with the point through
    /// any datum shift, like a 3D CRS's (the caller's explicit statement; CLI
    /// `--ellipsoidal-heights`).
    Ellipsoidal,
}

impl Transformer {
    /// Compiles the conversion from `source` to `target`, heights of 2D CRSs taken as
    /// elevations ([`Heights::Elevation`]: copied unchanged between 2D CRSs).
    pub fn new(source: &Crs, target: &Crs) -> Result<Self, BuildError> {
        Self::with_heights(source, target, Heights::Elevation)
    }

    /// Compiles the conversion from `source` to `target`, saying what the heights of 2D CRSs
    /// are. With [`Heights::Elevation`] a pair of a 2D and a 3D CRS fails with
    /// [`BuildError::HeightsNotConvertible`].
    pub fn with_heights(source: &Crs, target: &Crs, heights: Heights) -> Result<Self, BuildError> {
        let copies_height = match (source.is_3d(), target.is_3d(), heights) {
            (false, false, Heights::Elevation) => true,
            (true, true, _) | (_, _, Heights::Ellipsoidal) => false,
            (source_3d, _, Heights::Elevation) => {
                let (three_d, two_d) = if source_3d { (source, target) } else { (target, source) };
                return Err(BuildError::HeightsNotConvertible {
                    three_d: three_d.id().to_string(),
                    two_d: two_d.id().to_string(),
                });
            }
        };
        let mut steps: Vec<Step> = Vec::new();
        let definition = |crs: &Crs| {
            crs.chain()
                .map_err(|error| BuildError::InvalidDefinition { id: crs.id().to_string(), error })
        };
        for step in definition(source)?.into_iter().rev() {
            steps.push(step.reversed());
        }
        steps.extend(datum_shift(source.datum(), target.datum())?);
        steps.extend(definition(target)?);
        Ok(Self {
            source_id: source.id().to_string(),
            target_id: target.id().to_string(),
            source_angular: source.is_angular(),
            target_angular: target.is_angular(),
            copies_height,
            steps: simplify(steps),
        })
    }

    /// Compiles the conversion between two CRSs of the built-in catalogue, by id
    /// (case-insensitive), e.g. `Transformer::from_ids("EPSG:4326", "EPSG:4547")`.
    pub fn from_ids(source: &str, target: &str) -> Result<Self, BuildError> {
        Self::new(&catalogue::lookup(source)?, &catalogue::lookup(target)?)
    }

    /// The source CRS's id.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }
    /// The target CRS's id.
    pub fn target_id(&self) -> &str {
        &self.target_id
    }
    /// Whether heights are copied unchanged (both CRSs 2D, heights elevations) rather than
    /// converted with the point.
    pub fn copies_height(&self) -> bool {
        self.copies_height
    }
    /// The compiled steps, in the order they are applied.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The conversion in the other direction.
    pub fn inverse(&self) -> Self {
        Self {
            source_id: self.target_id.clone(),
            target_id: self.source_id.clone(),
            source_angular: self.target_angular,
            target_angular: self.source_angular,
            copies_height: self.copies_height,
            steps: self.steps.iter().rev().cloned().map(Step::reversed).collect(),
        }
    }

    /// Transforms one point `[x, y, z]`. The result is finite or an error; never a partially
    /// transformed point. Between 2D CRSs `z` (an elevation) comes back unchanged and `x`, `y`
    /// are those of `[x, y, 0]`; otherwise `z` is an ellipsoidal height and is converted.
    #[inline]
    pub fn transform(&self, p: Xyz) -> Result<Xyz, PointError> {
        self.check_input(p)?;
        let mut q = if self.copies_height { [p[0], p[1], 0.0] } else { p };
        for step in &self.steps {
            q = step.apply(q)?;
        }
        if self.copies_height {
            q[2] = p[2];
        }
        if q.iter().all(|v| v.is_finite()) {
            Ok(q)
        } else {
            Err(PointError::NonFinite)
        }
    }

    /// Transforms one 2D point `(x, y)`; the height is taken as 0 on the source datum (for a 3D
    /// source, an ellipsoidal height of 0).
    #[inline]
    pub fn transform_xy(&self, x: f64, y: f64) -> Result<(f64, f64), PointError> {
        let [x, y, _] = self.transform([x, y, 0.0])?;
        Ok((x, y))
    }

    #[inline]
    fn check_input(&self, p: Xyz) -> Result<(), PointError> {
        if self.input_ok(p) {
            return Ok(());
        }
        // Which rule of `input_ok` failed.
        if !(p[0].is_finite() && p[1].is_finite() && p[2].is_finite()) {
            return Err(PointError::NonFinite);
        }
        if self.source_angular && p[1].abs() > 90.0 {
            return Err(PointError::LatitudeOutOfRange { latitude_deg: p[1] });
        }
        // An identity conversion (no steps) passes any finite longitude through unchanged.
        if self.source_angular && p[0].abs() > MAX_LONGITUDE_DEG && !self.steps.is_empty() {
            return Err(PointError::LongitudeOutOfRange { longitude_deg: p[0] });
        }
        Ok(())
    }

    /// The input rules, branch-free (the batch pipeline checks a whole chunk with it; the
    /// one-point path names the failed rule): finite x, y, z; for a geographic source, a
    /// latitude within ±90° and, unless the conversion is the identity (which passes every
    /// finite value through), a longitude within ±[`MAX_LONGITUDE_DEG`].
    #[inline(always)]
    pub(crate) fn input_ok(&self, p: Xyz) -> bool {
        let finite = p[0].is_finite() & p[1].is_finite() & p[2].is_finite();
        let in_range =
            (p[1].abs() <= 90.0) & (self.steps.is_empty() | (p[0].abs() <= MAX_LONGITUDE_DEG));
        finite & (!self.source_angular | in_range)
    }
}

/// The steps that take geographic coordinates (radians) on `source` to geographic coordinates on
/// `target`, through CGCS2000.
fn datum_shift(source: &Datum, target: &Datum) -> Result<Vec<Step>, BuildError> {
    if source.same_as(target) {
        return Ok(Vec::new());
    }
    let missing = |datum: &Datum| matches!(datum.to_cgcs2000(), DatumShift::Unknown);
    if missing(source) || missing(target) {
        let names: Vec<&str> =
            [source, target].into_iter().filter(|d| missing(d)).map(Datum::id).collect();
        return Err(BuildError::MissingDatumShift {
            source_datum: source.id().to_string(),
            target_datum: target.id().to_string(),
            missing: format!("{} has no parameters to CGCS2000", names.join(" and ")),
        });
    }
    let mut steps = to_hub(source)?;
    steps.extend(to_hub(target)?.into_iter().rev().map(Step::reversed));
    Ok(steps)
}

/// The steps from geographic coordinates on `datum` to CGCS2000 geographic coordinates.
fn to_hub(datum: &Datum) -> Result<Vec<Step>, BuildError> {
    let invalid = |error| BuildError::InvalidDefinition { id: datum.id().to_string(), error };
    let hub = Ellipsoid::grs80();
    Ok(match datum.to_cgcs2000() {
        DatumShift::SameFrame | DatumShift::Unknown => Vec::new(),
        DatumShift::Helmert(params) => vec![
            Step::forward(Op::Geocentric(Geocentric::new(datum.ellipsoid()))),
            Step::forward(Op::Helmert(Helmert::new(params.clone()).map_err(invalid)?)),
            Step::inverse(Op::Geocentric(Geocentric::new(&hub))),
        ],
        DatumShift::Molodensky(params) => vec![Step::forward(Op::Molodensky(
            Molodensky::new(datum.ellipsoid(), &hub, params.clone()).map_err(invalid)?,
        ))],
    })
}

/// Removes adjacent steps that undo each other (e.g. GCJ-02 inverse then forward, radians to
/// degrees and back), so that conversions within one datum stay exact.
fn simplify(steps: Vec<Step>) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps {
        if out.last().is_some_and(|last| last.undoes(&step)) {
            out.pop();
        } else {
            out.push(step);
        }
    }
    out
}
