//! geounify's coordinate conversions in [DataFusion](https://datafusion.apache.org): the scalar
//! functions `gu_transform(geom, from, to)` and `gu_try_transform(geom, from, to)`, and an
//! opt-in `st_transform` alias.
//!
//! ```no_run
//! # async fn run() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! use geounify_datafusion::{register_geounify, GeounifyOptions};
//!
//! let ctx = SessionContext::new();
//! register_geounify(&ctx, &GeounifyOptions::new().crs_file("city.toml"))?;
//! let df = ctx
//!     .sql("SELECT id, gu_transform(geom, 'city:old-grid', 'EPSG:4548') FROM 'parcels.parquet'")
//!     .await?;
//! df.show().await?;
//! # Ok(()) }
//! ```
//!
//! # Arguments
//! - `geom`: a WKB column (`Binary`, `LargeBinary`, `BinaryView`, with or without the
//!   `geoarrow.wkb` extension type) or a GeoArrow native array (`geoarrow.point`,
//!   `geoarrow.linestring`, ...; separated or interleaved coordinates), as the core's
//!   `geounify::arrow::Encoding::of_field` reads the field. A literal WKB value works too.
//! - `from`, `to`: CRS ids as string literals: the built-in catalogue (`EPSG:4490`, `GCJ02`,
//!   `BD09`, ...) or ids from the session's CRS files. An unknown id, or a pair with no datum
//!   shift, fails at planning time with the core's message naming the id.
//!
//! # Failures
//! - `gu_transform` fails the query at the first row that cannot be converted (a point
//!   outside the CRS's domain, malformed WKB), naming the row (its index in the batch) and the
//!   core's reason (with the vertex index for a point, and, for WKB, that point as read, since
//!   a batch's row index does not locate a row in the table; the message says how
//!   `gu_try_transform(…) IS NULL` lists every failed row). A query either converts every row
//!   or returns nothing.
//! - `gu_try_transform` returns NULL for such rows and converts the rest.
//! - NULL rows stay NULL in both.
//!
//! # Output
//! The output has the input's type, length and null rows. Its field keeps the input's
//! metadata, sets `ARROW:extension:name = geoarrow.wkb` on a plain binary input (the column is
//! WKB by the function's contract), and sets `ARROW:extension:metadata` to the GeoArrow JSON
//! `{"crs":"EPSG:n","crs_type":"authority_code"}` when the target is an EPSG CRS, `{}` otherwise
//! (a CRS-file CRS's parameters are not written: they are often confidential, and GCJ-02-like
//! systems have no CRS encoding).
//!
//! # Engine behaviour
//! The functions run the core's Arrow kernel `geounify::arrow::transform_array` on each batch
//! (one pass through the batch pipeline, single-threaded per call): DataFusion's partitions
//! are the parallelism, and results are bit-identical for any `target_partitions`. A
//! `geounify::Transformer` is built once per (from, to) pair and session and shared by every
//! partition.
//!
//! # CRS files and distributed plans
//! CRS files are loaded once per session ([`register_geounify`]); each is read once, hashed
//! with SHA-256 and loaded from the hashed bytes. A plan that travels to another process
//! carries the files' paths and digests ([`Manifest`]), never their parameters: a worker loads
//! each file from its path and refuses it if the digest differs
//! ([`Geounify::from_manifest`]). With the `distributed` feature, `codec::GeounifyCodec` (a
//! `datafusion-proto` extension codec) and `distributed::GeounifyConfig` (a session option that
//! datafusion-distributed passes to its workers) carry the manifest.

mod crs_files;
mod udf;

#[cfg(feature = "distributed")]
pub mod codec;
#[cfg(feature = "distributed")]
pub mod distributed;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use datafusion::error::DataFusionError;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;
use geounify::{Registry, Transformer};

pub use crs_files::{CrsFileLoadError, CrsFileRef, Manifest};
pub use udf::{FailureMode, TransformUdf};

/// What [`register_geounify`] sets up: CRS files to load, and whether to add the
/// `st_transform` alias.
#[derive(Debug, Clone, Default)]
pub struct GeounifyOptions {
    crs_files: Vec<PathBuf>,
    st_transform: bool,
}

impl GeounifyOptions {
    /// No CRS files (the built-in catalogue only), no `st_transform` alias.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a CRS file (TOML or JSON, see geounify's `data/crs/README.md`); files load in the
    /// order given.
    pub fn crs_file(mut self, path: impl AsRef<Path>) -> Self {
        self.crs_files.push(path.as_ref().to_path_buf());
        self
    }

    /// Also registers `st_transform(geom, from, to)`, the same function as `gu_transform`
    /// under the name other engines use (off by default: another extension, e.g. a spatial
    /// library, may own that name with a different signature).
    pub fn st_transform_alias(mut self, on: bool) -> Self {
        self.st_transform = on;
        self
    }

    /// The CRS files, in load order.
    pub fn crs_files(&self) -> &[PathBuf] {
        &self.crs_files
    }
}

/// A session's geounify state: the registry (built-in catalogue plus the CRS files), the
/// files' manifest and the transformers built so far, one per (from, to) pair.
#[derive(Debug)]
pub struct Geounify {
    registry: Registry,
    manifest: Manifest,
    transformers: RwLock<HashMap<(String, String), Arc<Transformer>>>,
}

impl Geounify {
    /// Loads the CRS files (each read once, hashed, loaded from the hashed bytes; all or
    /// nothing).
    pub fn load(files: &[PathBuf]) -> Result<Self, CrsFileLoadError> {
        let mut registry = Registry::new();
        let mut manifest = Manifest::default();
        for path in files {
            manifest.files.push(crs_files::load_into(&mut registry, path, None)?);
        }
        Ok(Self::from_parts(registry, manifest))
    }

    /// Loads the files a plan names, each from its path, refusing any whose SHA-256 differs
    /// from the manifest's: what a worker does with a plan made elsewhere.
    pub fn from_manifest(manifest: &Manifest) -> Result<Self, CrsFileLoadError> {
        let mut registry = Registry::new();
        for file in &manifest.files {
            crs_files::load_into(&mut registry, &file.path, Some(&file.sha256))?;
        }
        Ok(Self::from_parts(registry, manifest.clone()))
    }

    fn from_parts(registry: Registry, manifest: Manifest) -> Self {
        Self { registry, manifest, transformers: RwLock::new(HashMap::new()) }
    }

    /// The CRS files loaded, by path and digest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The registry the ids are looked up in.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The transformer from `from` to `to`, built on first use and cached (ids are
    /// case-insensitive, so is the cache).
    pub fn transformer(&self, from: &str, to: &str) -> Result<Arc<Transformer>, DataFusionError> {
        let key = (from.to_lowercase(), to.to_lowercase());
        if let Ok(map) = self.transformers.read() {
            if let Some(t) = map.get(&key) {
                return Ok(Arc::clone(t));
            }
        }
        let built = self
            .registry
            .transformer(from, to)
            .map_err(|e| DataFusionError::Plan(format!("gu_transform: {e}")))?;
        let built = Arc::new(built);
        if let Ok(mut map) = self.transformers.write() {
            return Ok(Arc::clone(map.entry(key).or_insert(built)));
        }
        Ok(built)
    }
}

/// Loads `options`' CRS files once and registers `gu_transform`, `gu_try_transform` (and
/// `st_transform` if asked) in `ctx`. Returns the session state the functions share.
pub fn register_geounify(
    ctx: &SessionContext,
    options: &GeounifyOptions,
) -> Result<Arc<Geounify>, DataFusionError> {
    let state = Arc::new(
        Geounify::load(&options.crs_files).map_err(|e| DataFusionError::External(Box::new(e)))?,
    );
    for udf in functions(&state, options.st_transform) {
        ctx.register_udf(udf);
    }
    Ok(state)
}

/// The functions over a session state: `gu_transform`, `gu_try_transform`, and `st_transform`
/// when `st_transform` is true. For engines that build their own function registry (a
/// worker's session builder).
pub fn functions(state: &Arc<Geounify>, st_transform: bool) -> Vec<ScalarUDF> {
    let mut out = vec![
        ScalarUDF::from(TransformUdf::new("gu_transform", FailureMode::Fail, Arc::clone(state))),
        ScalarUDF::from(TransformUdf::new(
            "gu_try_transform",
            FailureMode::Null,
            Arc::clone(state),
        )),
    ];
    if st_transform {
        out.push(ScalarUDF::from(TransformUdf::new(
            "st_transform",
            FailureMode::Fail,
            Arc::clone(state),
        )));
    }
    out
}
