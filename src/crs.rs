//! Coordinate reference systems: a datum plus how coordinates are expressed on it.

use crate::datum::Datum;
use crate::error::DefinitionError;
use crate::ops::{
    Bd09, Bd09Mc, ChinaBounds, DegreesToRadians, GaussKruger, GaussKrugerParams, Gcj02, Op, Step,
    WebMercator,
};

/// Where a CRS may be used, as a geographic bounding box in degrees (from the EPSG registry for
/// the built-in CRSs).
#[derive(Debug, Clone, PartialEq)]
pub struct AreaOfUse {
    /// Description, e.g. "China - between 115°30'E and 118°30'E".
    pub name: String,
    /// Western bound, degrees east.
    pub west: f64,
    /// Southern bound, degrees north.
    pub south: f64,
    /// Eastern bound, degrees east.
    pub east: f64,
    /// Northern bound, degrees north.
    pub north: f64,
}

/// A map projection of a datum's ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// Gauss-Krüger (transverse Mercator), as the Chinese zone systems use.
    GaussKruger(GaussKrugerParams),
    /// Popular visualisation pseudo-Mercator (EPSG:3857): spherical formulas on WGS84's `a`.
    WebMercator,
}

/// How coordinates are expressed on the CRS's datum.
#[derive(Debug, Clone, PartialEq)]
pub enum CrsKind {
    /// Longitude, latitude in degrees (x = longitude), ellipsoidal height in metres.
    Geographic,
    /// Easting, northing in metres.
    Projected(Projection),
    /// GCJ-02 ("Mars coordinates"): WGS84 longitude/latitude, degrees, with the published
    /// obfuscation applied inside `bounds`.
    Gcj02 {
        /// Where the GCJ-02 offset applies.
        bounds: ChinaBounds,
    },
    /// BD-09 (Baidu): GCJ-02 with Baidu's further offset, degrees.
    Bd09 {
        /// Where the GCJ-02 offset applies.
        bounds: ChinaBounds,
    },
    /// Baidu Mercator (BD-09MC), metres, from BD-09.
    Bd09Mc {
        /// Where the GCJ-02 offset applies.
        bounds: ChinaBounds,
    },
}

/// A coordinate reference system.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    id: String,
    name: String,
    datum: Datum,
    kind: CrsKind,
    area_of_use: Option<AreaOfUse>,
    epsg: Option<u32>,
}

impl Crs {
    /// A CRS from its parts. `id` is how it is addressed (case-insensitive); `epsg` the EPSG
    /// code, if it has one (it is then written into WKT as the authority).
    pub fn new(
        id: &str,
        name: &str,
        datum: Datum,
        kind: CrsKind,
        area_of_use: Option<AreaOfUse>,
        epsg: Option<u32>,
    ) -> Result<Self, DefinitionError> {
        let crs =
            Self { id: id.to_string(), name: name.to_string(), datum, kind, area_of_use, epsg };
        crs.chain()?; // validates projection parameters against the ellipsoid
        Ok(crs)
    }

    /// The id, e.g. `EPSG:4547` or `GCJ02`.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The name, e.g. `CGCS2000 / 3-degree Gauss-Kruger CM 114E`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The geodetic datum.
    pub fn datum(&self) -> &Datum {
        &self.datum
    }
    /// Geographic, projected, GCJ-02, ...
    pub fn kind(&self) -> &CrsKind {
        &self.kind
    }
    /// The area of use, where known.
    pub fn area_of_use(&self) -> Option<&AreaOfUse> {
        self.area_of_use.as_ref()
    }
    /// The EPSG code, where the CRS has one.
    pub fn epsg(&self) -> Option<u32> {
        self.epsg
    }

    /// Whether coordinates are angles in degrees (geographic, GCJ-02, BD-09) rather than metres.
    pub fn is_angular(&self) -> bool {
        matches!(self.kind, CrsKind::Geographic | CrsKind::Gcj02 { .. } | CrsKind::Bd09 { .. })
    }

    /// The operations that take geographic coordinates on this CRS's datum, in radians, to this
    /// CRS's coordinates, applied forward in order.
    pub(crate) fn chain(&self) -> Result<Vec<Step>, DefinitionError> {
        let ellipsoid = self.datum.ellipsoid();
        let to_degrees = Step::inverse(Op::DegreesToRadians(DegreesToRadians));
        let gcj02 = |bounds: &ChinaBounds| Step::forward(Op::Gcj02(Gcj02::new(bounds.clone())));
        let bd09 = || Step::forward(Op::Bd09(Bd09::new()));
        Ok(match &self.kind {
            CrsKind::Geographic => vec![to_degrees],
            CrsKind::Projected(Projection::GaussKruger(p)) => {
                vec![Step::forward(Op::GaussKruger(GaussKruger::new(ellipsoid, p.clone())?))]
            }
            CrsKind::Projected(Projection::WebMercator) => {
                vec![Step::forward(Op::WebMercator(WebMercator::new()))]
            }
            CrsKind::Gcj02 { bounds } => vec![gcj02(bounds), to_degrees],
            CrsKind::Bd09 { bounds } => vec![gcj02(bounds), bd09(), to_degrees],
            CrsKind::Bd09Mc { bounds } => {
                vec![gcj02(bounds), bd09(), Step::forward(Op::Bd09Mc(Bd09Mc::new()))]
            }
        })
    }
}
