//! gu_transform against SedonaDB's and DuckDB spatial's ST_Transform, in one run, on the same
//! Parquet file: 1,000,000 WKB points, EPSG:4490 → EPSG:4547, 8 row groups.
//!
//! `cargo bench -p geounify-datafusion --bench udf` (release). Criterion times our query
//! (DataFusion, results collected as Arrow batches) at 1 partition and at all cores; then the
//! same query's median over `RUNS` runs is taken for the summary, our result is written to
//! Parquet, and `benches/others.py` (run with `$GEOUNIFY_BENCH_PYTHON`, default `python3`, which
//! needs sedonadb, geoarrow-pyarrow, duckdb 1.4.4 and duckdb-ext-spatial) times the other two
//! engines the same way and prints their largest coordinate difference from ours. The summary
//! table gives each engine's time and our speed-up, per core (1 thread) and with all threads.
//! Without that Python, the summary has our row only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use datafusion::arrow::array::{BinaryArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{SessionConfig, SessionContext};
use geounify_datafusion::{register_geounify, GeounifyOptions};

const POINTS: usize = 1_000_000;
const RUNS: usize = 5;

fn bench_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("geounify-udf-bench");
    std::fs::create_dir_all(&dir).expect("bench directory");
    dir
}

/// The points: a fixed pseudo-random spread over EPSG:4547's zone (CM 114°E, 112.5–115.5°E,
/// 22–42°N).
fn points_file() -> PathBuf {
    let path = bench_dir().join(format!("points_4490_{POINTS}.parquet"));
    if path.exists() {
        return path;
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let geoms = BinaryArray::from_iter_values((0..POINTS).map(|_| {
        let x = 112.5 + 3.0 * next();
        let y = 22.0 + 20.0 * next();
        let mut b = vec![1u8, 1, 0, 0, 0];
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
        b
    }));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("geom", DataType::Binary, false),
    ]));
    let ids = Int64Array::from_iter_values(0..POINTS as i64);
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(ids), Arc::new(geoms)])
        .expect("batch");
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(POINTS / 8)).build();
    let tmp = path.with_extension("tmp");
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&tmp).expect("create"), schema, Some(props))
            .expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    std::fs::rename(&tmp, &path).expect("rename");
    path
}

fn query(points: &Path) -> String {
    format!(
        "SELECT id, gu_transform(geom, 'EPSG:4490', 'EPSG:4547') AS g FROM '{}'",
        points.display()
    )
}

fn context(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let ctx = SessionContext::new_with_config(config).enable_url_table();
    register_geounify(&ctx, &GeounifyOptions::new()).expect("register");
    ctx
}

async fn run_once(ctx: &SessionContext, sql: &str) -> usize {
    let batches = ctx.sql(sql).await.expect("plan").collect().await.expect("run");
    batches.iter().map(|b| b.num_rows()).sum()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn udf(c: &mut Criterion) {
    let points = points_file();
    let sql = query(&points);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("gu_transform_4490_4547_1M");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for (label, partitions) in [("1 thread", 1), ("all threads", cores())] {
        let ctx = context(partitions);
        group.bench_function(label, |b| {
            b.iter(|| assert_eq!(rt.block_on(run_once(&ctx, &sql)), POINTS))
        });
    }
    group.finish();
}

fn median_seconds(rt: &tokio::runtime::Runtime, partitions: usize, sql: &str) -> f64 {
    let ctx = context(partitions);
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(rt.block_on(run_once(&ctx, sql)), POINTS);
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

/// Our medians, our result written for the comparison, the others through Python, the table.
fn summary() {
    let points = points_file();
    let sql = query(&points);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ours_1 = median_seconds(&rt, 1, &sql);
    let ours_all = median_seconds(&rt, cores(), &sql);
    let ours_path = bench_dir().join("ours.parquet");
    rt.block_on(async {
        context(cores())
            .sql(&sql)
            .await
            .expect("plan")
            .write_parquet(
                ours_path.to_str().expect("utf-8 path"),
                DataFrameWriteOptions::new().with_single_file_output(true),
                None,
            )
            .await
            .expect("write ours")
    });
    println!("\nEPSG:4490 -> EPSG:4547, {POINTS} WKB points from Parquet, median of {RUNS} runs, {} cores", cores());
    println!(
        "{:<28} {:>8} {:>12} {:>10} {:>16}",
        "engine", "threads", "seconds", "ours ×", "max |Δ| vs ours"
    );
    println!(
        "{:<28} {:>8} {:>12.4} {:>10} {:>16}",
        "geounify gu_transform", "1", ours_1, "1.00", "-"
    );
    println!(
        "{:<28} {:>8} {:>12.4} {:>10} {:>16}",
        "geounify gu_transform", "all", ours_all, "1.00", "-"
    );
    let python = std::env::var("GEOUNIFY_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/others.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&points)
        .arg(&ours_path)
        .arg(RUNS.to_string())
        .output();
    match out {
        Ok(out) if out.status.success() => {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let f: Vec<&str> = line.split_whitespace().collect();
                if let ["RESULT", engine, threads, secs, diff] = f.as_slice() {
                    let secs: f64 = secs.parse().unwrap_or(f64::NAN);
                    let ours = if *threads == "1" { ours_1 } else { ours_all };
                    println!(
                        "{:<28} {:>8} {:>12.4} {:>10.2} {:>16}",
                        engine,
                        threads,
                        secs,
                        secs / ours,
                        diff
                    );
                }
            }
        }
        Ok(out) => println!(
            "(the other engines did not run: {} {}: {})",
            python,
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => println!("(the other engines did not run: {python}: {e})"),
    }
}

criterion_group!(benches, udf);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
