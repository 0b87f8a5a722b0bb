//! Writes `tests/data/proj_vectors.csv`: reference transformations computed by PROJ, which
//! `tests/proj_vectors.rs` checks geounify against without needing PROJ.
//!
//! Run from the crate root: `cargo run --example gen_proj_vectors --features proj`
//!
//! Cases (column `case`):
//! - `zone`: for every projected CRS of the catalogue, [`POINTS`] pseudo-random points inside
//!   its EPSG area of use, from its base geographic CRS (EPSG:4490, 4214, 4610 or 4326;
//!   longitude, latitude in degrees) to the CRS (easting, northing in metres), with
//!   `Proj::new_known_crs` (axis order normalised to x = longitude / easting);
//! - `cross`: EPSG:4326 → EPSG:4547, EPSG:4326 → EPSG:3857, and the 6° zone EPSG:4498
//!   (zone-prefixed) → the 3° zone EPSG:4547 within CGCS2000;
//! - `user-cf` / `user-pv`: a Beijing-1954-like 3° zone (Krassovsky, CM 117°E, false easting
//!   500 000 m) with the 7-parameter Helmert shift [`HELMERT`] to CGCS2000 in the
//!   coordinate-frame / position-vector convention, to the CGCS2000 3° zone EPSG:4548, through
//!   an explicit PROJ pipeline (inverse tmerc, cart, helmert, inverse cart, tmerc).
//!
//! Numbers are written with `{:?}`, which round-trips every `f64` exactly.

use std::fmt::Write as _;

use geounify::{catalogue, CrsKind};
use proj::Proj;

/// Points per CRS.
const POINTS: usize = 20;

/// The user datum's shift to CGCS2000: tx, ty, tz (m), rx, ry, rz (arc-seconds), s (ppm).
const HELMERT: [f64; 7] = [-12.7, 131.2, 47.6, 0.41, -0.16, 1.05, -2.7];

/// The Beijing-1954-like zone the user-datum cases start from.
const USER_ZONE: &str = "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=krass";

/// A xorshift64* generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in the box, degrees.
    fn point(&mut self, west: f64, south: f64, east: f64, north: f64) -> (f64, f64) {
        (west + (east - west) * self.next(), south + (north - south) * self.next())
    }
}

type Row = (&'static str, String, String, (f64, f64), (f64, f64));

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rows: Vec<Row> = Vec::new();

    // Every projected catalogue CRS from its base geographic CRS.
    for crs in catalogue::all() {
        if !matches!(crs.kind(), CrsKind::Projected(_)) {
            continue;
        }
        let code = crs.epsg().ok_or("projected catalogue CRS without EPSG code")?;
        let base = match crs.datum().id() {
            "CGCS2000" => "EPSG:4490",
            "BJ54" => "EPSG:4214",
            "XIAN80" => "EPSG:4610",
            "WGS84" => "EPSG:4326",
            other => return Err(format!("unexpected datum {other}").into()),
        };
        let area = crs.area_of_use().ok_or("catalogue CRS without area of use")?;
        let proj = Proj::new_known_crs(base, crs.id(), None)?;
        let mut rng = Rng::new(u64::from(code));
        for _ in 0..POINTS {
            let p = rng.point(area.west, area.south, area.east, area.north);
            let q = proj.convert(p)?;
            rows.push(("zone", base.to_string(), crs.id().to_string(), p, q));
        }
    }

    // Cross pairs.
    let mut rng = Rng::new(1);
    let wgs_to_4547 = Proj::new_known_crs("EPSG:4326", "EPSG:4547", None)?;
    for _ in 0..POINTS {
        let p = rng.point(112.5, 21.52, 115.5, 45.45);
        rows.push(("cross", "EPSG:4326".into(), "EPSG:4547".into(), p, wgs_to_4547.convert(p)?));
    }
    let wgs_to_3857 = Proj::new_known_crs("EPSG:4326", "EPSG:3857", None)?;
    for _ in 0..POINTS {
        let p = rng.point(73.62, 16.7, 134.77, 53.56);
        rows.push(("cross", "EPSG:4326".into(), "EPSG:3857".into(), p, wgs_to_3857.convert(p)?));
    }
    let to_4498 = Proj::new_known_crs("EPSG:4490", "EPSG:4498", None)?;
    let zone6_to_zone3 = Proj::new_known_crs("EPSG:4498", "EPSG:4547", None)?;
    for _ in 0..POINTS {
        let p = to_4498.convert(rng.point(114.0, 21.52, 115.5, 45.45))?;
        let q = zone6_to_zone3.convert(p)?;
        rows.push(("cross", "EPSG:4498".into(), "EPSG:4547".into(), p, q));
    }

    // User datum with a Helmert shift, both conventions.
    let user_zone = Proj::new(USER_ZONE)?;
    let [tx, ty, tz, rx, ry, rz, s] = HELMERT;
    for (case, convention) in [("user-cf", "coordinate_frame"), ("user-pv", "position_vector")] {
        let pipeline = Proj::new(&format!(
            "+proj=pipeline +step +inv {USER_ZONE} +step +proj=cart +ellps=krass \
             +step +proj=helmert +x={tx} +y={ty} +z={tz} +rx={rx} +ry={ry} +rz={rz} +s={s} \
             +convention={convention} +step +inv +proj=cart +ellps=GRS80 \
             +step +proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80"
        ))?;
        let mut rng = Rng::new(2);
        for _ in 0..POINTS {
            let (lon, lat) = rng.point(115.5, 22.6, 118.5, 49.88);
            let p = user_zone.project((lon.to_radians(), lat.to_radians()), false)?;
            let q = pipeline.convert(p)?;
            rows.push((
                case,
                format!("USER:BJ54-{}", case[5..].to_ascii_uppercase()),
                "EPSG:4548".into(),
                p,
                q,
            ));
        }
    }

    let version = Proj::new("EPSG:4326")?.lib_info()?.version;
    let mut out = String::new();
    writeln!(out, "# geounify test vectors, computed by PROJ {version}.")?;
    writeln!(out, "# Regenerate: cargo run --example gen_proj_vectors --features proj")?;
    writeln!(out, "# Axis order x = longitude/easting, y = latitude/northing; degrees, metres.")?;
    writeln!(out, "# USER:BJ54-CF / USER:BJ54-PV: {USER_ZONE} with the Helmert shift to CGCS2000")?;
    writeln!(
        out,
        "#   tx={tx} ty={ty} tz={tz} m rx={rx} ry={ry} rz={rz} arc-seconds s={s} ppm in the \
         coordinate_frame / position_vector convention"
    )?;
    writeln!(out, "case,source,target,x_in,y_in,x_out,y_out")?;
    for (case, source, target, p, q) in &rows {
        writeln!(out, "{case},{source},{target},{:?},{:?},{:?},{:?}", p.0, p.1, q.0, q.1)?;
    }
    std::fs::create_dir_all("tests/data")?;
    std::fs::write("tests/data/proj_vectors.csv", out)?;
    println!("wrote tests/data/proj_vectors.csv: {} rows (PROJ {version})", rows.len());
    Ok(())
}
