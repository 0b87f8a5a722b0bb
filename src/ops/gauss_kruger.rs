//! Gauss-Krüger (transverse Mercator). STUB: to be implemented.

use super::{Operation, Xyz};
use crate::ellipsoid::Ellipsoid;
use crate::error::{DefinitionError, PointError};

/// Parameters of a Gauss-Krüger projection.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussKrugerParams {
    /// Central meridian, degrees east.
    pub lon0: f64,
    /// Latitude of origin, degrees north (0 for the Chinese zones).
    pub lat0: f64,
    /// Scale factor on the central meridian (1 for the Chinese zones).
    pub k0: f64,
    /// False easting, metres (500 000, or zone × 1 000 000 + 500 000 for zone-prefixed eastings).
    pub x0: f64,
    /// False northing, metres.
    pub y0: f64,
}

/// Gauss-Krüger projection compiled for one ellipsoid: forward geographic (radians) → easting,
/// northing (metres); height passes through.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussKruger {
    params: GaussKrugerParams,
}

impl GaussKruger {
    /// Compiles the projection for `ellipsoid`.
    pub fn new(ellipsoid: &Ellipsoid, params: GaussKrugerParams) -> Result<Self, DefinitionError> {
        let _ = ellipsoid;
        Ok(Self { params })
    }
    /// The parameters it was built from.
    pub fn params(&self) -> &GaussKrugerParams {
        &self.params
    }
}

impl Operation for GaussKruger {
    fn name(&self) -> &'static str {
        "gauss-kruger"
    }
    fn forward(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
    fn inverse(&self, _p: Xyz) -> Result<Xyz, PointError> {
        unimplemented!()
    }
}
