//! Exchanges: every dataset listed in a manifest converted into one agreed CRS, into one
//! output folder, with a lineage record (`lineage.json`, see [`lineage`]).
//!
//! The manifest (TOML; paths relative to it):
//!
//! ```toml
//! target = "EPSG:4548"                 # the agreed CRS
//! output = "out"                       # output folder (created if missing)
//! crs_files = ["city.toml"]            # optional: CRS files for the datasets' and target's ids
//! skip_invalid = false                 # optional: leave out features that cannot be converted
//! force = false                        # optional: convert even if the sanity check objects
//!
//! [[dataset]]
//! path = "parcels_old_grid.csv"        # the output is the same file name in the output folder
//! crs = "city:old-grid"
//! x_col = "E"                          # optional, CSV/TSV: x_col, y_col, z_col, encoding
//! y_col = "N"
//! encoding = "gbk"
//! # skip_invalid, force: optional per-dataset overrides; output = "other-name.csv" optional
//! ```
//!
//! Each dataset is converted on its own (atomically, like `convert`); one that fails is
//! recorded as failed in the lineage and the others still go on. The lineage file is written
//! last, atomically.

use super::lineage;
use super::{
    convert_file, ConvertError, ConvertOptions, ConvertReport, FileFormat, Progress, TextEncoding,
};
use crate::crs_file::toml as toml_tree;
use crate::crs_file::tree::{Entry, Node, Pos, Value as TreeValue};
use crate::registry::Registry;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why an exchange could not run at all (a dataset's own failure is recorded in the lineage
/// instead).
#[derive(Debug, Error)]
pub enum ExchangeError {
    /// The manifest cannot be read or is invalid.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// The line, where known.
        line: Option<u32>,
        /// What is wrong.
        message: String,
    },
    /// A CRS file named by the manifest is invalid.
    #[error(transparent)]
    CrsFile(#[from] crate::crs_file::CrsFileError),
    /// The output folder or the lineage file cannot be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// One dataset of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The input, resolved against the manifest's folder.
    pub path: PathBuf,
    /// Its CRS id.
    pub crs: String,
    /// The output, in the output folder.
    pub output: PathBuf,
    /// Conversion options.
    pub options: ConvertOptions,
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// The agreed CRS id.
    pub target: String,
    /// The output folder, resolved.
    pub output: PathBuf,
    /// CRS files, resolved.
    pub crs_files: Vec<PathBuf>,
    /// The datasets, in order.
    pub datasets: Vec<Dataset>,
}

/// What happened to one dataset.
#[derive(Debug)]
pub struct DatasetOutcome {
    /// The dataset.
    pub dataset: Dataset,
    /// Its conversion report, or why it failed.
    pub result: Result<ConvertReport, String>,
}

/// What an exchange did.
#[derive(Debug)]
pub struct ExchangeReport {
    /// Each dataset, in manifest order.
    pub datasets: Vec<DatasetOutcome>,
    /// The lineage file written.
    pub lineage: PathBuf,
}

impl ExchangeReport {
    /// Whether every dataset was converted with no feature left out.
    pub fn is_complete(&self) -> bool {
        self.datasets.iter().all(|d| d.result.as_ref().is_ok_and(|r| r.skipped.is_empty()))
    }
}

/// Reads and checks a manifest.
pub fn read_manifest(path: &Path) -> Result<Manifest, ExchangeError> {
    let error = |line: Option<u32>, message: String| ExchangeError::Manifest {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(None, e.to_string()))?;
    let root = toml_tree::parse(&text)
        .map_err(|e| error(Some(e.pos.line), format!("column {}: {}", e.pos.column, e.message)))?;
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let top = table(&root, &["target", "output", "crs_files", "skip_invalid", "force", "dataset"])
        .map_err(|(pos, m)| error(Some(pos.line), m))?;
    let at = |pos: Pos, m: String| error(Some(pos.line), m);
    let target = string(top, "target").map_err(|(p, m)| at(p, m))?;
    let target = target.ok_or_else(|| error(Some(root.pos.line), "missing `target`".into()))?;
    let output = string(top, "output").map_err(|(p, m)| at(p, m))?;
    let output = base.join(output.ok_or_else(|| error(None, "missing `output`".into()))?);
    let skip_invalid = boolean(top, "skip_invalid").map_err(|(p, m)| at(p, m))?.unwrap_or(false);
    let force = boolean(top, "force").map_err(|(p, m)| at(p, m))?.unwrap_or(false);
    let mut crs_files = Vec::new();
    if let Some(node) = get(top, "crs_files") {
        let TreeValue::Array(items) = &node.value else {
            return Err(at(node.pos, "`crs_files` must be an array of paths".into()));
        };
        for item in items {
            let TreeValue::String(s) = &item.value else {
                return Err(at(item.pos, "`crs_files` must be an array of paths".into()));
            };
            crs_files.push(base.join(s));
        }
    }
    let mut datasets = Vec::new();
    let items = match get(top, "dataset") {
        None => return Err(error(None, "no [[dataset]] entries".into())),
        Some(Node { value: TreeValue::Array(items), .. }) => items,
        Some(node) => return Err(at(node.pos, "`dataset` must be [[dataset]] tables".into())),
    };
    let keys =
        ["path", "crs", "output", "x_col", "y_col", "z_col", "encoding", "skip_invalid", "force"];
    for item in items {
        let t = table(item, &keys).map_err(|(p, m)| at(p, m))?;
        let s = |k: &str| string(t, k).map_err(|(p, m)| at(p, m));
        let input = s("path")?.ok_or_else(|| at(item.pos, "dataset: missing `path`".into()))?;
        let crs = s("crs")?.ok_or_else(|| at(item.pos, "dataset: missing `crs`".into()))?;
        let name = match s("output")? {
            Some(name) => PathBuf::from(name),
            None => PathBuf::from(Path::new(&input).file_name().unwrap_or_default()),
        };
        let encoding = match s("encoding")? {
            None => None,
            Some(e) => Some(TextEncoding::parse(&e).ok_or_else(|| {
                at(
                    item.pos,
                    format!("dataset {input}: unknown encoding '{e}' (utf-8, gbk, gb18030)"),
                )
            })?),
        };
        let b = |k: &str| boolean(t, k).map_err(|(p, m)| at(p, m));
        let options = ConvertOptions {
            x_col: s("x_col")?,
            y_col: s("y_col")?,
            z_col: s("z_col")?,
            encoding,
            skip_invalid: b("skip_invalid")?.unwrap_or(skip_invalid),
            force: b("force")?.unwrap_or(force),
            parallel: true,
        };
        let output_path = output.join(name);
        if datasets.iter().any(|d: &Dataset| d.output == output_path) {
            return Err(at(
                item.pos,
                format!("two datasets would write {}", output_path.display()),
            ));
        }
        datasets.push(Dataset { path: base.join(&input), crs, output: output_path, options });
    }
    Ok(Manifest { path: path.to_path_buf(), target, output, crs_files, datasets })
}

type TreeResult<T> = Result<T, (Pos, String)>;

fn table<'a>(node: &'a Node, allowed: &[&str]) -> TreeResult<&'a [Entry]> {
    let TreeValue::Table(entries) = &node.value else {
        return Err((node.pos, "expected a table".into()));
    };
    for e in entries {
        if !allowed.contains(&e.key.as_str()) {
            return Err((
                e.pos,
                format!("unknown key `{}`; expected one of: {}", e.key, allowed.join(", ")),
            ));
        }
    }
    Ok(entries)
}

fn get<'a>(entries: &'a [Entry], key: &str) -> Option<&'a Node> {
    entries.iter().find(|e| e.key == key).map(|e| &e.node)
}

fn string(entries: &[Entry], key: &str) -> TreeResult<Option<String>> {
    match get(entries, key) {
        None => Ok(None),
        Some(Node { value: TreeValue::String(s), .. }) => Ok(Some(s.clone())),
        Some(node) => Err((node.pos, format!("`{key}` must be a string"))),
    }
}

fn boolean(entries: &[Entry], key: &str) -> TreeResult<Option<bool>> {
    match get(entries, key) {
        None => Ok(None),
        Some(Node { value: TreeValue::Bool(b), .. }) => Ok(Some(*b)),
        Some(node) => Err((node.pos, format!("`{key}` must be true or false"))),
    }
}

/// Runs the exchange in `manifest` with the CRSs of `registry` plus the manifest's CRS files:
/// converts every dataset into the output folder and writes `lineage.json` there.
/// `progress(dataset)` gives the progress sink for each dataset.
pub fn run(
    manifest: &Manifest,
    registry: &Registry,
    progress: &dyn Fn(&Dataset) -> Box<dyn Progress>,
) -> Result<ExchangeReport, ExchangeError> {
    let mut registry = registry.clone();
    for file in &manifest.crs_files {
        registry.load_file(file)?;
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExchangeError::Io { path, source }
    };
    std::fs::create_dir_all(&manifest.output).map_err(io(&manifest.output))?;
    let target = registry.lookup(&manifest.target).map_err(|e| ExchangeError::Manifest {
        path: manifest.path.clone(),
        line: None,
        message: format!("target: {e}"),
    })?;
    let base = manifest.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut outcomes = Vec::new();
    let mut records = Vec::new();
    for dataset in &manifest.datasets {
        let format = FileFormat::from_path(&dataset.path);
        let mut record = json!({
            "input": { "path": lineage::shown(&dataset.path, &base) },
            "format": format.map(FileFormat::name),
            "source_crs": dataset.crs,
            "target_crs": target.id(),
        });
        let result = convert_dataset(dataset, &registry, &target, progress(dataset).as_ref());
        if let Some(format) = format {
            let files = lineage::files_of(&dataset.path, format);
            record["input"]["files"] = lineage::hashed(&files, &base).unwrap_or(Value::Null);
        }
        match &result {
            Ok((report, steps)) => {
                record["status"] = json!(if report.skipped.is_empty() {
                    "converted"
                } else {
                    "converted with features left out"
                });
                record["steps"] = steps.clone();
                record["counts"] = lineage::counts(report);
                record["outputs"] =
                    lineage::hashed(&report.outputs, &base).map_err(io(&manifest.output))?;
                record["failures"] = failures_json(&report.skipped);
                record["warnings"] = json!(report.warnings);
            }
            Err(e) => {
                record["status"] = json!("failed");
                record["error"] = json!(e.to_string());
                if let ConvertError::PointsFailed { failures, total, .. } = e {
                    record["failures"] = failures_json(failures);
                    record["failures_total"] = json!(total);
                }
                record["outputs"] = json!([]);
            }
        }
        records.push(record);
        outcomes.push(DatasetOutcome {
            dataset: dataset.clone(),
            result: result.map(|(r, _)| r).map_err(|e| e.to_string()),
        });
    }
    let crs_files = manifest
        .crs_files
        .iter()
        .map(|f| {
            Ok(json!({ "path": lineage::shown(f, &base), "sha256": lineage::sha256_file(f)? }))
        })
        .collect::<std::io::Result<Vec<Value>>>()
        .map_err(io(&manifest.path))?;
    let document = json!({
        "tool": { "name": "geounify", "version": env!("CARGO_PKG_VERSION") },
        "created": lineage::timestamp(),
        "manifest": {
            "path": lineage::shown(&manifest.path, &base),
            "sha256": lineage::sha256_file(&manifest.path).map_err(io(&manifest.path))?,
        },
        "target_crs": { "id": target.id(), "name": target.name() },
        "crs_files": crs_files,
        "datasets": records,
    });
    let lineage_path = manifest.output.join("lineage.json");
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    super::atomic::write_atomically(&lineage_path, text.as_bytes()).map_err(io(&lineage_path))?;
    Ok(ExchangeReport { datasets: outcomes, lineage: lineage_path })
}

fn failures_json(failures: &[super::Failure]) -> Value {
    Value::Array(
        failures.iter().map(|f| json!({ "location": f.location, "reason": f.reason })).collect(),
    )
}

/// Converts one dataset; its report and the lineage's steps.
fn convert_dataset(
    dataset: &Dataset,
    registry: &Registry,
    target: &crate::crs::Crs,
    progress: &dyn Progress,
) -> Result<(ConvertReport, Value), ConvertError> {
    let source = registry.lookup(&dataset.crs).map_err(|e| ConvertError::Options {
        path: dataset.path.clone(),
        message: e.to_string(),
    })?;
    let transformer = crate::Transformer::new(&source, target)?;
    let report =
        convert_file(&dataset.path, &dataset.output, &source, target, &dataset.options, progress)?;
    Ok((report, lineage::steps(&transformer)))
}
