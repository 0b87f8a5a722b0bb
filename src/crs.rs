//! Coordinate reference systems: a datum plus how coordinates are expressed on it.

use crate::datum::Datum;
use crate::ellipsoid::Ellipsoid;
use crate::error::DefinitionError;
use crate::ops::{
    Affine, AffineParams, Bd09, Bd09Mc, ChinaBounds, DegreesToRadians, GaussKruger,
    GaussKrugerParams, Gcj02, Geocentric, Op, PlanarHelmert, PlanarHelmertParams, Polynomial2,
    Polynomial2Params, Step, WebMercator,
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
    /// Gauss-Krüger onto a projection surface raised above the ellipsoid (抵偿投影面), as city
    /// construction grids use so that grid distances match ground distances at the city's
    /// elevation. See [`ProjectionSurface`] for the methods and their formulas.
    GaussKrugerSurface(GaussKrugerParams, ProjectionSurface),
}

/// A projection surface at an ellipsoidal height `height` (metres) above the datum's ellipsoid,
/// and how the projection is carried onto it. The methods differ by decimetres over a city, so
/// the method is always stated, never assumed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionSurface {
    /// Ellipsoidal height of the surface, metres (the surface's orthometric height plus the
    /// height anomaly there).
    pub height: f64,
    /// How the projection is carried onto the surface.
    pub method: HeightMethod,
}

/// How a Gauss-Krüger projection is carried onto a raised projection surface.
#[derive(Debug, Clone, PartialEq)]
pub enum HeightMethod {
    /// Scale the projection: `k0' = k0 · (1 + H / R)`, with R the stated radius in metres (a CRS
    /// file gives it explicitly or as the Gaussian mean radius √(M·N) of the datum's ellipsoid at
    /// a stated reference latitude). Same ellipsoid, same latitudes.
    ScaleFactor {
        /// The radius R, metres.
        radius: f64,
    },
    /// Expand the ellipsoid (椭球膨胀法): keep its centre and flattening and lengthen the
    /// semi-major axis by `da = H / W(φ_ref)`, `W = √(1 − e²·sin²φ_ref)`, so that at the
    /// reference latitude φ_ref the expanded ellipsoid lies H above the original along the
    /// normal (to first order in H/a). Points are carried to it through geocentric coordinates
    /// (geographic on the datum's ellipsoid → X, Y, Z → geographic on the expanded one, whose
    /// latitudes differ slightly), then projected on it. The PROJ equivalent is
    /// `+proj=cart +ellps=… | +inv +proj=cart +a=a' +rf=… | +proj=tmerc +a=a' +rf=…`.
    ///
    /// Keeping each point's latitude on the expanded ellipsoid instead would be exactly
    /// [`Self::ScaleFactor`] with R = a (every Gauss-Krüger length scales with `a`): write that
    /// if it is what the city's definition means.
    EllipsoidExpansion {
        /// The reference latitude φ_ref, degrees.
        lat_ref: f64,
    },
}

/// A planar transformation from a projected CRS to a local grid (independent / construction
/// coordinate systems, 独立坐标系).
#[derive(Debug, Clone, PartialEq)]
pub enum PlanarTransform {
    /// 4-parameter similarity (translation, rotation, scale).
    Helmert4(PlanarHelmertParams),
    /// 6-parameter affine.
    Affine6(AffineParams),
    /// Second-order polynomial about an origin (12 coefficients), see
    /// [`Polynomial2`].
    Polynomial2(Polynomial2Params),
}

impl PlanarTransform {
    /// The method name as written in CRS files: `helmert4`, `affine6` or `poly2`.
    pub fn method(&self) -> &'static str {
        match self {
            PlanarTransform::Helmert4(_) => "helmert4",
            PlanarTransform::Affine6(_) => "affine6",
            PlanarTransform::Polynomial2(_) => "poly2",
        }
    }

    fn step(&self) -> Result<Step, DefinitionError> {
        Ok(Step::forward(match self {
            PlanarTransform::Helmert4(p) => Op::PlanarHelmert(PlanarHelmert::new(p.clone())?),
            PlanarTransform::Affine6(p) => Op::Affine(Affine::new(p.clone())?),
            PlanarTransform::Polynomial2(p) => Op::Polynomial2(Polynomial2::new(p.clone())?),
        }))
    }
}

/// How coordinates are expressed on the CRS's datum.
#[derive(Debug, Clone, PartialEq)]
pub enum CrsKind {
    /// Longitude, latitude in degrees (x = longitude); the third coordinate is an elevation
    /// (2D CRS) or an ellipsoidal height in metres (3D CRS, see [`Crs::is_3d`]).
    Geographic,
    /// Geocentric (earth-centred, earth-fixed) X, Y, Z in metres: X towards longitude 0 on the
    /// equator, Z towards the north pole. Always 3D.
    Geocentric,
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
    /// A local grid: a projected `base` CRS followed by a planar transformation, metres. Its
    /// datum is the base's.
    Local {
        /// The projected CRS the grid is derived from (itself possibly a local grid).
        base: Box<Crs>,
        /// The map base → this grid.
        planar: PlanarTransform,
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
    ellipsoidal_height: bool,
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
        if let CrsKind::Local { base, .. } = &kind {
            if base.is_angular() {
                return Err(DefinitionError::OutOfRange {
                    what: "base of a local grid",
                    reason: "must be a projected CRS (metres)",
                });
            }
            if !base.datum().same_as(&datum) {
                return Err(DefinitionError::OutOfRange {
                    what: "datum of a local grid",
                    reason: "must be its base CRS's datum",
                });
            }
        }
        let ellipsoidal_height = matches!(kind, CrsKind::Geocentric);
        let crs = Self {
            id: id.to_string(),
            name: name.to_string(),
            datum,
            kind,
            area_of_use,
            epsg,
            ellipsoidal_height,
        };
        crs.chain()?; // validates projection parameters against the ellipsoid
        Ok(crs)
    }

    /// The 3D variant of this CRS: its third coordinate is an ellipsoidal height in metres on
    /// its datum (as EPSG:4480 is CGCS2000 geographic 3D), and conversions carry it through the
    /// datum shift. `id`, `name` and `epsg` name the new CRS. Refused for the web-map systems
    /// (GCJ-02, BD-09, BD-09MC), which have no height.
    pub fn with_ellipsoidal_height(
        self,
        id: &str,
        name: &str,
        epsg: Option<u32>,
    ) -> Result<Self, DefinitionError> {
        if matches!(
            self.kind,
            CrsKind::Gcj02 { .. } | CrsKind::Bd09 { .. } | CrsKind::Bd09Mc { .. }
        ) {
            return Err(DefinitionError::OutOfRange {
                what: "dimension",
                reason: "must be 2 for GCJ-02, BD-09 and BD-09MC (web-map systems have no height)",
            });
        }
        Ok(Self {
            id: id.to_string(),
            name: name.to_string(),
            epsg,
            ellipsoidal_height: true,
            ..self
        })
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

    /// Whether the third coordinate is an ellipsoidal height on the datum (a 3D CRS: EPSG:4480,
    /// EPSG:4979, a CRS file's `dimension = 3`, or geocentric Z) rather than an elevation in the
    /// national height datum (a 2D CRS). Between two 2D CRSs heights are copied unchanged; see
    /// [`Transformer`](crate::Transformer).
    pub fn is_3d(&self) -> bool {
        self.ellipsoidal_height
    }

    /// Whether coordinates are angles in degrees (geographic, GCJ-02, BD-09) rather than metres.
    pub fn is_angular(&self) -> bool {
        matches!(self.kind, CrsKind::Geographic | CrsKind::Gcj02 { .. } | CrsKind::Bd09 { .. })
    }

    /// The Gauss-Krüger parameters that describe this CRS as a plain transverse Mercator on its
    /// datum's ellipsoid: a zone's own, or those with the scale factor of a
    /// [`HeightMethod::ScaleFactor`] surface folded into `k0`. `None` for any other kind
    /// (including an [`HeightMethod::EllipsoidExpansion`] surface, which projects on another
    /// ellipsoid).
    pub fn transverse_mercator(&self) -> Option<GaussKrugerParams> {
        match &self.kind {
            CrsKind::Projected(Projection::GaussKruger(p)) => Some(p.clone()),
            CrsKind::Projected(Projection::GaussKrugerSurface(p, surface)) => {
                match surface.method {
                    HeightMethod::ScaleFactor { radius } => Some(GaussKrugerParams {
                        k0: p.k0 * (1.0 + surface.height / radius),
                        ..p.clone()
                    }),
                    HeightMethod::EllipsoidExpansion { .. } => None,
                }
            }
            _ => None,
        }
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
            CrsKind::Geocentric => vec![Step::forward(Op::Geocentric(Geocentric::new(ellipsoid)))],
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
            CrsKind::Projected(Projection::GaussKrugerSurface(p, surface)) => {
                surface_projection(ellipsoid, p, surface)?
            }
            CrsKind::Local { base, planar } => {
                let mut steps = base.chain()?;
                steps.push(planar.step()?);
                steps
            }
        })
    }
}

/// The steps of the Gauss-Krüger projection of `params` carried onto `surface` (see
/// [`HeightMethod`]), from geographic radians on `ellipsoid`.
fn surface_projection(
    ellipsoid: &Ellipsoid,
    params: &GaussKrugerParams,
    surface: &ProjectionSurface,
) -> Result<Vec<Step>, DefinitionError> {
    let height = surface.height;
    if !(height.is_finite() && height.abs() <= 10_000.0) {
        return Err(DefinitionError::OutOfRange {
            what: "projection-surface height",
            reason: "must be a finite number of metres within ±10 000",
        });
    }
    match &surface.method {
        HeightMethod::ScaleFactor { radius } => {
            if !(radius.is_finite() && (6.0e6..=6.5e6).contains(radius)) {
                return Err(DefinitionError::OutOfRange {
                    what: "projection-surface radius R",
                    reason: "must be an earth radius in metres (6 000 000 to 6 500 000)",
                });
            }
            let k0 = params.k0 * (1.0 + height / radius);
            let projection =
                GaussKruger::new(ellipsoid, GaussKrugerParams { k0, ..params.clone() })?;
            Ok(vec![Step::forward(Op::GaussKruger(projection))])
        }
        HeightMethod::EllipsoidExpansion { lat_ref } => {
            if !(lat_ref.is_finite() && lat_ref.abs() <= 90.0) {
                return Err(DefinitionError::OutOfRange {
                    what: "projection-surface reference latitude lat_ref",
                    reason: "must be a finite number of degrees within ±90",
                });
            }
            let expanded = ellipsoid.expanded(height, lat_ref.to_radians())?;
            Ok(vec![
                Step::forward(Op::Geocentric(Geocentric::new(ellipsoid))),
                Step::inverse(Op::Geocentric(Geocentric::new(&expanded))),
                Step::forward(Op::GaussKruger(GaussKruger::new(&expanded, params.clone())?)),
            ])
        }
    }
}
