//! The `geounify` command-line tool: a thin layer over the library.
//!
//! - `geounify transform --from ID --to ID` converts `x y [z]` lines from stdin to stdout
//!   (see [`transform`] for the exact line format).
//! - `geounify crs list` and `geounify crs info ID` describe the built-in catalogue.
//! - `geounify estimate` estimates transformation parameters from control points.
//! - `geounify convert` converts whole files, `geounify unify` whole exchanges.
//! - `--crs-file FILE` (any command) adds a city's own systems.
//!
//! Exit status: see [`EXIT_STATUS_HELP`].

/// The paragraph on heights shared by the long help of `transform` and `convert` (a macro so that
/// it can sit inside their `concat!`ed help texts).
macro_rules! heights_help {
    () => {
        "\
Heights: z values are elevations in the national height datum unless --ellipsoidal-heights
says they are ellipsoidal heights on the source CRS's datum. Between two 2D CRSs (every built-in
CRS but the 3D EPSG:4479, 4480, 4978 and 4979, and CRS-file CRSs without `dimension = 3`) an
elevation is copied unchanged and x y are converted as for the point without z (height 0 on the
source datum), so a point lands in the same place with or without z. Ellipsoidal heights (3D
CRSs on both sides, or --ellipsoidal-heights) are converted with the point through the datum
shift. Between a 2D and a 3D CRS heights cannot be converted without a geoid model, which
geounify does not have: refused (exit 2) unless --ellipsoidal-heights.
"
    };
}

mod convert;
mod crs;
mod estimate;
mod progress;
mod transform;

use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Exit status when every line was converted (or the command succeeded).
const EXIT_OK: u8 = 0;
/// Exit status when some input lines could not be converted.
const EXIT_SOME_LINES_FAILED: u8 = 1;
/// Exit status for a usage error, an unknown CRS id, or an I/O error (clap also uses 2).
const EXIT_USAGE: u8 = 2;

const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success (every input line, feature and file was converted)
  1  some data could not be converted, each case reported on stderr with its location:
     input lines (transform: all other lines were converted), features (convert, unify:
     nothing written unless --skip-invalid, which leaves them out), malformed files, or data
     that fails the sanity check for its declared CRS (convert, unify)
  2  usage error, unknown CRS id, invalid CRS file or manifest, no transformation between the
     two CRSs, or an I/O error; transform: the first lines fail the sanity check (nothing
     written), or a line is longer than 64 MiB (the lines before it were converted)";

/// Convert coordinates between the systems Chinese cities use: CGCS2000 and its Gauss-Krüger
/// zones, Beijing 1954, Xi'an 1980, WGS84, GCJ-02, BD-09, Web Mercator, and a city's own
/// systems from CRS files.
///
/// Axis order is always x = easting/longitude, y = northing/latitude; angles are degrees,
/// lengths metres; heights are elevations (copied unchanged between 2D CRSs) unless
/// --ellipsoidal-heights says otherwise.
#[derive(Debug, Parser)]
#[command(name = "geounify", version, after_help = EXIT_STATUS_HELP)]
struct Cli {
    /// A CRS file (TOML or JSON) declaring ellipsoids, datums and CRSs, e.g. a city's own grids;
    /// its ids can then be used like built-in ones. Repeatable; later files may use earlier
    /// files' ids.
    #[arg(long = "crs-file", value_name = "FILE", global = true)]
    crs_files: Vec<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert `x y [z]` lines from standard input to standard output.
    #[command(long_about = transform::LONG_ABOUT, after_help = EXIT_STATUS_HELP)]
    Transform(TransformArgs),
    /// Describe the coordinate reference systems: built-in ones and those of --crs-file.
    #[command(subcommand)]
    Crs(CrsCommand),
    /// Convert a whole file (CSV/TSV, GeoJSON, WKT, Shapefile, GeoPackage) to another CRS.
    #[command(long_about = convert::LONG_ABOUT, after_help = EXIT_STATUS_HELP)]
    Convert(convert::ConvertArgs),
    /// Convert every dataset of an exchange manifest into one agreed CRS, with a lineage record.
    #[command(long_about = convert::UNIFY_ABOUT, after_help = EXIT_STATUS_HELP)]
    Unify(convert::UnifyArgs),
    /// Estimate transformation parameters from control points.
    #[command(long_about = estimate::LONG_ABOUT, after_help = EXIT_STATUS_HELP)]
    Estimate(estimate::EstimateArgs),
}

#[derive(Debug, Args)]
struct TransformArgs {
    /// Source CRS id or alias (case-insensitive), e.g. EPSG:4326, WGS84, GCJ02.
    #[arg(long, value_name = "ID")]
    from: String,
    /// Target CRS id or alias (case-insensitive), e.g. EPSG:4547, CGCS2000, BD09.
    #[arg(long, value_name = "ID")]
    to: String,
    /// Order of the first two numbers of every input and output line: east_north (x =
    /// easting or longitude first) or north_east (survey order X = northing, Y = easting;
    /// latitude first for degrees).
    #[arg(long = "axis-order", value_enum, default_value = "east_north")]
    axis_order: estimate::AxisOrder,
    /// Write numbers with N decimal places for metres (projected x y, and z), N + 6 for
    /// degrees (same ground step or finer: 3 gives mm and 1e-9°), rounded to nearest (ties to
    /// even) from the exact binary value. Default: the shortest form that reads back exactly.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=12))]
    precision: Option<u8>,
    /// Convert even if the sanity check says the first lines cannot belong to --from.
    #[arg(long)]
    force: bool,
    /// z values are ellipsoidal heights on the source CRS's datum (converted with the point
    /// through the datum shift), not elevations (the default: copied unchanged between 2D
    /// CRSs). Also allows converting between a 2D and a 3D CRS.
    #[arg(long)]
    ellipsoidal_heights: bool,
}

#[derive(Debug, Subcommand)]
enum CrsCommand {
    /// List the catalogue (and the CRSs of --crs-file): one line per CRS with its id, name and
    /// aliases.
    #[command(after_help = EXIT_STATUS_HELP)]
    List,
    /// Show one CRS: name, datum, ellipsoid, kind and parameters, area of use, WKT and PROJ
    /// string.
    #[command(after_help = EXIT_STATUS_HELP)]
    Info {
        /// CRS id or alias (case-insensitive), e.g. EPSG:4547.
        #[arg(value_name = "ID")]
        id: String,
        /// Also print the parameter values of a CRS from a CRS file (hidden by default: cities
        /// often keep them confidential), and its WKT and PROJ string.
        #[arg(long)]
        show_parameters: bool,
    },
}

/// Under a limited address space (`ulimit -v`), glibc's malloc would reserve 64 MiB of it for
/// each thread's arena (the conversion threads each get one): with two threads that is most of
/// a 200 MB limit before any data is read, and an allocation then fails, which aborts a Rust
/// process. With a limit, all threads share one arena, so the limit is spent on data (and the
/// record caps keep that bounded). Without a limit nothing changes.
fn one_malloc_arena_under_an_address_space_limit() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: plain libc calls with valid arguments, before any other thread exists.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_AS, &mut limit) == 0
            && limit.rlim_cur != libc::RLIM_INFINITY
        {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

fn main() -> ExitCode {
    one_malloc_arena_under_an_address_space_limit();
    let cli = Cli::parse(); // prints help / usage errors itself; usage errors exit 2
                            // Ctrl-C: remove the temporary outputs of an unfinished conversion, then exit as SIGINT
                            // would (128 + 2). Outputs are only ever renamed into place complete, so nothing else needs
                            // undoing. If the handler cannot be installed, Ctrl-C still never leaves a half-written
                            // output, only a hidden temporary file.
    let _ = ctrlc::set_handler(|| {
        geounify::convert::atomic::remove_temporaries();
        std::process::exit(130);
    });
    let registry = match load_registry(&cli.crs_files) {
        Ok(registry) => registry,
        Err(status) => return ExitCode::from(status),
    };
    let status = match cli.command {
        Command::Transform(args) => transform::run(&registry, &args),
        Command::Crs(CrsCommand::List) => crs::list(&registry),
        Command::Crs(CrsCommand::Info { id, show_parameters }) => {
            crs::info(&registry, &id, show_parameters)
        }
        Command::Estimate(args) => estimate::run(&args, &registry),
        Command::Convert(args) => convert::run(&registry, &args),
        Command::Unify(args) => convert::unify(&registry, &args),
    };
    ExitCode::from(status)
}

/// The built-in catalogue plus the CRS files given with `--crs-file`, in order; on a bad file,
/// the error is reported (file, line, field; never a parameter value) and the exit status
/// returned.
fn load_registry(files: &[std::path::PathBuf]) -> Result<geounify::Registry, u8> {
    let mut registry = geounify::Registry::new();
    for file in files {
        if let Err(error) = registry.load_file(file) {
            report(error);
            return Err(EXIT_USAGE);
        }
    }
    Ok(registry)
}

/// Writes `geounify: {message}` to stderr (ignoring failure: there is nowhere left to report).
fn report(message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "geounify: {message}");
}

/// The exit status for an I/O error writing to stdout: a closed pipe (e.g. `| head`) is not an
/// error worth a message, and ends the program quietly with `status_so_far`.
fn output_error(error: &std::io::Error, status_so_far: u8) -> u8 {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        status_so_far
    } else {
        report(format_args!("cannot write to standard output: {error}"));
        EXIT_USAGE
    }
}
