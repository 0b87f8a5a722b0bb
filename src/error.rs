//! Error types, one per kind of failure.
//!
//! - [`PointError`]: one point could not be transformed (the rest of a batch goes on).
//! - [`CrsError`]: a CRS id could not be resolved.
//! - [`BuildError`]: no transformer can be built between two CRSs.
//! - [`DefinitionError`]: a user-supplied ellipsoid, datum or projection parameter is invalid.
//!
//! Messages name ids and parameter *names*, never parameter values of user-supplied datums or
//! grids (cities often keep those confidential).

use thiserror::Error;

/// The largest geographic longitude accepted as input, degrees: 10 radians, as PROJ
/// (`pj_fwd_prepare`: "Invalid longitude" beyond ±10 rad). Longitudes within it are wrapped by the
/// operations that need it (e.g. 477° is 117° to a projection); beyond it, a
/// [`Transformer`](crate::Transformer) that computes anything refuses the point with
/// [`PointError::LongitudeOutOfRange`] (an identity conversion passes it through unchanged).
pub const MAX_LONGITUDE_DEG: f64 = 10.0 * (180.0 / std::f64::consts::PI);

/// Why a single point could not be transformed. Carries the offending value where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum PointError {
    /// An input or intermediate coordinate is NaN or infinite.
    #[error("coordinate is NaN or infinite")]
    NonFinite,
    /// A geographic latitude beyond ±90°.
    #[error("latitude {latitude_deg}° is beyond ±90°")]
    LatitudeOutOfRange {
        /// The latitude, degrees.
        latitude_deg: f64,
    },
    /// A geographic longitude beyond ±[`MAX_LONGITUDE_DEG`] (10 radians, ≈ 572.96°, PROJ's
    /// limit): so far from any meaning that wrapping it would only hide an error in the data
    /// (at 1e308° every digit of the angle is lost in radians, and a projection would return a
    /// finite but arbitrary point).
    #[error("longitude {longitude_deg}° is beyond ±572.96° (10 radians)")]
    LongitudeOutOfRange {
        /// The longitude, degrees.
        longitude_deg: f64,
    },
    /// The point lies where the operation is not defined or not accurate (e.g. more than 90° of
    /// longitude from a transverse Mercator's central meridian, or at a pole in Mercator).
    #[error("point is outside the domain of {operation}")]
    OutsideDomain {
        /// The operation's name, e.g. `"gauss-kruger"`.
        operation: &'static str,
    },
    /// An iterative inverse did not reach its tolerance within its iteration cap.
    #[error("{operation} did not converge within {iterations} iterations")]
    NoConvergence {
        /// The operation's name, e.g. `"gcj02 inverse"`.
        operation: &'static str,
        /// The iteration cap that was hit.
        iterations: u32,
    },
}

/// Why a CRS id could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CrsError {
    /// The id is not in the catalogue.
    #[error("unknown CRS id '{}' (try `geounify crs list`)", display_id(id))]
    Unknown {
        /// The id as given.
        id: String,
    },
}

/// Why no transformer can be built between two CRSs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BuildError {
    /// The two CRSs are on different datums and at least one datum has no known shift to
    /// CGCS2000. geounify never substitutes a "ballpark" (no-op) shift.
    #[error(
        "no datum shift is defined from {} to {}: {missing}; \
         supply the datum's parameters to CGCS2000 (e.g. a 7-parameter Helmert set) to convert \
         between these CRSs",
        display_id(source_datum),
        display_id(target_datum)
    )]
    MissingDatumShift {
        /// The source CRS's datum id.
        source_datum: String,
        /// The target CRS's datum id.
        target_datum: String,
        /// Which datum lacks parameters, in words.
        missing: String,
    },
    /// One CRS is 3D (its heights are ellipsoidal) and the other 2D (its heights are
    /// elevations in the national height datum): converting between the two kinds of height
    /// needs a geoid model, which geounify does not have. Say that the 2D heights are
    /// ellipsoidal ([`Heights::Ellipsoidal`](crate::Heights), CLI `--ellipsoidal-heights`), or
    /// convert between CRSs of one dimension.
    #[error(
        "{three_d} is 3D (its heights are ellipsoidal) but {two_d} is 2D (its heights are \
         elevations in the national height datum); geounify has no geoid model to convert \
         between them: use a 3D CRS on both sides, or state that the heights are ellipsoidal \
         (--ellipsoidal-heights)"
    )]
    HeightsNotConvertible {
        /// The 3D CRS's id.
        three_d: String,
        /// The 2D CRS's id.
        two_d: String,
    },
    /// A CRS id could not be resolved.
    #[error(transparent)]
    UnknownCrs(#[from] CrsError),
    /// A CRS's or datum's definition is invalid.
    #[error("definition of {} is invalid: {error}", display_id(id))]
    InvalidDefinition {
        /// The CRS or datum id.
        id: String,
        /// What is wrong.
        error: DefinitionError,
    },
}

/// Why a user-supplied definition (ellipsoid, datum shift, projection) is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DefinitionError {
    /// A parameter is out of its valid range.
    #[error("{what} {reason}")]
    OutOfRange {
        /// The parameter, e.g. `"scale factor k0"`.
        what: &'static str,
        /// What it must be, e.g. `"must be finite and positive"`.
        reason: &'static str,
    },
}

/// Why a CRS definition cannot be written in an external format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExportError {
    /// The format has no way to express this CRS (e.g. GCJ-02 in WKT).
    #[error("{id} cannot be written as {format}: {reason}")]
    NotExpressible {
        /// The CRS id.
        id: String,
        /// The format, e.g. `"WKT"`.
        format: &'static str,
        /// Why not.
        reason: &'static str,
    },
}

/// Why a definition cannot be added to a [`Registry`](crate::Registry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The id is already taken, by the built-in catalogue or by an earlier definition.
    #[error("{kind} id '{}' is already defined {by}", display_id(id))]
    Clash {
        /// `"CRS"`, `"datum"` or `"ellipsoid"`.
        kind: &'static str,
        /// The id as given.
        id: String,
        /// `"in the built-in catalogue"` or `"by an earlier definition"`.
        by: &'static str,
    },
}

/// An id as shown in messages: whole up to 64 characters, else its first 64 characters and
/// "…" (ids may be of any length, e.g. from a hostile file; a message stays readable). Cuts
/// at a character boundary, never inside a multi-byte character.
pub(crate) fn display_id(id: &str) -> String {
    match id.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &id[..cut]),
        None => id.to_string(),
    }
}
