//! The CRS a file declares, and whether it agrees with the source CRS of a conversion.
//!
//! Each format has its own way of declaring a CRS; [`read`] finds them all:
//! - Shapefile: the `.prj` beside the `.shp` (OGC or ESRI WKT 1, as GDAL and ArcGIS write it);
//! - GeoJSON: the top-level `crs` member (`{"type":"name","properties":{"name":
//!   "urn:ogc:def:crs:EPSG::4547"}}` as GDAL writes it, also `EPSG:4547`, `urn:...:CRS84`,
//!   `http://www.opengis.net/def/crs/EPSG/0/4547`, the 2008 `{"type":"EPSG",...}` form, or a
//!   geounify id as geounify writes for CRSs without an EPSG code). An RFC 7946 file without a
//!   `crs` member declares nothing: RFC 7946 makes it WGS84, but Chinese data is routinely
//!   written into such files in other CRSs, so assuming WGS84 would refuse (or, without
//!   `--from`, mis-convert) exactly the files this tool is for. Newline-delimited GeoJSON
//!   declares nothing (RFC 8142 has no CRS);
//! - GeoPackage: the `gpkg_spatial_ref_sys` row of each feature table's `srs_id`
//!   (`organization` + `organization_coordsys_id`, and the `definition` WKT); `srs_id` 0 and −1
//!   (the undefined systems) declare nothing;
//! - WKT lines: the EWKT `SRID=n;` prefix of the first geometry line (later lines with another
//!   SRID get the WKT converter's own warning);
//! - CSV / TSV declare nothing.
//!
//! [`DeclaredCrs::matches`] compares a declaration with a [`Crs`] by parameters, never by id
//! string: a WKT is read for its parameters (with or without an authority; the parameters are
//! what the file says), an EPSG code without WKT is looked up in the built-in catalogue. WKT is
//! read for its ellipsoid (`a`, `1/f`), prime meridian, units and projection (transverse Mercator
//! / Gauss-Krüger: latitude of origin, central meridian, scale factor, false easting and
//! northing; web Mercator). The rules:
//! - different ellipsoids, projections, projection parameters, units, or degrees vs metres:
//!   [`Match::Contradicts`];
//! - same ellipsoid and projection: [`Match::Agrees`], whatever the datum's name or shift (a
//!   city's Beijing 1954 realisation and EPSG's Beijing 1954 share the ellipsoid; that the data
//!   is on one and not the other cannot be proved from the file);
//! - CGCS2000 vs WGS84 with otherwise equal parameters (geounify treats them as one frame), a
//!   `TOWGS84` other than the source datum's shift, GCJ-02 / BD-09 data declared as WGS84 or
//!   CGCS2000 longitude/latitude (no file format can declare GCJ-02, so such data is routinely
//!   labelled WGS84), BD-09MC data declared as some projected CRS, a local grid (a planar
//!   transformation of a projected CRS that WKT cannot express) declared as some projected CRS,
//!   and any declaration that cannot be read or identified: [`Match::Unknown`] — a warning,
//!   never a refusal by itself.

use super::{ConvertError, FileFormat};
use crate::catalogue;
use crate::crs::{Crs, CrsKind, Projection};
use crate::datum::DatumShift;
use crate::registry::Registry;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The longest declaration text read (a `.prj`, a GeoJSON `crs` member): 64 KiB. A longer one
/// is not read and is reported as unreadable.
pub const MAX_DECLARATION: usize = 64 << 10;

/// The deepest nesting of WKT nodes read (real CRS WKT nests about 5 deep).
const MAX_WKT_DEPTH: usize = 16;

/// A CRS declared by a file: where it was found, its text, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredCrs {
    /// Where the declaration is, e.g. `roads.prj`, `the "crs" member`,
    /// `gpkg_spatial_ref_sys srs_id 4547 (table parcels)`, `line 1`.
    pub origin: String,
    /// The declaration as found (WKT, URN, `SRID=4547`, ...), at most [`MAX_DECLARATION`] bytes.
    pub text: String,
    epsg: Option<u32>,
    name: Option<String>,
    definition: Option<Definition>,
    problem: Option<String>,
}

/// How a declaration compares with a CRS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Same ellipsoid, projection and parameters (or the same geounify id).
    Agrees,
    /// Provably another CRS: the reason names the parameter that differs, with both values.
    Contradicts(String),
    /// Cannot be decided (unreadable, unknown, or not expressible in the format): the reason.
    Unknown(String),
}

/// A CRS definition as parameters.
#[derive(Debug, Clone, PartialEq)]
struct Definition {
    /// The WKT name, e.g. `CGCS2000_3_Degree_GK_CM_117E`.
    name: String,
    /// Semi-major axis, metres.
    a: f64,
    /// Inverse flattening.
    rf: f64,
    /// `TOWGS84` (7 values), if declared.
    towgs84: Option<[f64; 7]>,
    /// Prime meridian, degrees east of Greenwich.
    prime_meridian: f64,
    /// The angular unit in radians (degree: 0.0174532925199433).
    angular_unit: f64,
    /// The linear unit of a projected CRS in metres.
    linear_unit: f64,
    /// A 3D CRS (heights ellipsoidal): `GEOCCS`, a `GEOGCS` with a `LINUNIT` (the ESRI form
    /// GDAL writes into a `.prj` for EPSG:4979 / EPSG:4480, e.g. `GEOGCS["WGS_1984_3D", ...,
    /// LINUNIT["Meter",1.0]]`), or a `GEOGCS` / `PROJCS` with three `AXIS` nodes (as geounify
    /// and PROJ, when not strict, write one).
    three_d: bool,
    kind: DefKind,
}

#[derive(Debug, Clone, PartialEq)]
enum DefKind {
    Geographic,
    TransverseMercator {
        lat0: f64,
        lon0: f64,
        k0: f64,
        x0: f64,
        y0: f64,
    },
    WebMercator,
    /// Geocentric X, Y, Z (`GEOCCS`).
    Geocentric,
    /// Another projection, by its WKT name.
    Other(String),
}

const DEGREE: f64 = 0.017_453_292_519_943_3;

impl DeclaredCrs {
    fn new(origin: String, text: String) -> Self {
        Self { origin, text, epsg: None, name: None, definition: None, problem: None }
    }

    /// A declaration by EPSG code (a GeoPackage organization, an EWKT SRID).
    pub fn from_epsg(code: u32, origin: &str) -> Self {
        Self { epsg: Some(code), ..Self::new(origin.to_string(), format!("EPSG:{code}")) }
    }

    /// A declaration by WKT (1, OGC or ESRI dialect; WKT 2 only by its `ID["EPSG",n]`).
    pub fn from_wkt(text: &str, origin: &str) -> Self {
        let mut d = Self::new(origin.to_string(), text.to_string());
        match parse_wkt(text) {
            Ok(node) => match interpret(&node) {
                Ok((epsg, definition)) => {
                    d.epsg = epsg;
                    d.definition = definition;
                    if d.epsg.is_none() && d.definition.is_none() {
                        d.problem =
                            Some(format!("a {} WKT without an EPSG id is not read", node.key));
                    }
                }
                Err(e) => d.problem = Some(e),
            },
            Err(e) => d.problem = Some(format!("not WKT: {e}")),
        }
        d
    }

    /// A declaration by name: `EPSG:4547`, `urn:ogc:def:crs:EPSG::4547`,
    /// `urn:ogc:def:crs:OGC:1.3:CRS84`, `http://www.opengis.net/def/crs/EPSG/0/4547`, or any other
    /// name (compared with CRS ids).
    pub fn from_name(name: &str, origin: &str) -> Self {
        let mut d = Self::new(origin.to_string(), name.to_string());
        match epsg_of_name(name) {
            Some(code) => d.epsg = Some(code),
            None => d.name = Some(name.trim().to_string()),
        }
        d
    }

    fn unreadable(origin: &str, text: &str, problem: String) -> Self {
        Self { problem: Some(problem), ..Self::new(origin.to_string(), text.to_string()) }
    }

    /// The EPSG code declared, if any.
    pub fn epsg(&self) -> Option<u32> {
        self.epsg
    }

    /// A short description for messages: `EPSG:4547`, the WKT's name in quotes, or the name.
    pub fn describe(&self) -> String {
        if let Some(code) = self.epsg {
            format!("EPSG:{code}")
        } else if let Some(d) = &self.definition {
            format!("\"{}\"", shorten(&d.name))
        } else if let Some(n) = &self.name {
            format!("\"{}\"", shorten(n))
        } else {
            format!("\"{}\"", shorten(&self.text))
        }
    }

    /// The declaration as parameters: the WKT's own (what the file says, with its TOWGS84),
    /// else the catalogue's CRS for the EPSG code.
    fn resolved(&self) -> Result<Definition, String> {
        if let Some(d) = &self.definition {
            return Ok(d.clone());
        }
        if let Some(code) = self.epsg {
            if let Ok(crs) = catalogue::lookup(&format!("EPSG:{code}")) {
                if let Ok(d) = definition_of(&crs) {
                    return Ok(d);
                }
            }
            if let Some(d) = &self.definition {
                return Ok(d.clone());
            }
            return Err(format!("EPSG:{code} is not in geounify's catalogue"));
        }
        if let Some(d) = &self.definition {
            return Ok(d.clone());
        }
        Err(self.problem.clone().unwrap_or_else(|| "it names no CRS geounify knows".into()))
    }

    /// Compares the declaration with `crs` by parameters (see the module documentation).
    pub fn matches(&self, crs: &Crs) -> Match {
        if let Some(name) = &self.name {
            if name.eq_ignore_ascii_case(crs.id()) {
                return Match::Agrees;
            }
            if let Ok(named) = catalogue::lookup(name) {
                if named.id().eq_ignore_ascii_case(crs.id()) {
                    return Match::Agrees;
                }
                if let Ok(d) = definition_of(&named) {
                    return compare(&d, crs, &self.origin);
                }
            }
            return Match::Unknown(format!(
                "{} names {}, which is not {} and not an EPSG code; not checked",
                self.origin,
                self.describe(),
                crs.id()
            ));
        }
        let declared = match self.resolved() {
            Ok(d) => d,
            Err(reason) => {
                return Match::Unknown(format!(
                    "{} declares a CRS geounify cannot identify ({reason}); not checked",
                    self.origin
                ))
            }
        };
        compare(&declared, crs, &self.origin)
    }

    /// The CRS this declaration names: an EPSG code or id through `registry`, else the CRS of the
    /// catalogue or of `registry`'s user CRSs with the declared parameters (where several have
    /// them, e.g. the 3-degree and 6-degree zones with the same central meridian, the one whose
    /// name says the same zone width, else the first in catalogue order; a 3D declaration names
    /// a 3D CRS, e.g. EPSG:4979 rather than EPSG:4326). `Err` with the reason
    /// when there is none.
    pub fn identify(&self, registry: &Registry) -> Result<Crs, String> {
        if let Some(code) = self.epsg {
            if let Ok(crs) = registry.lookup(&format!("EPSG:{code}")) {
                return Ok(crs);
            }
        }
        if let Some(name) = &self.name {
            return registry.lookup(name).map_err(|e| e.to_string());
        }
        let declared = self.resolved()?;
        let three = {
            let n = declared.name.to_ascii_lowercase().replace(['_', ' '], "-");
            n.contains("3-degree")
        };
        let mut candidates: Vec<Crs> = catalogue::all()
            .into_iter()
            .chain(registry.user_crss().iter().cloned())
            .filter(|c| compare(&declared, c, "") == Match::Agrees)
            .collect();
        if candidates.is_empty() {
            return Err(format!(
                "no CRS of geounify's catalogue or CRS files has its parameters ({})",
                declared.summary()
            ));
        }
        // Prefer the same datum shift (a CRS file's city datum over EPSG's plain one when the
        // declaration has its TOWGS84), then the same zone width.
        let same_shift = |c: &Crs| {
            let ours = crate::export::towgs84(c.datum().to_cgcs2000());
            match (declared.towgs84, ours) {
                (Some(t), Some(o)) => t.iter().zip(o.iter()).all(|(a, b)| close(*a, *b, 1e-9)),
                (None, None) => true,
                _ => false,
            }
        };
        let width = |c: &Crs| c.name().to_ascii_lowercase().contains("3-degree") == three;
        let pick = candidates
            .iter()
            .position(|c| same_shift(c) && width(c))
            .or_else(|| candidates.iter().position(same_shift))
            .or_else(|| candidates.iter().position(width))
            .unwrap_or(0);
        Ok(candidates.swap_remove(pick))
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// The EPSG code in a CRS name: `EPSG:4547`, `EPSG::4547`, `urn:ogc:def:crs:EPSG:6.6:4547`,
/// `http://www.opengis.net/def/crs/EPSG/0/4547`; CRS84 is EPSG:4326 (longitude first, as
/// geounify reads it).
fn epsg_of_name(name: &str) -> Option<u32> {
    let n = name.trim();
    let lower = n.to_ascii_lowercase();
    if lower.ends_with("crs84")
        && (lower.starts_with("urn:ogc:def:crs:ogc") || lower.contains("/ogc/"))
    {
        return Some(4326);
    }
    let digits = |s: &str| -> Option<u32> {
        if !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if let Some(rest) = lower.strip_prefix("epsg:") {
        return digits(rest.trim_start_matches(':'));
    }
    if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:epsg:") {
        return digits(rest.rsplit(':').next()?);
    }
    if lower.contains("opengis.net/def/crs/epsg/") {
        return digits(lower.trim_end_matches('/').rsplit('/').next()?);
    }
    None
}

/// The parameters of a catalogue or user CRS, or why it has none a WKT could declare.
fn definition_of(crs: &Crs) -> Result<Definition, &'static str> {
    let e = crs.datum().ellipsoid();
    let kind = match crs.kind() {
        CrsKind::Geographic => DefKind::Geographic,
        CrsKind::Projected(Projection::WebMercator) => DefKind::WebMercator,
        CrsKind::Projected(_) => match crs.transverse_mercator() {
            Some(p) => DefKind::TransverseMercator {
                lat0: p.lat0,
                lon0: p.lon0,
                k0: p.k0,
                x0: p.x0,
                y0: p.y0,
            },
            None => return Err("a Gauss-Krüger projection on an expanded ellipsoid"),
        },
        CrsKind::Gcj02 { .. } => return Err("GCJ-02"),
        CrsKind::Bd09 { .. } => return Err("BD-09"),
        CrsKind::Bd09Mc { .. } => return Err("BD-09MC"),
        CrsKind::Local { .. } => return Err("a local grid"),
        CrsKind::Geocentric => DefKind::Geocentric,
    };
    Ok(Definition {
        name: crs.name().to_string(),
        a: e.a(),
        rf: e.rf(),
        towgs84: crate::export::towgs84(crs.datum().to_cgcs2000()),
        prime_meridian: 0.0,
        angular_unit: DEGREE,
        linear_unit: 1.0,
        three_d: crs.is_3d(),
        kind,
    })
}

impl Definition {
    fn summary(&self) -> String {
        let e = format!("a = {} m, 1/f = {}", self.a, self.rf);
        match &self.kind {
            DefKind::Geographic => format!("longitude/latitude, {e}"),
            DefKind::TransverseMercator { lat0, lon0, k0, x0, y0 } => format!(
                "transverse Mercator, central meridian {lon0}°, latitude of origin {lat0}°, scale \
                 {k0}, false easting {x0} m, false northing {y0} m, {e}"
            ),
            DefKind::WebMercator => "web Mercator".into(),
            DefKind::Geocentric => format!("geocentric X, Y, Z, {e}"),
            DefKind::Other(p) => format!("projection {p}, {e}"),
        }
    }
    fn is_geographic(&self) -> bool {
        self.kind == DefKind::Geographic
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Whether an ellipsoid is GRS 1980 or WGS 84 (geounify's one frame).
fn hub_ellipsoid(a: f64, rf: f64) -> bool {
    close(a, 6_378_137.0, 1e-3)
        && (close(rf, 298.257_222_101, 1e-8) || close(rf, 298.257_223_563, 1e-8))
}

/// `declared` against `crs` (see the module documentation); `origin` for the reasons.
fn compare(declared: &Definition, crs: &Crs, origin: &str) -> Match {
    let what = if declared.is_geographic() {
        "longitude/latitude in degrees"
    } else if declared.kind == DefKind::Geocentric {
        "geocentric X, Y, Z"
    } else {
        "projected coordinates"
    };
    let ours = match definition_of(crs) {
        Ok(d) => d,
        Err(kind) => {
            let angular = crs.is_angular();
            let same_frame = hub_ellipsoid(declared.a, declared.rf);
            return if angular && !declared.is_geographic() {
                Match::Contradicts(format!(
                    "the file declares {what}, {} is {kind} longitude/latitude in degrees",
                    crs.id()
                ))
            } else if !angular && declared.is_geographic() {
                Match::Contradicts(format!(
                    "the file declares {what}, {} is {kind} in metres",
                    crs.id()
                ))
            } else if angular && !same_frame {
                Match::Contradicts(format!(
                    "the file declares longitude/latitude on an ellipsoid with a = {} m, 1/f = {}, \
                     {} is {kind} on WGS 84",
                    declared.a,
                    declared.rf,
                    crs.id()
                ))
            } else {
                Match::Unknown(format!(
                    "{origin} declares {}, and {} ({kind}) cannot be declared in a file, so such \
                     data is often labelled this way; converting as {}",
                    declared.summary(),
                    crs.id(),
                    crs.id()
                ))
            };
        }
    };
    let id = crs.id();
    // Kind and units.
    if declared.is_geographic() != ours.is_geographic() {
        let theirs = if ours.is_geographic() {
            "longitude/latitude in degrees"
        } else {
            "projected coordinates in metres"
        };
        return Match::Contradicts(format!("the file declares {what}, {id} is {theirs}"));
    }
    if !close(declared.prime_meridian, 0.0, 1e-9) {
        return Match::Contradicts(format!(
            "the file's prime meridian is {}° east of Greenwich, {id}'s is Greenwich",
            declared.prime_meridian
        ));
    }
    if declared.is_geographic() && !close(declared.angular_unit, DEGREE, 1e-12) {
        return Match::Contradicts(format!(
            "the file's angular unit is {} rad, {id} is in degrees",
            declared.angular_unit
        ));
    }
    if !declared.is_geographic() && !close(declared.linear_unit, 1.0, 1e-12) {
        return Match::Contradicts(format!(
            "the file's linear unit is {} m, {id} is in metres",
            declared.linear_unit
        ));
    }
    // Ellipsoid.
    let same_ellipsoid = close(declared.a, ours.a, 1e-3) && close(declared.rf, ours.rf, 1e-8);
    let one_frame = !same_ellipsoid
        && hub_ellipsoid(declared.a, declared.rf)
        && hub_ellipsoid(ours.a, ours.rf)
        && *crs.datum().to_cgcs2000() == DatumShift::SameFrame;
    if !same_ellipsoid && !one_frame {
        return Match::Contradicts(format!(
            "the file's ellipsoid has a = {} m, 1/f = {}; {id}'s has a = {} m, 1/f = {}",
            declared.a, declared.rf, ours.a, ours.rf
        ));
    }
    // Projection.
    match (&declared.kind, &ours.kind) {
        (DefKind::Geographic, DefKind::Geographic)
        | (DefKind::WebMercator, DefKind::WebMercator)
        | (DefKind::Geocentric, DefKind::Geocentric) => {}
        (
            DefKind::TransverseMercator { lat0, lon0, k0, x0, y0 },
            DefKind::TransverseMercator { lat0: l0, lon0: m0, k0: s0, x0: e0, y0: n0 },
        ) => {
            let params = [
                ("central meridian", *lon0, *m0, 1e-9, "°"),
                ("false easting", *x0, *e0, 1e-6, " m"),
                ("latitude of origin", *lat0, *l0, 1e-9, "°"),
                ("scale factor", *k0, *s0, 1e-12, ""),
                ("false northing", *y0, *n0, 1e-6, " m"),
            ];
            for (name, d, o, tol, unit) in params {
                if !close(d, o, tol) {
                    return Match::Contradicts(format!(
                        "the file's {name} is {d}{unit}, {id}'s is {o}{unit}"
                    ));
                }
            }
        }
        (d, _) => {
            let name = |k: &DefKind| match k {
                DefKind::TransverseMercator { .. } => {
                    "transverse Mercator (Gauss-Krüger)".to_string()
                }
                DefKind::WebMercator => "web Mercator".to_string(),
                DefKind::Other(p) => p.clone(),
                DefKind::Geographic => "none".to_string(),
                DefKind::Geocentric => "geocentric X, Y, Z".to_string(),
            };
            return Match::Contradicts(format!(
                "the file's projection is {}, {id}'s is {}",
                name(d),
                name(&ours.kind)
            ));
        }
    }
    if one_frame {
        return Match::Unknown(format!(
            "{origin} declares {} on a = {} m, 1/f = {}, {id} is on {}: geounify treats WGS 84 and \
             CGCS2000 as one frame (they agree to a few centimetres), so this is not a \
             contradiction; converting as {id}",
            declared.name,
            declared.a,
            declared.rf,
            crs.datum().name()
        ));
    }
    if let (Some(t), Some(o)) = (declared.towgs84, ours.towgs84) {
        if t.iter().zip(o.iter()).any(|(a, b)| !close(*a, *b, 1e-9)) {
            return Match::Unknown(format!(
                "{origin} declares TOWGS84[{}], {id}'s datum shift is TOWGS84[{}]: converting with \
                 {id}'s",
                t.map(|v| v.to_string()).join(","),
                o.map(|v| v.to_string()).join(",")
            ));
        }
    }
    if declared.three_d != crs.is_3d() {
        let (said, ours) = if declared.three_d {
            ("a 3D CRS (ellipsoidal heights)", "2D (heights taken as elevations and copied)")
        } else {
            ("a 2D CRS (heights as elevations)", "3D (heights taken as ellipsoidal)")
        };
        return Match::Unknown(format!(
            "{origin} declares {said}, {id} is {ours}; converting as {id}"
        ));
    }
    Match::Agrees
}

// ---------------------------------------------------------------------------------------------
// WKT

/// A WKT node `KEY[args]`.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    key: String,
    args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Text(String),
    Number(f64),
    Word(String),
    Node(Node),
}

impl Node {
    fn child(&self, keys: &[&str]) -> Option<&Node> {
        self.args.iter().find_map(|a| match a {
            Arg::Node(n) if keys.iter().any(|k| n.key.eq_ignore_ascii_case(k)) => Some(n),
            _ => None,
        })
    }
    fn children<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.args.iter().filter_map(move |a| match a {
            Arg::Node(n) if n.key.eq_ignore_ascii_case(key) => Some(n),
            _ => None,
        })
    }
    fn text(&self, i: usize) -> Option<&str> {
        match self.args.get(i)? {
            Arg::Text(s) | Arg::Word(s) => Some(s),
            _ => None,
        }
    }
    fn number(&self, i: usize) -> Option<f64> {
        match self.args.get(i)? {
            Arg::Number(x) => Some(*x),
            Arg::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// `AUTHORITY["EPSG","4547"]` or `ID["EPSG",4547]`.
    fn epsg(&self) -> Option<u32> {
        let a = self.child(&["AUTHORITY", "ID"])?;
        if !a.text(0)?.eq_ignore_ascii_case("EPSG") {
            return None;
        }
        let code = a.number(1)?;
        ((1.0..1e9).contains(&code) && code.fract() == 0.0).then_some(code as u32)
    }
}

struct WktParser<'a> {
    s: &'a [u8],
    i: usize,
}

/// Parses WKT text into its node tree; at most [`MAX_WKT_DEPTH`] levels.
fn parse_wkt(text: &str) -> Result<Node, String> {
    let mut p = WktParser { s: text.as_bytes(), i: 0 };
    p.spaces();
    let node = p.node(0)?;
    p.spaces();
    // Text after the node (e.g. a trailing newline or a VERTCS of an ESRI compound) is ignored.
    Ok(node)
}

impl WktParser<'_> {
    fn spaces(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn word(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric()
                || matches!(self.s[self.i], b'_' | b'.' | b'+' | b'-'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth >= MAX_WKT_DEPTH {
            return Err(format!("nested more than {MAX_WKT_DEPTH} levels deep"));
        }
        let key = self.word();
        if key.is_empty() || !key.as_bytes()[0].is_ascii_alphabetic() {
            return Err(format!("expected a keyword at byte {}", self.i + 1));
        }
        self.spaces();
        let close = match self.s.get(self.i) {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => return Err(format!("expected '[' after {key} at byte {}", self.i + 1)),
        };
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.spaces();
            match self.s.get(self.i) {
                None => return Err(format!("{key}[ is not closed")),
                Some(&c) if c == close && args.is_empty() => {
                    self.i += 1;
                    break;
                }
                _ => {}
            }
            args.push(self.arg(depth)?);
            self.spaces();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(&c) if c == close => {
                    self.i += 1;
                    break;
                }
                _ => {
                    return Err(format!("expected ',' or a closing bracket at byte {}", self.i + 1))
                }
            }
        }
        Ok(Node { key: key.to_ascii_uppercase(), args })
    }
    fn arg(&mut self, depth: usize) -> Result<Arg, String> {
        match self.s.get(self.i) {
            Some(b'"') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err("a quoted text is not closed".into()),
                        Some(b'"') if self.s.get(self.i + 1) == Some(&b'"') => {
                            out.push(b'"');
                            self.i += 2;
                        }
                        Some(b'"') => {
                            self.i += 1;
                            break;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
                Ok(Arg::Text(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') => {
                let w = self.word();
                w.parse().map(Arg::Number).map_err(|_| format!("'{}' is not a number", shorten(&w)))
            }
            _ => {
                let save = self.i;
                let w = self.word();
                self.spaces();
                if matches!(self.s.get(self.i), Some(b'[' | b'(')) {
                    self.i = save;
                    self.node(depth + 1).map(Arg::Node)
                } else if w.is_empty() {
                    Err(format!("unexpected character at byte {}", self.i + 1))
                } else {
                    Ok(Arg::Word(w))
                }
            }
        }
    }
}

/// A parameter or projection name reduced to lower-case letters and digits.
fn normalised(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The EPSG code and parameters of a WKT tree (WKT 1; WKT 2 gives only its id).
#[allow(clippy::type_complexity)]
fn interpret(node: &Node) -> Result<(Option<u32>, Option<Definition>), String> {
    let key = node.key.as_str();
    if matches!(key, "COMPD_CS" | "COMPOUNDCRS") {
        let horizontal = node
            .args
            .iter()
            .find_map(|a| match a {
                Arg::Node(n) if n.key != "AUTHORITY" && n.key != "ID" => Some(n),
                _ => None,
            })
            .ok_or("a compound CRS without a horizontal CRS")?;
        return interpret(horizontal);
    }
    let epsg = node.epsg();
    let name = node.text(0).unwrap_or_default().to_string();
    match key {
        "GEOGCS" => {
            let mut d = geographic(node)?;
            d.name = name;
            d.three_d = node.child(&["LINUNIT"]).is_some() || node.children("AXIS").count() == 3;
            Ok((epsg, Some(d)))
        }
        "GEOCCS" => {
            // DATUM and PRIMEM sit directly in GEOCCS; its UNIT is linear.
            let mut d = geographic(node)?;
            d.name = name;
            d.angular_unit = DEGREE;
            d.linear_unit = match node.child(&["UNIT"]) {
                Some(u) => u.number(1).ok_or("UNIT without a factor")?,
                None => 1.0,
            };
            d.kind = DefKind::Geocentric;
            d.three_d = true;
            Ok((epsg, Some(d)))
        }
        "PROJCS" => {
            let geogcs = node.child(&["GEOGCS"]).ok_or("PROJCS without GEOGCS")?;
            let mut d = geographic(geogcs)?;
            d.three_d = node.children("AXIS").count() == 3;
            d.name = name;
            d.linear_unit = match node.child(&["UNIT"]) {
                Some(u) => u.number(1).ok_or("UNIT without a factor")?,
                None => 1.0,
            };
            let projection = node
                .child(&["PROJECTION"])
                .and_then(|p| p.text(0))
                .ok_or("PROJCS without PROJECTION")?;
            let mut params = std::collections::HashMap::new();
            for p in node.children("PARAMETER") {
                if let (Some(n), Some(v)) = (p.text(0), p.number(1)) {
                    params.insert(normalised(n), v);
                }
            }
            let get = |k: &str, default: f64| params.get(k).copied().unwrap_or(default);
            let extension = node
                .child(&["EXTENSION"])
                .and_then(|e| e.text(1))
                .unwrap_or_default()
                .to_ascii_lowercase();
            d.kind = match normalised(projection).as_str() {
                "transversemercator" | "gausskruger" => DefKind::TransverseMercator {
                    lat0: get("latitudeoforigin", 0.0),
                    lon0: get("centralmeridian", 0.0),
                    k0: get("scalefactor", 1.0),
                    x0: get("falseeasting", 0.0),
                    y0: get("falsenorthing", 0.0),
                },
                "mercatorauxiliarysphere" | "popularvisualisationpseudomercator" => {
                    DefKind::WebMercator
                }
                "mercator1sp" | "mercator"
                    if extension.contains("+nadgrids=@null")
                        || (extension.contains("+a=6378137")
                            && extension.contains("+b=6378137")) =>
                {
                    DefKind::WebMercator
                }
                _ => DefKind::Other(projection.to_string()),
            };
            Ok((epsg, Some(d)))
        }
        _ => Ok((epsg, None)),
    }
}

/// The datum, prime meridian and angular unit of a `GEOGCS` node.
fn geographic(geogcs: &Node) -> Result<Definition, String> {
    let datum = geogcs.child(&["DATUM"]).ok_or("GEOGCS without DATUM")?;
    let spheroid = datum.child(&["SPHEROID", "ELLIPSOID"]).ok_or("DATUM without SPHEROID")?;
    let a = spheroid.number(1).ok_or("SPHEROID without a semi-major axis")?;
    let rf = spheroid.number(2).ok_or("SPHEROID without an inverse flattening")?;
    let towgs84 = match datum.child(&["TOWGS84"]) {
        Some(t) => {
            let mut v = [0.0; 7];
            for (i, x) in v.iter_mut().enumerate() {
                *x = t.number(i).unwrap_or(0.0);
            }
            Some(v)
        }
        None => None,
    };
    let prime_meridian = geogcs.child(&["PRIMEM"]).and_then(|p| p.number(1)).unwrap_or(0.0);
    let angular_unit = geogcs.child(&["UNIT"]).and_then(|u| u.number(1)).unwrap_or(DEGREE);
    if !(a.is_finite() && a > 0.0 && rf.is_finite()) {
        return Err("SPHEROID with a non-finite or non-positive axis".into());
    }
    Ok(Definition {
        name: geogcs.text(0).unwrap_or_default().to_string(),
        a,
        rf,
        towgs84,
        prime_meridian,
        angular_unit,
        linear_unit: 1.0,
        three_d: false,
        kind: DefKind::Geographic,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading the declarations of a file

/// Every CRS the file `path` declares (see the module documentation), by its format: none for
/// CSV/TSV, newline-delimited GeoJSON, a file without a declaration, or an input that is not a
/// regular file (devices and FIFOs are not read here, so they are read at most once, by the
/// converter). A declaration that cannot be read (a `.prj` larger than [`MAX_DECLARATION`],
/// malformed WKT) is returned as one that [`DeclaredCrs::matches`] reports as unknown.
///
/// Errors: an I/O error reading the file or its `.prj`, a `.prj` that is not a regular file
/// (a FIFO, device or folder: never opened), and a GeoPackage that SQLite cannot read, name
/// the file.
pub fn read(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    let Some(format) = FileFormat::from_path(path) else {
        return Ok(Vec::new());
    };
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(Vec::new());
    }
    (super::format::of(format).declared)(path)
}

/// The `SRID=` of a WKT file's first geometry line, if any.
pub(crate) fn ewkt_srid(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    Ok(super::wkt::first_srid(path)?
        .map(|(line, code)| DeclaredCrs::from_epsg(code, &format!("line {line} (SRID={code})")))
        .into_iter()
        .collect())
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io { path: path.to_path_buf(), source }
}

/// The `.prj` beside a `.shp` (extension compared case-insensitively, lower-case preferred).
pub(crate) fn prj(shp: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    let Some(stem) = shp.file_stem().and_then(|s| s.to_str()) else { return Ok(Vec::new()) };
    let folder = match shp.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut found: Option<PathBuf> = None;
    for entry in std::fs::read_dir(folder).map_err(io_error(folder))? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == stem.len() + 4
            && name.starts_with(stem)
            && name[stem.len()..].eq_ignore_ascii_case(".prj")
            && (found.is_none() || name.ends_with(".prj"))
        {
            found = Some(shp.with_file_name(name));
        }
    }
    let Some(prj) = found else { return Ok(Vec::new()) };
    let origin =
        prj.file_name().map_or_else(|| "the .prj".into(), |n| n.to_string_lossy().into_owned());
    // A FIFO, device or folder is refused, never opened (a FIFO would block).
    super::require_regular_file(&prj)?;
    let meta = std::fs::metadata(&prj).map_err(io_error(&prj))?;
    if meta.len() > MAX_DECLARATION as u64 {
        return Ok(vec![DeclaredCrs::unreadable(
            &origin,
            "",
            format!(
                "{} bytes, more than the {} a CRS definition may have",
                meta.len(),
                MAX_DECLARATION
            ),
        )]);
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&prj)
        .and_then(|f| f.take(MAX_DECLARATION as u64).read_to_end(&mut bytes))
        .map_err(io_error(&prj))?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![DeclaredCrs::from_wkt(text, &origin)])
}

/// The top-level `crs` member of a GeoJSON document, read member by member without building the
/// document (the `features` are skipped byte by byte, nesting counted, never recursed).
pub(crate) fn geojson(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut s = Scan { r: BufReader::with_capacity(1 << 16, file), path };
    let origin = "the \"crs\" member";
    let Some(raw) = s.top_level_member(b"crs")? else { return Ok(Vec::new()) };
    let Some(raw) = raw else {
        return Ok(vec![DeclaredCrs::unreadable(
            origin,
            "",
            format!("longer than {MAX_DECLARATION} bytes, not read"),
        )]);
    };
    let text = String::from_utf8_lossy(&raw).into_owned();
    Ok(from_crs_member(&text, origin).into_iter().collect())
}

/// The declaration of a GeoJSON `crs` member's value (`text`, JSON): `None` for `null`; one
/// that [`DeclaredCrs::matches`] reports as unknown for anything but a named or 2008 EPSG form.
pub(crate) fn from_crs_member(text: &str, origin: &str) -> Option<DeclaredCrs> {
    if text.len() > MAX_DECLARATION {
        return Some(DeclaredCrs::unreadable(
            origin,
            "",
            format!("longer than {MAX_DECLARATION} bytes, not read"),
        ));
    }
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(DeclaredCrs::unreadable(origin, text, format!("not JSON: {e}"))),
    };
    let text = text.to_string();
    let properties = value.get("properties");
    let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or_default();
    let d = if value.is_null() {
        return None;
    } else if let Some(name) = properties.and_then(|p| p.get("name")).and_then(|n| n.as_str()) {
        DeclaredCrs { text: text.clone(), ..DeclaredCrs::from_name(name, origin) }
    } else if let Some(code) = properties
        .and_then(|p| p.get("code"))
        .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.trim().parse().ok())))
        .filter(|_| kind.eq_ignore_ascii_case("EPSG"))
        .and_then(|c| u32::try_from(c).ok())
    {
        DeclaredCrs { text: text.clone(), ..DeclaredCrs::from_epsg(code, origin) }
    } else {
        DeclaredCrs::unreadable(origin, &text, "neither a CRS name nor an EPSG code".into())
    };
    Some(d)
}

struct Scan<'a> {
    r: BufReader<std::fs::File>,
    path: &'a Path,
}

impl Scan<'_> {
    fn peek(&mut self) -> Result<Option<u8>, ConvertError> {
        let buf = self.r.fill_buf().map_err(io_error(self.path))?;
        Ok(buf.first().copied())
    }
    fn next(&mut self) -> Result<Option<u8>, ConvertError> {
        let b = self.peek()?;
        if b.is_some() {
            self.r.consume(1);
        }
        Ok(b)
    }
    fn spaces(&mut self) -> Result<Option<u8>, ConvertError> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                return Ok(Some(b));
            }
            self.r.consume(1);
        }
        Ok(None)
    }
    /// Reads a string after its opening quote; up to `keep` bytes of it go to `out`.
    fn string(&mut self, out: &mut Vec<u8>, keep: usize) -> Result<bool, ConvertError> {
        loop {
            match self.next()? {
                None => return Ok(false),
                Some(b'"') => return Ok(true),
                Some(b'\\') => {
                    let e = self.next()?;
                    if out.len() < keep {
                        out.push(b'\\');
                        out.extend(e);
                    }
                }
                Some(b) => {
                    if out.len() < keep {
                        out.push(b);
                    }
                }
            }
        }
    }
    /// Skips a value, copying at most `keep` of its bytes into `out`; `false` if the document
    /// ends first. Works on the reader's buffer a block at a time, nesting counted (never
    /// recursed), strings and escapes tracked (the GeoJSON converter's scanner).
    fn value(&mut self, out: &mut Vec<u8>, keep: usize) -> Result<bool, ConvertError> {
        super::geojson::scan::Scanner::new(&mut self.r).skip(out, keep).map_err(io_error(self.path))
    }
    /// The raw text of the top-level member `key`: `None` if the document has none (or is not
    /// an object: the converter reports that), `Some(None)` if it is longer than
    /// [`MAX_DECLARATION`].
    #[allow(clippy::option_option)]
    fn top_level_member(&mut self, key: &[u8]) -> Result<Option<Option<Vec<u8>>>, ConvertError> {
        if self.r.fill_buf().map_err(io_error(self.path))?.starts_with(b"\xEF\xBB\xBF") {
            self.r.consume(3);
        }
        if self.spaces()? != Some(b'{') {
            return Ok(None);
        }
        self.r.consume(1);
        loop {
            match self.spaces()? {
                Some(b',') => {
                    self.r.consume(1);
                    continue;
                }
                Some(b'"') => self.r.consume(1),
                _ => return Ok(None),
            }
            let mut name = Vec::new();
            if !self.string(&mut name, 16)? {
                return Ok(None);
            }
            if self.spaces()? != Some(b':') {
                return Ok(None);
            }
            self.r.consume(1);
            self.spaces()?;
            let wanted = name == key;
            let mut out = Vec::new();
            let keep = if wanted { MAX_DECLARATION + 1 } else { 0 };
            if !self.value(&mut out, keep)? {
                return Ok(None);
            }
            if wanted {
                return Ok(Some((out.len() <= MAX_DECLARATION).then_some(out)));
            }
        }
    }
}

/// The `gpkg_spatial_ref_sys` rows of the feature tables' `srs_id`s (0 and −1 declare nothing).
pub(crate) fn gpkg(path: &Path) -> Result<Vec<DeclaredCrs>, ConvertError> {
    use rusqlite::{Connection, OpenFlags};
    let err = |e: rusqlite::Error| ConvertError::Malformed {
        path: path.to_path_buf(),
        location: "database".into(),
        message: format!("reading its CRS declarations: {e}"),
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    let has = |table: &str| -> Result<bool, ConvertError> {
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(err)
    };
    // Not a GeoPackage: the converter says so.
    if !has("gpkg_geometry_columns")? || !has("gpkg_spatial_ref_sys")? {
        return Ok(Vec::new());
    }
    type Row = (String, i64, Option<String>, Option<i64>, Option<String>, Option<String>);
    let mut stmt = conn
        .prepare(
            "SELECT g.table_name, g.srs_id, s.organization, s.organization_coordsys_id, \
             s.definition, s.srs_name FROM gpkg_geometry_columns g \
             LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id ORDER BY g.srs_id, g.table_name",
        )
        .map_err(err)?;
    let rows: Vec<Row> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .and_then(|rows| rows.collect())
        .map_err(err)?;
    let mut out: Vec<(i64, Vec<String>, Row)> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some((id, tables, _)) if *id == row.1 => tables.push(row.0.clone()),
            _ => out.push((row.1, vec![row.0.clone()], row)),
        }
    }
    let mut declared = Vec::new();
    for (srs_id, tables, (_, _, org, org_id, definition, srs_name)) in out {
        if srs_id == 0 || srs_id == -1 {
            continue;
        }
        let origin = format!(
            "gpkg_spatial_ref_sys srs_id {srs_id} ({} {})",
            if tables.len() == 1 { "table" } else { "tables" },
            tables.join(", ")
        );
        let definition = definition.filter(|d| !d.trim().eq_ignore_ascii_case("undefined"));
        let org = org.unwrap_or_default();
        let d = match (org.to_ascii_uppercase().as_str(), org_id) {
            ("", None) if srs_name.is_none() => DeclaredCrs::unreadable(
                &origin,
                "",
                "gpkg_spatial_ref_sys has no row for it".into(),
            ),
            ("EPSG", Some(code)) if (1..1_000_000_000).contains(&code) => {
                let mut d = DeclaredCrs::from_epsg(code as u32, &origin);
                if let Some(def) = &definition {
                    let w = DeclaredCrs::from_wkt(def, &origin);
                    d.definition = w.definition;
                    d.text = def.clone();
                }
                d
            }
            _ => match (&definition, srs_name) {
                (Some(def), _) => DeclaredCrs::from_wkt(def, &origin),
                (None, Some(name)) => DeclaredCrs::from_name(&name, &origin),
                (None, None) => DeclaredCrs::unreadable(&origin, "", "no definition".into()),
            },
        };
        declared.push(d);
    }
    Ok(declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crs(id: &str) -> Crs {
        catalogue::lookup(id).unwrap()
    }

    const ESRI_4548: &str = "PROJCS[\"CGCS2000_3_Degree_GK_CM_117E\",GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Gauss_Kruger\"],PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",117.0],PARAMETER[\"Scale_Factor\",1.0],PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";

    #[test]
    fn names_give_epsg_codes() {
        assert_eq!(epsg_of_name("urn:ogc:def:crs:EPSG::4547"), Some(4547));
        assert_eq!(epsg_of_name("urn:ogc:def:crs:EPSG:6.6:4547"), Some(4547));
        assert_eq!(epsg_of_name("EPSG:4547"), Some(4547));
        assert_eq!(epsg_of_name("http://www.opengis.net/def/crs/EPSG/0/4547"), Some(4547));
        assert_eq!(epsg_of_name("urn:ogc:def:crs:OGC:1.3:CRS84"), Some(4326));
        assert_eq!(epsg_of_name("city:old-grid"), None);
        assert_eq!(epsg_of_name("EPSG:99999999999999"), None);
    }

    #[test]
    fn esri_prj_is_identified_by_parameters() {
        let d = DeclaredCrs::from_wkt(ESRI_4548, "a.prj");
        assert_eq!(d.epsg(), None);
        assert_eq!(d.matches(&crs("EPSG:4548")), Match::Agrees);
        assert_eq!(d.identify(&Registry::new()).unwrap().id(), "EPSG:4548");
        match d.matches(&crs("EPSG:4547")) {
            Match::Contradicts(r) => {
                assert_eq!(r, "the file's central meridian is 117°, EPSG:4547's is 114°")
            }
            m => panic!("{m:?}"),
        }
        match d.matches(&crs("EPSG:4527")) {
            Match::Contradicts(r) => {
                assert_eq!(r, "the file's false easting is 500000 m, EPSG:4527's is 39500000 m")
            }
            m => panic!("{m:?}"),
        }
    }

    #[test]
    fn every_catalogue_wkt_round_trips() {
        for c in catalogue::all() {
            let Ok(wkt) = c.to_wkt() else { continue };
            let d = DeclaredCrs::from_wkt(&wkt, "x");
            assert_eq!(d.matches(&c), Match::Agrees, "{}", c.id());
            let stripped = DeclaredCrs { epsg: None, ..d.clone() };
            assert_eq!(stripped.matches(&c), Match::Agrees, "{} by parameters", c.id());
            assert_eq!(d.identify(&Registry::new()).unwrap().id(), c.id());
        }
    }

    #[test]
    fn hostile_wkt_is_an_unknown_declaration() {
        let deep = "A[".repeat(100_000);
        let d = DeclaredCrs::from_wkt(&deep, "x.prj");
        assert!(
            matches!(d.matches(&crs("EPSG:4326")), Match::Unknown(r) if r.contains("nested more than 16"))
        );
        let d = DeclaredCrs::from_wkt("PROJCS[\"x\"", "x.prj");
        assert!(matches!(d.matches(&crs("EPSG:4326")), Match::Unknown(_)));
    }
}
