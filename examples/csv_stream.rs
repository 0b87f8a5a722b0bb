//! A service converts a CSV stream of CGCS2000 longitude/latitude (EPSG:4490) into the city's
//! own Beijing 1954 grid, declared in the CRS file `data/crs/city.toml` (`city:bj54-gk117`,
//! with the city's 7 parameters to CGCS2000).
//!
//! Run: `cargo run --example csv_stream --features formats` (a built-in sample), or
//! `cargo run --example csv_stream --features formats -- - < points.csv > grid.csv` (stdin).
//!
//! The CSV is streamed in bounded chunks (any size of input); only the coordinate cells change.
//! Columns are found by header name (`lon`/`lat`, `经度`/`纬度`, `x`/`y`, ...).

use geounify::convert::{csv, ConvertOptions, ConvertReport};
use geounify::{Registry, Transformer};
use std::error::Error;
use std::io::{self, BufRead, Write};

/// The CRS file. A service reads its path from configuration; the example uses the crate's.
const CRS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml");

/// Used without the `-` argument: points with other columns, one with no geometry.
const SAMPLE: &str = "id,名称,lon,lat\n\
                      1,\"Gate, east\",116.29,39.59\n\
                      2,pump,116.03,39.95\n\
                      3,no position yet,,\n";

/// Loads the city's systems and builds the transformer: once, at start-up.
fn city_transformer() -> Result<Transformer, Box<dyn Error>> {
    let mut registry = Registry::new(); // the built-in catalogue ...
    registry.load_file(CRS_FILE)?; // ... plus the city's; errors name file, line and field
    Ok(registry.transformer("EPSG:4490", "city:bj54-gk117")?)
}

/// Converts a CSV stream. On an error the output holds part of the result: a service should
/// write to a buffer or temporary file and discard it (`convert_file` does that for files).
fn convert(
    t: &Transformer,
    input: impl BufRead,
    output: impl Write,
) -> Result<ConvertReport, Box<dyn Error>> {
    let options = ConvertOptions::default(); // columns detected, parallel, a bad row fails all
    Ok(csv::convert_reader(input, output, b',', t, &options)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let t = city_transformer()?;
    let stdout = io::stdout().lock();
    let report = match std::env::args().nth(1).as_deref() {
        Some("-") => convert(&t, io::stdin().lock(), stdout)?,
        _ => convert(&t, SAMPLE.as_bytes(), stdout)?,
    };
    eprintln!(
        "{} row(s): {} converted, {} without geometry",
        report.features, report.vertices, report.empty
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_sample_against_proj() {
        let t = city_transformer().unwrap();
        let mut out = Vec::new();
        let report = convert(&t, SAMPLE.as_bytes(), &mut out).unwrap();
        assert_eq!((report.features, report.vertices, report.empty), (3, 2, 1));
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id,名称,lon,lat");
        assert!(lines[1].starts_with("1,\"Gate, east\","));
        assert_eq!(lines[3], "3,no position yet,,");
        // PROJ 9.6.2 through a pipeline written from city.toml's parameters
        // (tests/data/crs_file_vectors.csv: EPSG:4490 → city:bj54-gk117). Tolerance 1 µm, as in
        // tests/crs_file_vectors.rs: both sides are exact to nanometres.
        let expected = [
            (439_086.526_310_121_9, 4_384_372.537_347_963),
            (417_183.506_557_178_2, 4_424_554.595_363_622_5),
        ];
        for (line, (e, n)) in lines[1..3].iter().zip(expected) {
            let cells: Vec<f64> = line.rsplit(',').take(2).map(|c| c.parse().unwrap()).collect();
            assert!((cells[1] - e).abs() < 1e-6 && (cells[0] - n).abs() < 1e-6, "{line}");
        }
    }

    #[test]
    fn a_bad_row_is_an_error_naming_its_line() {
        let t = city_transformer().unwrap();
        let err = convert(&t, "lon,lat\n116.3,39.6\nabc,39.6\n".as_bytes(), io::sink());
        assert!(err.unwrap_err().to_string().contains("line 3"));
    }
}
