//! Writes `tests/data/crs_file_vectors.csv`: conversions between the CRSs of the example CRS
//! file `data/crs/city.toml` (and EPSG:4326, EPSG:4548, EPSG:4490), computed by PROJ through
//! pipelines written by hand from the file's parameters, which `tests/crs_file_vectors.rs`
//! checks geounify against without needing PROJ.
//!
//! Run from the crate root: `cargo run --example gen_crs_file_vectors --features proj`
//!
//! For every pair of `tests/common/proj_pipeline.rs` (every file CRS ↔ the three catalogue
//! CRSs, and five file ↔ file pairs across datums), in both directions: a 5 × 5 grid of
//! longitude, latitude over the city area (115.9–117.2°E, 39.5–40.4°N) on the source datum,
//! placed in the source CRS by PROJ, then converted by the pipeline (2D: height 0 on the
//! source datum). The pipeline inverts a target datum's Helmert exactly (a 3D `+proj=affine`
//! applied `+inv`), as geounify does, not with PROJ's transposed `+inv +proj=helmert`.
//!
//! Numbers are written with `{:?}`, which round-trips every `f64` exactly; the output is
//! deterministic.

use std::fmt::Write as _;

use geounify::Registry;
use proj::Proj;

#[path = "../tests/common/proj_pipeline.rs"]
mod proj_pipeline;

use proj_pipeline::HelmertInverse;

/// Grid size per direction: 5 × 5 points.
const GRID: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = Registry::new();
    registry.load_file(proj_pipeline::city_file())?;

    let version = Proj::new("EPSG:4326")?.lib_info()?.version;
    let mut out = String::new();
    writeln!(out, "# geounify CRS-file test vectors, computed by PROJ {version}.")?;
    writeln!(out, "# Regenerate: cargo run --example gen_crs_file_vectors --features proj")?;
    writeln!(out, "# CRSs: data/crs/city.toml (city:*) and the EPSG catalogue.")?;
    writeln!(
        out,
        "# Inputs: a {GRID}x{GRID} grid over 115.9-117.2E 39.5-40.4N on the source datum, placed \
         in the source CRS by PROJ."
    )?;
    writeln!(
        out,
        "# Outputs: PROJ pipelines written from the file's parameters (tmerc, cart, helmert, \
         affine, horner, axisswap, unitconvert); 2D, height 0 on the source datum; a target datum's \
         Helmert inverted exactly (+inv of the same map as a 3D affine)."
    )?;
    writeln!(out, "# Axis order x = longitude/easting, y = latitude/northing; degrees, metres.")?;
    writeln!(out, "source,target,x_in,y_in,x_out,y_out")?;

    let mut rows = 0;
    for (s, t) in proj_pipeline::all_pairs() {
        let (source, target) = (registry.lookup(s)?, registry.lookup(t)?);
        let place = Proj::new(&proj_pipeline::from_geographic(&source))?;
        let pipeline =
            Proj::new(&proj_pipeline::pipeline(&source, &target, HelmertInverse::Exact))?;
        for g in proj_pipeline::city_grid(GRID, GRID) {
            let p = place.convert(g)?;
            let q = pipeline.convert(p)?;
            writeln!(out, "{s},{t},{:?},{:?},{:?},{:?}", p.0, p.1, q.0, q.1)?;
            rows += 1;
        }
    }
    std::fs::create_dir_all("tests/data")?;
    std::fs::write("tests/data/crs_file_vectors.csv", out)?;
    println!("wrote tests/data/crs_file_vectors.csv: {rows} rows (PROJ {version})");
    Ok(())
}
