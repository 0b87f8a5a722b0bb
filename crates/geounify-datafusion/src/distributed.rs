//! `gu_transform` on [datafusion-distributed](https://github.com/datafusion-contrib/datafusion-distributed).
//!
//! datafusion-distributed sends a plan's scalar functions to its workers by name (its own codec
//! answers for every function before a user codec is asked), so the worker's session must
//! hold the functions itself. The coordinator puts the session's [`Manifest`] (CRS files by
//! path and SHA-256) into a session option, [`GeounifyConfig`], which datafusion-distributed
//! passes to every worker with each query; [`GeounifyWorker::configure`] reads it there, loads
//! each file from its path (refusing one whose digest differs) and registers the functions.

use std::sync::Arc;

use datafusion::common::{extensions_options, Result};
use datafusion::config::ConfigExtension;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_distributed::DistributedExt;
use http::HeaderMap;

use crate::codec::StateCache;
use crate::{functions, Geounify, Manifest};

extensions_options! {
    /// The session option (`geounify.*`) that carries a session's CRS files to the workers.
    pub struct GeounifyConfig {
        /// The session's [`Manifest`] in its text form; empty for none.
        pub crs_files: String, default = String::new()
        /// Whether `st_transform` is registered too.
        pub st_transform: bool, default = false
    }
}

impl ConfigExtension for GeounifyConfig {
    const PREFIX: &'static str = "geounify";
}

/// On the coordinator: passes `state`'s CRS files (by path and digest) to the workers of
/// every query `ctx` runs.
pub fn distribute(ctx: &mut SessionContext, state: &Geounify, st_transform: bool) -> Result<()> {
    let crs_files =
        state.manifest().encode().map_err(|e| DataFusionError::External(Box::new(e)))?;
    ctx.set_distributed_option_extension(GeounifyConfig { crs_files, st_transform });
    Ok(())
}

/// On a worker: registers geounify's functions in each query's session, with the CRS files the
/// coordinator named (loaded once per manifest and process, each checked against its digest).
#[derive(Debug, Default)]
pub struct GeounifyWorker {
    cache: StateCache,
}

impl GeounifyWorker {
    /// A worker-side helper with an empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads [`GeounifyConfig`] from the query's headers and adds the functions to `builder`.
    /// A query that carries no geounify option gets the functions over the built-in catalogue.
    pub fn configure(
        &self,
        builder: SessionStateBuilder,
        headers: &HeaderMap,
    ) -> Result<SessionStateBuilder> {
        let mut builder =
            builder.with_distributed_option_extension_from_headers::<GeounifyConfig>(headers)?;
        let (text, st_transform) = match builder
            .config()
            .get_or_insert_default()
            .options()
            .extensions
            .get::<GeounifyConfig>()
        {
            Some(c) => (c.crs_files.clone(), c.st_transform),
            None => (String::new(), false),
        };
        let manifest = if text.is_empty() {
            Manifest::default()
        } else {
            Manifest::decode(&text).map_err(|e| DataFusionError::External(Box::new(e)))?
        };
        let state = self.cache.get(&manifest)?;
        let udfs = functions(&state, st_transform);
        let list = builder.scalar_functions().get_or_insert_with(Vec::new);
        list.extend(udfs.into_iter().map(Arc::new));
        Ok(builder)
    }
}
