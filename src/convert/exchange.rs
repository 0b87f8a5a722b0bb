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
//! heights = "elevation"                # optional: z values are elevations (copied unchanged
//!                                      # between 2D CRSs) or "ellipsoidal" (converted)
//! format = "gpkg"                      # optional: the format of every output (a format name
//!                                      # or extension); each input's own format without it
//!
//! [[dataset]]
//! path = "parcels_old_grid.csv"        # the output is the same file name in the output folder
//!                                      # (with `format`: the same stem, that format's extension)
//! crs = "city:old-grid"
//! x_col = "E"                          # optional, CSV/TSV: x_col, y_col, z_col, encoding
//! y_col = "N"
//! encoding = "gbk"
//! # skip_invalid, force, heights: optional per-dataset overrides; output = "other-name.csv"
//! # optional (its extension gives its format; with `format`, it must be that format)
//! ```
//!
//! An output in another format than its input is converted between formats (see
//! [`cross`](super::cross)); the check refuses a pair of formats that cannot be converted.
//!
//! The whole manifest is checked before anything is converted (see [`run`]: ids, formats,
//! inputs, datum parameters, outputs confined to the output folder and clashing with nothing).
//! Each dataset is then converted on its own (atomically, like `convert`); one that fails is
//! recorded as failed in the lineage, its output from an earlier run removed, and the others
//! still go on. The previous lineage file is removed before the first conversion and the new
//! one written last, atomically: a `lineage.json` always describes the files beside it.

use super::lineage;
use super::{
    convert_file, ConvertError, ConvertOptions, ConvertReport, FileFormat, Progress, TextEncoding,
};
use crate::crs_file::toml as toml_tree;
use crate::crs_file::tree::{Entry, Node, Pos, Value as TreeValue};
use crate::registry::Registry;
use crate::transformer::Heights;
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
    /// The manifest cannot run as it is: every problem found by the check of the whole
    /// manifest (ids, formats, inputs, datum parameters, outputs). Nothing was converted or
    /// written.
    #[error("{path}: the exchange was not run, nothing written; {} problem(s):{}", problems.len(), problems.iter().map(|p| format!("\n  {p}")).collect::<String>())]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// Each problem, naming its dataset (`dataset 2 (roads.shp): ...`) and why.
        problems: Vec<String>,
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
    /// The format every output must have (`format = "gpkg"`), if the manifest says.
    pub format: Option<FileFormat>,
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
    /// Files of an earlier run's output removed because this dataset failed (see [`run`]).
    pub removed: Vec<PathBuf>,
}

/// What an exchange did.
#[derive(Debug)]
pub struct ExchangeReport {
    /// Each dataset, in manifest order.
    pub datasets: Vec<DatasetOutcome>,
    /// The lineage file written.
    pub lineage: PathBuf,
    /// Temporary files that runs killed earlier left in the output folder (of `lineage.json`,
    /// and of the outputs of datasets that failed this time; a converted dataset's are in its
    /// report's warnings), removed or left alone: one message each (see
    /// [`remove_leftover_temporaries`](super::atomic::remove_leftover_temporaries)).
    pub cleaned: Vec<String>,
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
    let top = table(
        &root,
        &["target", "output", "crs_files", "skip_invalid", "force", "heights", "format", "dataset"],
    )
    .map_err(|(pos, m)| error(Some(pos.line), m))?;
    let at = |pos: Pos, m: String| error(Some(pos.line), m);
    let target = string(top, "target").map_err(|(p, m)| at(p, m))?;
    let target = target.ok_or_else(|| error(Some(root.pos.line), "missing `target`".into()))?;
    let output = string(top, "output").map_err(|(p, m)| at(p, m))?;
    let output = base.join(output.ok_or_else(|| error(None, "missing `output`".into()))?);
    let skip_invalid = boolean(top, "skip_invalid").map_err(|(p, m)| at(p, m))?.unwrap_or(false);
    let force = boolean(top, "force").map_err(|(p, m)| at(p, m))?.unwrap_or(false);
    let heights = heights_of(top).map_err(|(p, m)| at(p, m))?.unwrap_or_default();
    let out_format = match (string(top, "format").map_err(|(p, m)| at(p, m))?, get(top, "format")) {
        (Some(name), Some(node)) => Some(super::format::named(&name).ok_or_else(|| {
            at(
                node.pos,
                format!("`format`: unknown format '{name}' (one of: {})", super::format::names()),
            )
        })?),
        _ => None,
    };
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
    let keys = [
        "path",
        "crs",
        "output",
        "x_col",
        "y_col",
        "z_col",
        "encoding",
        "skip_invalid",
        "force",
        "heights",
    ];
    for item in items {
        let t = table(item, &keys).map_err(|(p, m)| at(p, m))?;
        let s = |k: &str| string(t, k).map_err(|(p, m)| at(p, m));
        let input = s("path")?.ok_or_else(|| at(item.pos, "dataset: missing `path`".into()))?;
        let crs = s("crs")?.ok_or_else(|| at(item.pos, "dataset: missing `crs`".into()))?;
        let name = match (s("output")?, out_format) {
            (Some(name), _) => PathBuf::from(name),
            (None, None) => PathBuf::from(Path::new(&input).file_name().unwrap_or_default()),
            (None, Some(f)) => {
                let stem = Path::new(&input).file_stem().unwrap_or_default();
                let ext = f.extensions.first().copied().unwrap_or(f.name);
                PathBuf::from(stem).with_extension(ext)
            }
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
            heights: heights_of(t).map_err(|(p, m)| at(p, m))?.unwrap_or(heights),
            precision: None,
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
    let format = out_format.map(|f| f.format);
    Ok(Manifest { path: path.to_path_buf(), target, format, output, crs_files, datasets })
}

type TreeResult<T> = Result<T, (Pos, String)>;

/// `heights = "elevation" | "ellipsoidal"`, if given.
fn heights_of(entries: &[Entry]) -> TreeResult<Option<Heights>> {
    let Some(value) = string(entries, "heights")? else { return Ok(None) };
    match value.as_str() {
        "elevation" => Ok(Some(Heights::Elevation)),
        "ellipsoidal" => Ok(Some(Heights::Ellipsoidal)),
        other => {
            let pos = get(entries, "heights").map_or(Pos::default(), |n| n.pos);
            Err((
                pos,
                format!("`heights` must be \"elevation\" or \"ellipsoidal\", not \"{other}\""),
            ))
        }
    }
}

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
///
/// First the whole manifest is checked, and any problem refuses the exchange with
/// [`ExchangeError::Invalid`] listing every problem, before anything is converted or written
/// (not even the output folder): each id resolves, datum parameters exist from each dataset's
/// CRS to the target, each input exists, is a regular file (for a Shapefile, its `.shx`,
/// `.dbf`, `.prj` and `.cpg` too) and has a known format, and each
/// output is a file name in the output folder (no absolute path elsewhere, no folder, no `..`)
/// in a known format (the manifest's `format` if it gives one) into which its input's format
/// converts, that clashes neither with `lineage.json`, nor with another dataset's
/// output (names compared ignoring case; a Shapefile output counts as its whole set of
/// sidecars), nor with any file the exchange reads (inputs and their Shapefile sets, the
/// manifest, CRS files; resolved paths, and hard links).
///
/// Then, in this order, so that a `lineage.json` on disk always describes the files beside
/// it, even after a kill: the previous `lineage.json` is removed; each dataset is converted
/// (atomically, like `convert`); a dataset that fails gets its output from an earlier run
/// removed (the lineage records it as failed with no outputs and lists what was removed, so
/// no stale file looks like this run's output); the new `lineage.json` is written last,
/// atomically. A kill before the end leaves no lineage, never a wrong one.
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
    let Plan { target, sources } = check(manifest, &registry)?;
    std::fs::create_dir_all(&manifest.output).map_err(io(&manifest.output))?;
    let lineage_path = manifest.output.join(LINEAGE);
    match std::fs::remove_file(&lineage_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io(&lineage_path)(e));
        }
        _ => sync_folder(&manifest.output),
    }
    let mut cleaned =
        super::atomic::remove_leftover_temporaries(&lineage_path).map_err(io(&lineage_path))?;
    let base = manifest.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut outcomes = Vec::new();
    let mut records = Vec::new();
    for (dataset, source) in manifest.datasets.iter().zip(&sources) {
        let format = FileFormat::from_path(&dataset.path);
        let out_format = FileFormat::from_path(&dataset.output);
        let mut record = json!({
            "input": { "path": lineage::shown(&dataset.path, &base) },
            "format": format.map(FileFormat::name),
            "source_crs": dataset.crs,
            "target_crs": target.id(),
        });
        if out_format != format {
            record["output_format"] = json!(out_format.map(FileFormat::name));
        }
        let result = convert_dataset(dataset, source, &target, progress(dataset).as_ref());
        let mut removed = Vec::new();
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
                record["heights"] =
                    json!(lineage::heights(source, &target, dataset.options.heights));
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
                removed = remove_previous_output(&dataset.output, out_format)
                    .map_err(io(&dataset.output))?;
                if let Some(format) = out_format {
                    match super::leftover_temporaries(&dataset.output, format) {
                        Ok(messages) => cleaned.extend(messages),
                        Err(e) => cleaned
                            .push(format!("temporary files of interrupted runs not cleaned: {e}")),
                    }
                }
                if !removed.is_empty() {
                    record["removed_previous_outputs"] = Value::Array(
                        removed.iter().map(|p| json!(lineage::shown(p, &base))).collect(),
                    );
                }
            }
        }
        records.push(record);
        outcomes.push(DatasetOutcome {
            dataset: dataset.clone(),
            result: result.map(|(r, _)| r).map_err(|e| e.to_string()),
            removed,
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
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    super::atomic::write_atomically(&lineage_path, text.as_bytes()).map_err(io(&lineage_path))?;
    sync_folder(&manifest.output);
    Ok(ExchangeReport { datasets: outcomes, lineage: lineage_path, cleaned })
}

/// Syncs a folder's entries (a removal or rename in it) to disk, where the platform allows.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(f) = std::fs::File::open(folder) {
        let _ = f.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// Removes the output of a failed dataset left by an earlier run: the file, or for a Shapefile
/// every file of its set family (`stem.<ext>`, extension in any case). The paths removed.
fn remove_previous_output(
    output: &Path,
    format: Option<FileFormat>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut candidates = vec![output.to_path_buf()];
    let family = format.map_or(&[][..], |f| super::format::of(f).set_family);
    if !family.is_empty() {
        for path in super::format::set_siblings(output, family)? {
            if !candidates.contains(&path) {
                candidates.push(path);
            }
        }
    }
    for path in candidates {
        if path.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(&path)?;
            removed.push(path);
        }
    }
    if !removed.is_empty() {
        sync_folder(output.parent().unwrap_or(Path::new(".")));
    }
    Ok(removed)
}

/// The lineage file's name in the output folder.
pub const LINEAGE: &str = "lineage.json";

/// A file's place for clash checks: its folder, resolved, and its name in lower case (two
/// names that differ only in case are one file on Windows and macOS, where exchanges go).
type Place = (PathBuf, String);

/// A file's (device, inode).
type FileId = (u64, u64);

/// `path`'s folder resolved (symbolic links, `..`) as far as it exists, the rest appended;
/// with the lower-case file name.
fn place(path: &Path) -> Place {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    (resolve(&folder), name)
}

/// `path` made absolute and resolved component by component: symbolic links and `..` as far
/// as the path exists, the missing rest lexically (a folder that does not exist yet cannot be
/// a link, and `missing/..` is the folder once `missing` is created).
fn resolve(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut current = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().and_then(|d| d.canonicalize()).unwrap_or_default()
    };
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => current.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                current.pop();
            }
            Component::Normal(name) => current.push(name),
        }
        if let Ok(c) = current.canonicalize() {
            current = c;
        }
    }
    current
}

/// The names (lower case) a dataset's output touches in the output folder: the file, or for a
/// Shapefile every file of its set family (written, or removed as stale, see
/// [`AtomicSet`](super::atomic::AtomicSet)).
fn touched_names(output: &Path, format: Option<FileFormat>) -> Vec<String> {
    let name = output.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let family = format.map_or(&[][..], |f| super::format::of(f).set_family);
    if family.is_empty() {
        return vec![name];
    }
    let stem = output.file_stem().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    family.iter().map(|ext| format!("{stem}.{ext}")).collect()
}

/// The existing files of `path`'s Shapefile set (`stem.*` beside it), or `path` itself.
fn input_files(path: &Path, format: Option<FileFormat>) -> Vec<PathBuf> {
    if !format.is_some_and(|f| super::format::of(f).is_set()) {
        return vec![path.to_path_buf()];
    }
    let mut files = vec![path.to_path_buf()];
    let (Some(stem), Some(folder)) = (path.file_stem(), path.parent()) else { return files };
    let folder = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
    let prefix = format!("{}.", stem.to_string_lossy().to_lowercase());
    if let Ok(entries) = std::fs::read_dir(folder) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().to_lowercase().starts_with(&prefix) {
                files.push(e.path());
            }
        }
    }
    files
}

/// (device, inode) of an existing file, to catch the same file under another name (a hard
/// link); `None` where unknown.
fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// What the check of a whole manifest found usable: the target and each dataset's source CRS.
struct Plan {
    target: crate::crs::Crs,
    sources: Vec<crate::crs::Crs>,
}

/// Checks the whole manifest before anything is converted or written (see [`run`]); every
/// problem found, or the CRSs to use.
fn check(manifest: &Manifest, registry: &Registry) -> Result<Plan, ExchangeError> {
    let base = manifest.path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut problems = Vec::new();
    let target = match registry.lookup(&manifest.target) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(format!("target: {e}"));
            None
        }
    };
    match std::fs::metadata(&manifest.output) {
        Ok(m) if !m.is_dir() => problems.push(format!(
            "output folder {}: exists and is not a folder",
            lineage::shown(&manifest.output, &base)
        )),
        _ => {}
    }
    // Every file the exchange reads: inputs (a Shapefile's whole set), the manifest, CRS files.
    let mut inputs: Vec<(Place, Option<FileId>, String)> = Vec::new();
    let mut add_input = |path: &Path, label: String| {
        inputs.push((place(path), file_id(path), label));
    };
    add_input(&manifest.path, "the manifest".into());
    for f in &manifest.crs_files {
        add_input(f, format!("CRS file {}", lineage::shown(f, &base)));
    }
    for (i, d) in manifest.datasets.iter().enumerate() {
        let format = FileFormat::from_path(&d.path);
        for f in input_files(&d.path, format) {
            add_input(&f, format!("input {} of dataset {}", lineage::shown(&f, &base), i + 1));
        }
    }
    let output_folder = resolve(&manifest.output);
    let mut written: Vec<(String, usize)> = Vec::new(); // touched names, dataset index
    let mut sources = Vec::new();
    for (i, d) in manifest.datasets.iter().enumerate() {
        let label = format!("dataset {} ({})", i + 1, lineage::shown(&d.path, &base));
        let mut problem = |m: String| problems.push(format!("{label}: {m}"));
        // The input.
        let format = FileFormat::from_path(&d.path);
        if format.is_none() {
            problem(super::format::unknown(&d.path));
        }
        match std::fs::metadata(&d.path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => problem("the input is not a regular file".into()),
            Err(e) => problem(format!("cannot read the input: {e}")),
        }
        // A Shapefile's .shx, .dbf, .prj, .cpg: a FIFO among them would block the conversion.
        if let Some(format) = format {
            match super::format::of(format).require_regular_members(&d.path) {
                Err(ConvertError::Io { path, source }) => {
                    problem(format!("{}: {source}", lineage::shown(&path, &base)));
                }
                Err(e) => problem(e.to_string()),
                Ok(()) => {}
            }
        }
        // The CRSs and the datum parameters between them.
        match registry.lookup(&d.crs) {
            Ok(source) => {
                if let Some(target) = &target {
                    let heights = d.options.heights;
                    if let Err(e) = crate::Transformer::with_heights(&source, target, heights) {
                        problem(format!("{} → {}: {e}", d.crs, manifest.target));
                    }
                }
                sources.push(source);
            }
            Err(e) => problem(e.to_string()),
        }
        // The output: a file name in the output folder, in a format the input converts into.
        let shown = lineage::shown(&d.output, &base);
        let confined = d.output.parent() == Some(manifest.output.as_path())
            && matches!(
                d.output.file_name().map(Path::new).and_then(|n| n.components().next()),
                Some(std::path::Component::Normal(_))
            )
            && d.output.file_name().is_some_and(|n| n != "." && n != "..");
        if !confined {
            problem(format!(
                "output {shown} is not a file name in the output folder (no absolute paths, \
                 folders or ..)"
            ));
            continue;
        }
        let out_format = FileFormat::from_path(&d.output);
        match (format, out_format) {
            // An unknown input format is reported once, with the input.
            (None, None) if d.output.extension() == d.path.extension() => {}
            (_, None) => problem(format!("output {shown}: {}", super::format::unknown(&d.output))),
            (Some(from), Some(to)) if from != to => {
                if let Err(why) =
                    super::cross::entries(super::format::of(from), super::format::of(to))
                {
                    problem(format!("output {shown}: {why}"));
                }
            }
            _ => {}
        }
        if let (Some(wanted), Some(to)) = (manifest.format, out_format) {
            if wanted != to {
                problem(format!(
                    "output {shown} is not a {} file, the format the manifest asks for",
                    wanted.name()
                ));
            }
        }
        let names = touched_names(&d.output, out_format);
        if names.iter().any(|n| n == LINEAGE) {
            problem(format!("output {shown} would overwrite the exchange's {LINEAGE}"));
        }
        if let Some((name, j)) = written.iter().find(|(n, _)| names.contains(n)) {
            problem(format!(
                "output {shown} clashes with the output of dataset {} ({name}; names are \
                 compared ignoring case)",
                j + 1
            ));
        }
        for name in &names {
            let path = manifest.output.join(name);
            let id = file_id(&path);
            let hit = inputs.iter().find(|(p, input_id, _)| {
                (p.0 == output_folder && p.1 == *name) || (id.is_some() && *input_id == id)
            });
            if let Some((_, _, what)) = hit {
                problem(format!("output {shown} would overwrite {what}"));
                break;
            }
        }
        if d.output.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            problem(format!("output {shown} exists and is a folder"));
        }
        written.extend(names.into_iter().map(|n| (n, i)));
    }
    match target {
        Some(target) if problems.is_empty() => Ok(Plan { target, sources }),
        _ => Err(ExchangeError::Invalid { path: manifest.path.clone(), problems }),
    }
}

fn failures_json(failures: &[super::Failure]) -> Value {
    Value::Array(
        failures.iter().map(|f| json!({ "location": f.location, "reason": f.reason })).collect(),
    )
}

/// Converts one dataset; its report and the lineage's steps.
fn convert_dataset(
    dataset: &Dataset,
    source: &crate::crs::Crs,
    target: &crate::crs::Crs,
    progress: &dyn Progress,
) -> Result<(ConvertReport, Value), ConvertError> {
    let transformer = crate::Transformer::with_heights(source, target, dataset.options.heights)?;
    let report =
        convert_file(&dataset.path, &dataset.output, source, target, &dataset.options, progress)?;
    Ok((report, lineage::steps(&transformer)))
}
