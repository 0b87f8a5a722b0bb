//! Geodetic datums and their shifts to CGCS2000, the hub every datum shift goes through.

use crate::ellipsoid::Ellipsoid;
use crate::ops::{HelmertParams, MolodenskyParams};

/// How a datum's coordinates become CGCS2000 coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum DatumShift {
    /// The datum is CGCS2000, or is treated as the same frame (WGS84: the realisations agree to
    /// a few centimetres, below the accuracy of a GPS handset, and geographic coordinates pass
    /// unchanged between them).
    SameFrame,
    /// A Helmert transformation of geocentric coordinates, this datum → CGCS2000.
    Helmert(HelmertParams),
    /// A Molodensky transformation of geographic coordinates, this datum → CGCS2000 (GRS80).
    Molodensky(MolodenskyParams),
    /// No shift is known. Converting to or from another datum is refused, never approximated.
    Unknown,
}

/// A geodetic datum: an ellipsoid and how it is tied to CGCS2000.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    id: String,
    name: String,
    ellipsoid: Ellipsoid,
    to_cgcs2000: DatumShift,
}

impl Datum {
    /// China Geodetic Coordinate System 2000 (EPSG:1043), on GRS 1980.
    pub fn cgcs2000() -> Self {
        Self::new("CGCS2000", "China 2000", Ellipsoid::grs80(), DatumShift::SameFrame)
    }
    /// World Geodetic System 1984 (EPSG:6326), treated as the same frame as CGCS2000.
    pub fn wgs84() -> Self {
        Self::new("WGS84", "World Geodetic System 1984", Ellipsoid::wgs84(), DatumShift::SameFrame)
    }
    /// Beijing 1954 (EPSG:6214), on Krassovsky 1940. Its shift to CGCS2000 is not public and
    /// varies by region: supply it with [`Datum::with_shift`].
    pub fn beijing1954() -> Self {
        Self::new("BJ54", "Beijing 1954", Ellipsoid::krassovsky(), DatumShift::Unknown)
    }
    /// Xi'an 1980 (EPSG:6610), on IAG 1975. Its shift to CGCS2000 is not public and varies by
    /// region: supply it with [`Datum::with_shift`].
    pub fn xian1980() -> Self {
        Self::new("XIAN80", "Xian 1980", Ellipsoid::iag1975(), DatumShift::Unknown)
    }

    /// A datum with any id, name, ellipsoid and shift to CGCS2000.
    pub fn new(id: &str, name: &str, ellipsoid: Ellipsoid, to_cgcs2000: DatumShift) -> Self {
        Self { id: id.to_string(), name: name.to_string(), ellipsoid, to_cgcs2000 }
    }

    /// The same datum with a (user-supplied) shift to CGCS2000 and a new id, e.g. a city's
    /// Beijing 1954 realisation with its 7 parameters.
    pub fn with_shift(mut self, id: &str, to_cgcs2000: DatumShift) -> Self {
        self.id = id.to_string();
        self.to_cgcs2000 = to_cgcs2000;
        self
    }

    /// Identifier, e.g. `CGCS2000`, `WGS84`, `BJ54`, `XIAN80`, or a user's id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Human-readable name (the EPSG name for the built-in datums).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The datum's ellipsoid.
    pub fn ellipsoid(&self) -> &Ellipsoid {
        &self.ellipsoid
    }
    /// How coordinates on this datum become CGCS2000 coordinates.
    pub fn to_cgcs2000(&self) -> &DatumShift {
        &self.to_cgcs2000
    }

    /// Whether two datums are the same datum: same id (case-insensitive), ellipsoid and shift.
    pub fn same_as(&self, other: &Datum) -> bool {
        self.id.eq_ignore_ascii_case(&other.id)
            && self.ellipsoid.same_shape(&other.ellipsoid)
            && self.to_cgcs2000 == other.to_cgcs2000
    }
}
