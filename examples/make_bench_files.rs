//! Writes the deterministic inputs of the command-line throughput comparisons (issue 5):
//! `geounify transform` against `cs2cs`, and `geounify convert` against `ogr2ogr`, all for
//! EPSG:4490 → EPSG:4547 (CGCS2000 geographic → 3° Gauss-Krüger zone CM 114E).
//!
//! Run: `cargo run --release --example make_bench_files -- [folder] [n]` (folder defaults to
//! `target/bench-files`, n to 1 000 000). It writes, for the same `n` points:
//! - `points.txt`: `lon lat` lines (space-separated, 9 decimals), the input of
//!   `geounify transform --from EPSG:4490 --to EPSG:4547` and `cs2cs EPSG:4490 EPSG:4547`
//!   (cs2cs reads EPSG:4490 as lat/lon: give it `cs2cs -r` or the same file with its columns
//!   swapped, `points_latlon.txt`, also written);
//! - `points.csv`: `id,name,lon,lat` rows, the input of `geounify convert` and of
//!   `ogr2ogr -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat`;
//! - `lines.geojson`: a FeatureCollection of LineStrings of 10 vertices each (n vertices), with
//!   an `id` and a `name` property.
//!
//! The points are the ones of `benches/convert.rs` (same xorshift generator and seed): longitude
//! 112.5–115.5°E, latitude 22–42°N. No dependency and no crate feature: the files are the same on
//! every machine.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Vertices per GeoJSON LineString.
const LINE_VERTICES: usize = 10;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/bench-files".into()));
    let n: usize = match args.next() {
        Some(s) => s.parse().map_err(|e| std::io::Error::other(format!("n '{s}': {e}")))?,
        None => 1_000_000,
    };
    std::fs::create_dir_all(&dir)?;

    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let points: Vec<[f64; 2]> =
        (0..n).map(|_| [112.5 + 3.0 * next(), 22.0 + 20.0 * next()]).collect();

    let mut txt = BufWriter::new(File::create(dir.join("points.txt"))?);
    let mut latlon = BufWriter::new(File::create(dir.join("points_latlon.txt"))?);
    let mut csv = BufWriter::new(File::create(dir.join("points.csv"))?);
    csv.write_all(b"id,name,lon,lat\n")?;
    for (i, [lon, lat]) in points.iter().enumerate() {
        writeln!(txt, "{lon:.9} {lat:.9}")?;
        writeln!(latlon, "{lat:.9} {lon:.9}")?;
        writeln!(csv, "{i},point {i},{lon:.9},{lat:.9}")?;
    }
    txt.flush()?;
    latlon.flush()?;
    csv.flush()?;

    let mut json = BufWriter::new(File::create(dir.join("lines.geojson"))?);
    json.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (k, line) in points.chunks(LINE_VERTICES).enumerate() {
        if k > 0 {
            json.write_all(b",\n")?;
        }
        write!(
            json,
            "{{\"type\":\"Feature\",\"properties\":{{\"id\":{k},\"name\":\"road {k}\"}},\
             \"geometry\":{{\"type\":\"LineString\",\"coordinates\":["
        )?;
        for (j, [lon, lat]) in line.iter().enumerate() {
            let sep = if j > 0 { "," } else { "" };
            write!(json, "{sep}[{lon:.9},{lat:.9}]")?;
        }
        json.write_all(b"]}}")?;
    }
    json.write_all(b"\n]}\n")?;
    json.flush()?;
    println!("{n} points in {}", dir.display());
    Ok(())
}
