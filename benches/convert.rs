//! File-conversion benchmarks: `convert::convert_file` throughput on a 1,000,000-row CSV and a
//! 1,000,000-vertex GeoJSON (100,000 LineStrings of 10 vertices), for CGCS2000 geographic →
//! CGCS2000 3° Gauss-Krüger CM 114E (EPSG:4490 → EPSG:4547) and for the old city grid of
//! `data/crs/city.toml` → CGCS2000 3° zone CM 117E (`city:old-grid` → EPSG:4548: planar
//! Helmert, Gauss-Krüger inverse on Krassovsky, 7-parameter Helmert, Gauss-Krüger forward), on
//! all cores (rayon) and on one thread.
//!
//! `cargo bench --bench convert --features formats` generates the four input files once in a
//! temporary folder (removed at the end), runs criterion on each case (10 samples), then runs each
//! case once more in a child process (this binary re-executed in "child mode") that reports its
//! wall time and its peak resident set (`VmHWM` of `/proc/self/status`, Linux), and prints a
//! table. `idle` is a child that only loads the CRS file: the resident set of the program
//! itself, to subtract.
//!
//! `GEOUNIFY_BENCH_VERTICES` changes the size (default 1,000,000). In test mode
//! (`cargo test --benches`, no `--bench` argument) the size is 10,000 and every case runs once.

use criterion::{BenchmarkId, Criterion, Throughput};
use geounify::convert::{self, ConvertOptions, NoProgress};
use geounify::{Crs, Registry};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Set (to a case name) in a child process; its value is the case to run.
const CHILD_ENV: &str = "GEOUNIFY_BENCH_CONVERT_CHILD";
/// The data folder, passed to child processes.
const DIR_ENV: &str = "GEOUNIFY_BENCH_CONVERT_DIR";
/// Vertices per GeoJSON LineString.
const LINE_VERTICES: usize = 10;

/// The two conversions.
#[derive(Clone, Copy)]
enum System {
    /// EPSG:4490 → EPSG:4547.
    Cgcs,
    /// city:old-grid → EPSG:4548.
    City,
}

impl System {
    fn ids(self) -> (&'static str, &'static str) {
        match self {
            System::Cgcs => ("EPSG:4490", "EPSG:4547"),
            System::City => ("city:old-grid", "EPSG:4548"),
        }
    }
    fn label(self) -> &'static str {
        match self {
            System::Cgcs => "4490_to_4547",
            System::City => "city_grid_to_4548",
        }
    }
}

/// One measured conversion.
#[derive(Clone, Copy)]
struct Case {
    system: System,
    /// `"csv"` or `"geojson"`: the input's extension.
    ext: &'static str,
    parallel: bool,
}

impl Case {
    fn all() -> Vec<Case> {
        let mut cases = Vec::new();
        for ext in ["csv", "geojson"] {
            for system in [System::Cgcs, System::City] {
                for parallel in [true, false] {
                    cases.push(Case { system, ext, parallel });
                }
            }
        }
        cases
    }
    fn name(self) -> String {
        let threads = if self.parallel { "parallel" } else { "1_thread" };
        format!("{}/{}/{threads}", self.ext, self.system.label())
    }
    fn input(self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.{}", self.system.label(), self.ext))
    }
    fn output(self, dir: &Path) -> PathBuf {
        dir.join(format!("out-{}.{}", self.name().replace('/', "-"), self.ext))
    }
}

/// The benchmark's CRSs: the catalogue plus `data/crs/city.toml`.
fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .load_file(concat!(env!("CARGO_MANIFEST_DIR"), "/data/crs/city.toml"))
        .expect("data/crs/city.toml loads");
    registry
}

fn crss(registry: &Registry, system: System) -> (Crs, Crs) {
    let (from, to) = system.ids();
    (registry.lookup(from).expect("source CRS"), registry.lookup(to).expect("target CRS"))
}

/// Runs one conversion; the number of vertices converted.
fn run(registry: &Registry, case: Case, dir: &Path) -> u64 {
    let (source, target) = crss(registry, case.system);
    let options = ConvertOptions { parallel: case.parallel, ..ConvertOptions::default() };
    let report = convert::convert_file(
        &case.input(dir),
        &case.output(dir),
        &source,
        &target,
        &options,
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", case.name()));
    report.vertices
}

/// `n` deterministic pseudo-random points (x, y) in the source system of `system`: CGCS2000
/// degrees in 112.5–115.5°E, 22–42°N (EPSG:4547's zone), or old-grid metres of CGCS2000 points in
/// the city area 115.9–117.2°E, 39.5–40.4°N.
fn points(registry: &Registry, system: System, n: usize) -> Vec<[f64; 2]> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    match system {
        System::Cgcs => (0..n).map(|_| [112.5 + 3.0 * next(), 22.0 + 20.0 * next()]).collect(),
        System::City => {
            let mut pts: Vec<[f64; 2]> =
                (0..n).map(|_| [115.9 + 1.3 * next(), 39.5 + 0.9 * next()]).collect();
            let to_grid = registry.transformer("EPSG:4490", "city:old-grid").expect("transformer");
            assert!(to_grid.par_transform_slice(&mut pts).is_complete());
            pts
        }
    }
}

/// Writes `<label>.csv` (id, name, x, y per row) and `<label>.geojson` (LineStrings of
/// [`LINE_VERTICES`] vertices with an id and a name) holding the same `n` points.
fn generate(registry: &Registry, system: System, n: usize, dir: &Path) -> std::io::Result<()> {
    let pts = points(registry, system, n);
    // Degrees to 1e-9° (0.1 mm), metres to 0.1 mm: what survey and GIS files carry.
    let fmt = |out: &mut String, p: &[f64; 2]| match system {
        System::Cgcs => write!(out, "{:.9},{:.9}", p[0], p[1]),
        System::City => write!(out, "{:.4},{:.4}", p[0], p[1]),
    };
    let mut line = String::new();
    let mut csv = BufWriter::new(File::create(dir.join(format!("{}.csv", system.label())))?);
    csv.write_all(b"id,name,x,y\n")?;
    for (i, p) in pts.iter().enumerate() {
        line.clear();
        let _ = write!(line, "{i},point {i},");
        let _ = fmt(&mut line, p);
        line.push('\n');
        csv.write_all(line.as_bytes())?;
    }
    csv.flush()?;
    let path = dir.join(format!("{}.geojson", system.label()));
    let mut json = BufWriter::new(File::create(path)?);
    json.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (k, chunk) in pts.chunks(LINE_VERTICES).enumerate() {
        line.clear();
        if k > 0 {
            line.push_str(",\n");
        }
        let _ = write!(line, "{{\"type\":\"Feature\",\"properties\":{{\"id\":{k},\"name\":\"road {k}\"}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[");
        for (j, p) in chunk.iter().enumerate() {
            line.push_str(if j > 0 { ",[" } else { "[" });
            let _ = fmt(&mut line, p);
            line.push(']');
        }
        line.push_str("]}}");
        json.write_all(line.as_bytes())?;
    }
    json.write_all(b"\n]}\n")?;
    json.flush()
}

/// The peak resident set of this process, kB (`VmHWM`), on Linux.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Child mode: run `case` (or nothing, for `idle`) once and print `seconds vertices peak_kB`.
fn child(case_name: &str) {
    let dir = PathBuf::from(std::env::var_os(DIR_ENV).expect("data folder"));
    let registry = registry();
    let start = Instant::now();
    let vertices = match Case::all().into_iter().find(|c| c.name() == case_name) {
        Some(case) => run(&registry, case, &dir),
        None => 0,
    };
    let secs = start.elapsed().as_secs_f64();
    println!("{secs} {vertices} {}", peak_rss_kb().map_or("-".into(), |kb| kb.to_string()));
}

/// Runs `case_name` in a child process: (seconds, vertices, peak resident set in kB).
fn measure_in_child(case_name: &str, dir: &Path) -> (f64, u64, Option<u64>) {
    let exe = std::env::current_exe().expect("own path");
    let out =
        Command::new(exe).env(CHILD_ENV, case_name).env(DIR_ENV, dir).output().expect("child runs");
    assert!(out.status.success(), "{case_name}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    (fields[0].parse().expect("seconds"), fields[1].parse().expect("count"), fields[2].parse().ok())
}

/// The data folder, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() {
    if let Ok(case_name) = std::env::var(CHILD_ENV) {
        return child(&case_name);
    }
    let bench_mode =
        std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--test");
    let n: usize = match std::env::var("GEOUNIFY_BENCH_VERTICES") {
        Ok(v) => v.parse().expect("GEOUNIFY_BENCH_VERTICES is a count"),
        Err(_) if bench_mode => 1_000_000,
        Err(_) => 10_000,
    };
    let scratch = Scratch(
        std::env::temp_dir().join(format!("geounify-bench-convert-{}", std::process::id())),
    );
    let dir = scratch.0.as_path();
    std::fs::create_dir_all(dir).expect("data folder");
    let registry = registry();
    let start = Instant::now();
    for system in [System::Cgcs, System::City] {
        generate(&registry, system, n, dir).expect("inputs written");
    }
    eprintln!(
        "generated {n}-vertex CSV and GeoJSON inputs in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for ext in ["csv", "geojson"] {
        let mut group = c.benchmark_group(format!("convert_file_{ext}"));
        group.throughput(Throughput::Elements(n as u64));
        for case in Case::all().into_iter().filter(|c| c.ext == ext) {
            let threads = if case.parallel { "parallel" } else { "1_thread" };
            let id = BenchmarkId::new(case.system.label(), threads);
            group.bench_function(id, |b| b.iter(|| run(&registry, case, dir)));
        }
        group.finish();
    }
    c.final_summary();

    // One more run of each case in a child process, for its peak resident set.
    println!("\n{n} vertices per file; one run per case in a child process");
    println!("| case | input MB | s | Mvertices/s | MB/s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|");
    for name in std::iter::once("idle".to_string()).chain(Case::all().into_iter().map(Case::name)) {
        let (secs, vertices, kb) = measure_in_child(&name, dir);
        let rss = kb.map_or("n/a".to_string(), |kb| format!("{:.1}", kb as f64 / 1024.0));
        let Some(case) = Case::all().into_iter().find(|c| c.name() == name) else {
            println!("| {name} (program only) | - | - | - | - | {rss} |");
            continue;
        };
        assert_eq!(vertices, n as u64, "{name}");
        let mb = std::fs::metadata(case.input(dir)).map_or(f64::NAN, |m| m.len() as f64 / 1e6);
        println!(
            "| {name} | {mb:.1} | {secs:.3} | {:.2} | {:.1} | {rss} |",
            vertices as f64 / secs / 1e6,
            mb / secs
        );
    }
}
