//! Reference ellipsoids.
//!
//! An [`Ellipsoid`] is defined by its semi-major axis `a` (metres) and inverse flattening `rf`
//! (`1/f`, dimensionless). Every derived quantity used by the operations (eccentricity, third
//! flattening, ...) is computed once here.

use crate::error::DefinitionError;

/// A reference ellipsoid of revolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Ellipsoid {
    id: &'static str,
    name: String,
    a: f64,
    rf: f64,
}

impl Ellipsoid {
    /// GRS 1980, the ellipsoid of CGCS2000 (EPSG:7019; CGCS2000's own EPSG:1024 has the same
    /// `a` and `1/f`).
    pub fn grs80() -> Self {
        Self::builtin("grs80", "GRS 1980", 6_378_137.0, 298.257_222_101)
    }

    /// WGS 84 (EPSG:7030).
    pub fn wgs84() -> Self {
        Self::builtin("wgs84", "WGS 84", 6_378_137.0, 298.257_223_563)
    }

    /// Krassovsky 1940 (EPSG:7024), the ellipsoid of Beijing 1954 and of GCJ-02's formula.
    pub fn krassovsky() -> Self {
        Self::builtin("krassovsky", "Krassowsky 1940", 6_378_245.0, 298.3)
    }

    /// IAG 1975 (EPSG:7049), the ellipsoid of Xi'an 1980.
    pub fn iag1975() -> Self {
        Self::builtin("iag1975", "IAG 1975", 6_378_140.0, 298.257)
    }

    fn builtin(id: &'static str, name: &str, a: f64, rf: f64) -> Self {
        Self { id, name: name.to_string(), a, rf }
    }

    /// A user-defined ellipsoid from its semi-major axis `a` (metres) and inverse flattening
    /// `rf` (`1/f`). Fails unless `a` is finite and positive and `rf` is finite and greater
    /// than 1 (spheres, `rf = ∞`, are not supported).
    pub fn custom(name: &str, a: f64, rf: f64) -> Result<Self, DefinitionError> {
        if !(a.is_finite() && a > 0.0) {
            return Err(DefinitionError::OutOfRange {
                what: "ellipsoid semi-major axis a",
                reason: "must be a finite positive number of metres",
            });
        }
        if !(rf.is_finite() && rf > 1.0) {
            return Err(DefinitionError::OutOfRange {
                what: "ellipsoid inverse flattening rf",
                reason: "must be a finite number greater than 1",
            });
        }
        Ok(Self { id: "custom", name: name.to_string(), a, rf })
    }

    /// Short identifier: `grs80`, `wgs84`, `krassovsky`, `iag1975`, or `custom`.
    pub fn id(&self) -> &str {
        self.id
    }
    /// Human-readable name, as in the EPSG registry for the built-in ones.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Semi-major axis, metres.
    pub fn a(&self) -> f64 {
        self.a
    }
    /// Inverse flattening `1/f`.
    pub fn rf(&self) -> f64 {
        self.rf
    }
    /// Flattening `f`.
    pub fn f(&self) -> f64 {
        1.0 / self.rf
    }
    /// Semi-minor axis `b = a(1 − f)`, metres.
    pub fn b(&self) -> f64 {
        self.a * (1.0 - self.f())
    }
    /// First eccentricity squared `e² = f(2 − f)`.
    pub fn es(&self) -> f64 {
        let f = self.f();
        f * (2.0 - f)
    }
    /// First eccentricity `e`.
    pub fn e(&self) -> f64 {
        self.es().sqrt()
    }
    /// Third flattening `n = f / (2 − f)`.
    pub fn n(&self) -> f64 {
        let f = self.f();
        f / (2.0 - f)
    }

    /// The Gaussian mean radius of curvature √(M·N) at geodetic latitude `lat` (radians),
    /// metres: `a·√(1 − e²) / (1 − e²·sin²φ)`.
    pub fn gaussian_mean_radius(&self, lat: f64) -> f64 {
        let es = self.es();
        let w2 = 1.0 - es * lat.sin().powi(2);
        self.a * (1.0 - es).sqrt() / w2
    }

    /// The ellipsoid expanded for a projection surface `height` metres above this one at
    /// geodetic latitude `lat_ref` (radians): same centre and flattening, semi-major axis
    /// `a + height / √(1 − e²·sin²φ_ref)` (see [`HeightMethod::EllipsoidExpansion`](crate::HeightMethod::EllipsoidExpansion)).
    pub fn expanded(&self, height: f64, lat_ref: f64) -> Result<Self, DefinitionError> {
        let w = (1.0 - self.es() * lat_ref.sin().powi(2)).sqrt();
        let name = format!("{} expanded by {height} m", self.name);
        Self::custom(&name, self.a + height / w, self.rf)
    }

    /// Whether two ellipsoids have the same `a` and `1/f` (names are ignored).
    pub fn same_shape(&self, other: &Ellipsoid) -> bool {
        self.a == other.a && self.rf == other.rf
    }
}
