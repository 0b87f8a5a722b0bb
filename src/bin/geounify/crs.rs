//! `geounify crs list` and `geounify crs info ID`: the built-in catalogue, for people.

use crate::estimate::display_width;
use crate::{output_error, report, EXIT_OK, EXIT_USAGE};
use geounify::ops::{ChinaBounds, GaussKrugerParams, HelmertConvention};
use geounify::{catalogue, Crs, CrsKind, DatumShift, HeightMethod, Projection, Registry};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Ids wider than this many terminal columns do not widen the id column of `crs list`: they
/// are written whole, followed by two spaces and the name.
pub(crate) const MAX_ID_COLUMN: usize = 40;

/// Prints the catalogue, one line per CRS: id, name, and aliases in brackets.
///
/// The id column is as wide as the widest id of at most [`MAX_ID_COLUMN`] terminal columns
/// (East Asian wide characters count two, see [`display_width`]); a longer id (ids have no
/// length limit: a CRS file may hold a 65,536-character one) is written whole and only its own
/// line is wider.
pub(crate) fn list(registry: &Registry) -> u8 {
    let mut crss = catalogue::all();
    crss.extend(registry.user_crss().iter().cloned());
    let width = crss
        .iter()
        .map(|crs| display_width(crs.id()))
        .filter(|&w| w <= MAX_ID_COLUMN)
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for crs in &crss {
        // Padded by hand: a width argument of `format!` panics above 65,535.
        let pad = width.saturating_sub(display_width(crs.id()));
        let _ = write!(text, "{}{}  {}", crs.id(), " ".repeat(pad), crs.name());
        let aliases = aliases_of(crs.id());
        if !aliases.is_empty() {
            let _ = write!(text, "  [aliases: {}]", aliases.join(", "));
        }
        text.push('\n');
    }
    print(&text)
}

/// Prints everything known about one CRS.
pub(crate) fn info(registry: &Registry, id: &str, show_parameters: bool) -> u8 {
    let crs = match registry.lookup(id) {
        Ok(crs) => crs,
        Err(error) => {
            report(error);
            return EXIT_USAGE;
        }
    };
    // A file CRS's values (projection, datum shift, planar parameters, and the WKT / PROJ
    // string that would spell them out) are shown only when asked for.
    let hidden = registry.user_crs(crs.id()).is_some() && !show_parameters;
    print(&describe(&crs, hidden))
}

/// What is printed instead of a file CRS's parameter values.
const HIDDEN: &str = "(from a CRS file; values not shown: --show-parameters)";

/// Writes `text` to stdout; the exit status.
fn print(text: &str) -> u8 {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => EXIT_OK,
        Err(error) => output_error(&error, EXIT_OK),
    }
}

/// The aliases of catalogue id `id`.
fn aliases_of(id: &str) -> Vec<&'static str> {
    catalogue::aliases()
        .iter()
        .filter(|(_, target)| target.eq_ignore_ascii_case(id))
        .map(|(alias, _)| *alias)
        .collect()
}

/// The `crs info` text.
fn describe(crs: &Crs, hidden: bool) -> String {
    let mut t = String::new();
    let datum = crs.datum();
    let ellipsoid = datum.ellipsoid();
    let _ = writeln!(t, "id:          {}", crs.id());
    let _ = writeln!(t, "name:        {}", crs.name());
    let aliases = aliases_of(crs.id());
    if !aliases.is_empty() {
        let _ = writeln!(t, "aliases:     {}", aliases.join(", "));
    }
    if let Some(code) = crs.epsg() {
        let _ = writeln!(t, "EPSG code:   {code}");
    }
    let _ = writeln!(t, "kind:        {}", kind(crs.kind()));
    let lines = match crs.kind() {
        CrsKind::Local { base, planar } if hidden => vec![format!(
            "base CRS {}, planar transformation {} {HIDDEN}",
            base.id(),
            planar.method()
        )],
        _ if hidden => vec![HIDDEN.to_string()],
        kind => parameters(kind),
    };
    for line in lines {
        let _ = writeln!(t, "             {line}");
    }
    let (x, y) = if crs.is_angular() {
        ("longitude (degrees)", "latitude (degrees)")
    } else if matches!(crs.kind(), CrsKind::Geocentric) {
        ("geocentric X (metres)", "geocentric Y (metres)")
    } else {
        ("easting (metres)", "northing (metres)")
    };
    let z = if matches!(crs.kind(), CrsKind::Geocentric) {
        "geocentric Z (metres)"
    } else if crs.is_3d() {
        "ellipsoidal height (metres; 3D CRS: converted with the point)"
    } else {
        "elevation (metres; 2D CRS: copied unchanged)"
    };
    let _ = writeln!(t, "axes:        x = {x}, y = {y}, z = {z}");
    let _ = writeln!(t, "datum:       {} ({})", datum.name(), datum.id());
    let shift = match datum.to_cgcs2000() {
        DatumShift::Helmert(_) | DatumShift::Molodensky(_) if hidden => {
            format!("{} {HIDDEN}", shift_method(datum.to_cgcs2000()))
        }
        other => shift(other),
    };
    let _ = writeln!(t, "             to CGCS2000: {shift}");
    if hidden && ellipsoid.id() == "custom" {
        let _ = writeln!(t, "ellipsoid:   {} {HIDDEN}", ellipsoid.name());
    } else {
        let _ = writeln!(
            t,
            "ellipsoid:   {}, a = {} m, 1/f = {}",
            ellipsoid.name(),
            ellipsoid.a(),
            ellipsoid.rf()
        );
    }
    match crs.area_of_use() {
        Some(area) => {
            let _ = writeln!(
                t,
                "area of use: {} (west {}°, south {}°, east {}°, north {}°)",
                area.name.trim_end_matches('.'),
                area.west,
                area.south,
                area.east,
                area.north
            );
        }
        None => t.push_str("area of use: not recorded\n"),
    }
    if hidden {
        let _ = writeln!(t, "PROJ string: {HIDDEN}\nWKT:         {HIDDEN}");
        return t;
    }
    match crs.to_proj_string() {
        Ok(proj) => {
            let _ = writeln!(t, "PROJ string: {proj}");
        }
        Err(error) => {
            let _ = writeln!(t, "PROJ string: none: {error}");
        }
    }
    match crs.to_wkt() {
        Ok(wkt) => {
            let _ = writeln!(t, "WKT:\n{}", wkt.trim_end());
        }
        Err(error) => {
            let _ = writeln!(t, "WKT:         none: {error}");
        }
    }
    t
}

/// The kind of CRS, in words.
fn kind(kind: &CrsKind) -> &'static str {
    match kind {
        CrsKind::Geographic => "geographic",
        CrsKind::Geocentric => "geocentric (earth-centred X, Y, Z), metres",
        CrsKind::Projected(Projection::GaussKruger(_)) => "projected, Gauss-Krüger",
        CrsKind::Projected(Projection::GaussKrugerSurface(..)) => {
            "projected, Gauss-Krüger on a raised projection surface"
        }
        CrsKind::Local { .. } => "local grid (planar transformation of a projected CRS), metres",
        CrsKind::Projected(Projection::WebMercator) => "projected, Web Mercator (EPSG:3857)",
        CrsKind::Gcj02 { .. } => "GCJ-02 (WGS84 with the published obfuscation), degrees",
        CrsKind::Bd09 { .. } => "BD-09 (Baidu: GCJ-02 with Baidu's further offset), degrees",
        CrsKind::Bd09Mc { .. } => "BD-09MC (Baidu Mercator of BD-09), metres",
    }
}

/// The kind's parameters, one per line.
fn parameters(kind: &CrsKind) -> Vec<String> {
    match kind {
        CrsKind::Geographic | CrsKind::Geocentric | CrsKind::Projected(Projection::WebMercator) => {
            Vec::new()
        }
        CrsKind::Projected(Projection::GaussKruger(p)) => {
            let GaussKrugerParams { lon0, lat0, k0, x0, y0 } = p;
            vec![format!(
                "central meridian {lon0}°, latitude of origin {lat0}°, scale factor {k0}, \
                 false easting {x0} m, false northing {y0} m"
            )]
        }
        CrsKind::Projected(Projection::GaussKrugerSurface(p, surface)) => {
            let GaussKrugerParams { lon0, lat0, k0, x0, y0 } = p;
            let method = match surface.method {
                HeightMethod::ScaleFactor { radius } => {
                    format!("scale factor 1 + H/R with R = {radius} m")
                }
                HeightMethod::EllipsoidExpansion { lat_ref } => {
                    format!("ellipsoid expansion (a + H/W at reference latitude {lat_ref}°)")
                }
            };
            vec![
                format!(
                    "central meridian {lon0}°, latitude of origin {lat0}°, scale factor {k0}, \
                     false easting {x0} m, false northing {y0} m"
                ),
                format!("projection surface at H = {} m, {method}", surface.height),
            ]
        }
        CrsKind::Local { base, planar } => {
            vec![format!("base CRS {}, planar transformation {}", base.id(), planar.method())]
        }
        CrsKind::Gcj02 { bounds } | CrsKind::Bd09 { bounds } | CrsKind::Bd09Mc { bounds } => {
            let (west, east, south, north) = match bounds {
                ChinaBounds::Everywhere => {
                    return vec!["GCJ-02 offset applied everywhere".to_string()];
                }
                ChinaBounds::UsualBox => ChinaBounds::USUAL_BOX_DEG,
                ChinaBounds::Custom { lon_min, lon_max, lat_min, lat_max } => {
                    (*lon_min, *lon_max, *lat_min, *lat_max)
                }
            };
            vec![format!(
                "GCJ-02 offset applied inside longitude {west}°–{east}° E, latitude \
                 {south}°–{north}° N (edges included), none outside"
            )]
        }
    }
}

/// A datum's shift method, without its values.
fn shift_method(shift: &DatumShift) -> &'static str {
    match shift {
        DatumShift::Helmert(p) if p.rx == 0.0 && p.ry == 0.0 && p.rz == 0.0 && p.s == 0.0 => {
            "Helmert (translation)"
        }
        DatumShift::Helmert(p) => match p.convention {
            HelmertConvention::PositionVector => "Helmert (position vector)",
            HelmertConvention::CoordinateFrame => "Helmert (coordinate frame)",
        },
        DatumShift::Molodensky(_) => "Molodensky",
        DatumShift::SameFrame => "same frame",
        DatumShift::Unknown => "unknown",
    }
}

/// A datum's shift to CGCS2000, in words.
fn shift(shift: &DatumShift) -> String {
    match shift {
        DatumShift::SameFrame => "same frame (no shift)".to_string(),
        DatumShift::Helmert(p) => {
            let convention = match p.convention {
                HelmertConvention::PositionVector => "position vector",
                HelmertConvention::CoordinateFrame => "coordinate frame",
            };
            format!(
                "Helmert ({convention}), tx = {} m, ty = {} m, tz = {} m, rx = {}″, ry = {}″, \
                 rz = {}″, s = {} ppm",
                p.tx, p.ty, p.tz, p.rx, p.ry, p.rz, p.s
            )
        }
        DatumShift::Molodensky(p) => format!(
            "{} Molodensky, dx = {} m, dy = {} m, dz = {} m",
            if p.abridged { "abridged" } else { "standard" },
            p.dx,
            p.dy,
            p.dz
        ),
        DatumShift::Unknown => "unknown: not public, varies by region; conversions to other \
                                datums are refused (supply the parameters in the library)"
            .to_string(),
    }
}
