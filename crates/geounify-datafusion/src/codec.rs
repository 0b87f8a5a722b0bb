//! Plans with `gu_transform` across processes through `datafusion-proto` (Ballista, or any
//! engine that serialises physical plans with an extension codec).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::common::{not_impl_err, Result};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::{FailureMode, Geounify, Manifest, TransformUdf};

/// The first bytes of an encoded function.
const MAGIC: &str = "geounify-udf/1";

/// Sessions' states by manifest: a process that decodes many plans with the same CRS files
/// loads (and checks) them once.
#[derive(Debug, Default)]
pub struct StateCache {
    states: Mutex<HashMap<Manifest, Arc<Geounify>>>,
}

impl StateCache {
    /// The state for `manifest`: loaded from the files' paths the first time (each file refused
    /// if its SHA-256 differs from the manifest's), shared afterwards.
    pub fn get(&self, manifest: &Manifest) -> Result<Arc<Geounify>> {
        if let Ok(states) = self.states.lock() {
            if let Some(state) = states.get(manifest) {
                return Ok(Arc::clone(state));
            }
        }
        let state = Arc::new(
            Geounify::from_manifest(manifest)
                .map_err(|e| DataFusionError::External(Box::new(e)))?,
        );
        if let Ok(mut states) = self.states.lock() {
            states.insert(manifest.clone(), Arc::clone(&state));
        }
        Ok(state)
    }
}

/// A `datafusion-proto` extension codec for geounify's functions.
///
/// Encoding a `gu_transform`/`gu_try_transform`/`st_transform` call writes its failure mode and
/// its session's [`Manifest`] (each CRS file's path and SHA-256, never the parameters inside);
/// decoding loads the files from those paths on the receiving side and refuses a file whose
/// digest differs. The codec encodes no execution plans (it is meant to be composed with
/// others, e.g. in `ComposedPhysicalExtensionCodec`).
#[derive(Debug, Default)]
pub struct GeounifyCodec {
    cache: StateCache,
}

impl GeounifyCodec {
    /// A codec with an empty state cache.
    pub fn new() -> Self {
        Self::default()
    }
}

impl PhysicalExtensionCodec for GeounifyCodec {
    fn try_decode(
        &self,
        _buf: &[u8],
        _inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        not_impl_err!("GeounifyCodec decodes functions only, no execution plans")
    }

    fn try_encode(
        &self,
        _node: Arc<dyn ExecutionPlan>,
        _buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        not_impl_err!("GeounifyCodec encodes functions only, no execution plans")
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        let Some(udf) = node.inner().downcast_ref::<TransformUdf>() else {
            return Ok(());
        };
        let manifest =
            udf.state().manifest().encode().map_err(|e| DataFusionError::External(Box::new(e)))?;
        let mode = match udf.mode() {
            FailureMode::Fail => "fail",
            FailureMode::Null => "null",
        };
        buf.extend_from_slice(format!("{MAGIC} {mode} {manifest}").as_bytes());
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        let text = std::str::from_utf8(buf).ok();
        let Some(rest) = text.and_then(|t| t.strip_prefix(MAGIC)) else {
            return not_impl_err!("{name} is not a geounify function");
        };
        let mut parts = rest.trim_start().splitn(2, ' ');
        let mode = match parts.next() {
            Some("fail") => FailureMode::Fail,
            Some("null") => FailureMode::Null,
            _ => return not_impl_err!("{name}: unknown geounify failure mode"),
        };
        let manifest = Manifest::decode(parts.next().unwrap_or_default())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let state = self.cache.get(&manifest)?;
        Ok(Arc::new(ScalarUDF::from(TransformUdf::new(name, mode, state))))
    }
}
