//! Every comparison of the speed targets (issue 5) in one run, side by side on the same points,
//! ending with a table of ratios: work, geounify, baseline, ratio, target, met or not.
//!
//! `cargo bench --features proj` (or `--bench compare` for this one alone) runs:
//! 1. criterion groups `compare_*` (10,000 points per iteration, 1,000,000 for the parallel
//!    group), geounify always through its batch pipeline (`transform_slice`): Gauss-Krüger
//!    forward and inverse (EPSG:4490 ↔ EPSG:4547) against PROJ `tmerc` alone; the transformers
//!    EPSG:4490 → EPSG:4547 and a city Beijing 1954 grid → EPSG:4548 (7-parameter Helmert)
//!    against PROJ; GCJ-02 forward against the `coordtransform`, `coordtransform-rs` and `gcoord`
//!    crates, and our exact inverse against our forward; the rayon batch against one thread;
//! 2. whole processes on generated files (a few runs each, the fastest kept, the peak resident
//!    set of the child from `wait4`, through a small launcher process): `geounify transform`
//!    against `cs2cs EPSG:4490 EPSG:4547` on 1,000,000 lines; `geounify convert` against
//!    `ogr2ogr` into the input's format for every case of [`CONVERT_CASES`] this build converts:
//!    a 1,000,000-row CSV, a 1,000,000-vertex GeoJSON (10,000 LineStrings of 100 vertices), the
//!    same lines written by GDAL as GeoPackage, Shapefile, MapInfo MIF/MID, DXF, FlatGeobuf, KML
//!    and GPX,
//!    and the points as a CASS `.dat` file; EPSG:4490 → EPSG:4547 (KML and GPX: EPSG:4326 →
//!    EPSG:4490, longitude/latitude only). A baseline program that is not installed is skipped
//!    with a message.
//!
//! The table reads criterion's mean estimates (`<criterion dir>/<group>/<function>/<value>/new/
//! estimates.json`, only those written by this run) and is also written to
//! `<criterion dir>/ratios.md` (the criterion dir is `target/criterion` unless `CRITERION_HOME`
//! or `CARGO_TARGET_DIR` says otherwise), ready to paste into BENCHMARKS.md.
//!
//! `GEOUNIFY_BENCH_POINTS` changes the size of the process comparisons (default 1,000,000);
//! `GEOUNIFY_BENCH_RUNS` their number of runs (default 3). In test mode (`cargo test --benches`:
//! no `--bench` argument) criterion runs each function once and the processes run once on
//! 1,000 points, as a smoke test; no table is printed.

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use geounify::ops::HelmertConvention;
use geounify::{catalogue, Crs, Datum, DatumShift, Transformer};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::File;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

mod common;
#[path = "common/files.rs"]
mod files;
#[path = "../tests/common/mod.rs"]
mod fixtures;
use common::{points_deg, BATCH};

/// Points per iteration of the parallel group.
const PARALLEL_POINTS: usize = 1_000_000;

/// The Gauss-Krüger zone of every single-thread comparison: CGCS2000 3° zone CM 114E.
const TMERC_114: &str = "+proj=tmerc +lat_0=0 +lon_0=114 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80";

/// The city grid → EPSG:4548 conversion as one PROJ pipeline (the same steps as geounify's).
const CITY_PIPELINE: &str = "+proj=pipeline \
    +step +inv +proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=krass \
    +step +proj=cart +ellps=krass \
    +step +proj=helmert +x=-12.7 +y=131.2 +z=47.6 +rx=0.41 +ry=-0.16 +rz=1.05 +s=-2.7 \
    +convention=coordinate_frame \
    +step +inv +proj=cart +ellps=GRS80 \
    +step +proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80";

// ---------------------------------------------------------------------------------------------
// Criterion groups
// ---------------------------------------------------------------------------------------------

/// Benchmarks `f` on a fresh copy of `input` per iteration.
fn bench_on<T: Clone>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    input: &[T],
    mut f: impl FnMut(&mut Vec<T>),
) {
    group.bench_function(id, |b| {
        b.iter_batched_ref(|| input.to_vec(), |p| f(black_box(p)), BatchSize::LargeInput)
    });
}

/// Gauss-Krüger as a batch: geounify's batch pipeline (`transform_slice`) on the transformers
/// EPSG:4490 → EPSG:4547 and back (the projection plus degree ↔ radian scaling), against PROJ's
/// `tmerc` operator alone on the same points in radians (`project_array`).
fn gauss_kruger(c: &mut Criterion) {
    let forward = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let inverse = forward.inverse();
    let geographic = points_deg(BATCH, 114.0, 20.0);
    let mut projected = geographic.clone();
    forward.transform_slice(&mut projected);
    let proj = proj::Proj::new(TMERC_114).unwrap();
    let mut group = c.benchmark_group("compare_gauss_kruger");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (direction, input, t, radians) in
        [("forward", &geographic, &forward, true), ("inverse", &projected, &inverse, false)]
    {
        bench_on(&mut group, BenchmarkId::new("geounify", direction), input, |p| {
            t.transform_slice(p);
        });
        let tuples: Vec<(f64, f64)> = input
            .iter()
            .map(|p| if radians { (p[0].to_radians(), p[1].to_radians()) } else { (p[0], p[1]) })
            .collect();
        bench_on(&mut group, BenchmarkId::new("proj", direction), &tuples, |p| {
            // No error is expected on these points; one must not abort the benchmark.
            let _ = proj.project_array(p, !radians);
        });
    }
    group.finish();
}

/// A city Beijing 1954 grid (GK CM 117E on Krassovsky) with a 7-parameter coordinate-frame
/// Helmert to CGCS2000 (the parameters of `CITY_PIPELINE`).
fn city_grid() -> Crs {
    let params = fixtures::city_helmert(HelmertConvention::CoordinateFrame);
    let base = catalogue::lookup("EPSG:2436").unwrap();
    let datum = Datum::beijing1954().with_shift("bj54-city", DatumShift::Helmert(params));
    Crs::new("city:grid", "city grid", datum, base.kind().clone(), None, None).unwrap()
}

/// A whole transformer against PROJ's conversion of the same points (`convert_array`).
fn transformer_group(
    c: &mut Criterion,
    name: &str,
    t: &Transformer,
    proj: proj::Proj,
    pts: &[[f64; 2]],
) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(pts.len() as u64));
    bench_on(&mut group, BenchmarkId::new("geounify", "slice"), pts, |p| {
        t.transform_slice(p);
    });
    let tuples: Vec<(f64, f64)> = pts.iter().map(|q| (q[0], q[1])).collect();
    bench_on(&mut group, BenchmarkId::new("proj", "slice"), &tuples, |p| {
        let _ = proj.convert_array(p);
    });
    group.finish();
}

fn transformers(c: &mut Criterion) {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    // PROJ's own EPSG:4490 → EPSG:4547, in the traditional GIS order (lon, lat → E, N) that
    // geounify uses
    // (`new_known_crs` normalises the axis order for visualisation).
    let p = proj::Proj::new_known_crs("EPSG:4490", "EPSG:4547", None).unwrap();
    transformer_group(c, "compare_epsg4490_to_epsg4547", &t, p, &points_deg(BATCH, 114.0, 20.0));

    let t = Transformer::new(&city_grid(), &catalogue::lookup("EPSG:4548").unwrap()).unwrap();
    // Grid coordinates: geographic points projected with the grid's own projection.
    let mut grid = points_deg(BATCH, 117.0, 30.0);
    Transformer::from_ids("EPSG:4214", "EPSG:2436").unwrap().transform_slice(&mut grid);
    let p = proj::Proj::new(CITY_PIPELINE).unwrap();
    transformer_group(c, "compare_city_grid_to_epsg4548", &t, p, &grid);
}

/// GCJ-02 as a batch (`transform_slice` on the transformers WGS84 → GCJ-02 and back, degrees in
/// and out) against the other crates' per-point functions on the same points.
fn gcj02(c: &mut Criterion) {
    let forward = Transformer::from_ids("EPSG:4326", "GCJ02").unwrap();
    let inverse = forward.inverse();
    let wgs = points_deg(BATCH, 114.0, 20.0);
    let mut gcj = wgs.clone();
    forward.transform_slice(&mut gcj);
    let degrees: Vec<(f64, f64)> = wgs.iter().map(|p| (p[0], p[1])).collect();
    let mut group = c.benchmark_group("compare_gcj02");
    group.throughput(Throughput::Elements(BATCH as u64));
    bench_on(&mut group, BenchmarkId::new("geounify", "forward"), &wgs, |p| {
        forward.transform_slice(p);
    });
    bench_on(&mut group, BenchmarkId::new("geounify", "inverse"), &gcj, |p| {
        inverse.transform_slice(p);
    });
    // The other crates, in degrees; their region tests are as cheap as ours (a box).
    bench_on(&mut group, BenchmarkId::new("coordtransform", "forward"), &degrees, |p| {
        for q in p.iter_mut() {
            *q = coordtransform::wgs84_to_gcj02_in_mainland(q.0, q.1);
        }
    });
    bench_on(&mut group, BenchmarkId::new("coordtransform_rs", "forward"), &degrees, |p| {
        for q in p.iter_mut() {
            *q = coordtransform_rs::wgs84_to_gcj02(q.0, q.1);
        }
    });
    bench_on(&mut group, BenchmarkId::new("gcoord", "forward"), &degrees, |p| {
        use gcoord::{CoordSystem, Coordinate};
        for q in p.iter_mut() {
            let r = gcoord::transform(
                Coordinate::new(q.0, q.1),
                CoordSystem::WGS84,
                CoordSystem::GCJ02,
            );
            *q = r.map_or((f64::NAN, f64::NAN), |r| (r.lng, r.lat));
        }
    });
    group.finish();
}

fn parallel(c: &mut Criterion) {
    let t = Transformer::from_ids("EPSG:4490", "EPSG:4547").unwrap();
    let pts = points_deg(PARALLEL_POINTS, 114.0, 20.0);
    let mut group = c.benchmark_group("compare_parallel");
    group.throughput(Throughput::Elements(PARALLEL_POINTS as u64));
    group.sample_size(10);
    bench_on(&mut group, BenchmarkId::new("one_thread", "1m"), &pts, |p| {
        t.transform_slice(p);
    });
    bench_on(&mut group, BenchmarkId::new("rayon", "1m"), &pts, |p| {
        t.par_transform_slice(p);
    });
    group.finish();
}

/// Criterion's output folder, the one criterion itself would choose (set explicitly so that
/// the table reads the same place).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // target/<profile>/deps/compare-<hash>
    let exe = std::env::current_exe().expect("own path");
    match exe.ancestors().nth(3) {
        Some(target) => target.join("criterion"),
        None => PathBuf::from("target/criterion"),
    }
}

/// The mean time per iteration (ns) of `<group>/<function>/<value>`, if this run measured it
/// (written at or after `since`).
fn mean_ns(dir: &Path, group: &str, function: &str, value: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(function).join(value).join("new").join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

// ---------------------------------------------------------------------------------------------
// Whole processes
// ---------------------------------------------------------------------------------------------

/// One finished child process.
#[derive(Clone, Copy)]
struct Run {
    secs: f64,
    /// Peak resident set, kB (Linux `ru_maxrss`).
    peak_kb: Option<u64>,
}

/// `program` on its PATH (or as given, if a path).
fn find_program(name: &str) -> Option<PathBuf> {
    let direct = Path::new(name);
    if direct.components().count() > 1 {
        return direct.is_file().then(|| direct.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Set in a launcher process: the file to write `ok seconds peak_kB` into.
const LAUNCH_ENV: &str = "GEOUNIFY_COMPARE_LAUNCH";

/// Waits for `child`: (exit success, peak resident set in kB).
#[cfg(target_os = "linux")]
fn wait_child(child: std::process::Child) -> std::io::Result<(bool, Option<u64>)> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (`Child` waits only when asked to);
    // `status` and `usage` are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok((ok, u64::try_from(usage.ru_maxrss).ok()))
}

/// Waits for `child`: (exit success, no peak resident set on this system).
#[cfg(not(target_os = "linux"))]
fn wait_child(mut child: std::process::Child) -> std::io::Result<(bool, Option<u64>)> {
    Ok((child.wait()?.success(), None))
}

/// Launcher mode: runs the command of our arguments with our stdin/stdout/stderr, and writes
/// `ok seconds peak_kB` into `report`. Linux counts the memory of the process a child was
/// spawned from in the child's `ru_maxrss` (it is kept across `exec`), so the benchmark (large:
/// criterion, its inputs) spawns this small fresh process, which spawns the measured program.
fn launcher(report: &Path) {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let start = Instant::now();
    let child = Command::new(&args[0]).args(&args[1..]).env_remove(LAUNCH_ENV).spawn();
    let (ok, kb) = match child.and_then(wait_child) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {e}", args[0].to_string_lossy());
            (false, None)
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let kb = kb.map_or("-".to_string(), |kb| kb.to_string());
    std::fs::write(report, format!("{ok} {secs} {kb}")).expect("launcher report");
}

/// Runs `program args` with stdin from `stdin` (or nothing) and stdout into `stdout`, `runs`
/// times; the fastest run's time and the largest peak resident set. Removes `stdout` (and
/// `remove`) before each run, as some programs refuse to overwrite.
fn time_process(
    program: &Path,
    args: &[&str],
    stdin: Option<&Path>,
    stdout: &Path,
    remove: Option<&Path>,
    runs: usize,
) -> Result<Run, String> {
    let mut best: Option<Run> = None;
    for _ in 0..runs {
        let _ = std::fs::remove_file(stdout);
        if let Some(r) = remove {
            let _ = std::fs::remove_file(r);
        }
        let err_path = stdout.with_extension("stderr");
        let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
        cmd.arg(program)
            .args(args)
            .stdout(File::create(stdout).map_err(|e| e.to_string())?)
            .stderr(File::create(&err_path).map_err(|e| e.to_string())?);
        match stdin {
            Some(p) => cmd.stdin(File::open(p).map_err(|e| e.to_string())?),
            None => cmd.stdin(Stdio::null()),
        };
        let report = stdout.with_extension("run");
        let _ = std::fs::remove_file(&report);
        let launched = cmd.env(LAUNCH_ENV, &report).status().map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        let fields: Vec<&str> = text.split_whitespace().collect();
        let ok = launched.success() && fields.first() == Some(&"true");
        let secs: f64 = fields.get(1).and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
        let peak_kb: Option<u64> = fields.get(2).and_then(|s| s.parse().ok());
        if !ok {
            let err = std::fs::read_to_string(&err_path).unwrap_or_default();
            let tail: String = err.lines().take(5).collect::<Vec<_>>().join(" | ");
            return Err(format!("{} {} failed: {tail}", program.display(), args.join(" ")));
        }
        let peak_kb = match (best.and_then(|b| b.peak_kb), peak_kb) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let secs = best.map_or(secs, |b| b.secs.min(secs));
        best = Some(Run { secs, peak_kb });
    }
    best.ok_or_else(|| "no run".to_string())
}

/// The first line of `path` as numbers.
fn first_numbers(path: &Path, separators: &[char]) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let line = text.lines().find(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()));
    line.unwrap_or("").split(separators).filter_map(|t| t.trim().parse().ok()).collect()
}

/// The process comparisons: `transform` against cs2cs, and one row per `convert` case against
/// ogr2ogr (its label, its target ratio, the runs; `None` if ogr2ogr is not installed).
struct Processes {
    transform: Option<Compared>,
    converts: Vec<(String, f64, Option<Compared>)>,
}

/// geounify's run and the baseline's (or why the baseline did not run).
type Compared = (Run, Result<Run, String>);

/// How a `convert` comparison's input is made.
enum Input {
    /// The generated CSV of points (`id,name,lon,lat`).
    Csv,
    /// The generated GeoJSON of LineStrings.
    GeoJson,
    /// The CSV's points as CASS lines `id,,lon,lat` (ogr2ogr reads a `.csv` copy headerless).
    Cass,
    /// Written by ogr2ogr from the GeoJSON with these arguments (not timed).
    Ogr(&'static [&'static str]),
    /// Written by ogr2ogr from the CSV of points with these arguments (not timed).
    OgrPoints(&'static [&'static str]),
}

/// One `geounify convert` comparison with `ogr2ogr`: the same file converted into the same
/// format by both.
struct ConvertCase {
    /// What the row says, after the size (e.g. `-vertex GeoPackage`).
    work: &'static str,
    ext: &'static str,
    input: Input,
    /// ogr2ogr's options for reading and writing it (after `-s_srs`/`-t_srs`).
    ogr: &'static [&'static str],
    /// The pair (GPX and KML hold longitude/latitude only).
    from: &'static str,
    to: &'static str,
    /// The target: at least this many times faster.
    goal: f64,
}

/// The `convert` comparisons of issues 5 and 13 (≥ 10× for CSV, GeoJSON and GeoPackage, ≥ 5× for
/// the other formats). A case whose format this build does not convert is left out.
const CONVERT_CASES: &[ConvertCase] = &[
    ConvertCase {
        work: "-row CSV",
        ext: "csv",
        input: Input::Csv,
        ogr: &[
            "-f",
            "CSV",
            "-oo",
            "X_POSSIBLE_NAMES=lon",
            "-oo",
            "Y_POSSIBLE_NAMES=lat",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
            "-lco",
            "GEOMETRY=AS_XY",
        ],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 10.0,
    },
    ConvertCase {
        work: "-vertex GeoJSON",
        ext: "geojson",
        input: Input::GeoJson,
        ogr: &["-f", "GeoJSON"],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 10.0,
    },
    ConvertCase {
        work: "-vertex GeoPackage (written by GDAL)",
        ext: "gpkg",
        input: Input::Ogr(&["-f", "GPKG", "-a_srs", "EPSG:4490"]),
        ogr: &["-f", "GPKG"],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 10.0,
    },
    ConvertCase {
        work: "-vertex Shapefile (written by GDAL)",
        ext: "shp",
        input: Input::Ogr(&["-f", "ESRI Shapefile", "-a_srs", "EPSG:4490"]),
        ogr: &["-f", "ESRI Shapefile"],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 5.0,
    },
    ConvertCase {
        work: "-point CASS .dat",
        ext: "dat",
        input: Input::Cass,
        ogr: &[
            "-f",
            "CSV",
            "-oo",
            "HEADERS=NO",
            "-oo",
            "X_POSSIBLE_NAMES=field_3",
            "-oo",
            "Y_POSSIBLE_NAMES=field_4",
            "-oo",
            "KEEP_GEOM_COLUMNS=NO",
            "-lco",
            "GEOMETRY=AS_XY",
        ],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 5.0,
    },
    ConvertCase {
        work: "-vertex MapInfo MIF/MID (written by GDAL)",
        ext: "mif",
        input: Input::Ogr(&["-f", "MapInfo File", "-a_srs", "EPSG:4490"]),
        ogr: &["-f", "MapInfo File"],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 5.0,
    },
    ConvertCase {
        work: "-vertex DXF (written by GDAL)",
        ext: "dxf",
        input: Input::Ogr(&["-f", "DXF"]),
        ogr: &["-f", "DXF"],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 5.0,
    },
    ConvertCase {
        work: "-vertex KML (written by GDAL), to CGCS2000",
        ext: "kml",
        input: Input::Ogr(&["-f", "KML"]),
        ogr: &["-f", "KML"],
        from: "EPSG:4326",
        to: "EPSG:4490",
        goal: 5.0,
    },
    ConvertCase {
        work: "-vertex FlatGeobuf (written by GDAL, with its index)",
        ext: "fgb",
        input: Input::Ogr(&["-f", "FlatGeobuf", "-a_srs", "EPSG:4490"]),
        ogr: &["-f", "FlatGeobuf"],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 5.0,
    },
    ConvertCase {
        work: "-vertex GPX tracks (written by GDAL), to CGCS2000",
        ext: "gpx",
        input: Input::Ogr(&["-f", "GPX", "-nlt", "MULTILINESTRING", "-lco", "FORCE_GPX_TRACK=YES"]),
        ogr: &["-f", "GPX"],
        from: "EPSG:4326",
        to: "EPSG:4490",
        goal: 5.0,
    },
    // GDAL's XLSX driver has no geometry: its baseline converts the longitude/latitude columns
    // with SpatiaLite's ST_Transform through the SQLite dialect (the same PROJ underneath).
    ConvertCase {
        work: "-point Excel .xlsx (written by GDAL; ogr2ogr through ST_Transform SQL)",
        ext: "xlsx",
        input: Input::OgrPoints(&["-f", "XLSX", "-oo", "AUTODETECT_TYPE=YES", "-nln", "points"]),
        ogr: &[
            "-f",
            "XLSX",
            "-nln",
            "points",
            "-dialect",
            "SQLite",
            "-sql",
            "SELECT id, name, ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT id, name, \
             ST_Transform(MakePoint(lon, lat, 4490), 4547) AS p FROM points)",
        ],
        from: "EPSG:4490",
        to: "EPSG:4547",
        goal: 5.0,
    },
];

fn processes(n: usize, runs: usize, dir: &Path) -> Processes {
    let geounify = Path::new(env!("CARGO_BIN_EXE_geounify"));
    let cs2cs = find_program("cs2cs");
    let ogr2ogr = find_program("ogr2ogr");
    let start = Instant::now();
    let (lon_lat, lat_lon) = (dir.join("lonlat.txt"), dir.join("latlon.txt"));
    files::write_transform_inputs(n, &lon_lat, &lat_lon).expect("transform inputs");
    let csv = dir.join("points.csv");
    files::write_csv(n, &csv).expect("CSV input");
    let geojson = dir.join("lines.geojson");
    files::write_geojson(n, &geojson).expect("GeoJSON input");
    println!(
        "generated {n}-point inputs in {:.1} s in {}",
        start.elapsed().as_secs_f64(),
        dir.display()
    );

    let must = |r: Result<Run, String>| r.unwrap_or_else(|e| panic!("{e}"));
    let pair = "--from EPSG:4490 --to EPSG:4547";
    let mut out = Processes { transform: None, converts: Vec::new() };

    // geounify transform against cs2cs.
    let out_g = dir.join("out-geounify.txt");
    let ours = must(time_process(
        geounify,
        &["transform", "--from", "EPSG:4490", "--to", "EPSG:4547"],
        Some(&lon_lat),
        &out_g,
        None,
        runs,
    ));
    println!("geounify transform {pair}: {:.3} s", ours.secs);
    match &cs2cs {
        None => println!("cs2cs not found on PATH: `geounify transform` comparison skipped"),
        Some(cs2cs) => {
            let out_c = dir.join("out-cs2cs.txt");
            let theirs = time_process(
                cs2cs,
                &["EPSG:4490", "EPSG:4547"],
                Some(&lat_lon),
                &out_c,
                None,
                runs,
            );
            if let Ok(run) = &theirs {
                println!("cs2cs EPSG:4490 EPSG:4547: {:.3} s", run.secs);
                // First line: geounify E N against cs2cs N E (EPSG:4547's axis order); cs2cs
                // prints centimetres.
                let (g, c) = (first_numbers(&out_g, &[' ']), first_numbers(&out_c, &[' ', '\t']));
                let agree = g.len() >= 2
                    && c.len() >= 2
                    && (g[0] - c[1]).abs() < 0.01
                    && (g[1] - c[0]).abs() < 0.01;
                if !agree {
                    println!("  warning: first lines differ: geounify {g:?}, cs2cs {c:?}");
                }
            }
            out.transform = Some((ours, theirs));
        }
    }

    // geounify convert against ogr2ogr, format by format.
    let m = format!("{:.0}M", n as f64 / 1e6);
    for case in CONVERT_CASES {
        let ext = case.ext;
        let input = dir.join(format!("in.{ext}"));
        if geounify::convert::FileFormat::from_path(&input).is_none() {
            continue; // not in this build
        }
        let work = format!("`geounify convert`, {m}{}", case.work);
        let made = match case.input {
            Input::Csv => std::fs::copy(&csv, &input).map(drop).map_err(|e| e.to_string()),
            Input::GeoJson => std::fs::copy(&geojson, &input).map(drop).map_err(|e| e.to_string()),
            Input::Cass => files::write_cass(n, &input).map_err(|e| e.to_string()),
            Input::Ogr(args) | Input::OgrPoints(args) => match &ogr2ogr {
                None => Err("ogr2ogr not found".into()),
                Some(ogr2ogr) => {
                    let source = if matches!(case.input, Input::Ogr(_)) { &geojson } else { &csv };
                    let mut all: Vec<&str> = args.to_vec();
                    all.extend([input.to_str().expect("UTF-8"), source.to_str().expect("UTF-8")]);
                    let log = dir.join(format!("log-make-{ext}.txt"));
                    time_process(ogr2ogr, &all, None, &log, Some(&input), 1).map(drop)
                }
            },
        };
        if let Err(e) = made {
            println!("{work}: input not made ({e}); skipped");
            continue;
        }
        let out_g = dir.join(format!("out-geounify.{ext}"));
        let log = dir.join(format!("log-geounify-{ext}.txt"));
        let (input_s, out_s) = (input.to_str().expect("UTF-8"), out_g.to_str().expect("UTF-8"));
        let args = ["convert", "--from", case.from, "--to", case.to, input_s, "-o", out_s];
        let ours = must(time_process(geounify, &args, None, &log, Some(&out_g), runs));
        let mb = ours.peak_kb.map_or("n/a".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0));
        println!("geounify convert ({ext}): {:.3} s, peak RSS {mb}", ours.secs);
        let Some(ogr2ogr) = &ogr2ogr else {
            println!("ogr2ogr not found on PATH: `geounify convert` {ext} comparison skipped");
            out.converts.push((work, case.goal, None));
            continue;
        };
        // ogr2ogr reads a CASS file through its CSV driver, which wants a .csv name.
        let ogr_input = if ext == "dat" { dir.join("in-cass.csv") } else { input.clone() };
        if ogr_input != input {
            std::fs::copy(&input, &ogr_input).expect("CASS copy for ogr2ogr");
        }
        let out_o = dir.join(format!("out-ogr.{}", if ext == "dat" { "csv" } else { ext }));
        let mut args = vec!["-s_srs", case.from, "-t_srs", case.to];
        args.extend_from_slice(case.ogr);
        args.extend([out_o.to_str().expect("UTF-8"), ogr_input.to_str().expect("UTF-8")]);
        let log = dir.join(format!("log-ogr-{ext}.txt"));
        let theirs = time_process(ogr2ogr, &args, None, &log, Some(&out_o), runs);
        match &theirs {
            Ok(run) => println!("ogr2ogr {ext}: {:.3} s", run.secs),
            Err(e) => println!("ogr2ogr {ext}: {e}"),
        }
        if ext == "csv" {
            // First data row: ogr2ogr X,Y,id,name against geounify id,name,E,N.
            let (g, o) = (first_numbers(&out_g, &[',']), first_numbers(&out_o, &[',']));
            let agree = g.len() >= 3 && !o.is_empty() && (g[g.len() - 2] - o[0]).abs() < 1e-3;
            if theirs.is_ok() && !agree {
                println!("  warning: first rows differ: geounify {g:?}, ogr2ogr {o:?}");
            }
        }
        out.converts.push((work, case.goal, Some((ours, theirs))));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// A target on a ratio.
#[derive(Clone, Copy)]
enum Goal {
    /// Baseline time / geounify time at least this.
    Faster(f64),
    /// geounify time / baseline time at most this.
    CostAtMost(f64),
    /// Peak resident set below this many MiB.
    MemoryBelow(f64),
}

/// One row of the table.
struct Row {
    work: String,
    geounify: String,
    baseline: String,
    /// The measured ratio in the goal's sense (or MiB for memory), if both sides were measured.
    value: Option<f64>,
    goal: Goal,
}

impl Row {
    fn cells(&self) -> [String; 6] {
        let (ratio, target, met) = match (self.goal, self.value) {
            (Goal::Faster(t), v) => {
                (v.map(|v| format!("{v:.2}× faster")), format!("≥ {t}× faster"), v.map(|v| v >= t))
            }
            (Goal::CostAtMost(t), v) => (
                v.map(|v| format!("{v:.2}× the cost")),
                format!("≤ {t}× the cost"),
                v.map(|v| v <= t),
            ),
            (Goal::MemoryBelow(t), v) => (
                v.map(|v| format!("{v:.1} MiB")),
                format!("< {t} MB"),
                v.map(|v| v * 1.048_576 < t),
            ),
        };
        let met = match met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "not measured",
        };
        [
            self.work.clone(),
            self.geounify.clone(),
            self.baseline.clone(),
            ratio.unwrap_or_else(|| "-".into()),
            target,
            met.into(),
        ]
    }
}

/// Rows comparing two criterion estimates, per point.
fn estimate_row(
    work: &str,
    ours: (&str, Option<f64>),
    theirs: (&str, Option<f64>),
    points: usize,
    goal: Goal,
) -> Row {
    let per_point = |ns: Option<f64>| ns.map(|ns| ns / points as f64);
    let (a, b) = (per_point(ours.1), per_point(theirs.1));
    let show = |label: &str, v: Option<f64>| match v {
        Some(v) => format!("{label}{v:.1} ns/pt"),
        None => format!("{label}not measured"),
    };
    let value = match (a, b, goal) {
        (Some(a), Some(b), Goal::CostAtMost(_)) => Some(a / b),
        (Some(a), Some(b), _) => Some(b / a),
        _ => None,
    };
    Row { work: work.into(), geounify: show(ours.0, a), baseline: show(theirs.0, b), value, goal }
}

/// Rows of a process comparison: time ratio and the geounify child's peak memory.
fn process_rows(
    rows: &mut Vec<Row>,
    work: &str,
    baseline: &str,
    result: &Option<Compared>,
    convert: Option<f64>,
) {
    // `transform` is held to 10× cs2cs; a conversion to its format's target, and to a bounded
    // peak memory.
    let (goal, memory) = (convert.unwrap_or(10.0), convert.is_some());
    let Some((ours, theirs)) = result else {
        rows.push(Row {
            work: work.into(),
            geounify: "-".into(),
            baseline: format!("{baseline}: not installed"),
            value: None,
            goal: Goal::Faster(goal),
        });
        return;
    };
    let mib =
        |r: &Run| r.peak_kb.map_or(String::new(), |kb| format!(", {:.0} MiB", kb as f64 / 1024.0));
    let (baseline_cell, value) = match theirs {
        Ok(t) => (format!("{baseline} {:.2} s{}", t.secs, mib(t)), Some(t.secs / ours.secs)),
        Err(e) => (format!("{baseline} failed: {e}"), None),
    };
    rows.push(Row {
        work: work.into(),
        geounify: format!("{:.2} s{}", ours.secs, mib(ours)),
        baseline: baseline_cell,
        value,
        goal: Goal::Faster(goal),
    });
    if memory {
        rows.push(Row {
            work: format!("{work}: peak memory"),
            geounify: mib(ours).trim_start_matches(", ").to_string(),
            baseline: "-".into(),
            value: ours.peak_kb.map(|kb| kb as f64 / 1024.0),
            goal: Goal::MemoryBelow(100.0),
        });
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| work | geounify | baseline | ratio | target | |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let _ = writeln!(s, "| {} |", row.cells().join(" | "));
    }
    s
}

/// The scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() {
    if let Some(report) = std::env::var_os(LAUNCH_ENV) {
        return launcher(Path::new(&report));
    }
    let args: Vec<String> = std::env::args().collect();
    let bench_mode = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    let env_count = |name: &str, default: usize| match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name} is a count")),
        Err(_) => default,
    };
    let n = if bench_mode { env_count("GEOUNIFY_BENCH_POINTS", 1_000_000) } else { 1_000 };
    let runs = if bench_mode { env_count("GEOUNIFY_BENCH_RUNS", 3).max(1) } else { 1 };
    let started = SystemTime::now();
    let dir = criterion_dir();

    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .output_directory(&dir)
        .configure_from_args();
    gauss_kruger(&mut c);
    transformers(&mut c);
    gcj02(&mut c);
    parallel(&mut c);
    c.final_summary();

    let scratch =
        Scratch(std::env::temp_dir().join(format!("geounify-compare-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).expect("scratch folder");
    let procs = processes(n, runs, &scratch.0);
    if !bench_mode {
        println!("compare: smoke run done ({n} points per process); `cargo bench --features proj` for the table");
        return;
    }

    let est =
        |group: &str, function: &str, value: &str| mean_ns(&dir, group, function, value, started);
    let gk = "compare_gauss_kruger";
    let gcj = "compare_gcj02";
    let mut rows = vec![
        estimate_row(
            "Gauss-Krüger forward, one thread",
            ("", est(gk, "geounify", "forward")),
            ("PROJ tmerc ", est(gk, "proj", "forward")),
            BATCH,
            Goal::Faster(5.0),
        ),
        estimate_row(
            "Gauss-Krüger inverse, one thread",
            ("", est(gk, "geounify", "inverse")),
            ("PROJ tmerc ", est(gk, "proj", "inverse")),
            BATCH,
            Goal::Faster(5.0),
        ),
        estimate_row(
            "transformer EPSG:4490 → EPSG:4547",
            ("", est("compare_epsg4490_to_epsg4547", "geounify", "slice")),
            ("PROJ ", est("compare_epsg4490_to_epsg4547", "proj", "slice")),
            BATCH,
            Goal::Faster(5.0),
        ),
        estimate_row(
            "transformer city BJ54 grid → EPSG:4548 (7-param)",
            ("", est("compare_city_grid_to_epsg4548", "geounify", "slice")),
            ("PROJ pipeline ", est("compare_city_grid_to_epsg4548", "proj", "slice")),
            BATCH,
            Goal::Faster(5.0),
        ),
    ];
    for (crate_name, label) in [
        ("coordtransform", "coordtransform "),
        ("coordtransform_rs", "coordtransform-rs "),
        ("gcoord", "gcoord "),
    ] {
        rows.push(estimate_row(
            "GCJ-02 forward",
            ("", est(gcj, "geounify", "forward")),
            (label, est(gcj, crate_name, "forward")),
            BATCH,
            Goal::Faster(3.0),
        ));
    }
    rows.push(estimate_row(
        "GCJ-02 → WGS84 exact inverse",
        ("", est(gcj, "geounify", "inverse")),
        ("our forward ", est(gcj, "geounify", "forward")),
        BATCH,
        Goal::CostAtMost(3.0),
    ));
    rows.push(estimate_row(
        "parallel batch, 2 cores (rayon), 1M points",
        ("", est("compare_parallel", "rayon", "1m")),
        ("one thread ", est("compare_parallel", "one_thread", "1m")),
        PARALLEL_POINTS,
        Goal::Faster(1.8),
    ));
    let m = format!("{:.0}M", n as f64 / 1e6);
    process_rows(
        &mut rows,
        &format!("`geounify transform`, {m} points, whole process"),
        "cs2cs",
        &procs.transform,
        None,
    );
    for (work, goal, result) in &procs.converts {
        process_rows(&mut rows, work, "ogr2ogr", result, Some(*goal));
    }

    let command = format!("cargo bench --features proj  (this binary: {})", args.join(" "));
    let text = format!(
        "Command: `{command}`\n\n{}\nProcess comparisons: fastest of {runs} runs, EPSG:4490 → EPSG:4547; peak memory = \
         the child's `ru_maxrss` (`wait4`).\n",
        table(&rows)
    );
    println!("\n{text}");
    let path = dir.join("ratios.md");
    match std::fs::write(&path, &text) {
        Ok(()) => println!("written to {}", path.display()),
        Err(e) => println!("could not write {}: {e}", path.display()),
    }
}
