//! `geounify-sql`: one SQL query over Parquet/CSV files with geounify's functions.
//!
//! ```text
//! geounify-sql --crs-file city.toml \
//!   "SELECT id, gu_transform(geom, 'city:old-grid', 'EPSG:4548') AS geom FROM 'parcels.parquet'"
//! geounify-sql --table parcels=parcels.parquet --output out.parquet \
//!   "SELECT id, gu_transform(geom, 'EPSG:4490', 'EPSG:4547') AS geom FROM parcels"
//! ```
//!
//! Files can be named in the query directly (`FROM 'file.parquet'`) or registered as tables
//! (`--table name=path`, by extension: `.parquet`, `.csv`). The result is printed as a table,
//! or written with `--output` (`.parquet` or `.csv`, written by DataFusion).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use geounify_datafusion::{register_geounify, GeounifyOptions};

/// Runs a SQL query over files with geounify's gu_transform / gu_try_transform.
#[derive(Parser, Debug)]
#[command(name = "geounify-sql", version)]
struct Args {
    /// A CRS file (TOML or JSON) to load; repeat for several, loaded in order.
    #[arg(long = "crs-file")]
    crs_files: Vec<PathBuf>,
    /// A file to register as a table: NAME=PATH (.parquet or .csv); repeatable.
    #[arg(long = "table")]
    tables: Vec<String>,
    /// Also register st_transform (the same function as gu_transform).
    #[arg(long)]
    st_transform: bool,
    /// DataFusion's target partitions (default: the number of cores).
    #[arg(long)]
    partitions: Option<usize>,
    /// Write the result to this file (.parquet or .csv) instead of printing it.
    #[arg(long)]
    output: Option<PathBuf>,
    /// The SQL query.
    query: String,
}

fn extension(path: &std::path::Path) -> String {
    path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase()
}

async fn run(args: Args) -> Result<(), String> {
    let mut config = SessionConfig::new();
    if let Some(n) = args.partitions {
        config = config.with_target_partitions(n.max(1));
    }
    let ctx = SessionContext::new_with_config(config).enable_url_table();
    let mut options = GeounifyOptions::new().st_transform_alias(args.st_transform);
    for f in &args.crs_files {
        options = options.crs_file(f);
    }
    register_geounify(&ctx, &options).map_err(|e| e.to_string())?;
    for table in &args.tables {
        let (name, path) =
            table.split_once('=').ok_or_else(|| format!("--table {table}: expected NAME=PATH"))?;
        let path_buf = PathBuf::from(path);
        match extension(&path_buf).as_str() {
            "parquet" => ctx
                .register_parquet(name, path, ParquetReadOptions::default())
                .await
                .map_err(|e| e.to_string())?,
            "csv" => ctx
                .register_csv(name, path, CsvReadOptions::new())
                .await
                .map_err(|e| e.to_string())?,
            other => {
                return Err(format!(
                    "--table {table}: unknown extension '{other}' (use .parquet or .csv)"
                ))
            }
        }
    }
    let df = ctx.sql(&args.query).await.map_err(|e| e.to_string())?;
    match &args.output {
        None => df.show().await.map_err(|e| e.to_string())?,
        Some(out) => {
            let path =
                out.to_str().ok_or_else(|| format!("{}: not a UTF-8 path", out.display()))?;
            let opts = DataFrameWriteOptions::new().with_single_file_output(true);
            match extension(out).as_str() {
                "parquet" => df.write_parquet(path, opts, None).await,
                "csv" => df.write_csv(path, opts, None).await,
                other => {
                    return Err(format!(
                        "--output {}: unknown extension '{other}' (use .parquet or .csv)",
                        out.display()
                    ))
                }
            }
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("geounify-sql: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("geounify-sql: {e}");
            ExitCode::FAILURE
        }
    }
}
