//! gu_transform across process boundaries: a datafusion-proto round trip of the physical plan
//! (what Ballista and other engines ship), and datafusion-distributed's in-process cluster
//! (workers behind gRPC over in-memory duplex streams). CRS files travel by path + SHA-256:
//! the encoded plan holds no parameter of the file, and a file that changed is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, BinaryArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::collect;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_distributed::{
    display_plan_ascii, grpc, ChannelResolver, DistributedExt, SessionStateBuilderExt, Worker,
    WorkerChannel, WorkerQueryContext, WorkerResolver,
};
use datafusion_proto::bytes::{
    physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
};
use geounify_datafusion::codec::GeounifyCodec;
use geounify_datafusion::distributed::{distribute, GeounifyWorker};
use geounify_datafusion::{register_geounify, GeounifyOptions};
use hyper_util::rt::TokioIo;
use tonic::transport::{Endpoint, Server};

fn city_toml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/crs/city.toml")
}

fn wkb_point(x: f64, y: f64) -> Vec<u8> {
    let mut b = vec![1u8, 1, 0, 0, 0];
    b.extend_from_slice(&x.to_le_bytes());
    b.extend_from_slice(&y.to_le_bytes());
    b
}

/// A copy of city.toml in `dir` (so the test can change it) and a Parquet file of old-grid
/// points, in row groups of 100.
fn fixtures(dir: &Path) -> (PathBuf, PathBuf) {
    let crs = dir.join("city.toml");
    std::fs::copy(city_toml(), &crs).unwrap();
    let parquet = dir.join("parcels.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("geom", DataType::Binary, true),
    ]));
    let n = 2000;
    let ids = Int64Array::from_iter_values(0..n);
    let geoms = BinaryArray::from_iter(
        (0..n).map(|i| Some(wkb_point(-119577.4 + i as f64 * 11.5, 192880.7 + i as f64 * 7.25))),
    );
    let batch =
        RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(ids), Arc::new(geoms)]).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(100)).build();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&parquet).unwrap(), schema, Some(props))
        .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    (crs, parquet)
}

fn query(parquet: &Path) -> String {
    format!(
        "SELECT id, gu_transform(geom, 'city:old-grid', 'EPSG:4548') AS g FROM '{}' ORDER BY id",
        parquet.display()
    )
}

fn sorted_rows(batches: &[RecordBatch]) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    for b in batches {
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        // Parquet's binary columns come back as BinaryView (DataFusion's default).
        let g = datafusion::arrow::compute::cast(b.column(1), &DataType::Binary).unwrap();
        let g = g.as_any().downcast_ref::<BinaryArray>().unwrap();
        for i in 0..b.num_rows() {
            out.push((ids.value(i), g.value(i).to_vec()));
        }
    }
    out.sort();
    out
}

/// The reference: the query on one partition in a plain local session.
async fn local_rows(crs: &Path, parquet: &Path) -> Vec<(i64, Vec<u8>)> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1))
        .enable_url_table();
    register_geounify(&ctx, &GeounifyOptions::new().crs_file(crs)).unwrap();
    sorted_rows(&ctx.sql(&query(parquet)).await.unwrap().collect().await.unwrap())
}

#[tokio::test]
async fn proto_round_trip_carries_path_and_digest_only() {
    let dir = tempfile::tempdir().unwrap();
    let (crs, parquet) = fixtures(dir.path());
    let expected = local_rows(&crs, &parquet).await;

    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2))
        .enable_url_table();
    let state = register_geounify(&ctx, &GeounifyOptions::new().crs_file(&crs)).unwrap();
    let plan = ctx.sql(&query(&parquet)).await.unwrap().create_physical_plan().await.unwrap();
    let bytes = physical_plan_to_bytes_with_extension_codec(plan, &GeounifyCodec::new()).unwrap();
    let hex = state.manifest().files[0].sha256_hex();
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(haystack.contains(&hex), "the digest is not in the plan");
    for secret in ["421337.25", "4201112.5", "helmert4", "bj54-city"] {
        assert!(!haystack.contains(secret), "the plan carries {secret}");
    }

    // A "worker": a fresh session that knows nothing of geounify.
    let worker = SessionContext::new();
    let decoded = physical_plan_from_bytes_with_extension_codec(
        &bytes,
        &worker.task_ctx(),
        &GeounifyCodec::new(),
    )
    .unwrap();
    let got = sorted_rows(&collect(decoded, worker.task_ctx()).await.unwrap());
    assert_eq!(got, expected);

    // The file changes: the worker refuses it.
    let mut text = std::fs::read_to_string(&crs).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&crs, text).unwrap();
    let err = physical_plan_from_bytes_with_extension_codec(
        &bytes,
        &worker.task_ctx(),
        &GeounifyCodec::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("differs from the one the plan was made with"), "{err}");
    assert!(err.contains(&hex), "{err}");
}

const DUMMY_URL: &str = "http://localhost:50051";

/// Workers reached through gRPC over an in-memory duplex stream (one server answering every
/// worker URL), each query's worker session built with geounify's functions from the
/// coordinator's manifest.
#[derive(Clone)]
struct InMemoryChannels {
    channel: grpc::BoxCloneSyncChannel,
}

impl InMemoryChannels {
    fn start(worker: Arc<GeounifyWorker>) -> Self {
        let (client, server) = tokio::io::duplex(1 << 20);
        let mut client = Some(client);
        let channel = Endpoint::try_from(DUMMY_URL).unwrap().connect_with_connector_lazy(
            tower::service_fn(move |_| {
                let c = client.take();
                async move {
                    c.map(TokioIo::new)
                        .ok_or_else(|| std::io::Error::other("in-memory client taken twice"))
                }
            }),
        );
        let this = Self { channel: grpc::BoxCloneSyncChannel::new(channel) };
        let resolver = this.clone();
        let endpoint = Worker::from_session_builder(move |ctx: WorkerQueryContext| {
            let resolver = resolver.clone();
            let worker = Arc::clone(&worker);
            async move {
                let builder = worker.configure(ctx.builder, &ctx.headers)?;
                Ok(builder.with_distributed_channel_resolver(resolver).build())
            }
        });
        tokio::spawn(async move {
            Server::builder()
                .add_service(endpoint.into_worker_server())
                .serve_with_incoming(tokio_stream::once(Ok::<_, std::io::Error>(server)))
                .await
        });
        this
    }
}

#[async_trait]
impl ChannelResolver for InMemoryChannels {
    async fn get_worker_client_for_url(
        &self,
        _: &url::Url,
    ) -> Result<Box<dyn WorkerChannel>, DataFusionError> {
        Ok(grpc::create_worker_client(self.channel.clone()))
    }
}

struct Workers(usize);

impl WorkerResolver for Workers {
    fn get_urls(&self) -> Result<Vec<url::Url>, DataFusionError> {
        (0..self.0)
            .map(|i| {
                url::Url::parse(&format!("http://worker-{i}"))
                    .map_err(|e| DataFusionError::External(Box::new(e)))
            })
            .collect()
    }
}

async fn cluster(workers: usize) -> SessionContext {
    let channels = InMemoryChannels::start(Arc::new(GeounifyWorker::new()));
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(
            SessionConfig::new()
                .with_target_partitions(4)
                .set_usize("datafusion.optimizer.repartition_file_min_size", 1),
        )
        .with_distributed_worker_resolver(Workers(workers))
        .with_distributed_channel_resolver(channels)
        .with_distributed_planner()
        .with_distributed_file_scan_config_bytes_per_partition(1)
        .unwrap()
        .build();
    SessionContext::from(state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datafusion_distributed_in_process_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let (crs, parquet) = fixtures(dir.path());
    let expected = local_rows(&crs, &parquet).await;

    let mut ctx = cluster(3).await;
    let state = register_geounify(&ctx, &GeounifyOptions::new().crs_file(&crs)).unwrap();
    distribute(&mut ctx, &state, false).unwrap();
    ctx.register_parquet("parcels", parquet.to_str().unwrap(), Default::default()).await.unwrap();
    // A GROUP BY makes the planner shuffle between stages, so the scan and gu_transform run in
    // worker tasks (a bare scan of one small file stays on the coordinator). One row per id:
    // the same rows as the local query.
    let sql = "SELECT id, max(gu_transform(geom, 'city:old-grid', 'EPSG:4548')) AS g \
               FROM parcels GROUP BY id";
    let df = ctx.sql(sql).await.unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    let shown = display_plan_ascii(plan.as_ref(), false);
    assert!(shown.contains("Stage"), "not distributed:\n{shown}");
    println!("{shown}");
    let got = sorted_rows(&collect(plan, ctx.task_ctx()).await.unwrap());
    assert_eq!(got, expected);

    // A fresh cluster whose workers find a different file at the path: refused.
    let mut ctx = cluster(3).await;
    let state = register_geounify(&ctx, &GeounifyOptions::new().crs_file(&crs)).unwrap();
    distribute(&mut ctx, &state, false).unwrap();
    let mut text = std::fs::read_to_string(&crs).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&crs, text).unwrap();
    ctx.register_parquet("parcels", parquet.to_str().unwrap(), Default::default()).await.unwrap();
    let err = match ctx.sql(sql).await.unwrap().collect().await {
        Ok(_) => panic!("a changed CRS file was used"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("differs from the one the plan was made with"), "{err}");
}
